import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runGit } from './git-cli.ts';
import { createTempRepos, type TempRepos } from './testing.ts';
import { createValuesEditor, localRepoLocator, localRepoName } from './values-editor.ts';
import { getYamlValue } from './yaml-edit.ts';

const VALUES = readFileSync(new URL('./testdata/values.yaml', import.meta.url), 'utf8');
let repos: TempRepos;
let work: string;

before(async () => {
  repos = createTempRepos();
  work = mkdtempSync(join(tmpdir(), 'slipway-values-work-'));
  await repos.create('team/helm-values', { 'dev/svc/values.yaml': VALUES, 'prod/svc/values.yaml': VALUES });
});
after(() => {
  repos.cleanup();
  rmSync(work, { recursive: true, force: true });
});

test('setImageTag() commits only the image.tag change with author and message', async () => {
  const committed: string[] = [];
  const editor = createValuesEditor({
    workDir: join(work, 'a'),
    locate: localRepoLocator(repos.root),
    onCommitted: (e) => committed.push(e.after),
  });
  const r = await editor.setImageTag({
    repo: 'team/helm-values',
    file: 'dev/svc/values.yaml',
    tag: '1',
    author: 'alice',
  });
  assert.equal(r.changed, true);
  assert.equal(r.previous, 'latest');
  assert.deepEqual(committed, [r.commit]);
  const diff = (
    await runGit([
      '--git-dir',
      join(repos.root, 'git/team/helm-values.git'),
      'show',
      '--format=%an|%s',
      '-U0',
      r.commit,
    ])
  ).stdout.toString();
  assert.match(diff, /^alice\|updated the image tag/);
  const changed = diff.split('\n').filter((l) => /^[-+][^-+]/.test(l));
  assert.deepEqual(changed, ['-  tag: "latest"', '+  tag: "1"']);
  const text = await repos.read('team/helm-values', 'dev/svc/values.yaml');
  assert.equal(text, VALUES.replace('tag: "latest"', 'tag: "1"'));
  const again = await editor.setImageTag({ repo: 'team/helm-values', file: 'dev/svc/values.yaml', tag: '1' });
  assert.equal(again.changed, false);
  assert.equal(again.commit, r.commit);
});

test('setImageTag() rejects a bad tag, a missing file and a path outside the repo', async () => {
  const editor = createValuesEditor({ workDir: join(work, 'b'), locate: localRepoLocator(repos.root) });
  await assert.rejects(
    editor.setImageTag({ repo: 'team/helm-values', file: 'dev/svc/values.yaml', tag: 'bad tag' }),
    /Invalid image tag/,
  );
  await assert.rejects(
    editor.setImageTag({ repo: 'team/helm-values', file: 'qa/svc/values.yaml', tag: '1' }),
    /not found/,
  );
  await assert.rejects(
    editor.setImageTag({ repo: 'team/helm-values', file: '../x.yaml', tag: '1' }),
    /Invalid values file path/,
  );
  await assert.rejects(editor.setImageTag({ repo: 'team/missing', file: 'v.yaml', tag: '1' }), /not found/);
});

