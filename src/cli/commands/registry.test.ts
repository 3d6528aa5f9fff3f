// `slipway registry ...` against a real Slipway with the registry mounted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { pushImage, type RegistryTestServer, startRegistryServer } from '../../registry/test-support.ts';
import { createCliContext } from '../context.ts';
import { registerRegistryCommands } from './registry.ts';

let s: RegistryTestServer;
before(async () => {
  s = await startRegistryServer();
});
after(() => s?.stop());

async function cli(args: string[]): Promise<string> {
  const out: string[] = [];
  const program = new Command('slipway').exitOverride();
  const json = args.includes('--json');
  const ctx = createCliContext(
    {
      out: (t) => out.push(t),
      err: (t) => out.push(t),
      env: { SLIPWAY_SERVER: s.url, SLIPWAY_TOKEN: s.adminToken, HOME: '/nonexistent' },
    },
    () => ({ json }),
  );
  registerRegistryCommands(program, ctx);
  await program.parseAsync(args, { from: 'user' });
  return out.join('\n');
}

test('slipway registry: projects, members, robots, repos, tags and gc', async () => {
  assert.match(
    await cli(['registry', 'project', 'create', 'base', '--quota', '1GiB']),
    /Created private project base/,
  );
  const list = JSON.parse(await cli(['registry', 'project', 'list', '--json'])) as {
    name: string;
    quotaBytes: number;
  }[];
  assert.deepEqual(
    list.map((p) => [p.name, p.quotaBytes]),
    [['base', 1024 ** 3]],
  );
  await s.createUser('alice', 'developer');
  assert.match(
    await cli(['registry', 'member', 'add', 'base', 'alice', 'developer']),
    /alice is now developer of base/,
  );
  const robot = JSON.parse(await cli(['registry', 'robot', 'create', 'base', 'ci', '--push', '--json'])) as {
    name: string;
    secret: string;
  };
  assert.equal(robot.name, 'robot$base+ci');
  assert.ok(robot.secret.length > 20);
  await pushImage(
    s.url,
    'base/app',
    '1',
    `Basic ${Buffer.from(`${robot.name}:${robot.secret}`).toString('base64')}`,
  );
  const repos = JSON.parse(await cli(['registry', 'repos', 'base', '--json'])) as {
    name: string;
    tags: number;
  }[];
  assert.deepEqual(
    repos.map((r) => [r.name, r.tags]),
    [['base/app', 1]],
  );
  assert.match(await cli(['registry', 'tags', 'base/app']), /^TAG\s+DIGEST[\s\S]*\n1\s+sha256:/);
  assert.match(await cli(['registry', 'project', 'set', 'base', '--prevent-vulnerable', 'high']), /Updated/);
  assert.equal(s.registry.projects.get('base')?.preventVulnerable?.severity, 'high');
  assert.match(await cli(['registry', 'gc', '--dry-run']), /Would delete 0 blobs/);
});
