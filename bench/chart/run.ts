// Benchmark: the differential chart corpus rendered by Slipway in process, by `slipway template` as a
// process (bin/slipway.cjs run as the `slipway` command is: as a program, through its shell lines, running
// the bundled CLI, rebuilt first), and by `helm template`; beside them Node's own start (`node -e 1`). Then
// one large chart (3,000 Services from a 200 KB values file, generated here) the same three ways. Prints
// per-chart wall and CPU times, ratios and totals, with the load average and whether NODE_EXTRA_CA_CERTS
// is set (Node 20 loads it at every start; `slipway template` leaves it until a TLS connection needs it).
// Run: node --import tsx bench/chart/run.ts [--runs N] [--quick]
//   --quick: 3 process runs per chart (default 7), for a rerun on a quiet machine in a few minutes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type CorpusCase, HELM, listCases, runSlipway } from '../../test/charts/corpus.ts';

const root = resolve(import.meta.dirname, '../..');
const runsArg = process.argv.indexOf('--runs');
const QUICK = process.argv.includes('--quick');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : QUICK ? 3 : 7;
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
function timeProcess(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Sample {
  const withTime = existsSync(TIME);
  const t0 = performance.now();
  const r = withTime
    ? spawnSync(TIME, ['-f', '%U %S', cmd, ...args], {
        cwd,
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawnSync(cmd, args, { cwd, env, stdio: 'ignore' });
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
// Node's start as `slipway template` gets it: its shell lines take NODE_EXTRA_CA_CERTS out of the way.
const bareNode = { ...process.env };
delete bareNode.NODE_EXTRA_CA_CERTS;
type Row = { name: string; inproc: Sample; node: Sample; cli: Sample; helm: Sample };
// The `slipway` command: npm links package.json's "bin" (this file) and the kernel runs its shell lines.
const slipway = join(root, 'bin/slipway.cjs');
// The first run of a fresh bundle writes its V8 code cache; later runs use it.
timeProcess(slipway, ['template', cases[0]!.release, cases[0]!.chart, ...cases[0]!.args], cases[0]!.dir);

async function measure(c: CorpusCase, runs: number): Promise<Row> {
  for (let i = 0; i < 3; i++) await runSlipway(c);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs * 4; i++) {
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await runSlipway(c);
    wall.push(performance.now() - t0);
    const u = process.cpuUsage(u0);
    cpu.push((u.user + u.system) / 1000);
    if (!r.ok) throw new Error(`${c.name}: ${r.stderr}`);
  }
  const node: Sample[] = [];
  const cli: Sample[] = [];
  const helm: Sample[] = [];
  // Interleaved, so a change in the machine's load hits all three alike.
  for (let i = 0; i < runs; i++) {
    node.push(timeProcess(process.execPath, ['-e', '1'], c.dir, bareNode));
    cli.push(timeProcess(slipway, ['template', c.release, c.chart, ...c.args], c.dir));
    helm.push(timeProcess(HELM, ['template', c.release, c.chart, ...c.args], c.dir));
  }
  const summary = (xs: Sample[]): Sample => ({
    wall: median(xs.map((x) => x.wall)),
    cpu: trimmedMean(xs.map((x) => x.cpu)),
  });
  return {
    name: c.name,
    inproc: { wall: median(wall), cpu: median(cpu) },
    node: summary(node),
    cli: summary(cli),
    helm: summary(helm),
  };
}

/** A chart of 3,000 Services from a 200 KB values file: YAML reading and template execution at scale. */
function largeChart(): CorpusCase {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-large-'));
  mkdirSync(join(dir, 'chart', 'templates'), { recursive: true });
  writeFileSync(join(dir, 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: large\nversion: 0.1.0\n');
  const items = Array.from(
    { length: 3000 },
    (_, i) => `  - name: svc-${i}\n    port: ${8000 + i}\n    labels: {tier: web, idx: "${i}"}`,
  );
  writeFileSync(join(dir, 'chart', 'values.yaml'), `items:\n${items.join('\n')}\n`);
  writeFileSync(
    join(dir, 'chart', 'templates', 'services.yaml'),
    [
      '{{- range .Values.items }}',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: {{ .name | trunc 63 | trimSuffix "-" }}',
      '  labels:',
      '    {{- toYaml .labels | nindent 4 }}',
      '    app: {{ printf "%s-%s" $.Release.Name .name | quote }}',
      'spec:',
      '  ports:',
      '    - port: {{ .port }}',
      '      targetPort: {{ add .port 1 }}',
      '{{- end }}',
      '',
    ].join('\n'),
  );
  return { name: 'large (3,000 Services)', dir, chart: 'chart', release: 'release-name', args: [] };
}

const rows: Row[] = [];
for (const c of cases) rows.push(await measure(c, RUNS));
const large = largeChart();
let largeRow: Row;
try {
  largeRow = await measure(large, RUNS);
} finally {
  rmSync(large.dir, { recursive: true, force: true });
}
const loadAfter = load();

const num = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(1)).padStart(9);
const ratio = (a: number, b: number) => (Number.isNaN(a / b) ? '-' : `${(a / b).toFixed(2)}x`).padStart(9);
const header = ['chart', 'in-proc', 'node -e1', 'cli', 'cli-node', 'helm', 'helm/in', 'helm/cli'];
const line = (r: Row, metric: 'wall' | 'cpu') =>
  `${r.name.padEnd(24)}${num(r.inproc[metric])}${num(r.node[metric])}${num(r.cli[metric])}${num(r.cli[metric] - r.node[metric])}${num(r.helm[metric])}${ratio(r.helm[metric], r.inproc[metric])}${ratio(r.helm[metric], r.cli[metric])}`;
for (const metric of ['wall', 'cpu'] as const) {
  console.log(
    metric === 'wall'
      ? `\nwall ms, median of ${RUNS * 4} in-process / ${RUNS} process runs, ${rows.length} charts`
      : `\nCPU (user+sys) ms, in-process median of ${RUNS * 4}; processes: mean of the middle 60% of ${RUNS}`,
  );
  console.log(header.map((h, i) => (i === 0 ? h.padEnd(24) : h.padStart(9))).join(''));
  const total: Row = {
    name: 'TOTAL',
    inproc: { wall: 0, cpu: 0 },
    node: { wall: 0, cpu: 0 },
    cli: { wall: 0, cpu: 0 },
    helm: { wall: 0, cpu: 0 },
  };
  for (const r of rows) {
    for (const k of ['inproc', 'node', 'cli', 'helm'] as const) total[k][metric] += r[k][metric];
    console.log(line(r, metric));
  }
  console.log(line(total, metric));
  const n = rows.length;
  const mean = (k: 'inproc' | 'node' | 'cli' | 'helm') => ({
    wall: total[k].wall / n,
    cpu: total[k].cpu / n,
  });
  console.log(
    line(
      {
        name: 'MEAN per chart',
        inproc: mean('inproc'),
        node: mean('node'),
        cli: mean('cli'),
        helm: mean('helm'),
      },
      metric,
    ),
  );
  console.log(line(largeRow, metric));
}
console.log(`\nload average (1 min): ${loadBefore} before, ${loadAfter} after; node ${process.version}`);
console.log(
  `NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS ? `is set (${process.env.NODE_EXTRA_CA_CERTS}): slipway template leaves it until a TLS connection, node -e 1 runs without it` : 'is not set'}`,
);
console.log(
  'cli = bin/slipway.cjs template, run as the `slipway` command is (the bundled fast path in dist/cli/)',
);
console.log("cli-node = what Slipway adds to Node's own start");
