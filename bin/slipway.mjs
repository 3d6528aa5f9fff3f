#!/usr/bin/env node
// The `slipway` command. Runs the bundle in dist/cli/ (built by `npm ci` / `npm run build:cli`) while it is
// newer than every source file it was built from; otherwise, or with SLIPWAY_DEV=1, runs the TypeScript
// sources through tsx's loader, so edited sources never run stale and a checkout needs no build step.
import { readFileSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);

/** Why the bundle cannot be used, or undefined when it can. */
function bundleProblem() {
  if (process.env.SLIPWAY_DEV === '1') return 'SLIPWAY_DEV=1';
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('dist/cli/inputs.json', root), 'utf8'));
  } catch {
    return 'no bundle';
  }
  for (const input of manifest.inputs) {
    let mtime;
    try {
      mtime = statSync(new URL(input, root)).mtimeMs;
    } catch {
      return `${input} was removed`;
    }
    if (mtime > manifest.builtAt) return `${input} changed`;
  }
  return undefined;
}

const problem = bundleProblem();
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
process.exitCode = await main(process.argv.slice(2));
