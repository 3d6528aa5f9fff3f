import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { secretBoxFromKey } from '../git/index.ts';
import { openStore } from '../store/index.ts';
import { AppStore } from './app-store.ts';
import { normalizeCredentialUrl, RepoCredentials } from './repo-creds.ts';

test('repository credentials: sealed at rest, longest prefix wins at path boundaries, never listed with secrets', () => {
  const store = openStore(':memory:');
  new AppStore(store); // runs the gitops migrations
  const creds = new RepoCredentials(store, secretBoxFromKey(randomBytes(32)));
  creds.add({ url: 'https://Git.Example.com/team/', username: 'bot', password: 'tok-team' }, 'admin');
  creds.add({ url: 'https://git.example.com', username: 'host', password: 'tok-host' }, 'admin');
  creds.add({ url: 'oci://reg.example:5000/charts', username: 'puller', password: 'pw-oci' }, 'admin');
  assert.deepEqual(
    creds.list().map((c) => [c.url, c.type, c.username]),
    [
      ['https://git.example.com', 'https', 'host'],
      ['https://git.example.com/team', 'https', 'bot'],
      ['oci://reg.example:5000/charts', 'oci', 'puller'],
    ],
  );
  assert.ok(!JSON.stringify(creds.list()).includes('tok-'));
  const raw = JSON.stringify(store.db.prepare('SELECT * FROM gitops_repo_creds').all());
  assert.ok(!raw.includes('tok-team') && !raw.includes('pw-oci'), 'secrets are encrypted at rest');

  assert.equal(creds.match('https://git.example.com/team/app.git')?.password, 'tok-team');
  assert.equal(creds.match('https://git.example.com/team.git')?.password, 'tok-team');
  assert.equal(creds.match('https://git.example.com/teammates/app.git')?.password, 'tok-host');
  assert.equal(creds.match('https://GIT.example.com/other')?.username, 'host');
  assert.equal(creds.match('https://git.example.org/team/app.git'), undefined);
  assert.equal(creds.match('oci://reg.example:5000/charts/web')?.password, 'pw-oci');
  assert.equal(creds.match('oci://reg.example:5000/other/web'), undefined);

  // Replacing a prefix keeps one entry; removing by URL or id.
  creds.add({ url: 'https://git.example.com/team', username: 'bot2', password: 'tok-2' }, 'admin');
  assert.equal(creds.list().length, 3);
  assert.equal(creds.match('https://git.example.com/team/x')?.username, 'bot2');
  creds.remove('https://git.example.com/team/');
  assert.equal(creds.match('https://git.example.com/team/x')?.username, 'host');
  creds.remove(String(creds.list()[0]!.id));
  assert.throws(() => creds.remove('https://nope.example'), /No repository credential/);

  assert.throws(() => normalizeCredentialUrl('ftp://x'), /Invalid url/);
  assert.throws(() => normalizeCredentialUrl('https://u:p@host/x'), /must not contain credentials/);
  assert.throws(
    () => creds.add({ url: 'https://h.example', username: '', password: 'x' }, 'admin'),
    /username is required/,
  );
  store.close();
});
