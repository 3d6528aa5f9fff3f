// Pod logs of the simulated kubelet: the store, the pods/log API, and kubectl logs (-f ends when the pod goes).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { logTime, PodLogs } from './pod-logs.ts';
import { startTestCluster, type TestCluster, until } from './testing.ts';

const run = promisify(execFile);
const KUBECTL = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'slipway-tools', 'kubectl');
const noKubectl = existsSync(KUBECTL) ? false : 'kubectl not installed (run npm ci)';

test('PodLogs reads the tail, follows new lines and ends followers when the pod is removed', () => {
  let now = Date.parse('2026-01-02T03:04:05.678Z');
  const logs = new PodLogs(() => now);
  logs.append('u1', 'web', 'one');
  now += 1000;
  logs.append('u1', 'web', 'two');
  assert.deepEqual(
    logs.read('u1', 'web', { tailLines: 1 }).map((l) => l.text),
    ['two'],
  );
  assert.equal(logs.read('u1', 'web')[0]?.time, '2026-01-02T03:04:05.678000000Z');
  assert.deepEqual(
    logs.read('u1', 'web', { sinceMs: now }).map((l) => l.text),
    ['two'],
  );
  const seen: string[] = [];
  let ended = false;
  logs.follow('u1', 'web', { onLine: (l) => seen.push(l.text), onEnd: () => (ended = true) });
  logs.append('u1', 'web', 'three');
  logs.remove('u1', (c) => `stopping ${c}`);
  assert.deepEqual(seen, ['three', 'stopping web']);
  assert.equal(ended, true);
  assert.equal(logs.has('u1', 'web'), false);
  assert.equal(logTime(0), '1970-01-01T00:00:00.000000000Z');
});

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster();
});

after(async () => {
  await cluster?.close();
});

async function createPod(name: string, containers: { name: string; image: string }[]) {
  const res = await cluster.request('/api/v1/namespaces/default/pods', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers } }),
  });
  assert.equal(res.status, 201);
}

async function logText(path: string): Promise<{ status: number; text: string }> {
  const res = await cluster.request(path);
  return { status: res.status, text: await res.text() };
}

test('pods/log holds the kubelet lifecycle of the container: pull with digest, start, readiness', async () => {
  await createPod('web', [{ name: 'app', image: 'registry.local/team/web:1.0' }]);
  const base = '/api/v1/namespaces/default/pods/web/log';
  const text = await until('the ready line', async () => {
    const r = await logText(base);
    return r.status === 200 && /is ready/.test(r.text) ? r.text : undefined;
  });
  const lines = text.trim().split('\n');
  assert.match(lines[0]!, /^Pulling image "registry\.local\/team\/web:1\.0"$/);
  assert.match(lines[1]!, /^Successfully pulled image .* \(digest sha256:a{64}\)$/);
  assert.match(lines[2]!, /^Started container app \(image registry\.local\/team\/web:1\.0@sha256:a{64}/);
  assert.match(lines[3]!, /^Container app is ready \(no readiness probe: ready once started\)$/);
  assert.equal((await logText(`${base}?tailLines=1`)).text, `${lines[3]}\n`);
  assert.match(
    (await logText(`${base}?timestamps=true`)).text,
    /^\d{4}-\d\d-\d\dT[\d:]+\.\d{9}Z Pulling image/,
  );
  assert.equal((await logText(`${base}?container=nope`)).status, 400);
  assert.equal((await logText(`${base}?tailLines=x`)).status, 400);
  assert.equal((await logText('/api/v1/namespaces/default/pods/none/log')).status, 404);
});

test('pods/log names the containers to choose from and shows an image pull failure', async () => {
  await createPod('two', [
    { name: 'a', image: 'registry.local/team/a:1' },
    { name: 'b', image: 'registry.local/team/missing:1' },
  ]);
  const base = '/api/v1/namespaces/default/pods/two/log';
  const none = await logText(base);
  assert.equal(none.status, 400);
  assert.match(none.text, /a container name must be specified for pod two, choose one of: \[a b\]/);
  const b = await until('the pull failure', async () => {
    const r = await logText(`${base}?container=b`);
    return /Failed to pull image/.test(r.text) ? r.text : undefined;
  });
  assert.match(b, /Failed to pull image "registry\.local\/team\/missing:1": failed to resolve/);
});

test('kubectl logs prints the lines; kubectl logs -f streams until the pod is deleted', {
  skip: noKubectl,
  timeout: 60_000,
}, async () => {
  await createPod('follow-me', [{ name: 'main', image: 'registry.local/team/f:2' }]);
  const kubectl = (...args: string[]) =>
    run(KUBECTL, ['--kubeconfig', cluster.kubeconfigPath, ...args], {
      env: { ...process.env, HOME: cluster.dataDir },
      timeout: 30_000,
    });
  await kubectl('wait', '--for=condition=Ready', 'pod/follow-me', '--timeout=30s');
  const { stdout } = await kubectl('logs', 'follow-me', '--timestamps');
  assert.match(stdout, /Z Started container main/);
  const { stdout: tail } = await kubectl('logs', 'follow-me', '-c', 'main', '--tail=1');
  assert.match(tail, /^Container main is ready \(no readiness probe: ready once started\)\n$/);

  const child = spawn(KUBECTL, ['--kubeconfig', cluster.kubeconfigPath, 'logs', '-f', 'follow-me'], {
    env: { ...process.env, HOME: cluster.dataDir },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await until('the streamed lines', async () => (/is ready/.test(out) ? true : undefined));
    await kubectl('delete', 'pod', 'follow-me', '--wait=false');
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r('still running'), 20_000)),
    ]);
    assert.equal(code, 0, 'kubectl logs -f ended when the pod was deleted');
    assert.match(out, /Stopping container main: the pod was deleted\n$/);
  } finally {
    child.kill();
  }
});
