// Git over HTTPS with repository credentials: an external git server (git http-backend behind basic auth)
// read by the reconciler and written by the values editor once `/api/v1/repo-creds` has the credentials.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../server/testing.ts';
import { createTempRepos, type TempRepos } from './testing.ts';

const BACKEND = '/usr/lib/git-core/git-http-backend';
const skip = existsSync(BACKEND) ? false : 'git http-backend is not installed';
const AUTH = `Basic ${Buffer.from('deploy:git-s3cret').toString('base64')}`;

let repos: TempRepos;
let gitServer: Server;
let server: TestServer;
let base: string;

before(async () => {
  if (skip) return;
  repos = createTempRepos();
  await repos.create('team/app', {
    'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-git}\ndata: {colour: blue}\n',
    'config/values.yaml': 'image:\n  tag: "1"\n',
  });
  // A minimal CGI host for git's smart-HTTP backend, requiring basic auth for everything.
  gitServer = createServer((req, res) => {
    if (req.headers.authorization !== AUTH) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const child = spawn(BACKEND, [], {
      env: {
        GIT_PROJECT_ROOT: `${repos.root}/git`,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'deploy',
        PATH_INFO: url.pathname.replace(/^\/repos/, ''),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        PATH: process.env.PATH ?? '/usr/bin:/bin',
      },
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let sent = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (sent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const i = line.indexOf(':');
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      sent = true;
      res.write(head.subarray(end + 4));
    });
    child.on('close', () => res.end());
  });
  await new Promise<void>((r) => gitServer.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(gitServer.address() as AddressInfo).port}/repos`;
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
  await new Promise<void>((r) => (gitServer ? gitServer.close(() => r()) : r()));
  repos?.cleanup();
});

async function api<T>(method: string, path: string, json?: unknown): Promise<T> {
  const res = await server.request(path, { method, ...(json !== undefined ? { json } : {}) });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

test('a private git repository over HTTP(S): Unknown without credentials, Synced with them; the secret never shows', {
  skip,
}, async () => {
  const repoURL = `${base}/team/app.git`;
  const yaml = `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: private-git}
spec:
  source: {repoURL: "${repoURL}", targetRevision: main, path: deploy}
  destination: {name: in-cluster, namespace: private-git}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]
`;
  await api('POST', '/api/v1/apps', { yaml, file: 'private-git.yaml' });
  type View = { status: { sync: string; comparisonError?: { message: string } } };
  let view = await api<View>('POST', '/api/v1/apps/private-git/refresh');
  assert.equal(view.status.sync, 'Unknown');
  assert.match(
    view.status.comparisonError?.message ?? '',
    /401|Authentication failed|could not read Username/i,
  );

  await api('POST', '/api/v1/repo-creds', { url: base, username: 'deploy', password: 'git-s3cret' });
  view = await api<View>('POST', '/api/v1/apps/private-git/refresh?hard=true');
  assert.equal(view.status.sync, 'Synced', JSON.stringify(view.status));
  const cm = await server.request('/kube/api/v1/namespaces/private-git/configmaps/from-git');
  assert.equal(cm.status, 200);
  assert.ok(!JSON.stringify(view).includes('git-s3cret'));
});