async function concurrentBumps(
  file: string,
  locate: (repo: string) => { url: string },
  prefix: string,
  expectRetries: boolean,
  count = 20,
) {
  const before = (await repos.log('team/helm-values')).length;
  const tags = Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
  const results = await Promise.all(
    tags.map((tag, i) =>
      createValuesEditor({ workDir: join(work, `${prefix}-${i}`), locate }).setImageTag({
        repo: 'team/helm-values',
        file,
        tag,
        author: `user${i}`,
      }),
    ),
  );
  assert.ok(results.every((r) => r.changed));
  if (expectRetries)
    assert.ok(
      results.some((r) => r.attempts > 1),
      'some pushes were rejected and retried',
    );
  const log = await repos.log('team/helm-values');
  assert.equal(log.length - before, count);
  assert.equal(new Set(results.map((r) => r.commit)).size, count);
  // Every commit is on main, and the last one's tag is the file's value.
  const final = getYamlValue(await repos.read('team/helm-values', file), ['image', 'tag']);
  const head = (
    await runGit(['--git-dir', join(repos.root, 'git/team/helm-values.git'), 'rev-parse', 'main'])
  ).stdout
    .toString()
    .trim();
  const last = results.find((r) => r.commit === head);
  assert.ok(last);
  assert.equal(final, tags[results.indexOf(last)]);
  for (const r of results) {
    const ok = await runGit(
      [
        '--git-dir',
        join(repos.root, 'git/team/helm-values.git'),
        'merge-base',
        '--is-ancestor',
        r.commit,
        'main',
      ],
      { allowFailure: true },
    );
    assert.equal(ok.code, 0, `${r.commit} is on main`);
  }
}

// Remote repositories (clone, push, fetch and retry on a rejected push). Eight writers are enough to make
// pushes collide; each attempt costs a fetch and a push, so twenty took minutes on a loaded machine.
test('8 concurrent tag bumps from separate clones (fetch, push, retry) all land as 8 commits', async () => {
  const locate = (repo: string) => ({ url: `file://${join(repos.root, 'git', `${repo}.git`)}` });
  await concurrentBumps('prod/svc/values.yaml', locate, 'c', true, 8);
});

test('20 concurrent tag bumps straight into the bare repository (compare-and-swap) all land as 20 commits', async () => {
  await concurrentBumps('dev/svc/values.yaml', localRepoLocator(repos.root), 'b', false);
});

test('20 concurrent tag bumps through one editor are serialised and none is lost', async () => {
  const editor = createValuesEditor({ workDir: join(work, 'one'), locate: localRepoLocator(repos.root) });
  const before = (await repos.log('team/helm-values')).length;
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      editor.setImageTag({ repo: 'team/helm-values', file: 'dev/svc/values.yaml', tag: `s${i}` }),
    ),
  );
  assert.equal(results.filter((r) => r.changed).length, 20);
  assert.equal((await repos.log('team/helm-values')).length - before, 20);
});

test('two processes racing on one values file (compare-and-swap only, no lock file) lose no commit', async () => {
  const gitDir = join(repos.root, 'git/team/helm-values.git');
  const before = (await repos.log('team/helm-values')).length;
  const editorUrl = new URL('./values-editor.ts', import.meta.url).pathname;
  // Each process runs 8 editors at once (separate objects, so the in-process mutex does not order them).
  const script = (prefix: string) => `
    import { createValuesEditor, localRepoLocator } from ${JSON.stringify(editorUrl)};
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      createValuesEditor({ workDir: ${JSON.stringify(join(work, 'race'))}, locate: localRepoLocator(${JSON.stringify(repos.root)}), lock: false })
        .setImageTag({ repo: 'team/helm-values', file: 'dev/svc/values.yaml', tag: '${prefix}' + i, author: '${prefix}' })));
    process.stdout.write(JSON.stringify(rs.map((r) => ({ commit: r.commit, attempts: r.attempts }))));
    process.exit(0);`;
  const runOne = (prefix: string) =>
    new Promise<{ commit: string; attempts: number }[]>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script(prefix)],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(err))));
    });
  const [a, b] = await Promise.all([runOne('pa'), runOne('pb')]);
  const all = [...a!, ...b!];
  assert.equal(new Set(all.map((r) => r.commit)).size, 16);
  assert.ok(
    all.some((r) => r.attempts > 1),
    'some compare-and-swaps failed and were retried',
  );
  assert.equal((await repos.log('team/helm-values')).length - before, 16);
  for (const r of all) {
    const ok = await runGit(['--git-dir', gitDir, 'merge-base', '--is-ancestor', r.commit, 'main'], {
      allowFailure: true,
    });
    assert.equal(ok.code, 0, `${r.commit} is on main`);
  }
  // The objects the editor wrote are sound.
  const fsck = await runGit(['--git-dir', gitDir, 'fsck', '--strict', '--no-dangling'], {
    allowFailure: true,
  });
  assert.equal(fsck.code, 0, fsck.stderr);
});

