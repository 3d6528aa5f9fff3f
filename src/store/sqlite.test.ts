import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from './index.ts';

test('migrate() applies each step once and survives reopening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-store-'));
  try {
    const path = join(dir, 'db.sqlite');
    const steps = ['CREATE TABLE a (x INTEGER)', 'ALTER TABLE a ADD COLUMN y TEXT'];
    let store = openStore(path);
    store.migrate({ module: 'm', steps: steps.slice(0, 1) });
    store.db.prepare('INSERT INTO a (x) VALUES (1)').run();
    store.close();
    store = openStore(path);
    store.migrate({ module: 'm', steps });
    store.migrate({ module: 'm', steps });
    assert.deepEqual(store.db.prepare('SELECT x, y FROM a').all(), [{ x: 1, y: null }]);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('migrate() refuses a database written by a newer version', () => {
  const store = openStore(':memory:');
  store.migrate({ module: 'm', steps: ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (x INTEGER)'] });
  assert.throws(() => store.migrate({ module: 'm', steps: ['CREATE TABLE a (x INTEGER)'] }), /newer version/);
  store.close();
});

test('a failing migration step leaves nothing half-applied', () => {
  const store = openStore(':memory:');
  assert.throws(() =>
    store.migrate({ module: 'm', steps: ['CREATE TABLE a (x INTEGER); CREATE TABLE a (y INTEGER)'] }),
  );
  const row = store.db
    .prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'a'")
    .get();
  assert.equal(row?.n, 0);
  store.close();
});
