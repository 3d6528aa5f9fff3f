import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuthenticationError, InputError, manualClock, NotAllowedError } from '../core/index.ts';
import { openStore } from '../store/index.ts';
import { ANONYMOUS, AuthService } from './index.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'slipway-auth-'));
}

test('bootstrapAdmin() creates admin once and writes the password with mode 0600', async () => {
  const dir = tempDir();
  try {
    const auth = new AuthService(openStore(join(dir, 'db')));
    const pw = await auth.bootstrapAdmin(dir);
    assert.ok(pw && pw.length >= 20);
    const file = join(dir, 'initial-admin-password');
    assert.equal(readFileSync(file, 'utf8').trim(), pw);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(await auth.bootstrapAdmin(dir), undefined);
    const subject = await auth.verifyCredentials('admin', pw);
    assert.equal(subject.role, 'admin');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('users and tokens survive reopening the store', async () => {
  const dir = tempDir();
  try {
    let store = openStore(join(dir, 'db'));
    let auth = new AuthService(store);
    await auth.createUser({ name: 'alice', password: 'alice-password', role: 'developer' }, 'test');
    const { token } = auth.createToken('alice', { name: 'ci' }, 'test');
    store.close();
    store = openStore(join(dir, 'db'));
    auth = new AuthService(store);
    assert.equal((await auth.verifyCredentials('alice', 'alice-password')).name, 'alice');
    assert.equal(auth.verifyToken(token)?.name, 'alice');
    assert.equal((await auth.authenticate({ authorization: `Bearer ${token}` })).name, 'alice');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('wrong password, unknown user and wrong token all fail with the same message', async () => {
  const auth = new AuthService(openStore(':memory:'));
  await auth.createUser({ name: 'alice', password: 'alice-password', role: 'developer' }, 'test');
  const attempts = [
    () => auth.verifyCredentials('alice', 'nope-nope'),
    () => auth.verifyCredentials('nobody', 'alice-password'),
    () => auth.verifyCredentials('alice', 'slw_notarealtoken'),
    () => auth.authenticate({ authorization: 'Bearer slw_notarealtoken' }),
    () => auth.authenticate({ authorization: `Basic ${Buffer.from('alice:wrong').toString('base64')}` }),
  ];
  for (const attempt of attempts) {
    await assert.rejects(attempt, (err: unknown) => {
      assert.ok(err instanceof AuthenticationError);
      assert.equal(err.message, 'Invalid credentials');
      assert.equal(err.status, 401);
      return true;
    });
  }
});

test('tokens are stored hashed, expire, and can be revoked', async () => {
  const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'));
  const store = openStore(':memory:');
  const auth = new AuthService(store, { clock });
  await auth.createUser({ name: 'bob', password: 'bob-password', role: 'maintainer' }, 'test');
  const { token, info } = auth.createToken('bob', { name: 'short', expiresInDays: 1 }, 'test');
  const raw = store.db.prepare('SELECT * FROM tokens').all();
  assert.ok(!JSON.stringify(raw).includes(token), 'the secret itself is never stored');
  assert.equal(auth.verifyToken(token)?.name, 'bob');
  clock.advance(2 * 86400_000);
  assert.equal(auth.verifyToken(token), undefined);
  const second = auth.createToken('bob', { name: 'long' }, 'test');
  auth.revokeToken('bob', 'long', 'test');
  assert.equal(auth.verifyToken(second.token), undefined);
  assert.equal(auth.listTokens('bob').length, 1);
  assert.equal(auth.listTokens('bob')[0]?.id, info.id);
});

test('sessions authenticate by cookie and end on logout', async () => {
  const auth = new AuthService(openStore(':memory:'));
  await auth.createUser({ name: 'carol', password: 'carol-password', role: 'viewer' }, 'test');
  const { cookie } = auth.createSession('carol');
  assert.equal((await auth.authenticate({ cookie: `x=1; slipway_session=${cookie}` })).name, 'carol');
  auth.endSession(cookie);
  await assert.rejects(() => auth.authenticate({ cookie: `slipway_session=${cookie}` }), AuthenticationError);
  assert.equal(await auth.authenticate({}), ANONYMOUS);
});

test('require() answers 401 to anonymous and 403 to the signed-in, and audits denials', async () => {
  const auth = new AuthService(openStore(':memory:'));
  await auth.createUser({ name: 'carol', password: 'carol-password', role: 'viewer' }, 'test');
  const carol = auth.subjectFor('carol');
  assert.throws(() => auth.require(ANONYMOUS, 'user.admin', { kind: 'system' }), AuthenticationError);
  assert.throws(() => auth.require(carol, 'user.admin', { kind: 'system' }), NotAllowedError);
  const denied = auth.listAudit({ actor: 'carol' });
  assert.equal(denied[0]?.outcome, 'denied');
  assert.equal(denied[0]?.action, 'user.admin');
});

test('bad user input is rejected with the field named', async () => {
  const auth = new AuthService(openStore(':memory:'));
  const cases: [Record<string, string>, RegExp][] = [
    [{ name: 'Bad Name', password: 'long-enough', role: 'viewer' }, /Invalid user name "Bad Name"/],
    [{ name: '../etc', password: 'long-enough', role: 'viewer' }, /Invalid user name/],
    [{ name: 'ok', password: 'short', role: 'viewer' }, /at least 8 characters/],
    [{ name: 'ok', password: 'long-enough', role: 'root' }, /Invalid role "root"/],
  ];
  for (const [input, message] of cases) {
    await assert.rejects(
      () => auth.createUser(input as { name: string; password: string; role: string }, 'test'),
      (err: unknown) => err instanceof InputError && message.test(err.message),
    );
  }
  await auth.createUser({ name: 'dup', password: 'long-enough', role: 'viewer' }, 'test');
  await assert.rejects(
    () => auth.createUser({ name: 'dup', password: 'long-enough', role: 'viewer' }, 'test'),
    {
      status: 409,
    },
  );
});

test('every user write is audited with its actor', async () => {
  const auth = new AuthService(openStore(':memory:'));
  await auth.createUser({ name: 'dave', password: 'dave-password', role: 'viewer' }, 'admin');
  auth.setRole('dave', 'developer', 'admin');
  auth.bind('dave', { scope: 'environment', name: 'dev', role: 'deployer' }, 'admin');
  const actions = auth.listAudit({ actor: 'admin' }).map((e) => e.action);
  assert.deepEqual(actions, ['user.bind', 'user.set-role', 'user.create']);
});