test("an edit changes one tree entry (in git's tree order), and the commit names author and committer", async () => {
  const gitDir = join(repos.root, 'git/team/helm-values.git');
  await repos.commit('team/helm-values', {
    'z/run.sh': '#!/bin/sh\n',
    'a-b/v.yaml': 'x: 1\n',
    'a/v.yaml': 'x: 1\n',
  });
  const editor = createValuesEditor({ workDir: join(work, 'mode'), locate: localRepoLocator(repos.root) });
  const before = (await runGit(['--git-dir', gitDir, 'ls-tree', '-r', 'main'])).stdout.toString();
  const r = await editor.setValue({
    repo: 'team/helm-values',
    file: 'a/v.yaml',
    key: 'x',
    value: '2',
    author: 'Carol <carol@example.com>',
  });
  editor.close();
  const afterTree = (await runGit(['--git-dir', gitDir, 'ls-tree', '-r', 'main'])).stdout.toString();
  const changed = afterTree.split('\n').filter((l) => !before.includes(l));
  assert.equal(changed.length, 1);
  assert.match(changed[0]!, /\ta\/v\.yaml$/);
  const show = (
    await runGit(['--git-dir', gitDir, 'show', '-s', '--format=%an|%ae|%cn|%s', r.commit])
  ).stdout.toString();
  assert.equal(show.trim(), 'Carol|carol@example.com|Slipway|updated x');
  const fsck = await runGit(['--git-dir', gitDir, 'fsck', '--strict', '--no-dangling'], {
    allowFailure: true,
  });
  assert.equal(fsck.code, 0, fsck.stderr);
});

test('restorePath() commits the old content of a directory (rollback as a revert)', async () => {
  const editor = createValuesEditor({ workDir: join(work, 'restore'), locate: localRepoLocator(repos.root) });
  const first = await repos.commit('team/helm-values', {
    'stage/svc/values.yaml': 'image:\n  tag: "1"\n',
    'stage/svc/extra.yaml': 'a: 1\n',
  });
  await repos.commit('team/helm-values', {
    'stage/svc/values.yaml': 'image:\n  tag: "2"\n',
    'stage/svc/extra.yaml': null,
    'stage/svc/new.yaml': 'b: 2\n',
  });
  const r = await editor.restorePath({
    repo: 'team/helm-values',
    path: 'stage/svc',
    toCommit: first,
    author: 'bob',
    message: 'rollback',
  });
  assert.equal(r.changed, true);
  assert.equal(await repos.read('team/helm-values', 'stage/svc/values.yaml'), 'image:\n  tag: "1"\n');
  assert.equal(await repos.read('team/helm-values', 'stage/svc/extra.yaml'), 'a: 1\n');
  await assert.rejects(repos.read('team/helm-values', 'stage/svc/new.yaml'));
});

test('localRepoName() recognises org/name and Slipway git URLs', () => {
  assert.equal(localRepoName('team/helm-values'), 'team/helm-values');
  assert.equal(
    localRepoName('http://127.0.0.1:8080/git/team/helm-values.git', 'http://127.0.0.1:8080'),
    'team/helm-values',
  );
  assert.equal(localRepoName('https://github.com/team/helm-values.git', 'http://127.0.0.1:8080'), undefined);
  // After a restart on another port (port 0), the server's old loopback URLs are still its own.
  assert.equal(
    localRepoName('http://127.0.0.1:43875/git/team/helm-values.git', 'http://127.0.0.1:8080'),
    'team/helm-values',
  );
  assert.equal(
    localRepoName('http://10.0.0.5:8080/git/team/helm-values.git', 'http://127.0.0.1:8080'),
    undefined,
  );
});
