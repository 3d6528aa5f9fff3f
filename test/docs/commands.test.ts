// Every command in README.md and docs/*.md runs against a freshly started Slipway, so the docs cannot rot.
// The convention for commands in the pages is in ./doc-commands.ts and docs/README.md.
//
// Per document: a Slipway on a random port whose data directory is `$HOME/.slipway` of a temporary HOME
// (so `~/.slipway/...` in a page is the server's data), an admin login saved in `~/.config/slipway/` (as
// after "Getting started"), and a working directory `$HOME/work` holding a copy of `examples/` (as a
// checkout has). `slipway` and `npx slipway` run bin/slipway.mjs; `kubectl` and `helm` are the pinned
// binaries from node_modules/.cache/slipway-tools. Commands of one page run in order, one shell each, with
// exported variables and the working directory carried from one to the next. Substitutions, applied to
// each command before it runs: `http://127.0.0.1:8080` → the server's URL, `127.0.0.1:8080` → its
// host:port (the pages show the default address).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';
import { startTestServer, type TestServer } from '../../src/server/index.ts';
import { type DocBlock, inlineSlipwayCommands, parseDocBlocks, synopsisParts } from './doc-commands.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TOOLS = join(ROOT, 'node_modules', '.cache', 'slipway-tools');
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const COMMAND_TIMEOUT_MS = 240_000;

const blocksByPage = new Map<string, DocBlock[]>(
  PAGES.map((p) => [p, parseDocBlocks(readFileSync(join(ROOT, p), 'utf8'), p)]),
);

test('parseDocBlocks() reads sh and console blocks, continuations, expectations and markers', () => {
  const md = [
    'text',
    '```sh',
    'slipway repo create a/b   # a comment',
    '# => Created',
    'slipway x --flag \\',
    '  --more',
    '```',
    '<!-- doc-test: skip needs a real cluster -->',
    '```console',
    '$ kubectl get nodes',
    'NAME   STATUS',
    '```',
    '```',
    'slipway app list [--env dev] | get NAME',
    '```',
  ].join('\n');
  const blocks = parseDocBlocks(md, 'x.md');
  assert.equal(blocks.length, 3);
  assert.deepEqual(blocks[0]!.commands, [
    { line: 3, text: 'slipway repo create a/b   # a comment', expect: ['Created'] },
    { line: 5, text: 'slipway x --flag \\\n  --more', expect: [] },
  ]);
  assert.equal(blocks[1]!.skip, 'needs a real cluster');
  assert.deepEqual(blocks[1]!.commands, [{ line: 10, text: 'kubectl get nodes', expect: [] }]);
  assert.deepEqual(blocks[2]!.commands, []);
  assert.deepEqual(synopsisParts(blocks[2]!.slipwayLines[0]!.text), [
    { words: ['app', 'list'], flags: ['--env'] },
    { words: ['get'], flags: [] },
  ]);
  assert.deepEqual(inlineSlipwayCommands('Run `slipway app sync NAME --prune` now.\n```\n`slipway x`\n```'), [
    { line: 1, text: 'slipway app sync NAME --prune' },
  ]);
  assert.throws(() => parseDocBlocks('<!-- doc-test: skip -->\n```sh\nls\n```', 'y.md'), /y\.md:1: .*reason/);
});

function child(cmd: Command, word: string): Command | undefined {
  return cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
}

function knowsFlag(cmd: Command, root: Command, flag: string): boolean {
  if (flag === '-h' || flag === '--help') return true;
  for (let c: Command | null = cmd; c; c = c.parent) {
    if (c !== cmd && c !== root) continue;
    if (c.options.some((o) => o.long === flag || o.short === flag || o.long === flag.replace(/^--no-/, '--')))
      return true;
  }
  return false;
}

