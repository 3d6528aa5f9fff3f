// Slipway with N applications, in its own process, for bench/ui/run.ts (so the browser's timeline is not
// shared with the Playwright driver's event loop). Seeds the scenario's users and GitOps repo, adds apps
// svc-<i>-<env> until there are N, waits until each has been compared with git and the cluster once, prints
// one JSON line `{url, apps, pending, settleMs}` and stops on SIGTERM.
//   node --import tsx bench/ui/server.ts [apps]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeedScenario } from '../../src/demo/index.ts';
import { startTestServer } from '../../src/server/index.ts';

const count = Number(process.argv[2] ?? 200);
const work = mkdtempSync(join(tmpdir(), 'slipway-bench-ui-'));
const server = await startTestServer();
const s = new SeedScenario({ url: server.url, adminToken: server.adminToken, workDir: work });
await s.createProjectAndUsers();
await s.createGitOpsRepo();
const envs = ['dev', 'qa', 'stage', 'prod'];
for (let i = 0; i < count - 2; i++) {
  const env = envs[i % envs.length]!;
  await s.api('POST', '/api/v1/apps', {
    yaml: s.appManifest(`svc-${i}-${env}`, env, false),
    file: 'bench.yaml',
  });
}
// The steady state: every app has had its first comparison with git and the cluster.
const settleStart = Date.now();
let apps = 0;
let pending = 0;
for (;;) {
  const res = await fetch(`${server.url}/api/v1/apps?view=summary`, {
    headers: { authorization: `Bearer ${server.adminToken}` },
  });
  const { items } = (await res.json()) as { items: { status: { reconciledAt: string | null } }[] };
  apps = items.length;
  pending = items.filter((a) => !a.status.reconciledAt).length;
  if (pending === 0 || Date.now() - settleStart > 180_000) break;
  await new Promise((r) => setTimeout(r, 1000));
}
process.stdout.write(
  `${JSON.stringify({ url: server.url, apps, pending, settleMs: Date.now() - settleStart })}\n`,
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  rmSync(work, { recursive: true, force: true });
  // A normal exit, so that `--cpu-prof` writes its profile.
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
