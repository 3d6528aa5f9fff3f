// Benchmark: how long a 2-replica rolling update (maxSurge 1, maxUnavailable 0) takes on the local cluster, from
// the template change to the Deployment complete (updated = available = replicas) — the cluster's share of
// issue #5's commit-to-Healthy figure. Default kubelet vs the old one (300 ms start + 200 ms to Ready per pod)
// side by side in the same run, with wall time, CPU time and the load average.
// Usage: node --import tsx bench/cluster/rollout.ts [--rounds 9] [--quick]
// Simulated cluster: no container really runs; images resolve through an in-process fake resolver (instant).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster } from '../../src/localcluster/index.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const roundsArg = args.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : quick ? 3 : 9;

interface Kubelet {
  startDelayMs?: number;
  readyDelayMs?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

async function measure(kubelet: Kubelet): Promise<{ wall: number[]; cpu: number[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-rollout-'));
  const cluster = await startLocalCluster({ dataDir, resolveImage: async () => ({ ok: true }), kubelet });
  const api = cluster.api;
  const info = api.info('apps/v1', 'deployments');
  const spec = (image: string) => ({
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
  });
  const complete = (image: string) =>
    new Promise<void>((resolve) => {
      const check = () => {
        const d = api.find(info, 'default', 'web');
        const s = d?.status ?? {};
        const done =
          d?.spec?.template?.spec?.containers?.[0]?.image === image &&
          s.observedGeneration === d.metadata.generation &&
          s.updatedReplicas === 2 &&
          s.availableReplicas === 2 &&
          s.replicas === 2;
        if (done) {
          unsubscribe();
          resolve();
        }
      };
      const unsubscribe = api.store.subscribe((e) => {
        if (e.key === 'apps/deployments') check();
      });
      check();
    });
  api.create(
    info,
    'default',
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: spec('registry.test/web:0'),
    },
    { fieldManager: 'bench' },
  );
  await complete('registry.test/web:0');
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 1; i <= rounds; i++) {
    const image = `registry.test/web:${i}`;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const d = api.find(info, 'default', 'web');
    if (!d) throw new Error('the Deployment vanished');
    api.write(info, { ...d, spec: { ...d.spec, ...spec(image) } }, 'bench');
    await complete(image);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  await cluster.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return { wall, cpu };
}

console.log(
  `local cluster rollout benchmark (node ${process.version}, ${rounds} rounds, load ${loadavg()[0]?.toFixed(1)})`,
);
const now = await measure({});
const old = await measure({ startDelayMs: 300, readyDelayMs: 200 });
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
console.log(
  '2-replica rolling update (maxSurge 1, maxUnavailable 0), template change → Deployment complete:',
);
console.log(
  `  default kubelet (image resolution + 50 ms start, Ready when running): median ${median(now.wall).toFixed(0)} ms wall, ${median(now.cpu).toFixed(0)} ms CPU (runs: ${fmt(now.wall)})`,
);
console.log(
  `  old kubelet (300 ms start + 200 ms to Ready per pod):             median ${median(old.wall).toFixed(0)} ms wall, ${median(old.cpu).toFixed(0)} ms CPU (runs: ${fmt(old.wall)})`,
);
console.log(
  `  ratio old / default: ${(median(old.wall) / median(now.wall)).toFixed(1)}× (load now ${loadavg()[0]?.toFixed(1)})`,
);
