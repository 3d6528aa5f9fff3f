// `slipway repo add | list --creds | remove`: repository credentials against a real Slipway.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { startTestServer, type TestServer } from '../../server/testing.ts';
import { createCliContext } from '../context.ts';
import { registerRepoCommands } from './repo.ts';

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(() => s?.stop());

async function cli(args: string[], stdin?: string): Promise<string> {
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
  registerRepoCommands(program, ctx);
  const saved = Object.getOwnPropertyDescriptor(process, 'stdin')!;
  if (stdin !== undefined) Object.defineProperty(process, 'stdin', { value: Readable.from([stdin]) });
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    Object.defineProperty(process, 'stdin', saved);
  }
  return out.join('\n');
}

test('slipway repo add | list --creds | remove', async () => {
  assert.match(
    await cli(
      ['repo', 'add', 'https://git.example.com/team', '--username', 'bot', '--password-stdin'],
      'tok-1\n',
    ),
    /Credentials for https:\/\/git\.example\.com\/team \(https, user bot\) saved/,
  );
  await cli(['repo', 'add', 'oci://reg.example:5000', '--username', 'puller', '--password-stdin'], 'pw\n');
  const listed = await cli(['repo', 'list', '--creds', '--json']);
  assert.ok(!listed.includes('tok-1'), 'no secret in the listing');
  const items = (JSON.parse(listed) as { items: { url: string; type: string; username: string }[] }).items;
  assert.deepEqual(
    items.map((c) => [c.url, c.type, c.username]),
    [
      ['https://git.example.com/team', 'https', 'bot'],
      ['oci://reg.example:5000', 'oci', 'puller'],
    ],
  );
  assert.match(await cli(['repo', 'list', '--creds']), /URL PREFIX[\s\S]*oci:\/\/reg\.example:5000/);
  assert.match(await cli(['repo', 'remove', 'oci://reg.example:5000']), /Removed credentials/);
  assert.equal(
    (JSON.parse(await cli(['repo', 'list', '--creds', '--json'])) as { items: unknown[] }).items.length,
    1,
  );
});
