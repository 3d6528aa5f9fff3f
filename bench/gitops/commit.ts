// The values editor's commit (the pipeline's deploy step): processes spawned and time per `setImageTag`.
//  - Slipway: a Slipway-hosted (bare) repository, edited in place (objects written by the editor, the branch
//    moved with one compare-and-swap `git update-ref`).
//  - Anchor: what a CD tool's git write-back does (Argo CD Image Updater, Flux image automation): a working
//    clone, `fetch` + `checkout` + `add` + `commit` + `push`. Same editor, given a file:// URL so it takes the
//    clone path; measured in the same run so both suffer the same load.
// Usage: node --import tsx bench/gitops/commit.ts [--commits 30] [--quick]
import childProcess from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createValuesEditor, localRepoLocator } from '../../src/gitops/index.ts';
import { createTempRepos } from '../../src/gitops/testing.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const i = args.indexOf('--commits');
const COMMITS = i >= 0 ? Number(args[i + 1]) : quick ? 10 : 30;

// Count every process the editor starts (execFile and spawn are what git-cli.ts and cat-file.ts use).
let spawned = 0;
const cp = childProcess as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const name of ['execFile', 'spawn']) {
  const orig = cp[name]!;
  cp[name] = (...a: unknown[]) => {
    spawned++;
    return orig(...a);
  };
}
syncBuiltinESMExports();

/** CPU time of this process and its finished children, in ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  let children = 0;
  try {
    // utime + stime of waited-for children, in clock ticks (fields 16 and 17 of /proc/self/stat).
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    children = ((Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    children = 0;
  }
  return (u.user + u.system) / 1000 + children;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(label: string, locate: (repo: string) => { url: string }, work: string) {
  const editor = createValuesEditor({ workDir: work, locate });
  // Warm up (first clone, cat-file start) outside the numbers.
  await editor.setImageTag({
    repo: 'team/values',
    file: 'dev/svc/values.yaml',
    tag: 'warm',
    author: 'bench',
  });
  const times: number[] = [];
  const procs: number[] = [];
  const cpu0 = cpuMs();
  const t0 = performance.now();
  for (let n = 0; n < COMMITS; n++) {
    const s = spawned;
    const t = performance.now();
    const r = await editor.setImageTag({
      repo: 'team/values',
      file: 'dev/svc/values.yaml',
      tag: `${label}-${n}`,
      author: 'bench',
    });
    if (!r.changed) throw new Error('no change');
    times.push(performance.now() - t);
    procs.push(spawned - s);
  }
  const wall = performance.now() - t0;
  const cpu = cpuMs() - cpu0;
  editor.close?.();
  return {
    label,
    msMedian: median(times),
    msMin: Math.min(...times),
    msMax: Math.max(...times),
    procs: median(procs),
    cpuPerCommit: cpu / COMMITS,
    wallPerCommit: wall / COMMITS,
  };
}

const repos = createTempRepos();
const work = mkdtempSync(join(tmpdir(), 'slipway-bench-commit-'));
try {
  await repos.create('team/values', {
    'dev/svc/values.yaml': 'image:\n  repository: r/svc\n  tag: "1"\n',
    'README.md': '# values\n',
  });
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(`${COMMITS} sequential image-tag commits each; load average before: ${load()}`);
  const bare = await measure('slipway', localRepoLocator(repos.root), join(work, 'bare'));
  const clone = await measure(
    'anchor',
    (repo) => ({ url: `file://${join(repos.root, 'git', `${repo}.git`)}` }),
    join(work, 'clone'),
  );
  console.log(`load average after: ${load()}`);
  const rows = [bare, clone];
  console.log('| | processes / commit | ms / commit (median, min–max) | CPU ms / commit (incl. git) |');
  console.log('|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.label === 'slipway' ? 'Slipway (bare repo, in place)' : 'anchor (clone: fetch/commit/push)'} | ${r.procs} | ${r.msMedian.toFixed(1)} (${r.msMin.toFixed(1)}–${r.msMax.toFixed(1)}) | ${r.cpuPerCommit.toFixed(1)} |`,
    );
  console.log(
    `ratio (anchor / Slipway): ${(clone.msMedian / bare.msMedian).toFixed(1)}× wall, ${(clone.cpuPerCommit / bare.cpuPerCommit).toFixed(1)}× CPU, ${clone.procs} vs ${bare.procs} processes`,
  );
} finally {
  repos.cleanup();
  rmSync(work, { recursive: true, force: true });
}
