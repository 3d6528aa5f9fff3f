// Differential test: every corpus chart rendered by Slipway must equal `helm template` document by document.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  type CorpusCase,
  helmAvailable,
  listCases,
  parseOutput,
  removeHelmHome,
  type RunResult,
  runHelm,
  runSlipway,
} from './corpus.ts';

const cases = listCases();
const skip = helmAvailable() ? false : 'helm binary not found (npm ci extracts it into node_modules/.cache)';

async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  });
  await Promise.all(workers);
  return out;
}

describe('chart corpus against helm template', { skip }, () => {
  // helm runs start at once (4 at a time) and overlap with Slipway's checks; each test awaits its own.
  const helm = new Map<string, Promise<RunResult>>();
  if (!skip) {
    const all = mapLimit(cases, 4, runHelm);
    for (const [i, c] of cases.entries())
      helm.set(
        c.name,
        all.then((r) => r[i]!),
      );
  }

  after(() => removeHelmHome());

  const check = async (c: CorpusCase) => {
    const want = await helm.get(c.name)!;
    const got = await runSlipway(c);
    if (c.error) {
      assert.equal(want.ok, false, `helm should fail for ${c.name}`);
      assert.equal(got.ok, false, `slipway should fail for ${c.name}; output:\n${got.stdout}`);
      for (const phrase of c.error) {
        assert.ok(want.stderr.includes(phrase), `helm error lacks "${phrase}": ${want.stderr}`);
        assert.ok(
          got.stderr.includes(phrase),
          `slipway error lacks "${phrase}": ${got.stderr}\nhelm: ${want.stderr}`,
        );
      }
      return;
    }
    assert.equal(want.ok, true, `helm failed: ${want.stderr}`);
    assert.equal(got.ok, true, `slipway failed: ${got.stderr}`);
    assert.deepEqual(parseOutput(got.stdout), parseOutput(want.stdout));
  };

  for (const c of cases) {
    test(`${c.name} renders like helm`, c.todo ? { todo: c.todo } : {}, () => check(c));
  }
});