test('every slipway command in the pages (blocks and inline code) names a real command and real flags', async () => {
  const program = await buildProgram({ out: () => {}, err: () => {}, env: {} });
  const problems: string[] = [];
  for (const [page, blocks] of blocksByPage) {
    const inline = inlineSlipwayCommands(readFileSync(join(ROOT, page), 'utf8'));
    for (const b of [...blocks, { slipwayLines: inline }]) {
      for (const { line, text } of b.slipwayLines) {
        let parent: Command = program;
        synopsisParts(text).forEach((part, i) => {
          let cmd: Command = i > 0 && part.words[0] && child(parent, part.words[0]) ? parent : program;
          for (const w of part.words) {
            const next = child(cmd, w);
            if (!next) break;
            cmd = next;
          }
          if (cmd === program && part.words.length > 0) {
            problems.push(`${page}:${line}: "${text}": no command "slipway ${part.words.join(' ')}"`);
            return;
          }
          if (i === 0) parent = cmd.parent ?? program;
          for (const f of part.flags) {
            if (!knowsFlag(cmd, program, f)) {
              const name = [];
              for (let c: Command | null = cmd; c && c !== program; c = c.parent) name.unshift(c.name());
              problems.push(`${page}:${line}: "${text}": "slipway ${name.join(' ')}" has no flag ${f}`);
            }
          }
        });
      }
    }
  }
  assert.deepEqual(problems, []);
});

interface Shell {
  home: string;
  env: NodeJS.ProcessEnv;
  state: string;
  cwdFile: string;
}

function makeShims(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const write = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  write('slipway', `exec "${process.execPath}" "${join(ROOT, 'bin', 'slipway.mjs')}" "$@"`);
  write(
    'npx',
    `if [ "$1" = slipway ]; then shift; exec slipway "$@"; fi\necho "doc-test: only 'npx slipway' runs here, not npx $1" >&2\nexit 127`,
  );
  for (const tool of ['kubectl', 'helm']) {
    if (existsSync(join(TOOLS, tool))) write(tool, `exec "${join(TOOLS, tool)}" "$@"`);
  }
}

