import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { startTestServer } from '../server/index.ts';
import { buildProgram, main } from './main.ts';

function capture(env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s), env }, out, err };
}

function allCommands(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.flatMap((c) => [[...prefix, c.name()], ...allCommands(c, [...prefix, c.name()])]);
}

const READ_VERBS = new Set([
  'list',
  'get',
  'whoami',
  'show',
  'history',
  'tags',
  'repos',
  'logs',
  'diff',
  'status',
]);

test('every command has a description and --help', async () => {
  const { io } = capture();
  for (const path of allCommands(await buildProgram(io))) {
    const c = capture();
    const code = await main([...path, '--help'], c.io);
    assert.equal(code, 0, `${path.join(' ')} --help`);
    const help = c.out.join('\n');
    assert.match(help, /Usage: slipway/, path.join(' '));
  }
});

test('every read command takes --json', async () => {
  const { io } = capture();
  const program = await buildProgram(io);
  const walk = (cmd: Command, path: string[]) => {
    for (const c of cmd.commands) {
      const p = [...path, c.name()];
      if (READ_VERBS.has(c.name())) {
        assert.ok(
          c.options.some((o) => o.long === '--json') || program.options.some((o) => o.long === '--json'),
          `${p.join(' ')} lacks --json`,
        );
        assert.ok(
          c.options.some((o) => o.long === '--json'),
          `${p.join(' ')} should list --json in its own help`,
        );
      }
      walk(c, p);
    }
  };
  walk(program, []);
});

test("--version is Slipway's before a command and the command's own after it", async () => {
  const top = capture();
  assert.equal(await main(['--version'], top.io), 0);
  assert.match(top.out.join('\n'), /^\d+\.\d+\.\d+/);
  // `template --version` is the chart version of an oci:// reference; for a chart directory it is unused,
  // so the chart renders instead of Slipway printing its own version.
  const chart = capture();
  const code = await main(
    ['template', 'x', 'test/charts/testdata/basic/chart', '--version', '9.9.9'],
    chart.io,
  );
  assert.equal(code, 0, chart.err.join('\n'));
  assert.match(chart.out.join('\n'), /# Source: chart\/templates\//);
});

test('an unknown command exits 2 with help', async () => {
  const c = capture();
  assert.equal(await main(['frobnicate'], c.io), 2);
  assert.match(c.err.join('\n'), /unknown command/);
});

test('login saves a token (mode 0600) that later commands use; errors exit non-zero with a message', async () => {
  const server = await startTestServer();
  const configDir = mkdtempSync(join(tmpdir(), 'slipway-cli-'));
  try {
    const env = { SLIPWAY_CONFIG_DIR: configDir };
    const login = capture(env);
    // login reads the password from stdin when it is not a TTY; feed it through a fake stdin.
    const { Readable } = await import('node:stream');
    const stdin = Object.defineProperty(Readable.from([`${server.adminPassword}\n`]), 'isTTY', {
      value: false,
    });
    const realStdin = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    Object.defineProperty(process, 'stdin', { value: stdin, configurable: true });
    try {
      const code = await main(
        ['login', '--server', server.url, '--username', 'admin', '--password-stdin'],
        login.io,
      );
      assert.equal(code, 0, login.err.join('\n'));
    } finally {
      Object.defineProperty(process, 'stdin', realStdin);
    }
    const file = join(configDir, 'config.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), /"token": "slw_/);

    const who = capture(env);
    assert.equal(await main(['whoami', '--json'], who.io), 0);
    assert.equal(JSON.parse(who.out.join('\n')).name, 'admin');

    const list = capture(env);
    assert.equal(await main(['user', 'list'], list.io), 0);
    assert.match(list.out.join('\n'), /^NAME\s+ROLE/);

    const bad = capture(env);
    assert.equal(await main(['user', 'set-role', 'admin', 'root'], bad.io), 2);
    assert.match(bad.err.join('\n'), /Invalid role "root"/);

    const anon = capture({ SLIPWAY_CONFIG_DIR: join(configDir, 'none') });
    assert.equal(await main(['--server', server.url, 'user', 'list'], anon.io), 4);
    assert.match(anon.err.join('\n'), /slipway login/);
  } finally {
    await server.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
});
