// The UI against a running seed scenario in real Chromium: a build watched live to success, the app page's
// tree with healthy pods, prod's Sync disabled for a developer (and 403 from the API), and bob's sync.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DEV_APP, PROD_APP, SERVICE, SERVICE_REPO, SeedScenario } from '../../src/demo/index.ts';
import { startTestServer, type TestServer } from '../../src/server/index.ts';
import { launchBrowser, SHOTS, signIn as signInAs, uiSkipReason } from './browser.ts';

const skip = uiSkipReason;

let server: TestServer;
let browser: Browser;
let s: SeedScenario;
let work: string;

before(async () => {
  if (skip) return;
  mkdirSync(SHOTS, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'slipway-ui-flow-'));
  server = await startTestServer();
  s = new SeedScenario({ url: server.url, adminToken: server.adminToken, workDir: work });
  await s.createProjectAndUsers();
  await s.createGitOpsRepo();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function signIn(user: string, password: string): Promise<Page> {
  return signInAs(browser, server.url, user, password);
}

test('a build is watched live to success on its page', { skip, timeout: 180_000 }, async () => {
  const page = await signIn('alice', 'alice-demo-password');
  await s.pushService('node-hello-world 1.0.0');
  await s.until('build 1 to exist', () => s.build(1));
  await page.goto(`${server.url}/#/pipelines/${SERVICE_REPO}/1`);
  await page.waitForSelector('.stage-graph .stage-box');
  await page.waitForSelector('.page-head .badge:has-text("success")', { timeout: 120_000 });
  const stages = await page.$$eval('.stage-box .stage-name', (els) => els.map((e) => e.textContent));
  assert.deepEqual(stages, ['Checkout', 'Build', 'Test', 'Push', 'Dev-Deploy']);
  await page.waitForFunction(
    "document.querySelector('[data-testid=log-lines]')?.textContent?.includes('says hello')",
  );
  await page.screenshot({ path: join(SHOTS, 'flow-build.png'), fullPage: true });
  await page.close();
});

test('the app page shows the tree with healthy pods', { skip, timeout: 120_000 }, async () => {
  await s.waitForApp(
    DEV_APP,
    'Synced and Healthy',
    (a) => a.status.sync === 'Synced' && a.status.health === 'Healthy',
  );
  const page = await signIn('carol', 'carol-demo-password');
  await page.goto(`${server.url}/#/apps/${DEV_APP}`);
  await page.waitForSelector('svg.resource-tree g[data-kind="Pod"][data-health="Healthy"]', {
    timeout: 30_000,
  });
  for (const kind of ['Ingress', 'Service', 'Deployment', 'ReplicaSet']) {
    assert.ok(await page.$(`svg.resource-tree g[data-kind="${kind}"]`), `${kind} in the tree`);
  }
  await page.screenshot({ path: join(SHOTS, 'flow-app-tree.png'), fullPage: true });
  await page.goto(`${server.url}/#/envs`);
  await page.waitForSelector('.board .cell-tag');
  await page.screenshot({ path: join(SHOTS, 'flow-environments.png'), fullPage: true });
  await page.close();
});

test('a developer sees prod Sync disabled (and the API says 403); bob syncs and sees the status change', {
  skip,
  timeout: 120_000,
}, async () => {
  await s.api('POST', '/api/v1/promotions', { service: SERVICE, from: 'dev', to: 'prod' }, 'bob');
  await s.waitForApp(PROD_APP, 'OutOfSync', (a) => a.status.sync === 'OutOfSync');
  const alice = await signIn('alice', 'alice-demo-password');
  await alice.goto(`${server.url}/#/apps/${PROD_APP}`);
  await alice.waitForSelector('[data-testid=sync-button]');
  assert.equal(await alice.isDisabled('[data-testid=sync-button]'), true);
  assert.match(
    (await alice.textContent('[data-testid=sync-disabled-reason]')) ?? '',
    /no deploy right on prod/,
  );
  assert.equal((await s.call('POST', `/api/v1/apps/${PROD_APP}/sync`, {}, 'alice')).status, 403);
  await alice.screenshot({ path: join(SHOTS, 'flow-prod-developer.png'), fullPage: true });
  await alice.close();

  const bob = await signIn('bob', 'bob-demo-password');
  await bob.goto(`${server.url}/#/apps/${PROD_APP}`);
  await bob.waitForSelector('[data-testid=sync-button]:not([disabled])');
  await bob.click('[data-testid=sync-button]');
  await bob.waitForSelector('.status-row .badge:has-text("Synced")', { timeout: 60_000 });
  await bob.screenshot({ path: join(SHOTS, 'flow-prod-synced.png'), fullPage: true });
  await bob.close();
});
