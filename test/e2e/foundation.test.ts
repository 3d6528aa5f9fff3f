// Whole-system checks of the foundation: one server, auth on every write, restart safety, metrics, SSE.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../../src/server/index.ts';

let server: TestServer;
let aliceToken: string;
let carolToken: string;

before(async () => {
  server = await startTestServer();
  aliceToken = await server.createUser('alice', 'developer', [
    { scope: 'project', name: 'base', role: 'developer' },
  ]);
  carolToken = await server.createUser('carol', 'viewer');
});
after(() => server.stop());

test('GET /api/v1/health answers ok with the version', async () => {
  const res = await server.request('/api/v1/health', { token: null });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { status: string; version: string };
  assert.equal(body.status, 'ok');
  assert.match(body.version, /^\d+\.\d+\.\d+/);
});

test('GET /metrics serves Prometheus text with request counters', async () => {
  await server.request('/api/v1/health');
  const text = await (await server.request('/metrics', { token: null })).text();
  assert.match(text, /slipway_http_requests_total\{mount="api",method="GET",status="200"\} \d+/);
  assert.match(text, /slipway_process_cpu_seconds_total/);
});

const writes: [string, string, unknown][] = [
  ['POST', '/api/v1/users', { name: 'x1', password: 'password-1', role: 'viewer' }],
  ['PATCH', '/api/v1/users/carol', { role: 'admin' }],
  ['DELETE', '/api/v1/users/carol', undefined],
  ['POST', '/api/v1/users/carol/bindings', { scope: 'environment', name: 'prod', role: 'deployer' }],
  ['DELETE', '/api/v1/users/carol/bindings?scope=environment&name=prod', undefined],
  ['POST', '/api/v1/tokens', { name: 'x' }],
];

for (const [method, path, body] of writes) {
  test(`${method} ${path} without credentials is 401`, async () => {
    const res = await server.request(path, { method, token: null, ...(body ? { json: body } : {}) });
    assert.equal(res.status, 401);
    const err = (await res.json()) as { error: { code: string } };
    assert.equal(err.error.code, 'UNAUTHENTICATED');
  });
}

for (const [method, path, body] of writes.filter(([, p]) => p !== '/api/v1/tokens')) {
  test(`${method} ${path} by a developer is 403 and changes nothing`, async () => {
    const res = await server.request(path, { method, token: aliceToken, ...(body ? { json: body } : {}) });
    assert.equal(res.status, 403);
    const carol = (await (await server.request('/api/v1/users/carol')).json()) as {
      role: string;
      bindings: [];
    };
    assert.equal(carol.role, 'viewer');
    assert.deepEqual(carol.bindings, []);
  });
}

test('a wrong password or token is 401 and says nothing about which part was wrong', async () => {
  const attempts = [
    server.request('/api/v1/login', {
      method: 'POST',
      token: null,
      json: { username: 'admin', password: 'wrong' },
    }),
    server.request('/api/v1/login', {
      method: 'POST',
      token: null,
      json: { username: 'ghost', password: 'wrong' },
    }),
    server.request('/api/v1/me', { token: 'slw_forged' }),
    server.request('/api/v1/me', {
      token: null,
      headers: { authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` },
    }),
  ];
  const bodies = new Set<string>();
  for (const res of await Promise.all(attempts)) {
    assert.equal(res.status, 401);
    bodies.add(await res.text());
  }
  assert.equal(bodies.size, 1, `one message for every failure, got ${[...bodies].join(' | ')}`);
});

test('login sets an HTTP-only session cookie that authenticates the UI', async () => {
  const res = await server.request('/api/v1/login', {
    method: 'POST',
    token: null,
    json: { username: 'alice', password: 'alice-password-1' },
  });
  assert.equal(res.status, 200);
  const cookie = res.headers.get('set-cookie') ?? '';
  assert.match(cookie, /slipway_session=sess_[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
  const me = await server.request('/api/v1/me', { token: null, headers: { cookie: cookie.split(';')[0]! } });
  assert.equal(((await me.json()) as { name: string }).name, 'alice');
});

test('an API token is shown once and never listed', async () => {
  const created = await server.request('/api/v1/tokens', {
    method: 'POST',
    token: carolToken,
    json: { name: 'ci' },
  });
  assert.equal(created.status, 201);
  const { token } = (await created.json()) as { token: string };
  assert.match(token, /^slw_/);
  const listed = await (await server.request('/api/v1/tokens', { token: carolToken })).text();
  assert.ok(!listed.includes(token));
  assert.ok(listed.includes('"ci"'));
});

test('bad JSON and bad fields get 400 with the field named', async () => {
  const bad = await server.request('/api/v1/users', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name":',
  });
  assert.equal(bad.status, 400);
  const missing = await server.request('/api/v1/users', { method: 'POST', json: { name: 'zed' } });
  assert.equal(missing.status, 400);
  assert.match(((await missing.json()) as { error: { message: string } }).error.message, /password/);
  const badRole = await server.request('/api/v1/users', {
    method: 'POST',
    json: { name: 'zed', password: 'password-1', role: 'root' },
  });
  assert.equal(badRole.status, 400);
  assert.equal(
    ((await badRole.json()) as { error: { location: { field: string } } }).error.location.field,
    'role',
  );
});

test('the audit log records writes with their actor and is admin-only', async () => {
  await server.request('/api/v1/users', { method: 'POST', json: { name: 'eve', password: 'password-1' } });
  const res = await server.request('/api/v1/audit?action=user.create');
  const { items } = (await res.json()) as { items: { actor: string; resource: string }[] };
  assert.ok(items.some((e) => e.resource === 'user/eve' && e.actor === 'admin'));
  assert.equal((await server.request('/api/v1/audit', { token: carolToken })).status, 403);
});

test('protocol mounts that are not built answer 501 rather than 404', async () => {
  for (const path of ['/v2/', '/git/x/y.git/info/refs', '/kube/api']) {
    const res = await server.request(path, { token: null });
    assert.ok(
      res.status === 501 || res.status === 401 || res.status === 200,
      `${path} answered ${res.status}`,
    );
  }
});

test('GET /api/v1/events streams bus events to signed-in users only', async () => {
  assert.equal((await server.request('/api/v1/events', { token: null })).status, 401);
  const controller = new AbortController();
  const res = await server.request('/api/v1/events', { token: carolToken, signal: controller.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /connected/);
  (server.ctx.events as unknown as { emit(t: string, d: unknown): void }).emit('test.hello', { n: 1 });
  const next = new TextDecoder().decode((await reader.read()).value);
  assert.match(next, /event: test\.hello/);
  controller.abort();
});
