import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { createGit, type GitModule } from '../git/index.ts';
import type { ServerContext } from '../server/context.ts';
import { startTestServer, type TestServer } from '../server/testing.ts';
import { type BuildRecord, createPipelines, type PipelineModule } from './index.ts';
import { startBusyboxRegistry } from './test-support.ts';

const run = promisify(execFile);
let server: TestServer;
let git: GitModule;
let pipes: PipelineModule;
let work: string;
const statusCalls: { url: string; body: Record<string, unknown>; auth: string | undefined }[] = [];
let statusServer: import('node:http').Server;
let statusUrl: string;

const GIT_ENV = {
  ...process.env,
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@x',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@x',
};

async function sh(args: string[], cwd?: string): Promise<string> {
  return (await run('git', args, { cwd, env: GIT_ENV })).stdout;
}

function modules(ctx: ServerContext) {
  git = createGit(ctx);
  pipes = createPipelines({ ...ctx, git: git.service, globalConcurrency: 8 });
  return [
    { name: 'git', prefix: '/git', routes: git.routes },
    { name: 'git-api', prefix: '/api/v1', routes: git.apiRoutes },
    { name: 'pipeline', prefix: '/api/v1', routes: pipes.routes, start: pipes.start, stop: pipes.stop },
  ];
}

/** Creates ORG/NAME (once) and pushes `files` as one commit to `branch`. */
async function pushFiles(
  repo: string,
  branch: string,
  files: Record<string, string>,
  s: TestServer = server,
): Promise<string> {
  const dir = join(work, `${repo.replace('/', '_')}-${branch.replace(/\//g, '_')}-${Date.now()}`);
  const res = await s.request('/api/v1/repos', { method: 'POST', json: { name: repo } });
  assert.ok(res.status === 201 || res.status === 409);
  const url = `${s.url.replace('://', `://admin:${s.adminToken}@`)}/git/${repo}.git`;
  await sh(['clone', '-q', url, dir]);
  const remote = (await sh(['ls-remote', 'origin', `refs/heads/${branch}`], dir)).trim();
  if (remote)
    await sh(['checkout', '-q', '-b', 'work', 'FETCH_HEAD'], dir).catch(async () => {
      await sh(['fetch', '-q', 'origin', branch], dir);
      await sh(['checkout', '-q', '-b', 'work', 'FETCH_HEAD'], dir);
    });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  await sh(['add', '-A'], dir);
  await sh(['commit', '-q', '--allow-empty', '-m', `update ${Object.keys(files).join(', ')}`], dir);
  await sh(['push', '-q', 'origin', `HEAD:refs/heads/${branch}`], dir);
  return (await sh(['rev-parse', 'HEAD'], dir)).trim();
}

async function waitBuild(repo: string, n: number, done = true, s: TestServer = server): Promise<BuildRecord> {
  for (let i = 0; i < 600; i++) {
    const res = await s.request(`/api/v1/builds/${repo}/${n}`);
    if (res.status === 200) {
      const b = (await res.json()) as BuildRecord;
      if (!done || ['success', 'failed', 'cancelled', 'interrupted'].includes(b.status)) return b;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`build ${repo} #${n} did not finish`);
}

async function builds(repo: string): Promise<BuildRecord[]> {
  return ((await (await server.request(`/api/v1/builds/${repo}`)).json()) as { items: BuildRecord[] }).items;
}

const PIPE = (stages: string, extra = '') =>
  `triggers:\n  branches: ['pre-release/*']\n${extra}stages:\n${stages}`;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'slipway-pipe-test-'));
  statusServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      statusCalls.push({
        url: req.url ?? '',
        body: JSON.parse(body || '{}'),
        auth: req.headers.authorization,
      });
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => statusServer.listen(0, '127.0.0.1', () => r()));
  const a = statusServer.address();
  statusUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  server = await startTestServer({ extraModules: modules });
});

