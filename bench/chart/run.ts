// Benchmark: the differential chart corpus rendered by Slipway in process, by `slipway template` as a
// process (bin/slipway.mjs running the bundled CLI, rebuilt first), and by `helm template`. Prints per-chart
// median wall and CPU times, ratios and totals.
// Run: node --import tsx bench/chart/run.ts [--runs N]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HELM, listCases, runSlipway } from '../../test/charts/corpus.ts';

const root = resolve(import.meta.dirname, '../..');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const IN_PROCESS_RUNS = RUNS * 4;
const TIME = '/usr/bin/time';

interface Sample {
  wall: number;
  cpu: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
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
const rows: { name: string; inproc: Sample; cli: Sample; helm: Sample }[] = [];
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
  const cliArgs = [join(root, 'bin/slipway.mjs'), 'template', c.release, c.chart, ...c.args];
  const cli: Sample[] = [];
  const helm: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    cli.push(timeProcess(process.execPath, cliArgs, c.dir));
    helm.push(timeProcess(HELM, ['template', c.release, c.chart, ...c.args], c.dir));
  }
  const med = (xs: Sample[]): Sample => ({
    wall: median(xs.map((x) => x.wall)),
    cpu: median(xs.map((x) => x.cpu)),
  });
  rows.push({
    name: c.name,
    inproc: { wall: median(wall), cpu: median(cpu) },
    cli: med(cli),
    helm: med(helm),
  });
}

const num = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(1)).padStart(9);
const ratio = (a: number, b: number) => (Number.isNaN(a / b) ? '-' : `${(a / b).toFixed(1)}x`).padStart(9);
const header = ['chart', 'in-proc', 'cli', 'helm', 'helm/in', 'helm/cli'];
for (const metric of ['wall', 'cpu'] as const) {
  console.log(
    `\n${metric === 'wall' ? 'wall' : 'CPU (user+sys)'} ms, median of ${IN_PROCESS_RUNS} in-process / ${RUNS} process runs, ${rows.length} charts`,
  );
  console.log(header.map((h, i) => (i === 0 ? h.padEnd(24) : h.padStart(9))).join(''));
  const total = { inproc: 0, cli: 0, helm: 0 };
  for (const r of rows) {
    total.inproc += r.inproc[metric];
    total.cli += r.cli[metric];
    total.helm += r.helm[metric];
    console.log(
      `${r.name.padEnd(24)}${num(r.inproc[metric])}${num(r.cli[metric])}${num(r.helm[metric])}${ratio(r.helm[metric], r.inproc[metric])}${ratio(r.helm[metric], r.cli[metric])}`,
    );
  }
  console.log(
    `${'TOTAL'.padEnd(24)}${num(total.inproc)}${num(total.cli)}${num(total.helm)}${ratio(total.helm, total.inproc)}${ratio(total.helm, total.cli)}`,
  );
}
console.log('\ncli = node bin/slipway.mjs template (the bundled CLI in dist/cli/)');
