import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { parseRepoName } from './names.ts';
import { normaliseRepoUrl, parseWebhook, verifyWebhookSignature } from './webhooks.ts';

const body = Buffer.from(
  JSON.stringify({
    ref: 'refs/heads/pre-release/1.0.0',
    before: 'a'.repeat(40),
    after: 'b'.repeat(40),
    user_username: 'gl-user',
    project: { path_with_namespace: 'team/app', git_http_url: 'https://gitlab.example/team/app.git' },
  }),
);

test('verifyWebhookSignature() checks GitHub, Gitea and GitLab secrets', () => {
  const hex = createHmac('sha256', 'k').update(body).digest('hex');
  assert.equal(verifyWebhookSignature('github', { 'x-hub-signature-256': `sha256=${hex}` }, body, 'k'), true);
  assert.equal(
    verifyWebhookSignature('github', { 'x-hub-signature-256': `sha256=${hex}` }, body, 'other'),
    false,
  );
  assert.equal(verifyWebhookSignature('github', { 'x-hub-signature-256': hex }, body, 'k'), false);
  assert.equal(verifyWebhookSignature('gitea', { 'x-gitea-signature': hex }, body, 'k'), true);
  assert.equal(
    verifyWebhookSignature('gitea', { 'x-gitea-signature': hex }, Buffer.from('tampered'), 'k'),
    false,
  );
  assert.equal(verifyWebhookSignature('gitlab', { 'x-gitlab-token': 'k' }, body, 'k'), true);
  assert.equal(verifyWebhookSignature('gitlab', { 'x-gitlab-token': 'K' }, body, 'k'), false);
  assert.equal(verifyWebhookSignature('gitlab', {}, body, ''), false, 'an empty secret never matches');
});

test('parseWebhook() reads GitLab pushes and ignores other events', () => {
  const msg = parseWebhook('gitlab', { 'x-gitlab-event': 'Push Hook' }, body);
  assert.equal(msg.kind, 'push');
  if (msg.kind !== 'push') return;
  assert.equal(msg.ref, 'refs/heads/pre-release/1.0.0');
  assert.equal(msg.pusher, 'gl-user');
  assert.ok(msg.identifiers.includes('gitlab.example/team/app'));
  assert.deepEqual(parseWebhook('github', { 'x-github-event': 'issues' }, body), {
    kind: 'ignored',
    event: 'issues',
  });
  assert.deepEqual(parseWebhook('github', { 'x-github-event': 'ping' }, body), { kind: 'ping' });
  assert.throws(
    () => parseWebhook('github', { 'x-github-event': 'push' }, Buffer.from('{')),
    /not valid JSON/,
  );
});

test('normaliseRepoUrl() and parseRepoName()', () => {
  assert.equal(normaliseRepoUrl('git@github.com:Acme/App.git'), 'github.com/acme/app');
  assert.equal(normaliseRepoUrl('https://user:pw@github.com/acme/app/'), 'github.com/acme/app');
  assert.equal(normaliseRepoUrl('ssh://git@host:2222/acme/app.git'), 'host:2222/acme/app');
  assert.equal(parseRepoName('acme/app.git').full, 'acme/app');
  for (const bad of ['acme', 'a/b/c', '../x', 'acme/..', 'acme/-x', 'acme/x.lock', '/acme/x']) {
    assert.throws(() => parseRepoName(bad), /Invalid repository name/, bad);
  }
});
