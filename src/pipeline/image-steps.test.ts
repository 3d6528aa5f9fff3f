import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { createGit } from '../git/index.ts';
import { startTestServer } from '../server/testing.ts';
import { type BuildRecord, createPipelines, type ImageBuilder } from './index.ts';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** A real ImageBuilder for tests: buildah (vfs storage, chroot isolation) building and pushing. */
function buildahBuilder(dir: string): ImageBuilder {
  const storage = ['--storage-driver', 'vfs', '--root', join(dir, 'storage'), '--runroot', join(dir, 'run')];
  return {
    async build({ contextDir, dockerfile, tags, onLog }) {
      const local = `localhost/slipway-test:${Date.now()}`;
      const built = await run('buildah', [
        ...storage,
        'bud',
        '--isolation',
        'chroot',
        '-q',
        '-f',
        dockerfile,
        '-t',
        local,
        contextDir,
      ]);
      onLog(built.stdout.trim());
      let digest = '';
      for (const tag of tags) {
        const file = join(dir, 'digest');
        await run('buildah', [
          ...storage,
          'push',
          '--tls-verify=false',
          '--digestfile',
          file,
          local,
          `docker://${tag}`,
        ]);
        digest = readFileSync(file, 'utf8').trim();
      }
      return { digest };
    },
  };
}

test('image-build and image-push put :1 and :latest with one digest into a registry (buildah, Distribution)', async (t) => {
  for (const tool of ['/usr/bin/buildah', '/usr/bin/docker-registry', '/usr/bin/skopeo']) {
    if (!existsSync(tool)) return t.skip(`${tool} is not installed`);
  }
  if (process.getuid?.() !== 0) return t.skip('buildah without a daemon needs root here');
  const dir = mkdtempSync(join(tmpdir(), 'slipway-image-steps-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'registry.yml'),
    `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/registry\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const registry = spawn('docker-registry', ['serve', join(dir, 'registry.yml')], { stdio: 'ignore' });
  const server = await startTestServer({
    extraModules: (ctx) => {
      const git = createGit(ctx);
      const pipes = createPipelines({ ...ctx, git: git.service, imageBuilder: buildahBuilder(dir) });
      return [
        { name: 'git', prefix: '/git', routes: git.routes },
        { name: 'git-api', prefix: '/api/v1', routes: git.apiRoutes },
        { name: 'pipeline', prefix: '/api/v1', routes: pipes.routes, start: pipes.start, stop: pipes.stop },
      ];
    },
  });
  try {
    for (let i = 0; i < 100; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/v2/`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.request('/api/v1/repos', { method: 'POST', json: { name: 'base/node-hello-world' } });
    const work = join(dir, 'src');
    mkdirSync(join(work, '.slipway'), { recursive: true });
    writeFileSync(join(work, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    writeFileSync(join(work, 'hello.txt'), 'hello\n');
    writeFileSync(
      join(work, '.slipway/pipeline.yaml'),
      `triggers:\n  branches: ['pre-release/*']\nstages:\n  - name: Checkout\n    steps: [checkout]\n  - name: Build\n    steps:\n      - image-build: { image: 127.0.0.1:${port}/base/node-hello-world }\n  - name: Push\n    steps:\n      - image-push: { tags: [latest, '{branch-version}'] }\n`,
    );
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@x',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@x',
    };
    await run('git', ['init', '-q', work], { env });
    await run('git', ['-C', work, 'add', '-A'], { env });
    await run('git', ['-C', work, 'commit', '-qm', 'service'], { env });
    const url = `${server.url.replace('://', `://admin:${server.adminToken}@`)}/git/base/node-hello-world.git`;
    await run('git', ['-C', work, 'push', '-q', url, 'HEAD:refs/heads/pre-release/1.2.0'], { env });
    let b: BuildRecord | undefined;
    for (let i = 0; i < 1200; i++) {
      const res = await server.request('/api/v1/builds/base/node-hello-world/1');
      if (res.status === 200) {
        b = (await res.json()) as BuildRecord;
        if (['success', 'failed'].includes(b.status)) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const log = await (await server.request('/api/v1/builds/base/node-hello-world/1/logs')).text();
    assert.equal(b?.status, 'success', log);
    const digests = new Set<string>();
    for (const tag of ['1', 'latest', '1.2.0']) {
      const { stdout } = await run('skopeo', [
        'inspect',
        '--tls-verify=false',
        '--format',
        '{{.Digest}}',
        `docker://127.0.0.1:${port}/base/node-hello-world:${tag}`,
      ]);
      digests.add(stdout.trim());
    }
    assert.equal(digests.size, 1, [...digests].join(' '));
    assert.ok(b!.images.some((i) => i.includes(':1@sha256:')));
  } finally {
    await server.stop();
    registry.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
