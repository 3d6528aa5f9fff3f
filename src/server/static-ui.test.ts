import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { staticUi } from './static-ui.ts';

async function withUi(fn: (app: ReturnType<typeof Fastify>) => Promise<void>): Promise<void> {
  const dist = mkdtempSync(join(tmpdir(), 'slipway-static-ui-'));
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>Slipway</title>');
  const js = Buffer.from('export const x = 1;\n'.repeat(50));
  writeFileSync(join(dist, 'assets', 'main-abc123.js'), js);
  writeFileSync(join(dist, 'assets', 'main-abc123.js.br'), brotliCompressSync(js));
  writeFileSync(join(dist, 'assets', 'main-abc123.js.gz'), gzipSync(js));
  writeFileSync(join(dist, 'assets', 'plain-abc123.css'), 'body{}');
  const app = Fastify();
  await app.register(staticUi(dist));
  try {
    await fn(app);
  } finally {
    await app.close();
    rmSync(dist, { recursive: true, force: true });
  }
}

test('index.html is revalidated: an ETag, and 304 when the browser has it', () =>
  withUi(async (app) => {
    const first = await app.inject({ url: '/' });
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['cache-control'], 'no-cache');
    assert.match(String(first.headers['content-type']), /text\/html/);
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[\w-]+"$/);
    const again = await app.inject({ url: '/', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    const stale = await app.inject({ url: '/', headers: { 'if-none-match': '"other"' } });
    assert.equal(stale.statusCode, 200);
  }));

test('hashed assets are immutable and sent precompressed when the browser accepts it', () =>
  withUi(async (app) => {
    const br = await app.inject({
      url: '/assets/main-abc123.js',
      headers: { 'accept-encoding': 'gzip, br' },
    });
    assert.equal(br.statusCode, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(br.headers.vary, 'accept-encoding');
    assert.match(String(br.headers['content-type']), /text\/javascript/);
    const gz = await app.inject({ url: '/assets/main-abc123.js', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    const raw = await app.inject({ url: '/assets/main-abc123.js' });
    assert.equal(raw.headers['content-encoding'], undefined);
    assert.equal(raw.body, 'export const x = 1;\n'.repeat(50));
    // No compressed twin: the file as it is.
    const css = await app.inject({ url: '/assets/plain-abc123.css', headers: { 'accept-encoding': 'br' } });
    assert.equal(css.headers['content-encoding'], undefined);
    assert.equal(css.body, 'body{}');
  }));

test('asset names outside the assets folder are refused', () =>
  withUi(async (app) => {
    for (const url of ['/assets/..%2Findex.html', '/assets/.hidden', '/assets/missing.js']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 404, url);
    }
  }));
