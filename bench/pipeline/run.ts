// Benchmark: pipeline engine overhead per stage and throughput of queued builds, against a plain shell
// script that runs the same five `true` steps (the anchor). Run: node --import tsx bench/pipeline/run.ts
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthService } from '../../src/auth/index.ts';
import { EventBus, silentLogger } from '../../src/core/index.ts';
import { GitService, openSecretBox } from '../../src/git/index.ts';
import { createPipelines } from '../../src/pipeline/index.ts';
import { openStore } from '../../src/store/index.ts';

const SINGLE_RUNS = Number(process.env.BENCH_RUNS ?? 10);
const QUEUED = Number(process.env.BENCH_QUEUED ?? 50);
const PARALLEL = 4;

const PIPELINE = `triggers:
  branches: [main]
concurrency: ${PARALLEL}
stages:
${[1, 2, 3, 4, 5].map((i) => `  - name: s${i}\n    steps:\n      - run: "true"\n`).join('')}`;

const ANCHOR_SCRIPT = 'for i in 1 2 3 4 5; do sh -e -c true; done';

function sh(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', script], { stdio: 'ignore' });
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const dataDir = mkdtempSync(join(tmpdir(), 'slipway-bench-pipeline-'));
const store = openStore(join(dataDir, 'slipway.db'));
const events = new EventBus();
const logger = silentLogger();
const auth = new AuthService(store);
const git = new GitService({ store, events, dataDir, logger, box: openSecretBox(dataDir) });
const pipes = createPipelines({
  config: {
    port: 0,
    host: '127.0.0.1',
    data: dataDir,
    logLevel: 'silent',
    publicUrl: 'http://127.0.0.1:1',
    pollIntervalSeconds: 0,
    tokenTtlSeconds: 300,
    sessionTtlSeconds: 3600,
  },
  logger,
  events,
  store,
  auth,
  dataDir,
  publicUrl: 'http://127.0.0.1:1',
  git,
  globalConcurrency: PARALLEL,
});
await pipes.start();
await git.createRepo('bench/svc', { actor: 'bench' });
const waitFor = (n: number) =>
  events.waitFor('build.status', (e) => e.number === n && ['success', 'failed'].includes(e.status), 120_000);
const warmUp = waitFor(1);
await git.commitFiles('bench/svc', {
  branch: 'main',
  files: { '.slipway/pipeline.yaml': PIPELINE },
  message: 'pipeline',
  author: { name: 'bench' },
});
// The commit above queued build 1 (its trigger matches main): a warm-up.
events.onAny((e) => {
  if (process.env.BENCH_DEBUG && e.type !== 'build.log')
    console.log(e.type, JSON.stringify(e.data).slice(0, 200));
});
await warmUp;

// 1) One build at a time: wall time from queue to finish.
const engineTimes: number[] = [];
const runTimes: number[] = [];
for (let i = 0; i < SINGLE_RUNS; i++) {
  const t0 = performance.now();
  const next = pipes.service.listBuilds('bench/svc', { limit: 1 })[0]!.number + 1;
  const finished = waitFor(next);
  const b = await pipes.service.runManual('bench/svc', { branch: 'main', who: 'bench' });
  const done = await finished;
  if (done.status !== 'success') throw new Error(`build ${b.number} ${done.status}: ${done.error}`);
  engineTimes.push(performance.now() - t0);
  const rec = pipes.service.getBuild('bench/svc', b.number);
  runTimes.push(Date.parse(rec.finishedAt!) - Date.parse(rec.startedAt!));
}
// The same five `sh -e -c true` spawned one after another from Node (what the executor itself costs).
const spawnTimes: number[] = [];
for (let i = 0; i < SINGLE_RUNS; i++) {
  const t0 = performance.now();
  for (let j = 0; j < 5; j++) {
    await new Promise<void>((resolve) =>
      spawn('sh', ['-e', '-c', 'true'], { stdio: 'ignore', detached: true }).on('close', () => resolve()),
    );
  }
  spawnTimes.push(performance.now() - t0);
}
const anchorTimes: number[] = [];
for (let i = 0; i < SINGLE_RUNS; i++) {
  const t0 = performance.now();
  await sh(ANCHOR_SCRIPT);
  anchorTimes.push(performance.now() - t0);
}
const engineMs = median(engineTimes);
const runMs = median(runTimes);
const spawnMs = median(spawnTimes);
const anchorMs = median(anchorTimes);
const perStage = (runMs - spawnMs) / 5;

// 2) Throughput: QUEUED builds queued at once, PARALLEL at a time.
let finished = 0;
const allDone = new Promise<void>((resolve) => {
  const off = events.on('build.status', (e) => {
    if (e.status === 'success' || e.status === 'failed') finished++;
    if (finished === QUEUED) {
      off();
      resolve();
    }
  });
});
const t1 = performance.now();
for (let i = 0; i < QUEUED; i++) await pipes.service.runManual('bench/svc', { branch: 'main', who: 'bench' });
await allDone;
const engineTotal = performance.now() - t1;
const t2 = performance.now();
await sh(`seq ${QUEUED} | xargs -P ${PARALLEL} -I{} sh -c '${ANCHOR_SCRIPT}'`);
const anchorTotal = performance.now() - t2;

await pipes.stop();
store.close();
rmSync(dataDir, { recursive: true, force: true });

const f = (n: number) => n.toFixed(1);
console.log('pipeline benchmark (5 stages, one `true` step each)');
console.log(
  `  one build, median of ${SINGLE_RUNS}: slipway ${f(engineMs)} ms, shell script ${f(anchorMs)} ms, ratio ${(engineMs / anchorMs).toFixed(2)}x`,
);
console.log(
  `  running phase (started → finished), median: ${f(runMs)} ms; 5 bare Node spawns of sh -e -c true: ${f(spawnMs)} ms`,
);
console.log(
  `  engine overhead per stage (running phase minus bare spawns, / 5): ${f(perStage)} ms (target < 50 ms) ${perStage < 50 ? 'OK' : 'OVER TARGET'}`,
);
console.log(
  `  per build, queue → running (reads the pipeline from git, queue pickup): ${f(engineMs - runMs)} ms`,
);
console.log(
  `  load average while measuring: ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `  ${QUEUED} queued builds, ${PARALLEL} at a time: slipway ${f(engineTotal)} ms (${f((QUEUED * 1000) / engineTotal)} builds/s), shell ${f(anchorTotal)} ms (${f((QUEUED * 1000) / anchorTotal)} runs/s), ratio ${(engineTotal / anchorTotal).toFixed(2)}x`,
);
