// Profile of one build: the time of every engine event from the manual run to the finish, so the cost
// of each phase (queue pickup, stage start, step spawn, step finish) shows. Run:
//   node --import tsx bench/pipeline/profile.ts   (BENCH_RUNS=N builds, the last one printed)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthService } from '../../src/auth/index.ts';
import { EventBus, silentLogger } from '../../src/core/index.ts';
import { GitService, openSecretBox } from '../../src/git/index.ts';
import { createPipelines } from '../../src/pipeline/index.ts';
import { openStore } from '../../src/store/index.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PIPELINE = `triggers:
  branches: [main]
stages:
  - name: checkout
    steps: [checkout]
${[1, 2, 3, 4].map((i) => `  - name: s${i}\n    steps:\n      - run: "true"\n`).join('')}`;

const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-profile-'));
const store = openStore(join(dataDir, 'slipway.db'));
const events = new EventBus();
const logger = silentLogger();
const git = new GitService({ store, events, dataDir, logger, box: openSecretBox(dataDir) });
const publicUrl = 'http://127.0.0.1:1';
const pipes = createPipelines({
  config: {
    port: 0,
    host: '127.0.0.1',
    data: dataDir,
    logLevel: 'silent',
    publicUrl,
    pollIntervalSeconds: 0,
    tokenTtlSeconds: 300,
    sessionTtlSeconds: 3600,
  },
  logger,
  events,
  store,
  auth: new AuthService(store),
  dataDir,
  publicUrl,
  git,
});
await pipes.start();
await git.createRepo('bench/profile', { actor: 'bench' });
await git.commitFiles('bench/profile', {
  branch: 'main',
  files: { '.slipway/pipeline.yaml': PIPELINE, 'app.txt': 'hello\n' },
  message: 'pipeline',
  author: { name: 'bench' },
});
let t0 = 0;
let lines: string[] = [];
events.onAny((e) => {
  const d = e.data as { stage?: string; step?: string; status?: string; text?: string };
  const what = [d.stage, d.step, d.status, d.text?.trim().slice(0, 40)].filter(Boolean).join(' ');
  lines.push(`${(performance.now() - t0).toFixed(1).padStart(8)} ms  ${e.type.padEnd(12)} ${what}`);
});
for (let i = 0; i < RUNS; i++) {
  const last = pipes.service.listBuilds('bench/profile', { limit: 1 })[0]?.number ?? 0;
  const done = events.waitFor(
    'build.status',
    (e) => e.number === last + 1 && ['success', 'failed'].includes(e.status),
    60_000,
  );
  lines = [];
  t0 = performance.now();
  await pipes.service.runManual('bench/profile', { branch: 'main', who: 'bench' });
  const end = await done;
  if (end.status !== 'success') throw new Error(`build failed: ${end.error}`);
}
console.log(lines.join('\n'));
await pipes.stop();
store.close();
rmSync(dataDir, { recursive: true, force: true });
