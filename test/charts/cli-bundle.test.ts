// The bundled CLI (scripts/build-cli.mjs, what `npm ci` builds into dist/cli/ and bin/slipway.mjs runs):
// built into a temporary directory, run as plain node (no TypeScript loader), it prints what the source
// CLI prints, both through main.mjs and through bin/slipway.mjs's fast path for `template` (template.cjs
// with its V8 code cache, made by the first run and used by the next).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { absoluteArgs, listCases, type RunResult, runProcess, runSlipway } from './corpus.ts';

const root = resolve(import.meta.dirname, '../..');
const skip = existsSync(join(root, 'node_modules', 'esbuild')) ? false : 'esbuild not installed';
const RUN_MAIN =
  'const { main } = await import(process.argv[1]); process.exitCode = await main(process.argv.slice(2));';

function run(args: string[], cwd = root): Promise<RunResult & { code: number | null }> {
  return runProcess(process.execPath, args, { cwd, env: { ...process.env, NODE_OPTIONS: '' } });
}

describe('bundled CLI', { skip }, () => {
  // Inside the checkout (.tmp/ is git-ignored), so the bundle's external packages resolve from node_modules.
  mkdirSync(join(root, '.tmp'), { recursive: true });
  // A checkout of its own: bin/ copied, src/ and node_modules/ linked, dist/cli/ built here.
  const checkout = mkdtempSync(join(root, '.tmp', 'cli-bundle-'));
  const outdir = join(checkout, 'dist', 'cli');
  const bundle = (args: string[]) =>
    run(['--input-type=module', '-e', RUN_MAIN, pathToFileURL(join(outdir, 'main.mjs')).href, ...args]);
  const bin = (args: string[], entry = 'slipway.cjs') => run([join(checkout, 'bin', entry), ...args]);

  before(async () => {
    mkdirSync(join(checkout, 'bin'));
    for (const name of ['slipway.cjs', 'slipway.mjs'])
      copyFileSync(join(root, 'bin', name), join(checkout, 'bin', name));
    for (const name of ['src', 'node_modules', 'package.json'])
      symlinkSync(join(root, name), join(checkout, name));
    const built = await run([join(root, 'scripts', 'build-cli.mjs'), '--outdir', outdir]);
    assert.equal(built.code, 0, built.stderr);
    assert.ok(existsSync(join(outdir, 'inputs.json')), 'the build lists its inputs');
    assert.ok(existsSync(join(outdir, 'template.cjs')), 'the build makes the template fast path');
  });
  after(() => rmSync(checkout, { recursive: true, force: true }));

  test('--help lists the commands; template --help shows its flags', async () => {
    const top = await bundle(['--help']);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, /Usage: slipway/);
    for (const name of ['up', 'template', 'login']) assert.match(top.stdout, new RegExp(`\\n  ${name}\\b`));
    const sub = await bundle(['template', '--help']);
    assert.equal(sub.code, 0, sub.stderr);
    assert.match(sub.stdout, /Usage: slipway template/);
    assert.match(sub.stdout, /--set-json/);
  });

  test('bin/slipway.cjs leaves template --help and usage errors to the full CLI', async () => {
    for (const args of [
      ['template', '--help'],
      ['template'],
      ['template', 'a', 'b', 'c'],
      ['template', 'x', '.', '-q'],
    ]) {
      const want = await bundle(args);
      const got = await bin(args);
      assert.deepEqual(got, want, args.join(' '));
    }
  });

  const cases = listCases().filter((c) =>
    ['basic', 'files', 'library', 'tgz-subchart', 'required'].includes(c.name),
  );
  for (const c of cases) {
    test(`template ${c.name} prints what the source CLI prints`, async () => {
      const want = await runSlipway(c);
      const got = await bundle(['template', c.release, join(c.dir, c.chart), ...absoluteArgs(c)]);
      assert.equal(got.ok, want.ok, got.stderr);
      assert.equal(got.stdout, want.stdout);
      if (!want.ok) assert.equal(got.stderr.trim(), want.stderr.trim());
      // The fast path: the first run makes the code cache (if an earlier case has not), the second uses it.
      const args = ['template', c.release, join(c.dir, c.chart), ...absoluteArgs(c)];
      for (const [pass, entry] of [
        ['first', 'slipway.cjs'],
        ['second', 'slipway.mjs'],
      ] as const) {
        const fast = await bin(args, entry);
        assert.equal(fast.code, got.code, `${pass} run: ${fast.stderr}`);
        assert.equal(fast.stdout, got.stdout, `${pass} run`);
        assert.equal(fast.stderr, got.stderr, `${pass} run`);
        assert.ok(existsSync(join(outdir, 'template.cjs.cache')), 'the fast path wrote its code cache');
      }
    });
  }
});
