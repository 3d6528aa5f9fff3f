import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { createGit, type GitModule } from '../../git/index.ts';
import { createPipelines } from '../../pipeline/index.ts';
import { startTestServer, type TestServer } from '../../server/testing.ts';
import { createCliContext } from '../context.ts';
import { registerBuildCommands } from './build.ts';
import { registerRepoCommands } from './repo.ts';

let server: TestServer;
let git: GitModule;

before(async () => {
  server = await startTestServer({
    extraModules: (ctx) => {
      git = createGit(ctx);
      const pipes = createPipelines({ ...ctx, git: git.service });
      return [
        { name: 'git-api', prefix: '/api/v1', routes: git.apiRoutes },
        { name: 'pipeline', prefix: '/api/v1', routes: pipes.routes, start: pipes.start, stop: pipes.stop },
      ];
    },
  });
});

after(() => server.stop());

async function cli(args: string[], json = false): Promise<string> {
  let out = '';
  const io = {
    out: (s: string) => (out += `${s}\n`),
    err: (s: string) => (out += s),
    env: { HOME: '/nonexistent' },
  };
  const ctx = createCliContext(io, () => ({ server: server.url, token: server.adminToken, json }));
  const program = new Command('slipway').exitOverride();
  registerRepoCommands(program, ctx);
  registerBuildCommands(program, ctx);
  await program.parseAsync(args, { from: 'user' });
  return out;
}

test('slipway repo and build commands drive the API', async () => {
  assert.match(await cli(['repo', 'create', 'acme/cli']), /Created acme\/cli/);
  const repos = JSON.parse(await cli(['repo', 'list', '--json'], true)) as { items: { repo: string }[] };
  assert.ok(repos.items.some((r) => r.repo === 'acme/cli'));
  await git.service.commitFiles('acme/cli', {
    branch: 'main',
    files: {
      '.slipway/pipeline.yaml':
        "triggers: { branches: ['pre-release/*'] }\nstages:\n  - name: Test\n    steps:\n      - run: echo cli-build-ran\n",
    },
    message: 'pipeline',
    author: { name: 'alice' },
  });
  assert.match(await cli(['build', 'run', 'acme/cli', '--branch', 'main']), /Build acme\/cli #1 queued/);
  const followed = await cli(['build', 'logs', 'acme/cli', '1', '--follow']);
  assert.match(followed, /cli-build-ran/);
  assert.match(followed, /Finished: SUCCESS/);
  const list = JSON.parse(await cli(['build', 'list', 'acme/cli', '--json'], true)) as {
    items: { number: number; status: string }[];
  };
  assert.deepEqual(
    list.items.map((b) => [b.number, b.status]),
    [[1, 'success']],
  );
  assert.match(await cli(['build', 'show', 'acme/cli', '1']), /success\s+Test/);
  assert.match(await cli(['pipeline', 'list']), /acme\/cli .*pre-release\/\*.*#1/);
  await assert.rejects(cli(['build', 'cancel', 'acme/cli', '1']), /already finished/);
  assert.match(await cli(['repo', 'delete', 'acme/cli']), /Deleted acme\/cli/);
});
