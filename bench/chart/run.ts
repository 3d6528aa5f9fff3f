// Benchmark: the differential chart corpus rendered by Slipway in process, by `slipway template` as a
// process, and by `helm template`. Prints per-chart median times, ratios and totals.
// Run: node --import tsx bench/chart/run.ts [--runs N]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HELM, listCases, runSlipway } from '../../test/charts/corpus.ts';

const root = resolve(import.meta.dirname, '../..');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const IN_PROCESS_RUNS = RUNS * 4;
const mainCli = join(root, 'src/cli/main.ts');
const useMain = existsSync(mainCli);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeProcess(cmd: string, args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, stdio: 'ignore' });
  const t = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  return t;
}

const cases = listCases().filter((c) => !c.error && !c.todo);
if (!existsSync(HELM)) {
  console.error('helm binary not found; run npm ci');
  process.exit(1);
}
const rows: { name: string; inproc: number; cli: number; helm: number }[] = [];
for (const c of cases) {
  for (let i = 0; i < 3; i++) await runSlipway(c);
  const inproc: number[] = [];
  for (let i = 0; i < IN_PROCESS_RUNS; i++) {
    const t0 = performance.now();
    const r = await runSlipway(c);
    inproc.push(performance.now() - t0);
    if (!r.ok) throw new Error(`${c.name}: ${r.stderr}`);
  }
  const cliArgs = useMain
    ? [join(root, 'bin/slipway.mjs'), 'template', c.release, c.chart, ...c.args]
    : ['--import', 'tsx', join(root, 'bench/chart/cli.ts'), 'template', c.release, c.chart, ...c.args];
  const cli: number[] = [];
  const helm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    cli.push(timeProcess(process.execPath, cliArgs, c.dir));
    helm.push(timeProcess(HELM, ['template', c.release, c.chart, ...c.args], c.dir));
  }
  rows.push({ name: c.name, inproc: median(inproc), cli: median(cli), helm: median(helm) });
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (n: number) => n.toFixed(2).padStart(9);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`.padStart(8);
console.log(
  `chart corpus: ${rows.length} charts, median of ${IN_PROCESS_RUNS} in-process / ${RUNS} process runs (ms)`,
);
console.log(
  `${pad('chart', 24)}${'in-proc'.padStart(9)}${'cli'.padStart(9)}${'helm'.padStart(9)}${'helm/in'.padStart(8)}${'helm/cli'.padStart(8)}`,
);
let ti = 0;
let tc = 0;
let th = 0;
for (const r of rows) {
  ti += r.inproc;
  tc += r.cli;
  th += r.helm;
  console.log(
    `${pad(r.name, 24)}${num(r.inproc)}${num(r.cli)}${num(r.helm)}${ratio(r.helm, r.inproc)}${ratio(r.helm, r.cli)}`,
  );
}
console.log(`${pad('TOTAL', 24)}${num(ti)}${num(tc)}${num(th)}${ratio(th, ti)}${ratio(th, tc)}`);
console.log(
  `cli: ${useMain ? 'node bin/slipway.mjs template' : 'node --import tsx bench/chart/cli.ts template (main.ts not wired yet)'}`,
);
