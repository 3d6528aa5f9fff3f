// The web UI in real Chromium (playwright-core driving Debian's chromium): sign-in and every page renders.
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

before(async () => {
  if (skip) return;
  mkdirSync(SHOTS, { recursive: true });
  server = await startTestServer();
  await server.createUser('carol', 'viewer');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function signIn(user: string, password: string): Promise<Page> {
  return signInAs(browser, server.url, user, password);
}

test('a wrong password shows the error and stays on the sign-in page', { skip }, async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.fill('input[name=username]', 'admin');
  await page.fill('input[name=password]', 'wrong-password');
  await page.click('button[type=submit]');
  await page.waitForSelector('.error-note');
  assert.match((await page.textContent('.error-note')) ?? '', /Invalid credentials/);
  await page.screenshot({ path: join(SHOTS, 'login-error.png') });
  await page.close();
});

test('the admin signs in and every page renders, at desktop and phone widths', { skip }, async () => {
  const errors: string[] = [];
  const page = await signIn('admin', server.adminPassword);
  page.on('pageerror', (e) => errors.push(e.message));
  for (const [route, heading] of [
    ['apps', 'Applications'],
    ['envs', 'Environments'],
    ['pipelines', 'Pipelines'],
    ['registry', 'Registry'],
    ['cluster', 'Cluster'],
    ['users', 'Users'],
  ] as const) {
    await page.goto(`${server.url}/#/${route}`);
    await page.waitForSelector(`h1:has-text("${heading}")`);
    await page.screenshot({ path: join(SHOTS, `page-${route}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.url}/#/apps`);
  await page.waitForSelector('h1:has-text("Applications")');
  await page.screenshot({ path: join(SHOTS, 'page-apps-phone.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a viewer does not see the admin-only Users page in the navigation', { skip }, async () => {
  const page = await signIn('carol', 'carol-password-1');
  const nav = (await page.textContent('header nav')) ?? '';
  assert.ok(!nav.includes('Users'));
  assert.ok(nav.includes('Applications'));
  await page.close();
});
