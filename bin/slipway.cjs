#!/bin/sh
":" //; move=; [ "${1-}" = template ] && [ -n "${NODE_EXTRA_CA_CERTS-}" ] && move=1
":" //; case "${NODE_OPTIONS-}" in *openssl*|*bundled-ca*) move= ;; esac
":" //; [ -z "$move" ] || { export SLIPWAY_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; }
":" //; exec node "$0" "$@"
// The lines above are a shell script to sh and a string and comments to JavaScript. The `slipway` command
// (npm links package.json's "bin" here) starts as that script: it execs node on this file, as a
// `#!/usr/bin/env node` line would, and for `slipway template` first moves NODE_EXTRA_CA_CERTS out of Node's
// way: Node 20 loads that file, with all its bundled root certificates, before any JavaScript runs (~40 ms
// of a start on a machine that sets it, as long as a whole `helm template` run); bin/extra-ca-certs.cjs
// trusts the same certificates when the first TLS connection opens. NODE_OPTIONS that choose a certificate
// store (--use-openssl-ca, --use-bundled-ca, --openssl-*) keep Node's own handling. `node bin/slipway.cjs`
// skips the shell part. (Biome does not format this file: it would turn the shell lines into JavaScript's
// style.)
//
// The `slipway` command. Runs the bundle in dist/cli/ (built by `npm ci` / `npm run build:cli`) while it is
// newer than every source file it was built from; otherwise, or with SLIPWAY_DEV=1, runs the TypeScript
// sources through tsx's loader, so edited sources never run stale and a checkout needs no build step.
//
// `slipway template ...` takes a fast path first: dist/cli/template.cjs (src/cli/template-fast.ts: the
// template command without commander or any other command, in one minified CommonJS file) compiled here
// through vm.Script with a V8 code cache (dist/cli/template.cjs.cache, written after a run that had none),
// so the start resolves no modules and compiles almost nothing. It handles the common argument forms and
// leaves the rest (--help, usage errors, rare forms) to main.mjs, so those print exactly what they did.
// CommonJS on purpose: an ESM entry costs a start ~10 ms more (Node 20's ESM loader reads it through
// fs/promises, and an ESM import of node:fs builds a namespace that loads fs streams). bin/slipway.mjs, the
// older entry, just loads this file.
'use strict';

const fs = require('node:fs');
const extraCaCerts = process.env.SLIPWAY_EXTRA_CA_CERTS;
if (extraCaCerts !== undefined) {
  // Child processes (git, helm, node) get the variable back and load it as they always do.
  delete process.env.SLIPWAY_EXTRA_CA_CERTS;
  process.env.NODE_EXTRA_CA_CERTS = extraCaCerts;
  require('./extra-ca-certs.cjs').trustExtraCaCertsOnFirstFetch(extraCaCerts);
}
const root = `${__dirname}/../`;
const dist = `${root}dist/cli/`;

function readManifest() {
  try {
    return JSON.parse(fs.readFileSync(`${dist}inputs.json`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why the bundle cannot be used for these inputs, or undefined when it can. */
function bundleProblem(manifest, inputs) {
  if (process.env.SLIPWAY_DEV === '1') return 'SLIPWAY_DEV=1';
  if (manifest === undefined || inputs === undefined) return 'no bundle';
  for (const input of inputs) {
    const stat = fs.statSync(root + input, { throwIfNoEntry: false });
    if (stat === undefined) return `${input} was removed`;
    if (stat.mtimeMs > manifest.builtAt) return `${input} changed`;
  }
  return undefined;
}

/**
 * Writes all of `text` to fd 1 or 2 with write(2) calls, without creating process.stdout (whose stream
 * classes a template run would otherwise load). On any error (a non-blocking pipe that is full, EPIPE) it
 * hands the rest, and every later write to that fd, to the process stream, which behaves as it always did.
 */
function fdWriter(fd) {
  let stream;
  return (text) => {
    if (stream !== undefined) {
      stream.write(text);
      return;
    }
    let buf = Buffer.from(text);
    try {
      while (buf.length > 0) buf = buf.subarray(fs.writeSync(fd, buf));
    } catch {
      stream = fd === 1 ? process.stdout : process.stderr;
      stream.write(buf);
    }
  };
}

/**
 * Runs dist/cli/template.cjs (src/cli/template-fast.ts) through vm.Script with its code cache; resolves with
 * the exit code, or undefined when it leaves these arguments to the full CLI.
 */
async function runTemplateBundle(argv, manifest) {
  const vm = require('node:vm');
  const { createRequire } = require('node:module');
  const file = `${dist}template.cjs`;
  const cacheFile = `${file}.cache`;
  // The cache is V8's, for this bundle: keyed by Node's version and architecture and the bundle's hash. V8
  // itself rejects data made with other flags (script.cachedDataRejected); it is then made anew.
  const key = `slipway-template-cache ${process.version} ${process.arch} ${manifest.templateHash}\n`;
  let cachedData;
  try {
    const data = fs.readFileSync(cacheFile);
    if (data.toString('latin1', 0, key.length) === key) cachedData = data.subarray(key.length);
  } catch {}
  let source;
  try {
    source = fs.readFileSync(file, manifest.templateAscii ? 'latin1' : 'utf8');
  } catch {
    return undefined; // an older or partial build: the full CLI runs
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dist.slice(0, -1));
  const out = fdWriter(1);
  const err = fdWriter(2);
  const code = await module.exports.runTemplateFast(argv, { out, err });
  if (code !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    // After the run, so the functions it compiled lazily are in the cache too. Written atomically; a
    // read-only install just goes without.
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(key, 'latin1'), script.createCachedData()]));
      fs.renameSync(tmp, cacheFile);
    } catch {
      fs.rmSync(tmp, { force: true });
    }
  }
  return code;
}

async function runMain(argv, manifest) {
  const problem = bundleProblem(manifest, manifest?.inputs);
  let main;
  if (problem === undefined) {
    ({ main } = await import('../dist/cli/main.mjs'));
  } else {
    if (problem !== 'no bundle' && problem !== 'SLIPWAY_DEV=1' && process.stderr.isTTY) {
      process.stderr.write(
        `slipway: ${problem} since the last build; running from source (npm run build:cli)\n`,
      );
    }
    const { register } = await import('tsx/esm/api');
    register();
    ({ main } = await import('../src/cli/main.ts'));
  }
  return main(argv);
}

async function run() {
  const argv = process.argv.slice(2);
  const manifest = readManifest();
  let code;
  if (argv[0] === 'template' && bundleProblem(manifest, manifest?.templateInputs) === undefined) {
    code = await runTemplateBundle(argv, manifest);
  }
  return code ?? (await runMain(argv, manifest));
}

run().then((code) => {
  process.exitCode = code;
});