after(async () => {
  await server.stop();
  await new Promise<void>((r) => statusServer.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});

test('a push to pre-release/1.0.0 starts exactly one build; other branches start none', async () => {
  const pipeline = PIPE(
    `  - name: Checkout\n    steps: [checkout]\n  - name: Test\n    steps:\n      - run: cat app.txt && echo "tests passed for $GIT_BRANCH build $BUILD_NUMBER"\n`,
  );
  await pushFiles('acme/svc', 'feature/x', { '.slipway/pipeline.yaml': pipeline, 'app.txt': 'app v1' });
  await pushFiles('acme/svc', 'pre-release/1.0.0', {
    '.slipway/pipeline.yaml': pipeline,
    'app.txt': 'app v1',
  });
  const b = await waitBuild('acme/svc', 1);
  assert.equal(b.status, 'success', JSON.stringify(b));
  assert.equal(b.ref, 'refs/heads/pre-release/1.0.0');
  assert.equal(b.who, 'admin');
  assert.deepEqual(
    b.stages.map((s) => [s.name, s.status]),
    [
      ['Checkout', 'success'],
      ['Test', 'success'],
    ],
  );
  const log = await (await server.request('/api/v1/builds/acme/svc/1/logs')).text();
  assert.match(log, /app v1/);
  assert.match(log, /tests passed for pre-release\/1.0.0 build 1/);
  assert.equal((await builds('acme/svc')).length, 1);
  const list = (await (await server.request('/api/v1/pipelines')).json()) as {
    items: { repo: string; lastBuild: number }[];
  };
  assert.equal(list.items.find((p) => p.repo === 'acme/svc')?.lastBuild, 1);
});

test('a failing test step fails the build and skips later stages', async () => {
  await pushFiles('acme/failing', 'pre-release/1.0.0', {
    '.slipway/pipeline.yaml': PIPE(
      `  - name: Test\n    steps:\n      - run: echo running tests; exit 1\n      - run: echo never\n  - name: Push\n    steps:\n      - run: echo pushing\n`,
    ),
  });
  const b = await waitBuild('acme/failing', 1);
  assert.equal(b.status, 'failed');
  assert.equal(b.stages[0]!.status, 'failed');
  assert.equal(b.stages[0]!.steps[0]!.exitCode, 1);
  assert.equal(b.stages[0]!.steps[1]!.status, 'skipped');
  assert.equal(b.stages[1]!.status, 'skipped');
  assert.match(b.error ?? '', /exit code 1/);
  const log = await (await server.request('/api/v1/builds/acme/failing/1/logs')).text();
  assert.doesNotMatch(log, /pushing/);
});

test('a secret printed by a step appears as *** in stored and streamed logs', async () => {
  const secret = 'Sup3r-Secret-Value-42';
  const res = await server.request('/api/v1/credentials', {
    method: 'POST',
    json: { name: 'api-key', value: secret },
  });
  assert.equal(res.status, 201);
  const list = await (await server.request('/api/v1/credentials')).text();
  assert.doesNotMatch(list, /Sup3r/);
  const db = readFileSync(join(server.dataDir, 'slipway.db'));
  assert.equal(db.includes(Buffer.from(secret)), false, 'encrypted at rest');
  await pushFiles('acme/secret', 'pre-release/1.0.0', {
    '.slipway/pipeline.yaml': PIPE(
      `  - name: Leak\n    steps:\n      - run: |\n          echo "key=$API_KEY"\n          printf 'split: %s' "$(echo $API_KEY | cut -c1-8)"; sleep 0.3; printf '%s\\n' "$(echo $API_KEY | cut -c9-)"\n          sleep 1\n`,
      'credentials: [api-key]\n',
    ),
  });
  const stream = await server.request('/api/v1/builds/acme/secret/1/logs?follow=1');
  assert.equal(stream.headers.get('content-type'), 'text/event-stream');
  const streamed = await stream.text();
  assert.match(streamed, /event: end/);
  const b = await waitBuild('acme/secret', 1);
  assert.equal(b.status, 'success', b.error);
  const stored = await (await server.request('/api/v1/builds/acme/secret/1/logs')).text();
  for (const text of [stored, streamed]) {
    assert.ok(!text.includes(secret), text);
    assert.ok(!text.includes('Sup3r-Se'), 'no prefix of the split secret');
    assert.match(text, /key=\*\*\*/);
    assert.match(text, /split: \*\*\*/);
  }
});

test('cancel kills sleep 1000 and its children', async () => {
  const marker = `cancel-marker-${Date.now()}`;
  await pushFiles('acme/cancel', 'pre-release/1.0.0', {
    '.slipway/pipeline.yaml': PIPE(
      `  - name: Long\n    steps:\n      - run: sh -c 'sleep 1000; echo ${marker}' & sleep 1000\n`,
    ),
  });
  await waitBuild('acme/cancel', 1, false);
  for (let i = 0; i < 100; i++) {
    const b = await waitBuild('acme/cancel', 1, false);
    if (b.stages[0]?.steps[0]?.status === 'running') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300));
  const res = await server.request('/api/v1/builds/acme/cancel/1/cancel', { method: 'POST' });
  assert.equal(res.status, 200);
  const b = await waitBuild('acme/cancel', 1);
  assert.equal(b.status, 'cancelled');
  await new Promise((r) => setTimeout(r, 500));
  const ps = (await run('ps', ['-eo', 'args'])).stdout;
  assert.doesNotMatch(ps, new RegExp(`sleep 1000; echo ${marker}`));
});

