// The git source reads Slipway's bare repos without a process per call: refs from files, objects from one
// cat-file process. It must see every push at once, also after refs were packed (git gc).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasGit, runGit } from './git-cli.ts';
import { createCliGitSource } from './git-source.ts';
import { createTempRepos } from './testing.ts';
import { localRepoLocator } from './values-editor.ts';

const skip = (await hasGit()) ? false : 'git is not installed';

test('resolve/readTree/commitInfo follow pushes, packed refs and tags', { skip }, async (t) => {
  const repos = createTempRepos();
  const mirrors = mkdtempSync(join(tmpdir(), 'slipway-gitops-mirrors-'));
  const git = createCliGitSource({ locate: localRepoLocator(repos.root), mirrorDir: mirrors });
  t.after(() => {
    git.close();
    repos.cleanup();
    rmSync(mirrors, { recursive: true, force: true });
  });
  const bare = join(repos.root, 'git', 'team', 'app.git');
  const c1 = await repos.create('team/app', { 'app/a.yaml': 'one\n', 'app/sub/b.yaml': 'b\n', 'x.txt': 'x' });
  assert.equal(await git.resolve('team/app', 'main'), c1);
  assert.equal(await git.resolve('team/app', 'HEAD'), c1);
  const tree1 = await git.readTree('team/app', c1, 'app');
  assert.deepEqual(Object.keys(tree1).sort(), ['a.yaml', 'sub/b.yaml']);
  assert.equal(new TextDecoder().decode(tree1['sub/b.yaml']), 'b\n');
  assert.deepEqual(Object.keys(await git.readTree('team/app', c1, '')).sort(), [
    'app/a.yaml',
    'app/sub/b.yaml',
    'x.txt',
  ]);
  await assert.rejects(git.readTree('team/app', c1, 'nope'), /Path "nope" not found/);
  await assert.rejects(git.readTree('team/app', c1, 'x.txt'), /not found/);

  const c2 = await repos.commit('team/app', { 'app/a.yaml': 'two\n' }, 'second change\n\nbody', 'Ann <a@x>');
  assert.equal(await git.resolve('team/app', 'main'), c2);
  assert.equal(new TextDecoder().decode((await git.readTree('team/app', c2, 'app'))['a.yaml']), 'two\n');
  const info = await git.commitInfo('team/app', c2);
  const expected = (await runGit(['--git-dir', bare, 'log', '-1', '--format=%an%x00%aI%x00%s', c2])).stdout
    .toString('utf8')
    .trim()
    .split('\0');
  assert.deepEqual([info.sha, info.author, info.time, info.message], [c2, ...expected]);

  // Packed refs (git gc): a new commit packed right after must still be seen.
  await runGit(['--git-dir', bare, 'pack-refs', '--all']);
  const c3 = await repos.commit('team/app', { 'app/a.yaml': 'three\n' });
  await runGit(['--git-dir', bare, 'gc', '-q']);
  assert.equal(await git.resolve('team/app', 'main'), c3);
  assert.equal(new TextDecoder().decode((await git.readTree('team/app', c3, 'app'))['a.yaml']), 'three\n');

  // Annotated tags peel to their commit; a sha resolves to itself; unknown revisions are NotFound.
  await runGit([
    '--git-dir',
    bare,
    '-c',
    'user.name=T',
    '-c',
    'user.email=t@x',
    'tag',
    '-a',
    '-m',
    'release',
    'v1',
    c2,
  ]);
  assert.equal(await git.resolve('team/app', 'v1'), c2);
  assert.equal(await git.resolve('team/app', c1), c1);
  await assert.rejects(git.resolve('team/app', 'no-such-branch'), /not found/);
});
