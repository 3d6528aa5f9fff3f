// A restart on the same data directory keeps users, rights and tokens.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startTestServer } from '../../src/server/index.ts';

test('users, bindings and tokens survive a restart; the admin password is not regenerated', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-restart-'));
  try {
    const first = await startTestServer({ dataDir });
    assert.ok(first.initialAdminPassword);
    const token = await first.createUser('bob', 'maintainer', [
      { scope: 'environment', name: 'prod', role: 'deployer' },
    ]);
    await first.stop();

    const second = await startTestServer({ dataDir });
    assert.equal(second.initialAdminPassword, undefined);
    const me = await second.request('/api/v1/me', { token });
    assert.equal(me.status, 200);
    const body = (await me.json()) as { name: string; bindings: { name: string }[] };
    assert.equal(body.name, 'bob');
    assert.equal(body.bindings[0]?.name, 'prod');
    const login = await second.request('/api/v1/login', {
      method: 'POST',
      token: null,
      json: { username: 'admin', password: first.initialAdminPassword, token: true },
    });
    assert.equal(login.status, 200);
    await second.stop();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
