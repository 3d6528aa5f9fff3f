// The UI's size budget (README): the JavaScript the browser loads stays under 320 KB raw and 100 KB gzipped.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';

const ASSETS = join(import.meta.dirname, '..', 'web', 'dist', 'assets');
export const BUDGET = { rawBytes: 320 * 1024, gzipBytes: 100 * 1024 };

test('the web UI bundle stays within its size budget', {
  skip: !existsSync(ASSETS) && 'web UI not built',
}, () => {
  const js = readdirSync(ASSETS).filter((f) => f.endsWith('.js'));
  assert.ok(js.length > 0, 'a JavaScript bundle exists');
  const raw = js.reduce((n, f) => n + readFileSync(join(ASSETS, f)).length, 0);
  const gz = js.reduce((n, f) => n + gzipSync(readFileSync(join(ASSETS, f))).length, 0);
  assert.ok(raw <= BUDGET.rawBytes, `raw JS ${raw} bytes exceeds ${BUDGET.rawBytes}`);
  assert.ok(gz <= BUDGET.gzipBytes, `gzipped JS ${gz} bytes exceeds ${BUDGET.gzipBytes}`);
});
