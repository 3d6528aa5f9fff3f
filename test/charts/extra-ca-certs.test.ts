// `slipway template` and NODE_EXTRA_CA_CERTS: bin/slipway.cjs's shell lines take the variable away from
// Node's start (Node 20 loads it, with every bundled root, before any JavaScript runs) and
// bin/extra-ca-certs.cjs trusts the same certificates on the first TLS connection. Checked against an
// HTTPS registry whose certificate only a private CA vouches for, run as a user runs the command.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sha256Digest } from '../../src/oci/index.ts';
import { CASES_DIR, type RunResult, runProcess } from './corpus.ts';

const root = resolve(import.meta.dirname, '../..');
const BIN = join(root, 'bin', 'slipway.cjs');
const HOST = '127.0.0.2'; // loopback, but not a name Slipway would reach over plain http by default
const CHART_TGZ = join(CASES_DIR, 'tgz-subchart/chart/charts/packed-1.0.0.tgz');

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<RunResult & { code: number | null }> {
  return runProcess(cmd, args, { cwd: root, env });
}

/** The environment of a run: this one without NODE_EXTRA_CA_CERTS and NODE_OPTIONS, plus `extra`. */
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('NODE_EXTRA_CA_CERTS' in extra)) delete env.NODE_EXTRA_CA_CERTS;
  if (!('NODE_OPTIONS' in extra)) delete env.NODE_OPTIONS;
  return env;
}

/** A read-only OCI registry over HTTPS that holds one chart, `charts/packed:1.0.0`. */
function startRegistry(key: string, cert: string): Promise<Server> {
  const chart = readFileSync(CHART_TGZ);
  const config = Buffer.from('{"name":"packed","version":"1.0.0","apiVersion":"v2"}');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.cncf.helm.config.v1+json',
        digest: sha256Digest(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
          digest: sha256Digest(chart),
          size: chart.length,
        },
      ],
    }),
  );
  const paths = new Map<string, [string, Buffer]>([
    ['/v2/', ['application/json', Buffer.from('{}')]],
    ['/v2/charts/packed/manifests/1.0.0', ['application/vnd.oci.image.manifest.v1+json', manifest]],
    [`/v2/charts/packed/blobs/${sha256Digest(config)}`, ['application/octet-stream', config]],
    [`/v2/charts/packed/blobs/${sha256Digest(chart)}`, ['application/octet-stream', chart]],
  ]);
  const server = createServer({ key, cert }, (req, res) => {
    const found = paths.get(req.url ?? '');
    if (!found) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NOT_FOUND"}]}');
      return;
    }
    res.writeHead(200, { 'content-type': found[0], 'content-length': found[1].length }).end(found[1]);
  });
  return new Promise((done) => server.listen(0, HOST, () => done(server)));
}

