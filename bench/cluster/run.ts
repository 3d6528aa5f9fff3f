// Benchmark: 1,000 Deployments × 3 replicas through the HTTP API until every Deployment is Ready.
// Usage: node --import tsx bench/cluster/run.ts [deployments=1000] [replicas=3]
// Simulated cluster: no container really runs; images resolve through an in-process fake resolver.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster } from '../../src/localcluster/index.ts';

const count = Number(process.argv[2] ?? 1000);
const replicas = Number(process.argv[3] ?? 3);
const concurrency = 32;

const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-cluster-'));
const cluster = await startLocalCluster({
  dataDir,
  resolveImage: async () => ({ ok: true, digest: `sha256:${'b'.repeat(64)}` }),
});
const token = /token: (\S+)/.exec(cluster.kubeconfig)?.[1] ?? '';
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

const cpuStart = process.cpuUsage();
const started = performance.now();
let next = 0;
async function worker(): Promise<void> {
  while (next < count) {
    const i = next++;
    const name = `bench-${i}`;
    const res = await fetch(`${cluster.url}/apis/apps/v1/namespaces/default/deployments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, labels: { bench: 'yes' } },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: 'app', image: 'registry.example/bench:1' }] },
          },
        },
      }),
    });
    if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const created = performance.now();

const ready = () =>
  cluster.api.store
    .list('apps/deployments', 'default')
    .filter(
      (d) =>
        d.metadata.name?.startsWith('bench-') &&
        (d.status?.readyReplicas ?? 0) === replicas &&
        d.status?.observedGeneration === d.metadata.generation,
    ).length;
while (ready() < count) await new Promise((r) => setTimeout(r, 100));
const done = performance.now();
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

const objects = ['apps/deployments', 'apps/replicasets', '/pods'].reduce(
  (n, k) => n + cluster.api.store.count(k, 'default'),
  0,
);
const seconds = (done - started) / 1000;
const result = {
  deployments: count,
  replicasPerDeployment: replicas,
  objects,
  createSeconds: Number(((created - started) / 1000).toFixed(2)),
  allReadySeconds: Number(seconds.toFixed(2)),
  objectsPerSecond: Math.round(objects / seconds),
  cpuSeconds: Number(
    ((process.cpuUsage(cpuStart).user + process.cpuUsage(cpuStart).system) / 1e6).toFixed(2),
  ),
  objectsPerCpuSecond: Math.round(
    objects / ((process.cpuUsage(cpuStart).user + process.cpuUsage(cpuStart).system) / 1e6),
  ),
  loadAverage: (await import('node:os')).loadavg()[0]?.toFixed(1),
  resourceVersion: cluster.api.store.resourceVersion,
  writesPerSecond: Math.round(cluster.api.store.resourceVersion / seconds),
  peakRssMiB: Math.round(peakRss / 1024 / 1024),
  maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 1024 / 1024),
};
console.log(JSON.stringify(result, null, 2));
await cluster.stop();
rmSync(dataDir, { recursive: true, force: true });