test('two pushes give builds 1 and 2 in order; re-run gives 3', async () => {
  const p = PIPE(`  - name: Build\n    steps:\n      - run: echo built\n`);
  const sha1 = await pushFiles('acme/order', 'pre-release/2.0.0', { '.slipway/pipeline.yaml': p, v: '1' });
  const sha2 = await pushFiles('acme/order', 'pre-release/2.0.0', { v: '2' });
  const b1 = await waitBuild('acme/order', 1);
  const b2 = await waitBuild('acme/order', 2);
  assert.equal(b1.sha, sha1);
  assert.equal(b2.sha, sha2);
  assert.ok(Date.parse(b1.startedAt!) <= Date.parse(b2.startedAt!));
  const rerun = await server.request('/api/v1/builds/acme/order/1/rerun', { method: 'POST' });
  assert.equal(rerun.status, 201);
  const b3 = (await rerun.json()) as BuildRecord;
  assert.equal(b3.number, 3);
  assert.equal(b3.sha, sha1);
  assert.equal((await waitBuild('acme/order', 3)).status, 'success');
});

test('an invalid pipeline file fails the build with file:line', async () => {
  await pushFiles('acme/invalid', 'pre-release/1.0.0', {
    '.slipway/pipeline.yaml':
      "triggers:\n  branches: ['pre-release/*']\nstages:\n  - name: Test\n    steps:\n      - run: make\n        retries: 3\n",
  });
  const b = await waitBuild('acme/invalid', 1);
  assert.equal(b.status, 'failed');
  assert.match(b.error ?? '', /\.slipway\/pipeline\.yaml:7:\d+: Unknown field "retries"/);
  const log = await (await server.request('/api/v1/builds/acme/invalid/1/logs')).text();
  assert.match(log, /pipeline\.yaml:7/);
});

