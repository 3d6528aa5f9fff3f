import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { type DistributionRegistry, startDistributionRegistry } from '../../oci/index.ts';
import { createCliContext } from '../context.ts';
import { registerImageCommands } from './image.ts';

let registry: DistributionRegistry | undefined;
let work: string;

before(async () => {
  registry = await startDistributionRegistry();
  work = mkdtempSync(join(tmpdir(), 'slipway-cli-image-'));
});
after(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    out: (s: string) => out.push(s),
    err: (s: string) => err.push(s),
    env: { SLIPWAY_CONFIG_DIR: work, SLIPWAY_DATA: join(work, 'data') },
  };
  const program = new Command('slipway').exitOverride().option('--json');
  const ctx = createCliContext(io, () => ({ json: args.includes('--json') }));
  registerImageCommands(program, ctx);
  for (const c of program.commands) c.exitOverride();
  await program.parseAsync(args, { from: 'user' });
  return { out: out.join('\n'), err: err.join('\n') };
}

test('slipway build, scan db import, scan and sbom work end to end', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const ctxDir = join(work, 'ctx');
  mkdirSync(join(ctxDir, 'rootfs/var/lib/dpkg'), { recursive: true });
  mkdirSync(join(ctxDir, 'rootfs/etc'), { recursive: true });
  writeFileSync(join(ctxDir, 'rootfs/etc/os-release'), 'ID=debian\nVERSION_ID="12"\n');
  writeFileSync(
    join(ctxDir, 'rootfs/var/lib/dpkg/status'),
    'Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u1\n',
  );
  writeFileSync(join(ctxDir, 'Dockerfile'), `FROM scratch\nARG DIR=rootfs\nCOPY ${'$'}{DIR}/ /\n`);
  const ref = `${registry.host}/cli/app:1`;
  const data = join(work, 'data');
  const built = await cli([
    'build',
    ctxDir,
    '-t',
    ref,
    '--push',
    '--build-arg',
    'DIR=rootfs',
    '--cache-dir',
    join(work, 'c'),
    '--json',
  ]);
  const digest = JSON.parse(built.out).digest as string;
  assert.match(digest, /^sha256:/);
  const imported = await cli([
    'scan',
    'db',
    'import',
    join(import.meta.dirname, '../../scan/testdata/osv'),
    '--data',
    data,
  ]);
  assert.match(imported.out, /imported 12 advisories/);
  const scanned = await cli(['scan', ref, '--json', '--data', data]);
  const report = JSON.parse(scanned.out);
  assert.equal(report.image.digest, digest);
  assert.equal(report.counts.HIGH, 1);
  const human = await cli(['scan', ref, '--data', data]);
  assert.match(human.out, /HIGH\s+libssl3\s+3\.0\.11-1~deb12u1\s+3\.0\.11-1~deb12u2\s+DSA-5532-1/);
  await assert.rejects(cli(['scan', ref, '--data', data, '--fail-on', 'high']), /at or above HIGH/);
  const sbom = JSON.parse((await cli(['sbom', ref])).out);
  assert.equal(sbom.bomFormat, 'CycloneDX');
  assert.equal(sbom.components.length, 2);
});
