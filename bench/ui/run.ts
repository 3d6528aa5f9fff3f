// UI first-load benchmark: with 200 applications registered, how long until the app list and an app page
// have rendered in Chromium (cold browser context each time). Run: node --import tsx bench/ui/run.ts [apps]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeedScenario } from '../../src/demo/index.ts';
import { startTestServer } from '../../src/server/index.ts';
import { launchBrowser, uiSkipReason } from '../../test/e2e/browser.ts';

const count = Number(process.argv[2] ?? 200);
if (uiSkipReason) {
  console.error(`cannot run: ${uiSkipReason}`);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'slipway-bench-ui-'));
const server = await startTestServer();
const s = new SeedScenario({ url: server.url, adminToken: server.adminToken, workDir: work });
await s.createProjectAndUsers();
await s.createGitOpsRepo();
const envs = ['dev', 'qa', 'stage', 'prod'];
for (let i = 0; i < count - 2; i++) {
  const env = envs[i % envs.length]!;
  await s.api('POST', '/api/v1/apps', {
    yaml: s.appManifest(`svc-${i}-${env}`, env, false),
    file: 'bench.yaml',
  });
}
const browser = await launchBrowser();
const context = await browser.newContext();
const login = await context.request.post(`${server.url}/api/v1/login`, {
  data: { username: 'carol', password: 'carol-demo-password' },
});
if (!login.ok()) throw new Error(`login failed: ${login.status()}`);

async function timeLoad(path: string, selector: string): Promise<number> {
  const page = await context.newPage();
  const t0 = performance.now();
  await page.goto(`${server.url}${path}`);
  await page.waitForSelector(selector, { timeout: 30_000 });
  const ms = performance.now() - t0;
  await page.close();
  return ms;
}

const results: [string, number[]][] = [
  ['app list (200 apps)', []],
  ['app page (tree, diff, history)', []],
];
for (let i = 0; i < 5; i++) {
  results[0]![1].push(await timeLoad('/#/apps', '.app-card'));
  results[1]![1].push(await timeLoad('/#/apps/node-hello-world-dev', '.status-row'));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`UI first load on localhost, ${count} applications, median of 5 (target: under 1000 ms)`);
for (const [name, xs] of results) console.log(`  ${name.padEnd(34)} ${median(xs).toFixed(0)} ms`);
await browser.close();
await server.stop();
rmSync(work, { recursive: true, force: true });
