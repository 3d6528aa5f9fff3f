// Image benchmark: the native builder vs `buildah bud` (vfs, chroot) on the same COPY-only Dockerfile,
// both pushing to a local CNCF Distribution registry; then scanner throughput in packages per second.
// Usage: node --import tsx bench/image/run.ts [--files 400] [--runs 3]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  findExecutable,
  NativeBuilder,
  RegistryClient,
  startDistributionRegistry,
} from '../../src/oci/index.ts';
import {
  matchPackages,
  OsvDatabase,
  parseDpkgStatus,
  parsePackageLock,
  readOsvSource,
  Scanner,
} from '../../src/scan/index.ts';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const FILES = arg('files', 400);
const RUNS = arg('runs', 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function makeContext(dir: string): number {
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const sub = join(dir, 'app', `pkg${i % 20}`);
    mkdirSync(sub, { recursive: true });
    // Half text (compressible), half random (not), 4-40 KiB each.
    const size = 4096 + ((i * 7919) % 36864);
    const data =
      i % 2 === 0
        ? Buffer.from(`line ${i} of a source file\n`.repeat(Math.ceil(size / 26))).subarray(0, size)
        : randomBytes(size);
    writeFileSync(join(sub, `file${i}.${i % 2 === 0 ? 'js' : 'bin'}`), data);
    bytes += size;
  }
  writeFileSync(
    join(dir, 'Dockerfile'),
    'FROM scratch\nCOPY app/ /app/\nCOPY Dockerfile /Dockerfile\nCMD ["/app/run"]\n',
  );
  return bytes;
}

