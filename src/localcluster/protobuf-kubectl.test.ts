// `kubectl create <kind>` sends protobuf bodies: each one is decoded and stored as kubectl meant it (compared with
// the same command's `--dry-run=client -o json`). Skipped when the kubectl binary is missing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestCluster, type TestCluster } from './testing.ts';

const run = promisify(execFile);
const KUBECTL = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'slipway-tools', 'kubectl');
const skip = existsSync(KUBECTL) ? false : 'kubectl not installed (run npm ci)';

let cluster: TestCluster;
before(async () => {
  if (!skip) cluster = await startTestCluster();
});
after(async () => {
  if (!skip) await cluster.close();
});

async function kubectl(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(KUBECTL, ['--kubeconfig', cluster.kubeconfigPath, ...args], { timeout: 60_000 });
}

/** Every leaf of `want` (kubectl's own rendering) is in `got`; empty objects and nulls are kubectl's zero values. */
function assertContains(got: unknown, want: unknown, path: string): void {
  if (want === null || want === undefined) return;
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${path}: expected a list, got ${JSON.stringify(got)}`);
    assert.equal(got.length, want.length, `${path}: length`);
    for (const [i, w] of want.entries()) assertContains(got[i], w, `${path}[${i}]`);
    return;
  }
  if (typeof want === 'object') {
    for (const [k, v] of Object.entries(want as Record<string, unknown>)) {
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) continue;
      assertContains((got as Record<string, unknown> | undefined)?.[k], v, `${path}.${k}`);
    }
    return;
  }
  assert.deepEqual(got, want, path);
}

const COMMANDS: { args: string[]; get: string[] }[] = [
  {
    args: ['deployment', 'web', '--image=nginx:1.25', '--replicas=2', '--port=8080'],
    get: ['deployment', 'web'],
  },
  { args: ['service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443:https'], get: ['service', 'web'] },
  { args: ['service', 'nodeport', 'np', '--tcp=80:8080', '--node-port=30080'], get: ['service', 'np'] },
  { args: ['job', 'once', '--image=busybox:1.36', '--', 'echo', 'hello'], get: ['job', 'once'] },
  {
    args: [
      'cronjob',
      'tick',
      '--image=busybox:1.36',
      '--schedule=*/5 * * * *',
      '--restart=OnFailure',
      '--',
      'date',
    ],
    get: ['cronjob', 'tick'],
  },
  { args: ['namespace', 'made-by-create'], get: ['namespace', 'made-by-create'] },
  { args: ['serviceaccount', 'robot'], get: ['serviceaccount', 'robot'] },
  {
    args: ['role', 'reader', '--verb=get,list', '--resource=pods,deployments.apps', '--resource-name=a'],
    get: ['role', 'reader'],
  },
  {
    args: [
      'rolebinding',
      'reader-binding',
      '--role=reader',
      '--user=alice',
      '--serviceaccount=default:robot',
    ],
    get: ['rolebinding', 'reader-binding'],
  },
  {
    args: ['clusterrole', 'watcher', '--verb=get', '--resource=nodes', '--non-resource-url=/healthz'],
    get: ['clusterrole', 'watcher'],
  },
  {
    args: ['clusterrolebinding', 'watcher', '--clusterrole=watcher', '--group=ops'],
    get: ['clusterrolebinding', 'watcher'],
  },
  {
    args: ['quota', 'small', '--hard=pods=10,requests.cpu=500m,limits.memory=1Gi'],
    get: ['resourcequota', 'small'],
  },
  {
    args: ['priorityclass', 'high', '--value=1000', '--description=important', '--preemption-policy=Never'],
    get: ['priorityclass', 'high'],
  },
  {
    args: ['poddisruptionbudget', 'web-pdb', '--selector=app=web', '--min-available=50%'],
    get: ['pdb', 'web-pdb'],
  },
  {
    args: ['poddisruptionbudget', 'web-pdb2', '--selector=app=web', '--max-unavailable=1'],
    get: ['pdb', 'web-pdb2'],
  },
  {
    args: [
      'ingress',
      'site',
      '--class=slipway',
      '--rule=site.example.test/api*=web:8080',
      '--rule=other.example.test/=web:https,tls=site-tls',
    ],
    get: ['ingress', 'site'],
  },
  { args: ['secret', 'generic', 'creds', '--from-literal=user=admin'], get: ['secret', 'creds'] },
  { args: ['configmap', 'settings', '--from-literal=mode=fast'], get: ['configmap', 'settings'] },
];

// (`kubectl run` sends its Pod as JSON: nothing to test here.)
for (const { args, get } of COMMANDS) {
  const verb = 'create';
  const what = `create ${args.slice(0, args[0] === 'service' || args[0] === 'secret' ? 2 : 1).join(' ')}`;
  test(`kubectl ${what} (protobuf body) stores what kubectl meant`, {
    skip,
  }, async () => {
    // Flags go before a `--` (job and cronjob commands).
    const withFlags = (...flags: string[]) => {
      const dash = args.indexOf('--');
      return dash < 0 ? [...args, ...flags] : [...args.slice(0, dash), ...flags, ...args.slice(dash)];
    };
    const dry = JSON.parse((await kubectl(verb, ...withFlags('--dry-run=client', '-o', 'json'))).stdout);
    const created = await kubectl(verb, ...withFlags('-v=8'));
    assert.match(created.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/);
    assert.match(created.stdout, /created/);
    const stored = JSON.parse((await kubectl('get', ...get, '-o', 'json')).stdout);
    delete dry.status;
    assertContains(stored, dry, get.join('/'));
    assert.ok(stored.metadata.uid);
  });
}

test('a protobuf body with a field the decoder does not know gets a clear 415', { skip }, async () => {
  // A Deployment whose pod spec sets field 99 (unknown) to a non-zero value.
  const field = (no: number, payload: Buffer) =>
    Buffer.concat([Buffer.from([(no << 3) | 2]), Buffer.from([payload.length]), payload]);
  const podSpec = Buffer.from([((99 << 3) & 0x7f) | 0x80, 99 >> 4, 1]); // tag 99 (varint wire type), value 1
  const template = field(2, podSpec);
  const spec = field(3, template);
  const meta = field(1, Buffer.from('x'));
  const typeMeta = Buffer.concat([field(1, Buffer.from('apps/v1')), field(2, Buffer.from('Deployment'))]);
  const body = Buffer.concat([
    Buffer.from([0x6b, 0x38, 0x73, 0x00]),
    field(1, typeMeta),
    field(2, Buffer.concat([field(1, meta), field(2, spec)])),
  ]);
  const res = await cluster.request('/apis/apps/v1/namespaces/default/deployments', {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.kubernetes.protobuf' },
    body,
  });
  assert.equal(res.status, 415);
  const status = (await res.json()) as { message: string; reason: string };
  assert.equal(status.reason, 'UnsupportedMediaType');
  assert.match(status.message, /Deployment\.spec\.template\.spec\.<field 99 of PodSpec>/);
});
