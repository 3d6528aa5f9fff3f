// Registry benchmark: Slipway against CNCF Distribution (docker-registry 2.8), side by side, same image
// set, each registry in its own process. Distribution runs twice: without auth (its default) and with
// htpasswd Basic auth (the auth it supports without a token server), with the same user and password
// Slipway gets. Every figure runs BENCH_ROUNDS times per registry (order rotated each round) and the
// median is printed.
//   node --import tsx bench/registry/run.ts [--quick]
// Env: BENCH_LAYERS (20), BENCH_LAYER_MB (10), BENCH_SMALL (1000), BENCH_CONCURRENCY (8),
// BENCH_WRK_SECONDS (10), BENCH_ROUNDS (3), BENCH_SMALL_ROUNDS (BENCH_ROUNDS), BENCH_ONLY (comma list of big,small,manifest),
// BENCH_SLIPWAY_NODE_ARGS (extra node flags for the Slipway process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p"),
// BENCH_BASE_TREE (another checkout, e.g. /work/main: its Slipway runs side by side as `base`, to compare
// a change with what it changes in the same rounds; its figures are in the raw values and the last column),
// BENCH_FLOOR=0 (skip `floor`: skopeo against floor-server.ts, which keeps bytes in memory and checks
// nothing, in the same rounds of the big figures: what the client alone costs).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import bcrypt from 'bcryptjs';

const run = promisify(execFile);
const LAYERS = Number(process.env.BENCH_LAYERS ?? 20);
const LAYER_MB = Number(process.env.BENCH_LAYER_MB ?? 10);
/** `--quick`: 100 small images and 5 s of wrk (a few minutes in all); env settings still win. */
const QUICK = process.argv.includes('--quick');
const SMALL = Number(process.env.BENCH_SMALL ?? (QUICK ? 100 : 1000));
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? (QUICK ? 5 : 10));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SMALL_ROUNDS = Number(process.env.BENCH_SMALL_ROUNDS ?? ROUNDS);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'big,small,manifest').split(','));
const SLIPWAY_NODE_ARGS = (process.env.BENCH_SLIPWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
const BASE_TREE = process.env.BENCH_BASE_TREE;
const FLOOR = process.env.BENCH_FLOOR !== '0';
const MANIFEST_ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

const work = mkdtempSync(join(tmpdir(), 'slipway-bench-registry-'));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** An OCI layout holding `images` images, tagged img-0..; each with `layers` random gzip layers. */
function writeLayout(dir: string, images: number, layers: number, layerBytes: number): string[] {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (data: Uint8Array) => {
    const hex = sha(data);
    writeFileSync(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const index = [];
  const tags = [];
  for (let i = 0; i < images; i++) {
    const ls = [];
    for (let j = 0; j < layers; j++)
      ls.push({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        ...put(gzipSync(randomBytes(layerBytes), { level: 1 })),
      });
    const config = put(
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: ls.map((l) => l.digest) },
          n: i,
        }),
      ),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_ACCEPT,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: ls,
      }),
    );
    const tag = `img-${i}`;
    tags.push(tag);
    index.push({
      mediaType: MANIFEST_ACCEPT,
      ...put(manifest),
      annotations: { 'org.opencontainers.image.ref.name': tag },
    });
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: index }));
  return tags;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not come up`);
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Target {
  name: 'slipway' | 'dist' | 'dist-auth' | 'base' | 'floor';
  pid: number | undefined;
  host: string;
  /** `user:password` for skopeo, or undefined for none. */
  creds: string | undefined;
}

async function wrk(url: string, seconds: number, authorization?: string): Promise<number> {
  const { stdout } = await run('wrk', [
    '-t2',
    '-c64',
    `-d${seconds}s`,
    '-H',
    `Accept: ${MANIFEST_ACCEPT}`,
    ...(authorization ? ['-H', `Authorization: ${authorization}`] : []),
    url,
  ]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  if (non2xx) throw new Error(`wrk saw ${non2xx[1]} error responses from ${url}`);
  return Number(m?.[1] ?? 0);
}

/**
 * Starts bench/registry/server.ts (of this checkout, or of `tree`) in its own node process; resolves
 * with its URL and credentials.
 */
function startSlipway(tree = join(import.meta.dirname, '..', '..')) {
  return startNodeServer<{ url: string; user: string; password: string }>(
    join(tree, 'bench', 'registry', 'server.ts'),
    { nodeArgs: SLIPWAY_NODE_ARGS, cwd: tree },
  );
}

/** Starts a node server script that prints one JSON line once it listens; resolves with that line. */
async function startNodeServer<T>(
  script: string,
  options: { nodeArgs?: string[]; cwd?: string } = {},
): Promise<T & { proc: ChildProcess }> {
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: options.cwd ?? join(import.meta.dirname, '..', '..'),
  });
  const lines = createInterface({ input: proc.stdout! });
  for await (const line of lines) {
    const info = JSON.parse(line) as T;
    lines.close();
    return { proc, ...info };
  }
  throw new Error(`${script} exited before it listened`);
}

async function startDistribution(
  name: string,
  htpasswd?: string,
): Promise<{ proc: ChildProcess; host: string }> {
  const port = await freePort();
  const dir = join(work, name);
  mkdirSync(dir);
  const cfg = join(work, `${name}.yml`);
  const auth = htpasswd ? `auth:\n  htpasswd:\n    realm: bench\n    path: ${htpasswd}\n` : '';
  writeFileSync(
    cfg,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const proc = spawn('docker-registry', ['serve', cfg], { stdio: 'ignore' });
  await waitFor(`http://127.0.0.1:${port}/v2/`);
  return { proc, host: `127.0.0.1:${port}` };
}

