// The UI in real Chromium: a registry project's members and robot accounts managed by an admin (the robot's
// secret shown once), the same forms disabled with the reason for a viewer (and 403 from the API), and a pod's
// log followed live in the cluster page's logs panel.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../src/server/index.ts';
import { launchBrowser, SHOTS, signIn as signInAs, uiSkipReason } from './browser.ts';

const skip = uiSkipReason;

let server: TestServer;
let browser: Browser;
let viewerToken: string;

before(async () => {
  if (skip) return;
  mkdirSync(SHOTS, { recursive: true });
  server = await startTestServer();
  const res = await server.request('/api/v1/registry/projects', { method: 'POST', json: { name: 'team' } });
  assert.equal(res.status, 201);
  viewerToken = await server.createUser('dave', 'viewer');
  await server.createUser('erin', 'developer');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function signIn(user: string, password: string): Promise<Page> {
  return signInAs(browser, server.url, user, password);
}

test('an admin adds and removes a member and creates and deletes a robot whose secret shows once', {
  skip,
  timeout: 120_000,
}, async () => {
  const page = await signIn('admin', server.adminPassword);
  await page.goto(`${server.url}/#/registry/team`);
  await page.waitForSelector('form[aria-label="add member"] button:not([disabled])');

  await page.fill('input[name=member-user]', 'erin');
  await page.selectOption('select[name=member-role]', 'maintainer');
  await page.click('form[aria-label="add member"] button[type=submit]');
  await page.waitForSelector('[data-member="erin"]');
  assert.match((await page.textContent('[data-member="erin"]')) ?? '', /maintainer/);
  const members = (await (await server.request('/api/v1/registry/projects/team/members')).json()) as {
    items: { user: string; role: string }[];
  };
  assert.deepEqual(members.items, [{ user: 'erin', role: 'maintainer' }]);

  await page.fill('input[name=robot-name]', 'ci');
  await page.selectOption('select[name=robot-permission]', 'push');
  await page.click('form[aria-label="create robot"] button[type=submit]');
  await page.waitForSelector('[data-testid=robot-secret]');
  const secretNote = (await page.textContent('[data-testid=robot-secret]')) ?? '';
  const secret = /copy it now\): (\S+)/.exec(secretNote)?.[1] ?? '';
  assert.ok(secret.length >= 20, `a secret is shown: ${secretNote}`);
  await page.waitForSelector('[data-robot="robot$team+ci"]');
  // The secret works once for the registry (Basic auth on the token endpoint) and is never listed again.
  const basic = Buffer.from(`robot$team+ci:${secret}`).toString('base64');
  const tokenRes = await fetch(`${server.url}/service/token?service=slipway&scope=repository:team/app:pull`, {
    headers: { authorization: `Basic ${basic}` },
  });
  assert.equal(tokenRes.status, 200);
  const robots = await (await server.request('/api/v1/registry/projects/team/robots')).text();
  assert.ok(!robots.includes(secret), 'the robot list never contains the secret');
  await page.screenshot({ path: join(SHOTS, 'registry-members-robots.png'), fullPage: true });

  await page.click('[data-testid=robot-secret] button');
  assert.equal(await page.$('[data-testid=robot-secret]'), null, 'the secret is gone once dismissed');
  await page.click('[data-robot="robot$team+ci"] button');
  await page.waitForSelector('[data-robot="robot$team+ci"]', { state: 'detached' });
  await page.click('[data-member="erin"] button');
  await page.waitForSelector('[data-member="erin"]', { state: 'detached' });
  const after = (await (await server.request('/api/v1/registry/projects/team/members')).json()) as {
    items: unknown[];
  };
  assert.deepEqual(after.items, []);
  await page.close();
});

test('a viewer sees the member and robot forms disabled with the reason; the API answers 403', {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await signIn('dave', 'dave-password-1');
  await page.goto(`${server.url}/#/registry/team`);
  await page.waitForSelector('[data-testid=access-disabled-reason]');
  assert.match(
    (await page.textContent('[data-testid=access-disabled-reason]')) ?? '',
    /dave is not an admin of project team/,
  );
  for (const form of ['add member', 'create robot']) {
    assert.equal(await page.isDisabled(`form[aria-label="${form}"] button[type=submit]`), true, form);
  }
  await page.screenshot({ path: join(SHOTS, 'registry-members-viewer.png'), fullPage: true });
  const res = await server.request('/api/v1/registry/projects/team/members', {
    method: 'POST',
    json: { user: 'dave', role: 'admin' },
    token: viewerToken,
  });
  assert.equal(res.status, 403);
  await page.close();
});

test('the cluster page follows a pod log: the kubelet lines appear live', {
  skip,
  timeout: 60_000,
}, async () => {
  const image = `${new URL(server.url).host}/team/missing-app:1`;
  const res = await server.request('/kube/api/v1/namespaces/default/pods', {
    method: 'POST',
    json: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1' },
      spec: { containers: [{ name: 'web', image }] },
    },
  });
  assert.equal(res.status, 201);
  const page = await signIn('admin', server.adminPassword);
  await page.goto(`${server.url}/#/cluster`);
  await page.waitForSelector('button[data-logs-for="web-1"]');
  await page.click('button[data-logs-for="web-1"]');
  await page.waitForFunction(
    "document.querySelector('[data-testid=pod-log-panel] [data-testid=log-lines]')?.textContent?.includes('Pulling image')",
    undefined,
    { timeout: 30_000 },
  );
  // A line written after the panel opened arrives through the open stream.
  await page.waitForFunction(
    "document.querySelector('[data-testid=pod-log-panel] [data-testid=log-lines]')?.textContent?.includes('Failed to pull image')",
    undefined,
    { timeout: 30_000 },
  );
  await page.screenshot({ path: join(SHOTS, 'cluster-pod-logs.png'), fullPage: true });
  await page.close();
});
