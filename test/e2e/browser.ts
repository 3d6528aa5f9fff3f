// Shared by the UI tests: Debian's Chromium through playwright-core, and signing in as a user.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS = join(import.meta.dirname, '..', '..', 'test-results');
const DIST = join(import.meta.dirname, '..', '..', 'web', 'dist', 'index.html');

/** Why the UI tests cannot run here, or false when they can. */
export const uiSkipReason: string | false = !existsSync(CHROMIUM)
  ? 'Debian chromium is not installed (apt-get install chromium)'
  : !existsSync(DIST)
    ? 'the web UI is not built (npm run build:web)'
    : false;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
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
}

/** Opens a page at 1280×800 and signs in through the login form. */
export async function signIn(browser: Browser, url: string, user: string, password: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
  await page.waitForSelector('header.topbar');
  return page;
}