type Figure = 'bigPush' | 'bigPull' | 'smallPush' | 'smallPull' | 'manifestAnon' | 'manifestAuth';

async function main(): Promise<void> {
  console.log(
    `registry bench: ${LAYERS} layers x ${LAYER_MB} MB, ${SMALL} small images at concurrency ${CONCURRENCY}, ` +
      `manifest GET: wrk ${WRK_SECONDS}s x 64 connections; ${ROUNDS} rounds, medians`,
  );
  const procs: ChildProcess[] = [];
  try {
    const slipway = await startSlipway();
    procs.push(slipway.proc);
    const creds = `${slipway.user}:${slipway.password}`;
    // htpasswd's own default for -B is bcrypt cost 5; Distribution checks it on every request.
    const htpasswd = join(work, 'htpasswd');
    writeFileSync(htpasswd, `${slipway.user}:${bcrypt.hashSync(slipway.password, 5)}\n`);
    const dist = await startDistribution('dist');
    const distAuth = await startDistribution('dist-auth', htpasswd);
    procs.push(dist.proc, distAuth.proc);
    const targets: Target[] = [
      { name: 'slipway', pid: slipway.proc.pid, host: slipway.url.replace('http://', ''), creds },
      { name: 'dist', pid: dist.proc.pid, host: dist.host, creds: undefined },
      { name: 'dist-auth', pid: distAuth.proc.pid, host: distAuth.host, creds },
    ];
    if (BASE_TREE) {
      const base = await startSlipway(BASE_TREE);
      procs.push(base.proc);
      targets.push({
        name: 'base',
        pid: base.proc.pid,
        host: base.url.replace('http://', ''),
        creds: `${base.user}:${base.password}`,
      });
    }
    // The floor takes part in the big figures only.
    const bigTargets = [...targets];
    if (FLOOR && ONLY.has('big')) {
      const floor = await startNodeServer<{ url: string }>(join(import.meta.dirname, 'floor-server.ts'));
      procs.push(floor.proc);
      bigTargets.push({
        name: 'floor',
        pid: floor.proc.pid,
        host: floor.url.replace('http://', ''),
        creds: undefined,
      });
    }
    const results = new Map<string, number[]>();
    const record = (t: Target, figure: Figure, value: number) => {
      const key = `${t.name}.${figure}`;
      results.set(key, [...(results.get(key) ?? []), value]);
    };
    /** Server CPU seconds per figure and round (what the registry process itself spent). */
    const cpu = new Map<string, number[]>();
    const measure = async (t: Target, figure: Figure, fn: () => Promise<unknown>) => {
      const c0 = cpuSeconds(t.pid);
      const s = await timed(async () => {
        await fn();
      });
      const key = `${t.name}.${figure}`;
      cpu.set(key, [...(cpu.get(key) ?? []), cpuSeconds(t.pid) - c0]);
      return s;
    };
    const rotated = (round: number, list = targets) => list.map((_, i) => list[(i + round) % list.length]!);
    const flag = (t: Target, side: 'src' | 'dest') => (t.creds ? [`--${side}-creds`, t.creds] : []);
    const copy = (t: Target, from: string, to: string) =>
      run('skopeo', [
        'copy',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        ...(from.startsWith('docker://') ? flag(t, 'src') : flag(t, 'dest')),
        from,
        to,
      ]);

    for (let round = 0; round < Math.max(ROUNDS, SMALL_ROUNDS); round++) {
      // The big image: fresh random layers each round (pushing the same blobs again would only mount them).
      if (ONLY.has('big') && round < ROUNDS) {
        const dir = join(work, `big-${round}`);
        writeLayout(dir, 1, LAYERS, LAYER_MB * 1024 * 1024);
        for (const t of rotated(round, bigTargets)) {
          const ref = `docker://${t.host}/bench/big${round}:1`;
          record(t, 'bigPush', await measure(t, 'bigPush', () => copy(t, `oci:${dir}:img-0`, ref)));
          const pullDir = join(work, `pull-big-${t.name}`);
          record(t, 'bigPull', await measure(t, 'bigPull', () => copy(t, ref, `dir:${pullDir}`)));
          rmSync(pullDir, { recursive: true, force: true });
        }
        rmSync(dir, { recursive: true, force: true });
      }
      // Small images: a fresh set each round, pushed and pulled in batches of 50 that alternate between
      // the registries, so load changes on the shared machine hit all of them alike.
      if (ONLY.has('small') && round < SMALL_ROUNDS) {
        const dir = join(work, `small-${round}`);
        const tags = writeLayout(dir, SMALL, 1, 512);
        const batches: string[][] = [];
        for (let i = 0; i < tags.length; i += 50) batches.push(tags.slice(i, i + 50));
        const sums = new Map<string, number>();
        const add = (t: Target, f: string, v: number) =>
          sums.set(`${t.name}.${f}`, (sums.get(`${t.name}.${f}`) ?? 0) + v);
        for (const [i, batch] of batches.entries()) {
          for (const t of rotated(round + i)) {
            add(
              t,
              'smallPush',
              await measure(t, 'smallPush', () =>
                pool(batch, CONCURRENCY, async (tag) => {
                  await copy(t, `oci:${dir}:${tag}`, `docker://${t.host}/bench/small${round}:${tag}`);
                }),
              ),
            );
          }
        }
        for (const [i, batch] of batches.entries()) {
          for (const t of rotated(round + i)) {
            add(
              t,
              'smallPull',
              await measure(t, 'smallPull', () =>
                pool(batch, CONCURRENCY, async (tag) => {
                  const d = join(work, `pull-${t.name}-${tag}`);
                  await copy(t, `docker://${t.host}/bench/small${round}:${tag}`, `dir:${d}`);
                  rmSync(d, { recursive: true, force: true });
                }),
              ),
            );
          }
        }
        for (const t of targets) {
          record(t, 'smallPush', sums.get(`${t.name}.smallPush`)!);
          record(t, 'smallPull', sums.get(`${t.name}.smallPull`)!);
        }
        rmSync(dir, { recursive: true, force: true });
      }
    }

    if (ONLY.has('manifest')) {
      // One image to GET, pushed to every registry.
      const dir = join(work, 'one');
      writeLayout(dir, 1, 1, 512);
      for (const t of targets) {
        if (t.name !== 'base') await copy(t, `oci:${dir}:img-0`, `docker://${t.host}/bench/one:1`);
      }
      // The Bearer token a Docker client would hold for pulling from Slipway.
      const tokenUrl = `${slipway.url}/service/token?service=slipway&scope=repository:bench/one:pull`;
      const res = await fetch(tokenUrl, {
        headers: { authorization: `Basic ${Buffer.from(creds).toString('base64')}` },
      });
      const bearer = `Bearer ${((await res.json()) as { token: string }).token}`;
      const basicAuth = `Basic ${Buffer.from(creds).toString('base64')}`;
      for (let round = 0; round < ROUNDS; round++) {
        for (const t of rotated(round)) {
          if (t.name === 'base') continue;
          const url = `http://${t.host}/v2/bench/one/manifests/1`;
          if (t.name !== 'dist-auth') {
            await wrk(url, 1);
            record(t, 'manifestAnon', await wrk(url, WRK_SECONDS));
          }
          if (t.name !== 'dist') {
            const authz = t.name === 'slipway' ? bearer : basicAuth;
            await wrk(url, 1, authz);
            record(t, 'manifestAuth', await wrk(url, WRK_SECONDS, authz));
          }
        }
      }
    }

    console.log('\nraw values per round:');
    for (const [key, values] of results)
      console.log(`  ${key}: ${values.map((v) => v.toFixed(2)).join(' ')}`);
    console.log('\nserver CPU seconds per round (mean; the registry process only):');
    for (const f of ['bigPush', 'bigPull', 'smallPush', 'smallPull'] as const) {
      const per = bigTargets.map((t) => {
        const v = cpu.get(`${t.name}.${f}`);
        return v
          ? `${t.name} ${(v.reduce((a, b) => a + b, 0) / (f.startsWith('small') ? SMALL_ROUNDS : ROUNDS)).toFixed(2)}`
          : undefined;
      });
      if (per[0]) console.log(`  ${f.padEnd(10)} ${per.filter(Boolean).join('  ')}`);
    }
    const m = (t: string, f: Figure) => {
      const v = results.get(`${t}.${f}`);
      return v?.length ? median(v) : undefined;
    };
    const rows: { label: string; figure: Figure; higherIsBetter: boolean; digits: number }[] = [
      {
        label: `push ${LAYERS}x${LAYER_MB}MB image (s)`,
        figure: 'bigPush',
        higherIsBetter: false,
        digits: 2,
      },
      {
        label: `pull ${LAYERS}x${LAYER_MB}MB image (s)`,
        figure: 'bigPull',
        higherIsBetter: false,
        digits: 2,
      },
      { label: `push ${SMALL} small images (s)`, figure: 'smallPush', higherIsBetter: false, digits: 2 },
      { label: `pull ${SMALL} small images (s)`, figure: 'smallPull', higherIsBetter: false, digits: 2 },
      { label: 'manifest GET anonymous (req/s)', figure: 'manifestAnon', higherIsBetter: true, digits: 0 },
      { label: 'manifest GET with auth (req/s)', figure: 'manifestAuth', higherIsBetter: true, digits: 0 },
    ];
    const fmt = (v: number | undefined, digits: number) => (v === undefined ? '-' : v.toFixed(digits));
    const ratio = (s: number | undefined, d: number | undefined, higher: boolean) =>
      s === undefined || d === undefined ? '-' : (higher ? s / d : d / s).toFixed(2);
    console.log('\n(medians; ratio > 1 means Slipway is faster; Slipway always authenticated except in the');
    if (BASE_TREE) console.log(` base = the Slipway of ${BASE_TREE}, same rounds;`);
    console.log(
      ' anonymous manifest row; dist = Distribution without auth, dist+htpasswd = with Basic auth)',
    );
    console.log(
      [
        'figure'.padEnd(32),
        'slipway'.padStart(9),
        'dist'.padStart(9),
        'ratio'.padStart(6),
        'dist+htpasswd'.padStart(14),
        'ratio'.padStart(6),
        ...(BASE_TREE ? ['base'.padStart(9), 'ratio'.padStart(6)] : []),
      ].join(' '),
    );
    for (const row of rows) {
      const s = m('slipway', row.figure);
      if (s === undefined) continue;
      const d = m('dist', row.figure);
      const a = m('dist-auth', row.figure);
      console.log(
        [
          row.label.padEnd(32),
          fmt(s, row.digits).padStart(9),
          fmt(d, row.digits).padStart(9),
          ratio(s, d, row.higherIsBetter).padStart(6),
          fmt(a, row.digits).padStart(14),
          ratio(s, a, row.higherIsBetter).padStart(6),
          ...(BASE_TREE
            ? [
                fmt(m('base', row.figure), row.digits).padStart(9),
                ratio(s, m('base', row.figure), row.higherIsBetter).padStart(6),
              ]
            : []),
        ].join(' '),
      );
    }
    const floorRows = rows.filter((row) => m('floor', row.figure) !== undefined);
    if (floorRows.length) {
      console.log(
        "\nskopeo's floor (floor-server.ts: bytes kept in memory, nothing hashed, stored or checked), same rounds;",
      );
      console.log(' time above the floor: how much the registry itself adds to what the client takes');
      for (const row of floorRows) {
        const f = m('floor', row.figure)!;
        const above = (name: Target['name']) => {
          const v = m(name, row.figure);
          return v === undefined ? undefined : `${name} ${v >= f ? '+' : '-'}${Math.abs(v - f).toFixed(2)} s`;
        };
        const parts = (['slipway', 'dist', 'dist-auth', 'base'] as const).map(above).filter(Boolean);
        console.log(`  ${row.label.padEnd(30)} floor ${fmt(f, row.digits)} s; ${parts.join(', ')}`);
      }
    }
  } finally {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null) return resolve();
            const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
            p.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            p.kill('SIGTERM');
          }),
      ),
    );
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
