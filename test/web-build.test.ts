// The built UI (web/dist): the boot script is inlined into index.html and names chunks that exist, React is
// its own chunk, every asset has its precompressed twins.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const DIST = join(import.meta.dirname, '..', 'web', 'dist');
const skip = !existsSync(join(DIST, 'index.html')) && 'web UI not built';

test('index.html starts the first reads and preloads each route’s chunks', { skip }, () => {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const boot = /<script>(.*?)<\/script>/s.exec(html)?.[1];
  assert.ok(boot, 'an inline boot script');
  assert.ok(html.indexOf('<script>') < html.indexOf('<script type="module"'), 'the boot script runs first');
  assert.match(boot, /__slipwayEarlyReads/);
  assert.match(boot, /modulepreload/);
  const chunks = [...boot.matchAll(/"\/assets\/([^"]+\.js)"/g)].map((m) => m[1]!);
  for (const page of ['apps', 'envs', 'pipelines', 'registry', 'cluster', 'users'])
    assert.match(boot, new RegExp(`${page}:\\["/assets/`), `chunks for ${page}`);
  for (const file of chunks) assert.ok(existsSync(join(DIST, 'assets', file)), `${file} exists`);
  // The shell's own script and React (modulepreload) are plain tags the preload scanner sees.
  const shell = /<script type="module" crossorigin src="\/assets\/(index-[\w-]+\.js)"/.exec(html)?.[1];
  assert.ok(shell && existsSync(join(DIST, 'assets', shell)));
  const react = /<link rel="modulepreload" crossorigin href="\/assets\/(react-[\w-]+\.js)"/.exec(html)?.[1];
  assert.ok(react && existsSync(join(DIST, 'assets', react)), 'React is its own preloaded chunk');
  assert.ok(
    !chunks.includes(react!) && !chunks.includes(shell!),
    'route maps leave out what the shell loads',
  );
});

test('every script and style sheet has .br and .gz twins', { skip }, () => {
  const assets = readdirSync(join(DIST, 'assets'));
  for (const file of assets.filter((f) => /\.(js|css)$/.test(f))) {
    assert.ok(assets.includes(`${file}.br`), `${file}.br`);
    assert.ok(assets.includes(`${file}.gz`), `${file}.gz`);
  }
});
