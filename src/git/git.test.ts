import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { BusEvent } from '../core/index.ts';
import { startTestServer, type TestServer } from '../server/testing.ts';
import { createGit, type GitModule, type GitPushEvent } from './index.ts';

let server: TestServer;
let git: GitModule;
let work: string;
const pushes: GitPushEvent[] = [];

const run = promisify(execFile);

// Async: the server under test runs in this process, so git must not block the event loop.
async function sh(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await run('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@x',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@x',
    },
  });
  return stdout;
}

async function gitFails(args: string[], cwd?: string): Promise<string> {
  try {
    await sh(args, cwd);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`git ${args.join(' ')} succeeded`);
}

function url(user: string, secret: string, repo: string): string {
  const u = new URL(server.url);
  u.username = user;
  u.password = secret;
  return `${u.origin.replace('://', `://${encodeURIComponent(user)}:${encodeURIComponent(secret)}@`)}/git/${repo}.git`;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'slipway-git-test-'));
  server = await startTestServer({
    extraModules: (ctx) => {
      git = createGit(ctx);
      return [
        { name: 'git', prefix: '/git', routes: git.routes, start: git.start, stop: git.stop },
        { name: 'git-api', prefix: '/api/v1', routes: git.apiRoutes },
      ];
    },
  });
  server.ctx.events.on('git.push', (e: GitPushEvent, _ev: BusEvent<'git.push'>) => pushes.push(e));
  const res = await server.request('/api/v1/repos', { method: 'POST', json: { name: 'acme/app' } });
  assert.equal(res.status, 201);
});

after(async () => {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
});

test('clone, push and fetch with Basic auth (token and password), emitting git.push', async () => {
  const dev = await server.createUser('dev1', 'developer');
  const a = join(work, 'a');
  await sh(['clone', '-q', url('dev1', dev, 'acme/app'), a]);
  writeFileSync(join(a, 'README.md'), 'hello\n');
  await sh(['add', '.'], a);
  await sh(['commit', '-qm', 'first'], a);
  await sh(['push', '-q', 'origin', 'HEAD:refs/heads/main'], a);
  const ev = pushes.find((p) => p.ref === 'refs/heads/main');
  assert.ok(ev, 'a git.push event for main');
  assert.equal(ev.repo, 'acme/app');
  assert.equal(ev.pusher, 'dev1');
  assert.equal(ev.commits[0]?.message, 'first');
  assert.equal(ev.after, (await sh(['rev-parse', 'HEAD'], a)).trim());
  assert.equal(await git.service.readFile('acme/app', 'main', 'README.md'), 'hello\n');
  // password auth, fetch
  const b = join(work, 'b');
  await sh(['clone', '-q', url('admin', server.adminPassword, 'acme/app'), b]);
  writeFileSync(join(a, 'README.md'), 'hello again\n');
  await sh(['commit', '-qam', 'second'], a);
  await sh(['push', '-q', 'origin', 'HEAD:main'], a);
  await sh(['fetch', '-q'], b);
  assert.equal((await sh(['log', '-1', '--format=%s', 'origin/main'], b)).trim(), 'second');
});

