// Renders every snippet in testdata/snippets.txt through the real `helm template` and through TemplateSet,
// and compares the outputs. Skips when the helm binary is absent.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { TemplateSet, sprigFunctions } from './index.ts';

const here = new URL('.', import.meta.url).pathname;
const helm = join(here, '../../node_modules/.cache/slipway-tools/helm');
/** One snippet a line; a line ending in " \\" continues on the next (joined by a newline). */
const snippets = readFileSync(join(here, 'testdata/snippets.txt'), 'utf8')
  .replaceAll(' \\\n', '\u0000')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => l.replaceAll('\u0000', '\n'));
const valuesText = readFileSync(join(here, 'testdata/values.yaml'), 'utf8');
const fixedNow = new Date('2024-05-06T07:08:09Z');

function renderOurs(): Map<number, string> {
  const set = new TemplateSet();
  set.addFuncs(sprigFunctions({ now: () => fixedNow }));
  set.addFuncs({
    include: (name: unknown, data: unknown) => set.execute(String(name), data, { missingKey: 'zero' }),
  });
  const out = new Map<number, string>();
  snippets.forEach((s, i) => {
    set.parse(`hc/templates/_s${i}.tpl`, s);
  });
  const data = { Values: parseYaml(valuesText, { version: '1.1' }) as unknown };
  snippets.forEach((_s, i) => {
    try {
      out.set(i, set.execute(`hc/templates/_s${i}.tpl`, data, { missingKey: 'zero' }));
    } catch (e) {
      out.set(i, `ERROR: ${(e as Error).message}`);
    }
  });
  return out;
}

function renderHelm(dir: string): Map<number, string> {
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: hc\nversion: 0.1.0\n');
  writeFileSync(join(dir, 'values.yaml'), valuesText);
  let out = '';
  snippets.forEach((s, i) => {
    writeFileSync(join(dir, 'templates', `_s${i}.tpl`), s);
    out += `# ${i}: {{ include "hc/templates/_s${i}.tpl" . | b64enc }}\n`;
  });
  writeFileSync(join(dir, 'templates', 'out.yaml'), out);
  const r = spawnSync(helm, ['template', 'x', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const result = new Map<number, string>();
  for (const line of r.stdout.split('\n')) {
    const m = /^# (\d+): (.*)$/.exec(line);
    if (m) result.set(Number(m[1]), Buffer.from(m[2]!, 'base64').toString('utf8'));
  }
  return result;
}

test('execute() matches helm template on every snippet', {
  skip: existsSync(helm) ? false : 'helm binary not installed',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-tpl-'));
  try {
    const theirs = renderHelm(dir);
    if (process.env.UPDATE_GOLDEN === '1') {
      const golden = Object.fromEntries(snippets.map((snip, i) => [snip, theirs.get(i) ?? null]));
      writeFileSync(join(here, 'testdata/snippets.golden.json'), `${JSON.stringify(golden, null, 1)}\n`);
    }
    const ours = renderOurs();
    const mismatches: string[] = [];
    snippets.forEach((s, i) => {
      if (ours.get(i) !== theirs.get(i)) {
        mismatches.push(
          `#${i} ${s}\n  helm: ${JSON.stringify(theirs.get(i))}\n  ours: ${JSON.stringify(ours.get(i))}`,
        );
      }
    });
    assert.deepEqual(mismatches, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const errorSnippets = readFileSync(join(here, 'testdata/error-snippets.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');

/** Helm's cleanupParseError, applied to our parse errors so they compare with helm's output. */
function helmParseError(message: string): string {
  const tokens = message.split(': ');
  if (tokens.length === 1) return `parse error in (hc/templates/t.yaml): ${message}`;
  return `parse error at (${tokens[1]}): ${tokens[tokens.length - 1]}`;
}

function ourError(snippet: string): string {
  const set = new TemplateSet();
  set.addFuncs(sprigFunctions({ now: () => fixedNow }));
  try {
    set.parse('hc/templates/t.yaml', snippet);
  } catch (e) {
    return helmParseError((e as Error).message);
  }
  try {
    set.execute(
      'hc/templates/t.yaml',
      { Values: parseYaml(valuesText, { version: '1.1' }) as unknown },
      { missingKey: 'zero' },
    );
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

/** Renders one snippet as the chart's only template in its own chart dir; returns helm's error line. */
function helmError(dir: string, snippet: string): Promise<string> {
  mkdirSync(join(dir, 'templates'), { recursive: true });
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: hc\nversion: 0.1.0\n');
  writeFileSync(join(dir, 'values.yaml'), valuesText);
  writeFileSync(join(dir, 'templates', 't.yaml'), snippet);
  return new Promise((resolve, reject) => {
    const child = spawn(helm, ['template', 'x', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve('(no error)');
      const line = stderr.split('\n').find((l) => l.startsWith('Error: ')) ?? stderr;
      resolve(line.replace(/^Error: /, ''));
    });
  });
}

test('execute() and parse() fail like helm template', {
  skip: existsSync(helm) ? false : 'helm binary not installed',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-tpl-'));
  try {
    const results = new Array<string>(errorSnippets.length);
    let next = 0;
    const worker = async (w: number): Promise<void> => {
      for (let i = next++; i < errorSnippets.length; i = next++) {
        results[i] = await helmError(join(dir, `w${w}`), errorSnippets[i]!);
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    const mismatches: string[] = [];
    const golden: Record<string, string> = {};
    errorSnippets.forEach((s, i) => {
      const theirs = results[i]!;
      golden[s] = theirs;
      const ours = ourError(s);
      if (theirs !== ours) mismatches.push(`${s}\n  helm: ${theirs}\n  ours: ${ours}`);
    });
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(join(here, 'testdata/errors.golden.json'), `${JSON.stringify(golden, null, 1)}\n`);
    }
    assert.deepEqual(mismatches, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