describe('slipway template with NODE_EXTRA_CA_CERTS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-ca-'));
  const bundle = join(dir, 'ca-bundle.pem');
  let server: Server;
  let ref: string;
  let local: string;

  before(async () => {
    const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Slipway test CA',
    ]);
    openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${HOST}`]);
    writeFileSync(join(dir, 'san.cnf'), `subjectAltName=IP:${HOST}\n`);
    openssl(
      ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
        '-out',
        'server.pem',
        '-days',
        '2',
        '-extfile',
        'san.cnf',
      ]),
    );
    // A bundle as a distribution ships one: several certificates, the private CA among them.
    const someRoot = (await import('node:tls')).rootCertificates[0]!;
    writeFileSync(bundle, `${someRoot}\n${readFileSync(join(dir, 'ca.pem'), 'utf8')}`);
    server = await startRegistry(
      readFileSync(join(dir, 'server.key'), 'utf8'),
      readFileSync(join(dir, 'server.pem'), 'utf8'),
    );
    ref = `oci://${HOST}:${(server.address() as AddressInfo).port}/charts/packed`;
    const rendered = await run(process.execPath, [BIN, 'template', 'rel', CHART_TGZ], envWith({}));
    assert.equal(rendered.code, 0, rendered.stderr);
    local = rendered.stdout;
  });
  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the slipway command pulls a chart from a registry that only the extra CA vouches for', async () => {
    const got = await run(
      BIN,
      ['template', 'rel', ref, '--version', '1.0.0'],
      envWith({ NODE_EXTRA_CA_CERTS: bundle }),
    );
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, local);
    assert.equal(got.stderr, '');
  });

  test('without NODE_EXTRA_CA_CERTS the same pull fails on the certificate', async () => {
    const got = await run(BIN, ['template', 'rel', ref, '--version', '1.0.0'], envWith({}));
    assert.notEqual(got.code, 0);
    assert.equal(got.stdout, '');
    assert.match(got.stderr, /cannot reach registry .*certificate/i);
  });

  test('an unreadable NODE_EXTRA_CA_CERTS gets the warning Node prints, and only the bundled roots', async () => {
    const missing = join(dir, 'missing.pem');
    const env = envWith({ NODE_EXTRA_CA_CERTS: missing });
    const got = await run(BIN, ['template', 'rel', ref, '--version', '1.0.0'], env);
    assert.notEqual(got.code, 0);
    assert.match(got.stderr, /^Warning: Ignoring extra certs from `.*missing\.pem`, load failed: /);
    assert.match(got.stderr, /certificate/i);
    // Node's own handling (node runs the file without the shell lines) warns the same way.
    const node = await run(process.execPath, [BIN, 'template', 'rel', ref, '--version', '1.0.0'], env);
    assert.match(node.stderr, /^Warning: Ignoring extra certs from `.*missing\.pem`, load failed: /);
  });

  test('local charts never read the certificates', async () => {
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const got = await run(BIN, ['template', 'rel', CHART_TGZ], envWith({ NODE_EXTRA_CA_CERTS: garbage }));
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, local);
    assert.equal(got.stderr, '', 'no warning: the file was never opened');
  });

  test('the shell lines move the variable for template only, and pass the arguments through intact', async () => {
    // A `node` first on PATH that prints the environment and arguments it was started with.
    const fake = mkdtempSync(join(dir, 'fake-node-'));
    writeFileSync(
      join(fake, 'node'),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansions
      '#!/bin/sh\necho "extra=${NODE_EXTRA_CA_CERTS-unset} moved=${SLIPWAY_EXTRA_CA_CERTS-unset}"\nprintf "[%s]" "$@"\n',
    );
    chmodSync(join(fake, 'node'), 0o755);
    const copy = join(fake, 'slipway.cjs');
    copyFileSync(BIN, copy);
    const PATH = `${fake}:${process.env.PATH}`;
    const args = ['template', 'a b', '--set', 'x=$HOME', "'q'", '*'];
    const moved = await run(copy, args, envWith({ PATH, NODE_EXTRA_CA_CERTS: bundle }));
    assert.equal(moved.stdout, `extra=unset moved=${bundle}\n[${copy}]${args.map((a) => `[${a}]`).join('')}`);
    for (const [argv, extra] of [
      [['app', 'list'], {}],
      [['template', 'rel', 'chart'], { NODE_OPTIONS: '--use-openssl-ca' }],
      [['template', 'rel', 'chart'], { NODE_OPTIONS: '--use-bundled-ca' }],
    ] as const) {
      const kept = await run(copy, [...argv], envWith({ PATH, NODE_EXTRA_CA_CERTS: bundle, ...extra }));
      assert.match(kept.stdout, new RegExp(`^extra=${bundle} moved=unset\n`), argv.join(' '));
    }
    const none = await run(copy, ['template', 'rel', 'chart'], envWith({ PATH }));
    assert.match(none.stdout, /^extra=unset moved=unset\n/);
  });

  test('trustExtraCaCerts shares one context among callers without options of their own', async () => {
    const script = `
      const tls = require('node:tls');
      require(${JSON.stringify(join(root, 'bin', 'extra-ca-certs.cjs'))}).trustExtraCaCerts(process.argv[1]);
      const a = tls.createSecureContext();
      const b = tls.createSecureContext({ servername: 'x' });
      const own = tls.createSecureContext({ minVersion: 'TLSv1.3' });
      const https = require('node:https');
      const get = () => new Promise((ok, fail) => https.get(process.argv[2], (res) => { res.resume(); ok(res.statusCode); }).on('error', fail));
      Promise.all([get(), get()]).then((codes) => console.log(JSON.stringify({ shared: a === b, own: own !== a, codes })));
    `;
    const got = await run(
      process.execPath,
      ['-e', script, bundle, `https://${HOST}:${(server.address() as AddressInfo).port}/v2/`],
      envWith({}),
    );
    assert.equal(got.code, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout), { shared: true, own: true, codes: [200, 200] });
  });
});