test('a gzip-compressed upload-pack request body is accepted', async () => {
  const sha = await git.service.resolveRef('acme/app', 'refs/heads/main');
  assert.ok(sha);
  const pkt = (line: string) => `${(line.length + 4).toString(16).padStart(4, '0')}${line}`;
  const body = gzipSync(Buffer.from(`${pkt(`want ${sha}\n`)}0000${pkt('done\n')}`));
  const res = await fetch(`${server.url}/git/acme/app.git/git-upload-pack`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${server.adminToken}`,
      'content-type': 'application/x-git-upload-pack-request',
      'content-encoding': 'gzip',
    },
    body,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-git-upload-pack-result');
  const out = Buffer.from(await res.arrayBuffer());
  assert.ok(out.includes(Buffer.from('PACK')), out.subarray(0, 40).toString());
});

test('anonymous gets 401 with a Basic challenge; a viewer may clone but not push (403)', async () => {
  const res = await fetch(`${server.url}/git/acme/app.git/info/refs?service=git-upload-pack`);
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), 'Basic realm="Slipway"');
  const bad = await fetch(`${server.url}/git/acme/app.git/info/refs?service=git-upload-pack`, {
    headers: { authorization: `Basic ${Buffer.from('admin:wrong').toString('base64')}` },
  });
  assert.equal(bad.status, 401);
  const viewer = await server.createUser('viewer1', 'viewer');
  const c = join(work, 'c');
  await sh(['clone', '-q', url('viewer1', viewer, 'acme/app'), c]);
  writeFileSync(join(c, 'x.txt'), 'x\n');
  await sh(['add', '.'], c);
  await sh(['commit', '-qm', 'viewer change'], c);
  assert.match(await gitFails(['push', '-q', 'origin', 'HEAD:main'], c), /403/);
  const res2 = await fetch(`${server.url}/git/acme/app.git/info/refs?service=git-receive-pack`, {
    headers: { authorization: `Bearer ${viewer}` },
  });
  assert.equal(res2.status, 403);
});

test('path traversal and odd names are rejected', async () => {
  for (const name of ['../etc', 'acme/..', 'a/b/c', 'acme/.hidden', 'acme/x y']) {
    const res = await server.request('/api/v1/repos', { method: 'POST', json: { name } });
    assert.equal(res.status, 400, name);
  }
  const res = await fetch(`${server.url}/git/acme/..%2F..%2Fetc.git/info/refs?service=git-upload-pack`, {
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  assert.ok(res.status === 400 || res.status === 404, String(res.status));
  const missing = await fetch(`${server.url}/git/acme/nope.git/info/refs?service=git-upload-pack`, {
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  assert.equal(missing.status, 404);
});

test('concurrent pushes to two branches both land and each emits one event', async () => {
  const d = join(work, 'd');
  await sh(['clone', '-q', url('admin', server.adminToken, 'acme/app'), d]);
  const e = join(work, 'e');
  await sh(['clone', '-q', url('admin', server.adminToken, 'acme/app'), e]);
  for (const [dir, branch] of [
    [d, 'feature/one'],
    [e, 'feature/two'],
  ] as const) {
    writeFileSync(join(dir, `${branch.replace('/', '-')}.txt`), branch);
    await sh(['add', '.'], dir);
    await sh(['commit', '-qm', branch], dir);
  }
  const { spawn } = await import('node:child_process');
  const push = (dir: string, branch: string) =>
    new Promise<number>((resolve) => {
      const p = spawn('git', ['push', '-q', 'origin', `HEAD:refs/heads/${branch}`], {
        cwd: dir,
        stdio: 'ignore',
      });
      p.on('close', (code) => resolve(code ?? 1));
    });
  const codes = await Promise.all([push(d, 'feature/one'), push(e, 'feature/two')]);
  assert.deepEqual(codes, [0, 0]);
  assert.equal(pushes.filter((p) => p.ref === 'refs/heads/feature/one').length, 1);
  assert.equal(pushes.filter((p) => p.ref === 'refs/heads/feature/two').length, 1);
});

test('repos API and commitFiles', async () => {
  const list = (await (await server.request('/api/v1/repos')).json()) as {
    items: { repo: string; cloneUrl: string }[];
  };
  assert.ok(list.items.some((r) => r.repo === 'acme/app' && r.cloneUrl.endsWith('/git/acme/app.git')));
  await server.request('/api/v1/repos', { method: 'POST', json: { name: 'acme/values' } });
  const first = await git.service.commitFiles('acme/values', {
    branch: 'main',
    files: { 'dev/svc/values.yaml': 'image:\n  tag: "1"\n' },
    message: 'init',
    author: { name: 'bot' },
  });
  const second = await git.service.commitFiles('acme/values', {
    branch: 'main',
    files: { 'dev/svc/values.yaml': 'image:\n  tag: "2"\n' },
    message: 'updated the image tag',
    author: { name: 'bot' },
    expectedParent: first.commit,
  });
  assert.equal(second.parent, first.commit);
  assert.equal(
    await git.service.readFile('acme/values', first.commit, 'dev/svc/values.yaml'),
    'image:\n  tag: "1"\n',
  );
  await assert.rejects(
    git.service.commitFiles('acme/values', {
      branch: 'main',
      files: {},
      message: 'x',
      author: { name: 'b' },
      expectedParent: first.commit,
    }),
    /moved/,
  );
  const dup = await server.request('/api/v1/repos', { method: 'POST', json: { name: 'acme/values' } });
  assert.equal(dup.status, 409);
  const del = await server.request('/api/v1/repos/acme/values', { method: 'DELETE' });
  assert.equal(del.status, 204);
  assert.equal((await server.request('/api/v1/repos/acme/values')).status, 404);
});

test('webhooks: bad signatures get 401 and queue nothing; a signed push fetches and emits', async () => {
  const upstream = join(work, 'upstream.git');
  await sh(['init', '-q', '--bare', '--initial-branch=main', upstream]);
  const u = join(work, 'u');
  await sh(['clone', '-q', upstream, u]);
  writeFileSync(join(u, 'f.txt'), '1');
  await sh(['add', '.'], u);
  await sh(['commit', '-qm', 'upstream one'], u);
  await sh(['push', '-q', 'origin', 'HEAD:main'], u);
  const secret = 's3cret-hook';
  const created = await server.request('/api/v1/repos', {
    method: 'POST',
    json: {
      name: 'gh/upstream',
      url: `file://${upstream}`,
      provider: 'github',
      webhookSecret: secret,
      remoteName: 'acme/upstream',
      poll: false,
    },
  });
  assert.equal(created.status, 201);
  const body = JSON.stringify({
    ref: 'refs/heads/main',
    before: '0000000000000000000000000000000000000000',
    after: (await sh(['rev-parse', 'HEAD'], u)).trim(),
    repository: { full_name: 'acme/upstream', clone_url: 'https://github.com/acme/upstream.git' },
    pusher: { name: 'octo' },
  });
  const sign = (key: string) => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
  const count = () => pushes.filter((p) => p.repo === 'gh/upstream').length;
  for (const headers of <Record<string, string>[]>[
    { 'x-hub-signature-256': sign('wrong') },
    { 'x-hub-signature-256': 'sha256=00' },
    {},
  ]) {
    const res = await fetch(`${server.url}/api/v1/hooks/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', ...headers },
      body,
    });
    assert.equal(res.status, 401);
  }
  assert.equal(count(), 0);
  const gitlab = await fetch(`${server.url}/api/v1/hooks/gitlab?repo=gh/upstream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' },
    body,
  });
  assert.equal(gitlab.status, 401);
  const ok = await fetch(`${server.url}/api/v1/hooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': sign(secret),
    },
    body,
  });
  assert.equal(ok.status, 202);
  assert.equal(count(), 1);
  assert.equal(pushes.find((p) => p.repo === 'gh/upstream')?.pusher, 'octo');
  // Gitea signature (hex, no prefix) through ?repo=
  writeFileSync(join(u, 'f.txt'), '2');
  await sh(['commit', '-qam', 'upstream two'], u);
  await sh(['push', '-q', 'origin', 'HEAD:main'], u);
  const giteaSig = createHmac('sha256', secret).update(body).digest('hex');
  const gitea = await fetch(`${server.url}/api/v1/hooks/gitea?repo=gh/upstream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-gitea-event': 'push', 'x-gitea-signature': giteaSig },
    body,
  });
  assert.equal(gitea.status, 202);
  assert.equal(count(), 2);
  // Polling emits the same events.
  writeFileSync(join(u, 'f.txt'), '3');
  await sh(['commit', '-qam', 'upstream three'], u);
  await sh(['push', '-q', 'origin', 'HEAD:refs/heads/pre-release/1.0.0'], u);
  await git.service.fetchExternal('gh/upstream', { source: 'poll' });
  const polled = pushes.find((p) => p.repo === 'gh/upstream' && p.ref === 'refs/heads/pre-release/1.0.0');
  assert.equal(polled?.source, 'poll');
  // Mirrors are read-only over smart-HTTP.
  const res = await fetch(`${server.url}/git/gh/upstream.git/info/refs?service=git-receive-pack`, {
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  assert.equal(res.status, 403);
});
