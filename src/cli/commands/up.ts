// `slipway up`: runs the whole platform in this process until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { loadConfig } from '../../core/index.ts';
import type { CliContext } from '../context.ts';

export function registerUpCommand(program: Command, ctx: CliContext): void {
  program
    .command('up')
    .description('Start Slipway (registry, git, cluster, API and UI) on one port, on its embedded defaults')
    .option('--port <port>', 'TCP port to listen on (default 8080; 0 picks a free port)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--data <dir>', 'data directory (default ~/.slipway)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--public-url <url>', 'the URL users reach Slipway at (default http://HOST:PORT)')
    .action(
      async (opts: {
        port?: string;
        host?: string;
        data?: string;
        logLevel?: string;
        publicUrl?: string;
      }) => {
        const config = loadConfig({
          flags: {
            port: opts.port,
            host: opts.host,
            data: opts.data,
            logLevel: opts.logLevel,
            publicUrl: opts.publicUrl,
          },
          env: ctx.io.env,
        });
        // Loaded here, not at the top: the server's modules take most of the CLI's start-up time.
        const { startServer } = await import('../../server/index.ts');
        const server = await startServer(config);
        const lines = [`Slipway is running at ${server.url}  (data: ${config.data})`];
        if (server.initialAdminPassword) {
          lines.push(
            '',
            'First start: created user "admin" with password:',
            `    ${server.initialAdminPassword}`,
            `(also saved to ${config.data}/initial-admin-password, mode 0600; it is shown only once)`,
            `Sign in:  npx slipway login --server ${server.url} --username admin`,
          );
        }
        ctx.io.err(lines.join('\n'));
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (signal: string) => {
            if (stopping) return;
            stopping = true;
            server.ctx.logger.info({ signal }, 'shutting down');
            server.close().then(resolve, (err) => {
              server.ctx.logger.error({ err }, 'shutdown failed');
              resolve();
            });
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
      },
    );
}
