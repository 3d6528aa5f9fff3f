// Differential test: the native builder and buildah (the reference) build the same COPY-only
// Dockerfile; the image configs and the resulting filesystems must agree.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BuildahBuilder, findExecutable } from './buildah-builder.ts';
import type { BuildResult } from './image-builder.ts';
import { applyLayer, type LayerFs } from './layer-fs.ts';
import { NativeBuilder } from './native-builder.ts';
import { RegistryClient } from './registry-client.ts';
import { type DistributionRegistry, startDistributionRegistry } from './testing.ts';

let registry: DistributionRegistry | undefined;
let work: string;
const D = '$';

before(async () => {
  registry = await startDistributionRegistry();
  work = mkdtempSync(join(tmpdir(), 'slipway-conformance-'));
});
after(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function rootfs(repo: string, result: BuildResult): Promise<LayerFs> {
  const client = new RegistryClient();
  const fs: LayerFs = new Map();
  for (const l of result.manifest.layers)
    await applyLayer(fs, await client.getBlob(registry!.host, repo, l.digest));
  return fs;
}

test('native and buildah builds of the same COPY-only Dockerfile agree on config and files', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  if (!(await findExecutable('buildah'))) return t.skip('buildah is not installed');
  const ctx = join(work, 'ctx');
  mkdirSync(join(ctx, 'site/css'), { recursive: true });
  writeFileSync(join(ctx, 'site/index.html'), '<h1>hi</h1>');
  writeFileSync(join(ctx, 'site/css/app.css'), 'body{}');
  writeFileSync(join(ctx, 'run.sh'), '#!/bin/sh\necho run\n');
  chmodSync(join(ctx, 'run.sh'), 0o755);
  writeFileSync(join(ctx, 'notes.md'), 'ignored');
  symlinkSync('index.html', join(ctx, 'site/home.html'));
  writeFileSync(join(ctx, '.dockerignore'), '*.md\n');
  writeFileSync(
    join(ctx, 'Dockerfile'),
    [
      'ARG VERSION=1.0',
      'FROM scratch',
      'ARG VERSION',
      `ENV APP=/srv/app VERSION=${D}{VERSION} EMPTY=${D}{UNSET:-fallback}`,
      `LABEL version="${D}VERSION" maintainer="team@example.com"`,
      'WORKDIR /srv/app',
      'COPY site ./public/',
      'COPY --chmod=750 run.sh /usr/local/bin/',
      'COPY --chown=10:20 run.sh bin/run',
      'EXPOSE 8080 53/udp',
      'VOLUME ["/data"]',
      'USER 10:20',
      'STOPSIGNAL SIGQUIT',
      'ENTRYPOINT ["/usr/local/bin/run.sh"]',
      'CMD ["--serve"]',
      '',
    ].join('\n'),
  );
  const buildArgs = { VERSION: '2.5' };
  const native = await new NativeBuilder({ cacheDir: join(work, 'cache') }).build({
    contextDir: ctx,
    tags: [`${registry.host}/conf/native:1`],
    push: true,
    buildArgs,
  });
  const storage = join(work, 'buildah');
  const buildah = new BuildahBuilder({ storageRoot: storage });
  let ref: BuildResult;
  try {
    ref = await buildah.build({
      contextDir: ctx,
      tags: [`${registry.host}/conf/buildah:1`],
      push: true,
      buildArgs,
    });
  } finally {
    spawnSync('buildah', [...buildah.globalArgs(), 'rmi', '--all', '--force']);
  }
  const pick = (r: BuildResult) => {
    const c = r.config.config;
    return {
      Env: c.Env?.filter((e) => !e.startsWith('PATH=')),
      Labels: Object.fromEntries(Object.entries(c.Labels ?? {}).filter(([k]) => k !== 'io.buildah.version')),
      WorkingDir: c.WorkingDir,
      ExposedPorts: c.ExposedPorts,
      Volumes: c.Volumes,
      User: c.User,
      StopSignal: c.StopSignal,
      Entrypoint: c.Entrypoint,
      Cmd: c.Cmd,
    };
  };
  assert.deepEqual(pick(native), pick(ref));

  const a = await rootfs('conf/native', native);
  const b = await rootfs('conf/buildah', ref);
  const files = (fs: LayerFs) =>
    Object.fromEntries(
      [...fs].map(([p, n]) => [
        p,
        {
          type: n.type,
          mode: n.mode & 0o7777,
          uid: n.uid,
          gid: n.gid,
          data: n.data?.toString(),
          link: n.linkname,
        },
      ]),
    );
  assert.deepEqual(files(a), files(b));
});