test('manual runs, deploy through the values repo, extends, approval, commit statuses', async () => {
  await pushFiles('acme/helm-values', 'main', {
    'dev/svc/values.yaml': '# dev\nimage:\n  repository: base/svc # repo\n  tag: "0"\n',
  });
  await pushFiles('acme/shared', 'main', {
    '.slipway/pipeline.yaml': PIPE(
      `  - name: Test\n    steps:\n      - run: echo base test\n  - name: Deploy\n    steps:\n      - deploy: { repo: acme/helm-values, environment: dev, service: svc, tag: '{branch-version}-{build}' }\n`,
    ),
  });
  // An external mirror with commit statuses; its pipeline extends the shared one.
  const upstream = join(work, 'ext-upstream.git');
  await sh(['init', '-q', '--bare', '--initial-branch=main', upstream]);
  const u = join(work, 'ext-u');
  await sh(['clone', '-q', upstream, u]);
  mkdirSync(join(u, '.slipway'), { recursive: true });
  writeFileSync(
    join(u, '.slipway/pipeline.yaml'),
    'extends: acme/shared\nstages:\n  - name: Test\n    steps:\n      - run: echo child test\n  - name: Gate\n    steps:\n      - approval: { right: pipeline.run }\n',
  );
  await sh(['add', '-A'], u);
  await sh(['commit', '-qm', 'pipeline'], u);
  await sh(['push', '-q', 'origin', 'HEAD:refs/heads/pre-release/3.1.0'], u);
  const created = await server.request('/api/v1/repos', {
    method: 'POST',
    json: {
      name: 'ext/app',
      url: `file://${upstream}`,
      provider: 'gitea',
      statusApiUrl: `${statusUrl}/api/v1`,
      statusToken: 'status-tok',
      remoteName: 'team/app',
      poll: false,
    },
  });
  assert.equal(created.status, 201);
  await server.request('/api/v1/repos/ext/app/sync', { method: 'POST' });
  const b = await waitBuild('ext/app', 1, false);
  assert.equal(b.trigger, 'push');
  // waits for approval; a viewer may not approve
  let waiting: BuildRecord | undefined;
  for (let i = 0; i < 200; i++) {
    waiting = await waitBuild('ext/app', 1, false);
    if (waiting.status === 'waiting' || ['success', 'failed'].includes(waiting.status)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(waiting?.status, 'waiting', JSON.stringify(waiting));
  const viewer = await server.createUser('pviewer', 'viewer');
  assert.equal(
    (await server.request('/api/v1/builds/ext/app/1/approve', { method: 'POST', token: viewer })).status,
    403,
  );
  assert.equal((await server.request('/api/v1/builds/ext/app/1/approve', { method: 'POST' })).status, 200);
  const done = await waitBuild('ext/app', 1);
  assert.equal(done.status, 'success', done.error);
  assert.deepEqual(
    done.stages.map((s) => s.name),
    ['Test', 'Deploy', 'Gate'],
  );
  const log = await (await server.request('/api/v1/builds/ext/app/1/logs')).text();
  assert.match(log, /child test/);
  assert.doesNotMatch(log, /base test/);
  assert.equal(
    await git.service.readFile('acme/helm-values', 'main', 'dev/svc/values.yaml'),
    '# dev\nimage:\n  repository: base/svc # repo\n  tag: "3.1.0-1"\n',
  );
  assert.equal(
    (await git.service.log('acme/helm-values', 'main', { limit: 1 }))[0]?.message,
    'updated the image tag',
  );
  // statuses: pending ... success, to Gitea's API with the token
  await new Promise((r) => setTimeout(r, 200));
  const calls = statusCalls.filter((c) => c.url.startsWith('/api/v1/repos/team/app/statuses/'));
  assert.ok(calls.length >= 2, JSON.stringify(statusCalls));
  assert.equal(calls[0]!.body.state, 'pending');
  assert.equal(calls.at(-1)!.body.state, 'success');
  assert.equal(calls[0]!.auth, 'token status-tok');
  // manual run of a branch
  const manual = await server.request('/api/v1/pipelines/acme/svc/run', {
    method: 'POST',
    json: { branch: 'pre-release/1.0.0' },
  });
  assert.equal(manual.status, 201);
  const m = (await manual.json()) as BuildRecord;
  assert.equal(m.trigger, 'manual');
  assert.equal((await waitBuild('acme/svc', m.number)).status, 'success');
});

test('a stage with image: runs inside a busybox image', async (t) => {
  const registry = await startBusyboxRegistry();
  if (!registry) return t.skip('busybox-static (/bin/busybox) is not installed');
  if (process.getuid?.() !== 0) {
    await registry.close();
    return t.skip('needs root for chroot and namespaces');
  }
  try {
    await pushFiles('acme/image', 'pre-release/1.0.0', {
      '.slipway/pipeline.yaml': PIPE(
        `  - name: Checkout\n    steps: [checkout]\n  - name: InImage\n    image: ${registry.image}\n    steps:\n      - run: cat /etc/os-release; echo "pwd=$(pwd) mark=$IMAGE_MARK"; cat hello.txt; ls /bin/busybox; echo made > built.txt; [ ! -e /etc/removed-by-whiteout ]\n  - name: After\n    steps:\n      - run: cat built.txt\n`,
      ),
      'hello.txt': 'hello from the workspace',
    });
    const b = await waitBuild('acme/image', 1);
    const log = await (await server.request('/api/v1/builds/acme/image/1/logs')).text();
    assert.equal(b.status, 'success', log);
    assert.match(log, /slipway-test-os/);
    assert.match(log, /pwd=\/workspace mark=busybox/);
    assert.match(log, /hello from the workspace/);
    assert.match(log, /made/);
    assert.match(b.stages[1]!.image ?? '', /@sha256:/);
  } finally {
    await registry.close();
  }
});

test('restart during a build marks it interrupted', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-restart-'));
  try {
    let s = await startTestServer({ dataDir, extraModules: modules });
    await pushFiles(
      'acme/restart',
      'pre-release/1.0.0',
      {
        '.slipway/pipeline.yaml': PIPE(`  - name: Long\n    steps:\n      - run: echo started; sleep 1000\n`),
      },
      s,
    );
    for (let i = 0; i < 100; i++) {
      const b = await waitBuild('acme/restart', 1, false, s);
      if (b.stages[0]?.steps[0]?.status === 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await s.stop({ keepData: true });
    s = await startTestServer({ dataDir, extraModules: modules });
    try {
      const b = await waitBuild('acme/restart', 1, true, s);
      assert.equal(
        b.status,
        'interrupted',
        `${JSON.stringify(b)}\n${readFileSync(join(dataDir, 'builds', 'acme', 'restart', '1', 'log.txt'), 'utf8')}`,
      );
      assert.equal(b.stages[0]!.steps[0]!.status, 'interrupted');
      assert.ok(existsSync(join(dataDir, 'builds', 'acme', 'restart', '1', 'log.txt')));
    } finally {
      await s.stop({ keepData: true });
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
