// The web UI in real Chromium (playwright-core driving Debian's chromium): sign-in and every page renders.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../../src/server/index.ts';

const CHROMIUM = '/usr/bin/chromium';
const DIST = join(import.meta.dirname, '..', '..', 'web', 'dist', 'index.html');
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results');
const skip = !existsSync(CHROMIUM)
  ? 'Debian chromium is not installed (apt-get install chromium)'
  : !existsSync(DIST)
    ? 'the web UI is not built (npm run build:web)'
    : false;

let server: TestServer;
let browser: Browser;

before(async () => {
  if (skip) return;
  mkdirSync(SHOTS, { recursive: true });
  server = await startTestServer();
  await server.createUser('carol', 'viewer');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(page: Page, user: string, password: string): Promise<void> {
  await page.goto(server.url);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('header.topbar');
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
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await signIn(page, 'admin', server.adminPassword);
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
  const page = await browser.newPage();
  await signIn(page, 'carol', 'carol-password-1');
  const nav = (await page.textContent('header nav')) ?? '';
  assert.ok(!nav.includes('Users'));
  assert.ok(nav.includes('Applications'));
  await page.close();
});
