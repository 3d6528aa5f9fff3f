// UI first-load benchmark: with 200 applications registered, how long a cold browser context takes to show
// the app list and an app page, measured on the browser's own timeline; side by side with the floor (a page
// with no framework doing the same API reads and printing their JSON), and the 1,000 ms target.
//   node --import tsx bench/ui/run.ts [--quick] [--apps N] [--rounds N] [--trace DIR] [--json FILE]
//
// Slipway runs in its own process (bench/ui/server.ts), so the Playwright driver's event loop does not share
// a core with the server. Each load: a new browser context (empty HTTP cache, no cookies) signs in through
// the API, opens about:blank and lets the browser settle, then navigates. A tiny init script records, in
// page time (performance.now(), 0 = navigation start), when each awaited selector first appears and
// reports through a CDP binding (no Playwright selector engine is injected while the page loads).
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Browser, CDPSession } from 'playwright-core';
import { launchBrowser, uiSkipReason } from '../../test/e2e/browser.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const quick = flag('--quick');
const APPS = option('--apps', 200);
const ROUNDS = option('--rounds', quick ? 3 : 7);
const traceIndex = args.indexOf('--trace');
const TRACE_DIR = traceIndex >= 0 ? args[traceIndex + 1] : undefined;
const APP = 'node-hello-world-dev';
// Extra node flags for the Slipway process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);

if (uiSkipReason) {
  console.error(`cannot run: ${uiSkipReason}`);
  process.exit(1);
}
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

