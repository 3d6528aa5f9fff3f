// `slipway demo` as a person runs it: no server is running, so it starts one (temporary data directory,
// random port), runs the seed scenario with a progress display, and leaves Slipway running until Ctrl-C.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const temp = mkdtempSync(join(tmpdir(), 'slipway-demo-test-'));
let demo: ChildProcess | undefined;

after(() => {
  if (demo && demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
  rmSync(temp, { recursive: true, force: true });
});

test('slipway demo starts Slipway, reaches dev and prod Synced and Healthy, and stops cleanly on SIGTERM', {
  timeout: 600_000,
}, async () => {
  const data = join(temp, 'data');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SLIPWAY_')) delete env[k];
  // Nothing listens on port 9 (discard), so the demo finds no server there and starts its own.
  Object.assign(env, { SLIPWAY_SERVER: 'http://127.0.0.1:9', SLIPWAY_CONFIG_DIR: join(temp, 'cli') });
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'slipway.mjs'), 'demo', '--data', data, '--port', '0'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  demo = child;
  let stdout = '';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const finished = new Promise<void>((resolve, reject) => {
    const check = () => {
      if (/keeps running at/.test(stderr) && /Cluster:/.test(stdout)) resolve();
    };
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      check();
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`demo ended early (${code ?? signal}):\n${stderr}\n${stdout}`)),
    );
  });
  await finished;
  const output = `${stderr}\n${stdout}`;

  assert.match(stderr, /No Slipway at http:\/\/127\.0\.0\.1:9: starting one/);
  for (const step of ['2. ', '3. ', '4. ', '5. ', '6-7. ', '8. ', '9. ']) {
    const esc = step.replace('.', '\\.');
    assert.match(stderr, new RegExp(`▶ ${esc}`), `step ${step}starts:\n${output}`);
    assert.match(
      stderr,
      new RegExp(`✔ ${esc}.*\\(\\d+\\.\\d s\\)`),
      `step ${step}ends with its duration:\n${output}`,
    );
  }
  const url = /Applications: +(http:\/\/127\.0\.0\.1:\d+)\/#\/apps/.exec(stdout)?.[1];
  assert.ok(url, `the summary links the UI:\n${stdout}`);
  for (const link of [
    '/#/apps',
    '/#/envs',
    '/#/pipelines/base/node-hello-world',
    '/#/registry/base',
    '/#/cluster',
  ])
    assert.ok(stdout.includes(`${url}${link}`), `link ${link} in:\n${stdout}`);
  assert.ok(stderr.includes(`watch it: ${url}/#/pipelines/base/node-hello-world/1`));
  assert.ok(stderr.includes(`resource tree: ${url}/#/apps/node-hello-world-dev`));
  assert.match(stdout, /Done in \d+\.\d s: dev and prod run node-hello-world:2, Synced and Healthy/);

  // Still running: sign in with the first admin password and look at what the demo left.
  const password = readFileSync(join(data, 'initial-admin-password'), 'utf8').trim();
  const login = await fetch(`${url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password, token: 'demo-test' }),
  });
  assert.equal(login.status, 200);
  const { token } = (await login.json()) as { token: string };
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, path);
    return (await res.json()) as T;
  };
  for (const env of ['dev', 'prod']) {
    const app = await get<{ status: { sync: string; health: string } }>(
      `/api/v1/apps/node-hello-world-${env}`,
    );
    assert.deepEqual([app.status.sync, app.status.health], ['Synced', 'Healthy'], env);
    const d = await get<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
      `/kube/apis/apps/v1/namespaces/${env}/deployments/node-hello-world`,
    );
    assert.match(d.spec.template.spec.containers[0]!.image, /node-hello-world:2$/);
  }

  child.kill('SIGTERM');
  const { code, signal } = await exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, `exit after SIGTERM:\n${stderr}`);
  await assert.rejects(fetch(`${url}/api/v1/health`), 'the server is gone');
});
