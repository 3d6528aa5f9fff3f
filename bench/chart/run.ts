// Benchmark: the differential chart corpus rendered by Slipway in process, by `slipway template` as a
// process (bin/slipway.cjs, the `slipway` command, running the bundled CLI, rebuilt first), and by
// `helm template`; beside them Node's own start (`node -e 1`), the floor of any Node CLI. Prints per-chart
// wall and CPU times, ratios and totals, with the load average.
// Run: node --import tsx bench/chart/run.ts [--runs N] [--quick]
//   --quick: 3 process runs per chart (default 7), for a rerun on a quiet machine in a few minutes.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { HELM, listCases, runSlipway } from '../../test/charts/corpus.ts';

const root = resolve(import.meta.dirname, '../..');
const runsArg = process.argv.indexOf('--runs');
const QUICK = process.argv.includes('--quick');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : QUICK ? 3 : 7;
const IN_PROCESS_RUNS = RUNS * 4;
const TIME = '/usr/bin/time';
const load = () => loadavg()[0]!.toFixed(1);

interface Sample {
  wall: number;
  cpu: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Mean of the middle 60%: /usr/bin/time gives CPU in 10 ms steps, a mean resolves finer than a median. */
function trimmedMean(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const cut = Math.floor(s.length * 0.2);
  const mid = s.slice(cut, s.length - cut);
  return mid.reduce((a, b) => a + b, 0) / mid.length;
}

/** Wall time, and CPU time (user+sys) from /usr/bin/time when it exists (fairer on a loaded machine). */
function timeProcess(cmd: string, args: string[], cwd: string): Sample {
  const withTime = existsSync(TIME);
  const t0 = performance.now();
  const r = withTime
    ? spawnSync(TIME, ['-f', '%U %S', cmd, ...args], {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawnSync(cmd, args, { cwd, stdio: 'ignore' });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  let cpu = Number.NaN;
  if (withTime) {
    const last = String(r.stderr).trim().split('\n').pop() ?? '';
    const [u, s] = last.split(' ').map(Number);
    cpu = ((u ?? 0) + (s ?? 0)) * 1000;
  }
  return { wall, cpu };
}

const cases = listCases().filter((c) => !c.error && !c.todo);
if (!existsSync(HELM)) {
  console.error('helm binary not found; run npm ci');
  process.exit(1);
}
// A fresh bundle, so bin/slipway.mjs runs it rather than falling back to the TypeScript sources.
const built = spawnSync(process.execPath, [join(root, 'scripts/build-cli.mjs')], { stdio: 'inherit' });
if (built.status !== 0 || !existsSync(join(root, 'dist/cli/main.mjs'))) {
  console.error('building the CLI bundle failed');
  process.exit(1);
}
const loadBefore = load();
const rows: { name: string; inproc: Sample; node: Sample; cli: Sample; helm: Sample }[] = [];
const cliEntry = join(root, 'bin/slipway.cjs');
// The first run of a fresh bundle writes its V8 code cache; later runs use it.
timeProcess(
  process.execPath,
  [cliEntry, 'template', cases[0]!.release, cases[0]!.chart, ...cases[0]!.args],
  cases[0]!.dir,
);
for (const c of cases) {
  for (let i = 0; i < 3; i++) await runSlipway(c);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < IN_PROCESS_RUNS; i++) {
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await runSlipway(c);
    wall.push(performance.now() - t0);
    const u = process.cpuUsage(u0);
    cpu.push((u.user + u.system) / 1000);
    if (!r.ok) throw new Error(`${c.name}: ${r.stderr}`);
  }
  const cliArgs = [cliEntry, 'template', c.release, c.chart, ...c.args];
  const node: Sample[] = [];
  const cli: Sample[] = [];
  const helm: Sample[] = [];
  // Interleaved, so a change in the machine's load hits all three alike.
  for (let i = 0; i < RUNS; i++) {
    node.push(timeProcess(process.execPath, ['-e', '1'], c.dir));
    cli.push(timeProcess(process.execPath, cliArgs, c.dir));
    helm.push(timeProcess(HELM, ['template', c.release, c.chart, ...c.args], c.dir));
  }
  const summary = (xs: Sample[]): Sample => ({
    wall: median(xs.map((x) => x.wall)),
    cpu: trimmedMean(xs.map((x) => x.cpu)),
  });
  rows.push({
    name: c.name,
    inproc: { wall: median(wall), cpu: median(cpu) },
    node: summary(node),
    cli: summary(cli),
    helm: summary(helm),
  });
}
const loadAfter = load();

const num = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(1)).padStart(9);
const ratio = (a: number, b: number) => (Number.isNaN(a / b) ? '-' : `${(a / b).toFixed(2)}x`).padStart(9);
const header = ['chart', 'in-proc', 'node -e1', 'cli', 'cli-node', 'helm', 'helm/in', 'helm/cli'];
for (const metric of ['wall', 'cpu'] as const) {
  console.log(
    metric === 'wall'
      ? `\nwall ms, median of ${IN_PROCESS_RUNS} in-process / ${RUNS} process runs, ${rows.length} charts`
      : `\nCPU (user+sys) ms, in-process median of ${IN_PROCESS_RUNS}; processes: mean of the middle 60% of ${RUNS}`,
  );
  console.log(header.map((h, i) => (i === 0 ? h.padEnd(24) : h.padStart(9))).join(''));
  const total = { inproc: 0, node: 0, cli: 0, helm: 0 };
  for (const r of rows) {
    total.inproc += r.inproc[metric];
    total.node += r.node[metric];
    total.cli += r.cli[metric];
    total.helm += r.helm[metric];
    console.log(
      `${r.name.padEnd(24)}${num(r.inproc[metric])}${num(r.node[metric])}${num(r.cli[metric])}${num(r.cli[metric] - r.node[metric])}${num(r.helm[metric])}${ratio(r.helm[metric], r.inproc[metric])}${ratio(r.helm[metric], r.cli[metric])}`,
    );
  }
  console.log(
    `${'TOTAL'.padEnd(24)}${num(total.inproc)}${num(total.node)}${num(total.cli)}${num(total.cli - total.node)}${num(total.helm)}${ratio(total.helm, total.inproc)}${ratio(total.helm, total.cli)}`,
  );
  const n = rows.length;
  console.log(
    `${'MEAN per chart'.padEnd(24)}${num(total.inproc / n)}${num(total.node / n)}${num(total.cli / n)}${num((total.cli - total.node) / n)}${num(total.helm / n)}`,
  );
}
console.log(`\nload average (1 min): ${loadBefore} before, ${loadAfter} after; node ${process.version}`);
console.log(
  'cli = node bin/slipway.cjs template (the `slipway` command: the bundled fast path in dist/cli/)',
);
console.log("cli-node = what Slipway adds to Node's own start");