// --- the server, in its own process ---------------------------------------------------------------------
const root = join(import.meta.dirname, '..', '..');
// --url URL --pid PID reuses a bench server that is already running (while working on the UI).
const givenUrl = args[args.indexOf('--url') + 1];
const serverProc: ChildProcess | undefined = flag('--url')
  ? undefined
  : spawn(
      process.execPath,
      [...SERVER_NODE_ARGS, '--import', 'tsx', join(import.meta.dirname, 'server.ts'), String(APPS)],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
const serverPid = serverProc?.pid ?? option('--pid', 0);
const ready = serverProc
  ? await new Promise<{ url: string; apps: number; pending: number; settleMs: number }>((resolve, reject) => {
      serverProc.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
      createInterface({ input: serverProc.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
    })
  : { url: givenUrl!, apps: APPS, pending: 0, settleMs: 0 };
const url = ready.url;
console.log(
  `${ready.apps} apps, ${ready.pending} not yet compared ${ready.settleMs} ms after the last was created; load ${load()}`,
);

/** CPU milliseconds the server process has used so far (user + system, from /proc). */
function serverCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/${serverPid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

// After the first comparisons, apps that stay the same are re-checked less and less often: wait (at most a
// minute, 15 s in quick mode) until the server uses under 15 % of a core, and say how busy it still is.
let idleShare = 1;
for (let waited = 0; waited < (quick ? 15_000 : 60_000) && idleShare > 0.15; waited += 3_000) {
  const c0 = serverCpuMs();
  await new Promise((r) => setTimeout(r, 3_000));
  idleShare = (serverCpuMs() - c0) / 3_000;
}

// --- one load ---------------------------------------------------------------------------------------------
interface Sample {
  /** Page time when every awaited selector was present (the figure; 0 = navigation start). */
  shown: number;
  /** Wall time in this process from the navigation command to the page's report. */
  wall: number;
  responseEnd: number;
  mainScriptEnd: number;
  firstApiStart: number;
  dataEnd: number;
  fcp: number;
  /** Renderer main-thread busy time (CDP Performance.TaskDuration) and the part running script. */
  taskMs: number;
  scriptMs: number;
  /** CPU time of all Chromium processes (renderer, browser, GPU) during the load (CDP SystemInfo). */
  chromiumCpu: number;
  serverCpu: number;
}

// The init script: plain JavaScript in a string, so nothing the TypeScript loader adds ends up in the page.
const probe = (selectors: string[]) => `(() => {
  if (location.protocol !== 'http:') return;
  const want = ${JSON.stringify(selectors)};
  const seen = {};
  let fcp = 0;
  new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.name === 'first-contentful-paint') fcp = e.startTime; })
    .observe({ type: 'paint', buffered: true });
  const check = () => {
    for (const s of want) if (!(s in seen) && document.querySelector(s)) seen[s] = performance.now();
    if (want.every((s) => s in seen)) {
      observer.disconnect();
      const shown = Math.max(...want.map((s) => seen[s]));
      // Report after the frame that shows it has been painted.
      requestAnimationFrame(() => setTimeout(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        const main = res.find((r) => r.initiatorType === 'script' || /\\/assets\\/index-.*\\.js$/.test(r.name));
        const apis = res.filter((r) => r.name.includes('/api/v1/') && !r.name.includes('/events'));
        window.__benchDone(JSON.stringify({
          shown,
          responseEnd: nav.responseEnd,
          mainScriptEnd: main ? main.responseEnd : NaN,
          firstApiStart: apis.length ? Math.min(...apis.map((r) => r.startTime)) : NaN,
          dataEnd: apis.length ? Math.max(...apis.filter((r) => r.startTime < shown).map((r) => r.responseEnd)) : NaN,
          fcp,
        }));
      }, 0));
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true, attributes: true });
})();`;

/** The floor: the same first reads as the app page, with no framework, their JSON printed into a <pre>. */
const FLOOR_HTML = `<!doctype html><html><head><meta charset="utf-8"><title>floor</title></head><body>
<pre id="out">loading</pre><script>
Promise.all(['/api/v1/me', '/api/v1/apps/${APP}', '/api/v1/apps/${APP}/tree'].map((p) =>
  fetch(p, { credentials: 'same-origin', headers: { accept: 'application/json' } }).then((r) => r.text())))
  .then((texts) => {
    const out = document.getElementById('out');
    out.textContent = texts.join('\\n');
    out.className = 'done';
  });
</script></body></html>`;

let browserCdp: CDPSession | undefined;
/** CPU milliseconds all Chromium processes have used so far. */
async function chromiumCpuMs(): Promise<number> {
  const { processInfo } = (await browserCdp!.send('SystemInfo.getProcessInfo')) as {
    processInfo: { type: string; id: number; cpuTime: number }[];
  };
  return processInfo.reduce((n, p) => n + p.cpuTime, 0) * 1000;
}

async function timeLoad(
  browser: Browser,
  path: string,
  selectors: string[],
  trace?: string,
): Promise<Sample> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const login = await context.request.post(`${url}/api/v1/login`, {
      data: { username: 'carol', password: 'carol-demo-password' },
    });
    if (!login.ok()) throw new Error(`login failed: ${login.status()}`);
    if (path === '/floor.html')
      await context.route(`${url}/floor.html`, (route) =>
        route.fulfill({ contentType: 'text/html; charset=utf-8', body: FLOOR_HTML }),
      );
    let report: (json: string) => void = () => {};
    const done = new Promise<string>((resolve) => {
      report = resolve;
    });
    await context.exposeBinding('__benchDone', (_source, json: string) => report(json));
    await context.addInitScript({ content: probe(selectors) });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    // A running browser with an idle tab, as when a user types the address.
    await page.goto('about:blank');
    await new Promise((r) => setTimeout(r, 400));
    const before = await metrics();
    const chromium0 = await chromiumCpuMs();
    if (trace) await browser.startTracing(page, { path: trace, screenshots: false });
    const cpu0 = serverCpuMs();
    const t0 = performance.now();
    await page.goto(`${url}${path}`, { waitUntil: 'commit' });
    const result = JSON.parse(
      await Promise.race([
        done,
        new Promise<string>((_, reject) =>
          setTimeout(() => reject(new Error(`${path}: not shown in 30 s`)), 30_000),
        ),
      ]),
    ) as Omit<Sample, 'wall' | 'taskMs' | 'scriptMs' | 'serverCpu'>;
    const wall = performance.now() - t0;
    const serverCpu = serverCpuMs() - cpu0;
    if (trace) await browser.stopTracing();
    const chromiumCpu = (await chromiumCpuMs()) - chromium0;
    const after = await metrics();
    return {
      ...result,
      wall,
      serverCpu,
      chromiumCpu,
      taskMs: ((after.TaskDuration ?? Number.NaN) - (before.TaskDuration ?? Number.NaN)) * 1000,
      scriptMs: ((after.ScriptDuration ?? Number.NaN) - (before.ScriptDuration ?? Number.NaN)) * 1000,
    };

    async function metrics(): Promise<Record<string, number>> {
      const { metrics: list } = (await cdp.send('Performance.getMetrics')) as {
        metrics: { name: string; value: number }[];
      };
      return Object.fromEntries(list.map((m) => [m.name, m.value]));
    }
  } finally {
    await context.close();
  }
}

// --- the runs ---------------------------------------------------------------------------------------------
const TARGETS: { name: string; path: string; selectors: string[] }[] = [
  { name: `app list (${APPS} apps)`, path: '/#/apps', selectors: ['.app-card'] },
  {
    name: 'app page (status and tree)',
    path: `/#/apps/${APP}`,
    selectors: ['.status-row', 'svg.resource-tree'],
  },
  { name: 'floor: same reads, no framework', path: '/floor.html', selectors: ['pre.done'] },
];
const loadBefore = load();
const browser = await launchBrowser();
browserCdp = await browser.newBrowserCDPSession();
const samples = new Map<string, Sample[]>(TARGETS.map((t) => [t.name, []]));
try {
  // One warm-up load per target (the browser's first renderer processes start slowly), not counted.
  for (const t of TARGETS) await timeLoad(browser, t.path, t.selectors);
  if (TRACE_DIR) mkdirSync(TRACE_DIR, { recursive: true });
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order, so that no target always runs right after another.
    for (let k = 0; k < TARGETS.length; k++) {
      const t = TARGETS[(round + k) % TARGETS.length]!;
      const trace =
        TRACE_DIR && round === 0 ? join(TRACE_DIR, `${t.path.replace(/\W+/g, '_')}.json`) : undefined;
      samples.get(t.name)!.push(await timeLoad(browser, t.path, t.selectors, trace));
    }
  }
} finally {
  await browser.close();
  serverProc?.kill('SIGTERM');
}

// --json FILE appends every sample as a JSON line (to compare builds across runs).
if (flag('--json'))
  for (const [name, list] of samples)
    for (const sample of list)
      appendFileSync(
        args[args.indexOf('--json') + 1]!,
        `${JSON.stringify({ name, label: process.env.BENCH_LABEL, load: loadavg()[0], ...sample })}\n`,
      );
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const pick = (name: string, key: keyof Sample) => median(samples.get(name)!.map((s) => s[key]));
const floorName = TARGETS[2]!.name;
const COLUMNS: [string, (name: string) => string][] = [
  ['shown', (n) => ms(pick(n, 'shown'))],
  ['÷floor', (n) => (pick(n, 'shown') / pick(floorName, 'shown')).toFixed(2)],
  ['÷1s', (n) => (pick(n, 'shown') / 1000).toFixed(2)],
  ['html', (n) => ms(pick(n, 'responseEnd'))],
  ['main.js', (n) => ms(pick(n, 'mainScriptEnd'))],
  ['1st api', (n) => ms(pick(n, 'firstApiStart'))],
  ['data', (n) => ms(pick(n, 'dataEnd'))],
  ['FCP', (n) => ms(pick(n, 'fcp'))],
  ['wall', (n) => ms(pick(n, 'wall'))],
  ['busy', (n) => ms(pick(n, 'taskMs'))],
  ['script', (n) => ms(pick(n, 'scriptMs'))],
  ['Chr.CPU', (n) => ms(pick(n, 'chromiumCpu'))],
  ['srv.CPU', (n) => ms(pick(n, 'serverCpu'))],
];
console.log(
  `\nUI first load on localhost, cold browser context, median of ${ROUNDS}; page time from navigation start (target: under 1000 ms)`,
);
console.log(`${'load'.padEnd(34)}${COLUMNS.map(([h]) => h.padStart(8)).join('')}`);
for (const t of TARGETS) {
  console.log(`${t.name.padEnd(34)}${COLUMNS.map(([, f]) => f(t.name).padStart(8)).join('')}`);
  console.log(
    `  all shown: ${samples
      .get(t.name)!
      .map((s) => ms(s.shown))
      .join(' ')}`,
  );
}
console.log(
  `(ms. shown: every awaited selector present (the figure); ÷floor, ÷1s: shown against the floor and the 1 s target; html: document responseEnd; main.js: the shell script's responseEnd; 1st api: first API request start; data: end of the last API read before shown; FCP: first contentful paint; wall: this process, navigate → report; busy/script: renderer main thread busy / running script (CDP Performance, wall time of its tasks); Chr.CPU: CPU time of all Chromium processes; srv.CPU: Slipway process CPU time)`,
);
console.log(
  `server CPU while idle before measuring: ${(idleShare * 100).toFixed(0)} % of a core; load ${loadBefore} before, ${load()} after (1/5/15 min)`,
);
