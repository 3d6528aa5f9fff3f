// Renders every snippet in testdata/snippets.txt through the real `helm template` and through TemplateSet,
// and compares the outputs. Skips when the helm binary is absent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { TemplateSet, sprigFunctions } from './index.ts';

const here = new URL('.', import.meta.url).pathname;
const helm = join(here, '../../node_modules/.cache/slipway-tools/helm');
const snippets = readFileSync(join(here, 'testdata/snippets.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');
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
