import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

test('tuneHeapForStreaming() makes V8 set every old-generation limit at 2 × the live heap', () => {
  // A child with V8's own trace of its heap limits; full GCs forced by keeping ~100 MB alive in turns.
  const script = `
    import { tuneHeapForStreaming } from ${JSON.stringify(join(import.meta.dirname, 'heap-tuning.ts'))};
    tuneHeapForStreaming();
    console.log('-- tuned --');
    const keep = [];
    for (let i = 0; i < 2000; i++) { keep.push(new Array(100_000).fill(i)); if (keep.length > 30) keep.shift(); }
  `;
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--trace-gc-verbose', '--input-type=module', '-e', script],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const after = out.slice(out.indexOf('-- tuned --'));
  const limits = [...after.matchAll(/\[HeapController\] Limit: .* \(([\d.]+)\)/g)].map((m) => Number(m[1]));
  assert.ok(limits.length > 0, 'the child ran full GCs');
  assert.ok(
    limits.every((f) => f === 2),
    `growth factors: ${limits.join(' ')}`,
  );
});
