import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BuildahBuilder, createImageBuilder, findExecutable } from './buildah-builder.ts';
import type { ImageConfig } from './image-builder.ts';
import { applyLayer, type LayerFs } from './layer-fs.ts';
import { NativeBuilder } from './native-builder.ts';
import { RegistryClient } from './registry-client.ts';
import { type DistributionRegistry, startDistributionRegistry } from './testing.ts';

let registry: DistributionRegistry | undefined;
let work: string;
let buildahPath: string | undefined;
const client = new RegistryClient();

before(async () => {
  registry = await startDistributionRegistry();
  work = mkdtempSync(join(tmpdir(), 'slipway-build-test-'));
  buildahPath = await findExecutable('buildah');
});

after(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

function context(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(work, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

async function layerFs(repo: string, digests: string[]): Promise<LayerFs> {
  const fs: LayerFs = new Map();
  for (const d of digests) await applyLayer(fs, await client.getBlob(registry!.host, repo, d));
  return fs;
}

const D = '$';
const busyboxPresent = existsSync('/bin/busybox');

async function buildBusyboxBase(cacheDir: string): Promise<string> {
  const dir = context('busybox-base', {
    Dockerfile: 'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "sh"]\n',
  });
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  const builder = new NativeBuilder({ cacheDir });
  const ref = `${registry!.host}/base/busybox:1`;
  await builder.build({ contextDir: dir, tags: [ref], push: true });
  return ref;
}

test('native build of a COPY-only Dockerfile is reproducible, cached, and its image runs under buildah', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  if (!busyboxPresent) return t.skip('/bin/busybox (busybox-static) is not installed');
  const cacheA = join(work, 'cache-a');
  const base = await buildBusyboxBase(cacheA);
  const dir = context('app', {
    Dockerfile: [
      `FROM ${base}`,
      'ARG GREETING=hello',
      `ENV APP_HOME=/srv/app MSG="${D}{GREETING} world"`,
      'WORKDIR $APP_HOME',
      'COPY --chmod=755 bin/ ./bin/',
      'COPY --chown=1000:1000 conf/app.conf /etc/app/',
      'COPY <<EOF /etc/motd',
      `greeting: ${D}{GREETING}`,
      'EOF',
      'LABEL org.opencontainers.image.title="demo app"',
      'EXPOSE 8080 9090/udp',
      'VOLUME ["/data"]',
      'USER 1000:1000',
      'STOPSIGNAL SIGTERM',
      'ENTRYPOINT ["/bin/busybox"]',
      'CMD ["echo", "hi"]',
      '',
    ].join('\n'),
    'bin/run.sh': '#!/bin/sh\necho run\n',
    'conf/app.conf': 'port=8080\n',
    'secret.txt': 'do not copy',
  });
  const logs: string[] = [];
  const b1 = new NativeBuilder({ cacheDir: cacheA });
  const r1 = await b1.build({
    contextDir: dir,
    tags: [`${registry.host}/demo/app:1`],
    push: true,
    onLog: (l) => logs.push(l),
  });
  // A fresh cache gives the same bytes; the original cache reuses every COPY layer.
  const r2 = await new NativeBuilder({ cacheDir: join(work, 'cache-b') }).build({
    contextDir: dir,
    tags: [`${registry.host}/demo/app:2`],
    push: true,
  });
  const r3 = await b1.build({ contextDir: dir, tags: [`${registry.host}/demo/app:3`], push: true });
  assert.equal(r1.backend, 'native');
  assert.equal(r1.digest, r2.digest);
  assert.equal(r1.digest, r3.digest);
  assert.ok(r1.layers!.every((l) => !l.cached));
  assert.ok(r3.layers!.length === 3 && r3.layers!.every((l) => l.cached));
  assert.ok(logs.some((l) => l.includes('FROM')));

  const head = await client.headManifest(registry.host, 'demo/app', '1');
  assert.equal(head?.digest, r1.digest);

  const cfg: ImageConfig = r1.config;
  assert.deepEqual(cfg.config.Env, ['APP_HOME=/srv/app', 'MSG=hello world']);
  assert.equal(cfg.config.WorkingDir, '/srv/app');
  assert.deepEqual(cfg.config.Entrypoint, ['/bin/busybox']);
  assert.deepEqual(cfg.config.Cmd, ['echo', 'hi']);
  assert.deepEqual(cfg.config.ExposedPorts, { '8080/tcp': {}, '9090/udp': {} });
  assert.deepEqual(cfg.config.Volumes, { '/data': {} });
  assert.equal(cfg.config.User, '1000:1000');
  assert.equal(cfg.config.StopSignal, 'SIGTERM');
  assert.equal(cfg.config.Labels?.['org.opencontainers.image.title'], 'demo app');
  assert.equal(cfg.created, '1970-01-01T00:00:00Z');
  assert.equal(cfg.rootfs.diff_ids.length, 4);
  assert.equal(cfg.history?.filter((h) => !h.empty_layer).length, 4);

  const fs = await layerFs(
    'demo/app',
    r1.manifest.layers.map((l) => l.digest),
  );
  assert.equal(fs.get('srv/app/bin/run.sh')?.mode, 0o755);
  assert.equal(fs.get('etc/app/app.conf')?.uid, 1000);
  assert.equal(fs.get('etc/motd')?.data?.toString(), 'greeting: hello\n');
  assert.equal(fs.has('srv/app/secret.txt'), false);

  // skopeo (containers/image) reads the same manifest.
  if (await findExecutable('skopeo')) {
    const inspect = spawnSync(
      'skopeo',
      ['inspect', '--tls-verify=false', `docker://${registry.host}/demo/app:1`],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.equal(JSON.parse(inspect.stdout).Digest, r1.digest);
  }

  if (!buildahPath) return t.skip('buildah is not installed: cannot run the image');
  const storage = join(work, 'buildah-run');
  const g = ['--storage-driver', 'vfs', '--root', join(storage, 'root'), '--runroot', join(storage, 'run')];
  const from = spawnSync('buildah', [...g, 'from', '--tls-verify=false', `${registry.host}/demo/app:1`], {
    encoding: 'utf8',
  });
  assert.equal(from.status, 0, from.stderr);
  const container = from.stdout.trim().split('\n').pop()!;
  const runRes = spawnSync(
    'buildah',
    [...g, 'run', '--isolation', 'chroot', '--user', '0:0', container, '--', '/bin/busybox', 'echo', 'hi'],
    { encoding: 'utf8' },
  );
  spawnSync('buildah', [...g, 'rm', container]);
  spawnSync('buildah', [...g, 'rmi', '--all', '--force']);
  assert.equal(runRes.status, 0, runRes.stderr);
  assert.equal(runRes.stdout.trim(), 'hi');
});

test('multi-stage build with COPY --from and .dockerignore', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const dir = context('multi', {
    Dockerfile: [
      'ARG VERSION=1.2.3',
      'FROM scratch AS assets',
      'ARG VERSION',
      'COPY . /src/',
      'COPY <<EOF /src/version.txt',
      `v${D}{VERSION}`,
      'EOF',
      '',
      'FROM scratch',
      'COPY --from=assets /src/web/ /www/',
      'COPY --from=assets /src/version.txt /www/',
      'CMD ["/www/index.html"]',
      '',
    ].join('\n'),
    '.dockerignore': '# comments are ignored\n**/*.log\nnode_modules\nweb/drafts\n!web/drafts/keep.html\n',
    'web/index.html': '<h1>hi</h1>',
    'web/debug.log': 'noise',
    'web/drafts/wip.html': 'wip',
    'web/drafts/keep.html': 'keep',
    'node_modules/x/index.js': 'x',
  });
  const r = await new NativeBuilder({ cacheDir: join(work, 'cache-m') }).build({
    contextDir: dir,
    tags: [`${registry.host}/demo/multi:1`],
    push: true,
    buildArgs: { VERSION: '2.0.0' },
  });
  const fs = await layerFs(
    'demo/multi',
    r.manifest.layers.map((l) => l.digest),
  );
  assert.deepEqual([...fs.keys()].filter((k) => fs.get(k)?.type === 'file').sort(), [
    'www/drafts/keep.html',
    'www/index.html',
    'www/version.txt',
  ]);
  assert.equal(fs.get('www/version.txt')?.data?.toString(), 'v2.0.0\n');
  // The first stage alone, by target.
  const a = await new NativeBuilder({ cacheDir: join(work, 'cache-m') }).build({
    contextDir: dir,
    tags: [`${registry.host}/demo/assets:1`],
    push: false,
    target: 'assets',
  });
  assert.equal(a.manifest.layers.length, 2);
});

test('COPY --from an image, --chown by name from /etc/passwd, and ADD of a local tar archive', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  const { writeTar, gzipReproducible } = await import('./tar-writer.ts');
  const archive = gzipReproducible(
    writeTar([
      { path: 'pkg', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 0 },
      {
        path: 'pkg/readme.txt',
        type: 'file',
        mode: 0o600,
        uid: 5,
        gid: 5,
        mtime: 0,
        data: Buffer.from('from tar'),
      },
    ]),
  );
  const baseDir = context('users-base', {
    Dockerfile:
      'FROM scratch\nCOPY passwd /etc/passwd\nCOPY group /etc/group\nCOPY tool.sh /usr/bin/tool.sh\nCOPY --chmod=1777 tmpdir/ /tmp/\n',
    'tmpdir/.keep': '',
    passwd: 'root:x:0:0:root:/root:/bin/sh\napp:x:1234:2345:app:/home/app:/bin/sh\n',
    group: 'root:x:0:\nstaff:x:50:\n',
    'tool.sh': 'echo tool\n',
  });
  const base = `${registry.host}/base/users:1`;
  await new NativeBuilder({ cacheDir: join(work, 'cache-u') }).build({
    contextDir: baseDir,
    tags: [base],
    push: true,
  });
  const dir = context('users-app', {
    Dockerfile: [
      `FROM ${base}`,
      'COPY --chown=app conf.txt /home/app/',
      'COPY --chown=app:staff conf.txt /srv/',
      `COPY --from=${base} /usr/bin/tool.sh /opt/tool.sh`,
      'ADD vendor.tar.gz /vendor/',
      'COPY other.txt /srv',
      'COPY --chown=app other.txt /tmp/',
      'COPY other.txt /usr/bin',
      '',
    ].join('\n'),
    'conf.txt': 'x=1\n',
    'other.txt': 'other\n',
    'vendor.tar.gz': archive,
  });
  const r = await new NativeBuilder({ cacheDir: join(work, 'cache-u') }).build({
    contextDir: dir,
    tags: [`${registry.host}/demo/users:1`],
    push: true,
  });
  const fs = await layerFs(
    'demo/users',
    r.manifest.layers.map((l) => l.digest),
  );
  assert.deepEqual([fs.get('home/app/conf.txt')?.uid, fs.get('home/app/conf.txt')?.gid], [1234, 2345]);
  assert.deepEqual([fs.get('srv/conf.txt')?.uid, fs.get('srv/conf.txt')?.gid], [1234, 50]);
  assert.equal(fs.get('opt/tool.sh')?.data?.toString(), 'echo tool\n');
  assert.equal(fs.get('vendor/pkg/readme.txt')?.data?.toString(), 'from tar');
  assert.equal(fs.get('vendor/pkg/readme.txt')?.mode, 0o600);
  // Layers of the base image were mounted/reused, not rebuilt.
  assert.equal(r.manifest.layers.length, 4 + 7);
  // /usr/bin is a directory of the base image: the file goes into it.
  assert.equal(fs.get('usr/bin/other.txt')?.data?.toString(), 'other\n');
  // Parents that exist in the (remote) base keep their owner and mode: /tmp stays 1777 root.
  const last = await layerFs('demo/users', [r.manifest.layers[r.manifest.layers.length - 2]!.digest]);
  assert.deepEqual([last.get('tmp')?.mode, last.get('tmp')?.uid], [0o1777, 0]);
  assert.equal(last.get('tmp/other.txt')?.uid, 1234);
  // /srv is a directory made by an earlier COPY: the file goes into it.
  assert.equal(fs.get('srv')?.type, 'dir');
  assert.equal(fs.get('srv/other.txt')?.data?.toString(), 'other\n');
  await assert.rejects(
    new NativeBuilder({ cacheDir: join(work, 'cache-u') }).build({
      contextDir: context('users-bad', { Dockerfile: `FROM ${base}\nCOPY --chown=nobody Dockerfile /x\n` }),
      tags: [`${registry.host}/demo/bad:1`],
      push: false,
    }),
    /Dockerfile:2: --chown: "nobody" is not in the image's etc\/passwd/,
  );
});

test('a Dockerfile with RUN builds through buildah and has the right layers', async (t) => {
  if (!registry) return t.skip('docker-registry (CNCF Distribution) is not installed');
  if (!busyboxPresent) return t.skip('/bin/busybox (busybox-static) is not installed');
  if (!buildahPath) return t.skip('buildah is not installed');
  const base = await buildBusyboxBase(join(work, 'cache-r'));
  const dir = context('with-run', {
    Dockerfile: `FROM ${base}\nRUN ["/bin/busybox","--install","-s","/bin"]\nCOPY hello.txt /hello.txt\nCMD ["/bin/sh","-c","cat /hello.txt"]\n`,
    'hello.txt': 'hello from buildah\n',
  });
  const storage = join(work, 'buildah-store');
  const builder = createImageBuilder({
    cacheDir: join(work, 'cache-r'),
    buildah: { storageRoot: storage },
  });
  const logs: string[] = [];
  const r = await builder.build({
    contextDir: dir,
    tags: [`${registry.host}/demo/run:1`],
    push: true,
    onLog: (l) => logs.push(l),
  });
  try {
    assert.equal(r.backend, 'buildah');
    // buildah (--layers=false) keeps the base layer and commits the build as one new layer.
    const baseManifest = await client.getManifest(registry.host, 'base/busybox', '1');
    const baseLayers = (baseManifest.json as { layers: { digest: string }[] }).layers;
    assert.equal(r.manifest.layers.length, 2, JSON.stringify(r.manifest.layers));
    assert.equal(r.manifest.layers[0]!.digest, baseLayers[0]!.digest);
    assert.equal(r.config.rootfs.diff_ids.length, 2);
    const fs = await layerFs(
      'demo/run',
      r.manifest.layers.map((l) => l.digest),
    );
    assert.equal(fs.get('bin/sh')?.type, 'symlink');
    assert.equal(fs.get('bin/sh')?.linkname, '/bin/busybox');
    assert.equal(fs.get('hello.txt')?.data?.toString(), 'hello from buildah\n');
    assert.deepEqual(r.config.config.Cmd, ['/bin/sh', '-c', 'cat /hello.txt']);
    const head = await client.headManifest(registry.host, 'demo/run', '1');
    assert.equal(head?.digest, r.digest);
  } finally {
    spawnSync('buildah', [
      ...new BuildahBuilder({ storageRoot: storage }).globalArgs(),
      'rmi',
      '--all',
      '--force',
    ]);
  }
});

test('createImageBuilder() explains what to install when RUN cannot be built', async () => {
  const dir = context('needs-buildah', { Dockerfile: 'FROM scratch\nRUN echo hi\n' });
  const builder = createImageBuilder({ buildah: { buildah: '/nonexistent/buildah' } });
  await assert.rejects(
    builder.build({ contextDir: dir, tags: ['127.0.0.1:1/x/y:1'], push: false }),
    /Dockerfile:2: RUN needs a container runtime.*Install buildah/s,
  );
});