function newShell(root: string): Shell {
  const home = join(root, 'home');
  mkdirSync(join(home, 'work'), { recursive: true });
  cpSync(join(ROOT, 'examples'), join(home, 'work', 'examples'), { recursive: true });
  const shims = join(root, 'bin');
  makeShims(shims);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (
      !k.startsWith('SLIPWAY_') &&
      !['XDG_CONFIG_HOME', 'KUBECONFIG', 'NODE_ENV', 'NODE_OPTIONS'].includes(k)
    )
      env[k] = v;
  }
  Object.assign(env, {
    HOME: home,
    PATH: `${shims}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Doc Reader',
    GIT_AUTHOR_EMAIL: 'reader@example.com',
    GIT_COMMITTER_NAME: 'Doc Reader',
    GIT_COMMITTER_EMAIL: 'reader@example.com',
  });
  const state = join(root, 'state.sh');
  const cwdFile = join(root, 'cwd');
  writeFileSync(state, '');
  writeFileSync(cwdFile, join(home, 'work'));
  return { home, env, state, cwdFile };
}

/** External tools a page's commands use that are not on this machine (the test then skips the page). */
function missingTools(page: string, sh: Shell): string[] {
  const text = blocksByPage
    .get(page)!
    .filter((b) => !b.skip)
    .flatMap((b) => b.commands.map((c) => c.text))
    .join('\n');
  return ['git', 'jq', 'curl', 'tar', 'kubectl', 'helm'].filter(
    (tool) =>
      new RegExp(`(^|[|;&(]\\s*|\\$\\()${tool}\\s`, 'm').test(text) &&
      spawnSync('sh', ['-c', `command -v ${tool}`], { env: sh.env }).status !== 0,
  );
}

function saveLogin(sh: Shell, server: TestServer): void {
  mkdirSync(join(sh.home, '.config', 'slipway'), { recursive: true });
  writeFileSync(
    join(sh.home, '.config', 'slipway', 'config.json'),
    JSON.stringify({ server: server.url, user: 'admin', token: server.adminToken }),
    { mode: 0o600 },
  );
}

function substitute(text: string, server: TestServer): string {
  const host = new URL(server.url).host;
  return text.replaceAll('http://127.0.0.1:8080', server.url).replaceAll('127.0.0.1:8080', host);
}

/** Runs one command in bash with the page's carried state; resolves with exit code and output. */
function run(sh: Shell, command: string): Promise<{ code: number | null; output: string }> {
  const script = [
    `. "${sh.state}" >/dev/null 2>&1`,
    `cd "$(cat "${sh.cwdFile}")" || exit 97`,
    command,
    '__doc_rc=$?',
    `export -p > "${sh.state}.new" && mv "${sh.state}.new" "${sh.state}"`,
    `pwd > "${sh.cwdFile}"`,
    'exit $__doc_rc',
  ].join('\n');
  return new Promise((resolve) => {
    const p = spawn('bash', ['-c', script], {
      env: sh.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    p.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const timer = setTimeout(() => {
      output += `\n[doc-test: killed after ${COMMAND_TIMEOUT_MS} ms]`;
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, COMMAND_TIMEOUT_MS);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const pagesWithCommands = PAGES.filter((p) =>
  blocksByPage.get(p)!.some((b) => b.commands.length > 0 && !b.skip),
);

// Pages are independent (a server each), and most of a page's time is spent waiting for builds and syncs,
// so three run at once.
test('the commands of every page work', { concurrency: 3, timeout: 1_200_000 }, async (top) => {
  await Promise.all(
    pagesWithCommands.map((page) =>
      top.test(`the commands of ${page} work`, async (t) => {
        const root = mkdtempSync(join(tmpdir(), 'slipway-doc-test-'));
        const sh = newShell(root);
        const missing = missingTools(page, sh);
        if (missing.length > 0) {
          rmSync(root, { recursive: true, force: true });
          t.skip(`${missing.join(', ')} not installed here`);
          return;
        }
        const dataDir = join(sh.home, '.slipway');
        let server = await startTestServer({ dataDir });
        saveLogin(sh, server);
        try {
          for (const block of blocksByPage.get(page)!) {
            if (block.commands.length === 0) continue;
            if (block.skip) {
              t.diagnostic(`${page}:${block.line}: skipped: ${block.skip}`);
              continue;
            }
            if (block.serverStopped) await server.stop({ keepData: true });
            try {
              for (const c of block.commands) {
                const command = substitute(c.text, server);
                const { code, output } = await run(sh, command);
                const where = `${page}:${c.line}: ${c.text}`;
                assert.equal(code, 0, `${where}\nexited with ${code}; output:\n${output.slice(-4000)}`);
                for (const e of c.expect.map((x) => substitute(x, server))) {
                  assert.ok(
                    output.includes(e),
                    `${where}\noutput does not contain "${e}":\n${output.slice(-4000)}`,
                  );
                }
              }
            } finally {
              if (block.serverStopped) {
                server = await startTestServer({ dataDir });
                // The restarted server listens on another random port: point the saved login at it.
                const file = join(sh.home, '.config', 'slipway', 'config.json');
                const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
                writeFileSync(file, JSON.stringify({ ...saved, server: server.url }), { mode: 0o600 });
              }
            }
          }
        } finally {
          await server.stop({ keepData: true });
          rmSync(root, { recursive: true, force: true });
        }
      }),
    ),
  );
});

test('every page is listed in docs/README.md', () => {
  const index = readFileSync(join(ROOT, 'docs', 'README.md'), 'utf8');
  const missing = PAGES.filter((p) => p.startsWith('docs/') && p !== 'docs/README.md').filter(
    (p) => !index.includes(`(${relative('docs', p)})`),
  );
  assert.deepEqual(missing, []);
});
