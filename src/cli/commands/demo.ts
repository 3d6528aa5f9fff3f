// `slipway demo`: runs the seed scenario for a person, with live progress, and leaves everything running.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../core/index.ts';
import { DEV_APP, PROD_APP, SERVICE, SERVICE_REPO, SeedScenario } from '../../demo/index.ts';
import type { RunningServer } from '../../server/index.ts';
import { readClientConfig } from '../client-config.ts';
import type { CliContext } from '../context.ts';

async function reachable(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(1500) });
    return res.ok;
  } catch {
    return false;
  }
}

async function loginToken(url: string, password: string): Promise<string | undefined> {
  const res = await fetch(`${url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password, token: `demo-${Date.now().toString(36)}` }),
  });
  return res.ok ? ((await res.json()) as { token: string }).token : undefined;
}

/** Stops a server the demo started on Ctrl-C or SIGTERM, so the process ends with exit code 0. */
function stopOnSignal(server: RunningServer, say: (s: string) => void): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    say('Stopping Slipway ...');
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

export function registerDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      'Run the seed scenario: build node-hello-world, push it, deploy it to dev and prod through GitOps, and leave it all running to explore',
    )
    .option('--data <dir>', 'data directory of the server to use or start (default ~/.slipway)')
    .option('--port <port>', 'port for a server the demo starts (default 8080)')
    .option('--password-stdin', 'read the admin password from standard input')
    .action(async (opts: { data?: string; port?: string; passwordStdin?: boolean }) => {
      const say = (s: string) => ctx.io.err(s);
      const config = loadConfig({
        flags: { data: opts.data, port: opts.port, logLevel: 'warn' },
        env: ctx.io.env,
      });
      let url = ctx.server();
      let token: string | undefined;
      let started: RunningServer | undefined;
      const t0 = performance.now();
      if (!(await reachable(url))) {
        say(`No Slipway at ${url}: starting one (data: ${config.data}) ...`);
        // Loaded here, not at the top: the server's modules take most of the CLI's start-up time.
        const { startServer } = await import('../../server/index.ts');
        const server = await startServer(config);
        started = server;
        stopOnSignal(server, say);
        url = server.url;
        token = server.ctx.auth.createToken(
          'admin',
          { name: `demo-${Date.now().toString(36)}` },
          'demo',
        ).token;
        if (server.initialAdminPassword)
          say(
            `Created user admin with password ${server.initialAdminPassword} (saved in ${config.data}/initial-admin-password)`,
          );
      } else {
        const saved = readClientConfig(ctx.io.env);
        if (saved.token && saved.server === url && saved.user === 'admin') token = saved.token;
        const pwFile = join(config.data, 'initial-admin-password');
        if (!token && existsSync(pwFile)) token = await loginToken(url, readFileSync(pwFile, 'utf8').trim());
        if (!token && opts.passwordStdin) {
          const chunks: Buffer[] = [];
          for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
          token = await loginToken(url, Buffer.concat(chunks).toString('utf8').trim());
        }
        if (!token) {
          throw new Error(
            `Cannot sign in to ${url} as admin: run "slipway login --username admin" first, or pass --data with the server's data directory`,
          );
        }
      }
      try {
        const work = mkdtempSync(join(tmpdir(), 'slipway-demo-'));
        const s = new SeedScenario({
          url,
          adminToken: token,
          workDir: work,
          onStep: (e) => {
            if (e.phase === 'start') say(`▶ ${e.step} ...`);
            else say(`  ✔ ${e.step}  (${((e.ms ?? 0) / 1000).toFixed(1)} s)`);
          },
        });
        const existing = await s.call('GET', `/api/v1/apps/${DEV_APP}`);
        if (existing.status === 200) {
          say(`The demo already ran on this server. Look around: ${url}/#/apps`);
          if (started) say(`Slipway keeps running at ${url} in this process; press Ctrl-C to stop it.`);
          return;
        }
        await s.step(
          '2. registry project "base" and users alice (developer), bob (release manager), carol (viewer)',
          () => s.createProjectAndUsers(),
        );
        await s.step(
          '3. GitOps repo platform/helm-values with dev and prod, apps node-hello-world-dev/-prod',
          () => s.createGitOpsRepo(),
        );
        await s.step(`4. push ${SERVICE} to pre-release/1.0.0`, () =>
          s.pushService('node-hello-world 1.0.0'),
        );
        say(`  watch it: ${url}/#/pipelines/${SERVICE_REPO}/1`);
        const b1 = await s.step('5. build #1: Checkout → Build → Test → Push → Dev-Deploy', () =>
          s.waitForBuild(1, 300_000),
        );
        if (b1.status !== 'success')
          throw new Error(`build #1 ended ${b1.status}: see ${url}/#/pipelines/${SERVICE_REPO}/1`);
        await s.step('6-7. dev syncs to tag 1 and becomes Healthy', () =>
          s.waitForApp(
            DEV_APP,
            'Synced and Healthy',
            (a) => a.status.sync === 'Synced' && a.status.health === 'Healthy',
            120_000,
          ),
        );
        say(`  resource tree: ${url}/#/apps/${DEV_APP}`);
        await s.step('8. a second commit: build #2 rolls dev to tag 2', async () => {
          await s.pushService('say hello louder', (dir) => {
            const f = join(dir, 'server.js');
            writeFileSync(f, readFileSync(f, 'utf8').replace("'Hello, world!'", "'Hello from Slipway!'"));
            const t = join(dir, 'server.test.js');
            writeFileSync(t, readFileSync(t, 'utf8').replace("'Hello, world!'", "'Hello from Slipway!'"));
          });
          const b2 = await s.waitForBuild(2, 300_000);
          if (b2.status !== 'success') throw new Error(`build #2 ended ${b2.status}`);
          await s.until(
            'dev on tag 2',
            async () => {
              const d = await s.deployment('dev');
              return d.spec.template.spec.containers[0]!.image.endsWith(':2') &&
                d.status.readyReplicas === d.spec.replicas
                ? d
                : undefined;
            },
            120_000,
          );
        });
        await s.step(
          '9. promote tag 2 to prod (bob); prod waits OutOfSync until bob presses Sync',
          async () => {
            await s.api('POST', '/api/v1/promotions', { service: SERVICE, from: 'dev', to: 'prod' }, 'bob');
            await s.waitForApp(PROD_APP, 'OutOfSync', (a) => a.status.sync === 'OutOfSync', 60_000);
            const denied = await s.call('POST', `/api/v1/apps/${PROD_APP}/sync`, {}, 'alice');
            say(`  alice pressing Sync on prod: HTTP ${denied.status} (only bob may sync prod)`);
            await s.api('POST', `/api/v1/apps/${PROD_APP}/sync`, {}, 'bob');
            await s.waitForApp(
              PROD_APP,
              'Synced and Healthy',
              (a) => a.status.sync === 'Synced' && a.status.health === 'Healthy',
              120_000,
            );
          },
        );
        const total = ((performance.now() - t0) / 1000).toFixed(1);
        ctx.print({ url, apps: [DEV_APP, PROD_APP], seconds: Number(total) }, () =>
          [
            '',
            `Done in ${total} s: dev and prod run node-hello-world:2, Synced and Healthy.`,
            `  Applications:  ${url}/#/apps`,
            `  Environments:  ${url}/#/envs`,
            `  Pipeline:      ${url}/#/pipelines/${SERVICE_REPO}`,
            `  Registry:      ${url}/#/registry/base`,
            `  Cluster:       ${url}/#/cluster`,
            'Users: alice, bob, carol (passwords: <name>-demo-password). The local cluster is simulated: no container really runs.',
          ].join('\n'),
        );
        if (started) say(`Slipway keeps running at ${url} in this process; press Ctrl-C to stop it.`);
      } catch (err) {
        // Leave a server the demo started running, so that what went wrong can be looked at in the UI.
        if (started) say(`Slipway keeps running at ${url} in this process; press Ctrl-C to stop it.`);
        throw err;
      }
    });
}