async function main(): Promise<void> {
  const registry = await startDistributionRegistry();
  if (!registry) {
    console.log('docker-registry (CNCF Distribution) is not installed: apt-get install docker-registry');
    process.exit(1);
  }
  const work = mkdtempSync(join(tmpdir(), 'slipway-bench-image-'));
  try {
    const ctx = join(work, 'ctx');
    mkdirSync(ctx);
    const bytes = makeContext(ctx);
    console.log(
      `context: ${FILES} files, ${(bytes / 1048576).toFixed(1)} MiB; registry: Distribution at ${registry.host}`,
    );

    // One unmeasured run of each first (JIT warm-up here; page cache and storage setup for buildah).
    await new NativeBuilder({ cacheDir: join(work, 'cache-warmup') }).build({
      contextDir: ctx,
      tags: [`${registry.host}/bench/warmup:native`],
      push: true,
    });
    // Native, cold cache each run (fair against buildah, which has no layer cache with --layers=false).
    const native: number[] = [];
    let digest = '';
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const res = await new NativeBuilder({ cacheDir: join(work, `cache-${r}`) }).build({
        contextDir: ctx,
        tags: [`${registry.host}/bench/native:${r}`],
        push: true,
      });
      native.push(performance.now() - t0);
      if (digest && res.digest !== digest) throw new Error('native build is not reproducible');
      digest = res.digest;
    }
    const warm: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      await new NativeBuilder({ cacheDir: join(work, 'cache-0') }).build({
        contextDir: ctx,
        tags: [`${registry.host}/bench/native-warm:${r}`],
        push: true,
      });
      warm.push(performance.now() - t0);
    }
    console.log(
      `native (cold cache) median ${median(native).toFixed(0)} ms  runs ${native.map((x) => x.toFixed(0)).join(', ')}`,
    );
    console.log(
      `native (warm cache) median ${median(warm).toFixed(0)} ms  (same digest ${digest.slice(0, 19)}…)`,
    );

    const buildah = await findExecutable('buildah');
    if (buildah) {
      const g = [
        '--storage-driver',
        'vfs',
        '--root',
        join(work, 'bh', 'root'),
        '--runroot',
        join(work, 'bh', 'run'),
      ];
      const times: number[] = [];
      for (let r = -1; r < RUNS; r++) {
        const ref = `${registry.host}/bench/buildah:${r < 0 ? 'warmup' : r}`;
        const t0 = performance.now();
        const b = spawnSync(
          buildah,
          [...g, 'bud', '--isolation', 'chroot', '--layers=false', '-q', '-t', ref, ctx],
          {
            encoding: 'utf8',
          },
        );
        if (b.status !== 0) throw new Error(`buildah bud failed: ${b.stderr}`);
        const p = spawnSync(buildah, [...g, 'push', '--tls-verify=false', '-q', ref, `docker://${ref}`], {
          encoding: 'utf8',
        });
        if (p.status !== 0) throw new Error(`buildah push failed: ${p.stderr}`);
        if (r >= 0) times.push(performance.now() - t0);
      }
      spawnSync(buildah, [...g, 'rmi', '--all', '--force']);
      console.log(
        `buildah bud+push median ${median(times).toFixed(0)} ms  runs ${times.map((x) => x.toFixed(0)).join(', ')}`,
      );
      console.log(
        `ratio buildah/native: ${(median(times) / median(native)).toFixed(1)}x (cold cache), ${(median(times) / median(warm)).toFixed(1)}x (warm cache)  (target >= 5x)`,
      );
    } else {
      console.log('buildah is not installed: no comparison (apt-get install buildah)');
    }

    // Scanner throughput.
    const db = new OsvDatabase(
      (await readOsvSource(join(import.meta.dirname, '../../src/scan/testdata/osv'))).advisories,
    );
    const dpkgLines: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const name = i % 500 === 0 ? 'libssl3' : `pkg-${i}`;
      const source = i % 500 === 0 ? 'openssl' : `src-${i % 1000}`;
      dpkgLines.push(
        `Package: ${name}\nStatus: install ok installed\nSource: ${source}\nVersion: 1:${i % 7}.${i % 13}.${i}-1+deb12u1\nArchitecture: amd64\nDescription: synthetic package ${i}\n that spans two lines\n`,
      );
    }
    const status = dpkgLines.join('\n');
    const lockPkgs: Record<string, { version: string }> = { '': { version: '1.0.0' } };
    for (let i = 0; i < 5000; i++) {
      const name = i % 250 === 0 ? 'lodash' : i % 333 === 0 ? 'minimist' : `dep-${i}`;
      lockPkgs[`node_modules/parent-${i}/node_modules/${name}`] = { version: `${i % 5}.${i % 17}.${i % 23}` };
    }
    const lock = JSON.stringify({ lockfileVersion: 3, packages: lockPkgs });
    const iterations = 5;
    let pkgs = 0;
    let findings = 0;
    const t0 = performance.now();
    for (let k = 0; k < iterations; k++) {
      const packages = [
        ...parseDpkgStatus(status, '/var/lib/dpkg/status'),
        ...parsePackageLock(lock, '/app/package-lock.json'),
      ];
      findings = matchPackages(db, packages, { id: 'debian', versionId: '12' }).length;
      pkgs += packages.length;
    }
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `scan (parse + match, ${pkgs / iterations} packages, ${findings} findings): ${Math.round(pkgs / secs).toLocaleString('en-US')} packages/s`,
    );

    // The same lists inside an image, scanned through the registry (download + extract + match).
    const imgCtx = join(work, 'img');
    mkdirSync(join(imgCtx, 'root/var/lib/dpkg'), { recursive: true });
    mkdirSync(join(imgCtx, 'root/etc'), { recursive: true });
    mkdirSync(join(imgCtx, 'root/app'), { recursive: true });
    writeFileSync(join(imgCtx, 'root/etc/os-release'), 'ID=debian\nVERSION_ID="12"\n');
    writeFileSync(join(imgCtx, 'root/var/lib/dpkg/status'), status);
    writeFileSync(join(imgCtx, 'root/app/package-lock.json'), lock);
    writeFileSync(join(imgCtx, 'Dockerfile'), 'FROM scratch\nCOPY root/ /\n');
    const ref = `${registry.host}/bench/scan:1`;
    await new NativeBuilder({ cacheDir: join(work, 'cache-scan') }).build({
      contextDir: imgCtx,
      tags: [ref],
      push: true,
    });
    const scanner = new Scanner({ database: db, client: new RegistryClient() });
    const t1 = performance.now();
    const report = await scanner.scanImage(ref);
    const s2 = (performance.now() - t1) / 1000;
    console.log(
      `scan of an image through the registry: ${report.packageCount} packages in ${(s2 * 1000).toFixed(0)} ms = ${Math.round(report.packageCount / s2).toLocaleString('en-US')} packages/s (${report.findings.length} findings)`,
    );
  } finally {
    await registry.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
