// The `slipway` command line.
import { Command, CommanderError } from 'commander';
import { describeError, formatLocation, isSlipwayError, VERSION } from '../core/index.ts';
import { registerAuthCommands } from './commands/auth.ts';
import { registerAppCommands } from './commands/app.ts';
import { registerBuildCommands } from './commands/build.ts';
import { registerClusterCommands } from './commands/cluster.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerImageCommands } from './commands/image.ts';
import { registerKubeconfigCommand } from './commands/kubeconfig.ts';
import { registerRegistryCommands } from './commands/registry.ts';
import { registerRepoCommands } from './commands/repo.ts';
import { registerImportCommands } from './commands/import.ts';
import { registerTemplateCommand } from './commands/template.ts';
import { registerUpCommand } from './commands/up.ts';
import { type CliIO, createCliContext } from './context.ts';

let exitCode = 0;

export function buildProgram(io: CliIO): Command {
  const program = new Command('slipway');
  const ctx = createCliContext(io, () => {
    // --json may be given on the sub-command or globally.
    const opts = program.opts<{ server?: string; json?: boolean; token?: string }>();
    const json = opts.json === true || process.argv.includes('--json') || io.env.SLIPWAY_OUTPUT === 'json';
    return { ...opts, json };
  });
  program
    .description('Slipway: from git push to a running, healthy deployment')
    .version(VERSION, '-v, --version')
    .option(
      '--server <url>',
      'Slipway server URL (default: saved login, $SLIPWAY_SERVER or http://127.0.0.1:8080)',
    )
    .option('--token <token>', 'API token (default: saved login or $SLIPWAY_TOKEN)')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  registerUpCommand(program, ctx);
  registerAuthCommands(program, ctx);
  registerRegistryCommands(program, ctx);
  registerRepoCommands(program, ctx);
  registerBuildCommands(program, ctx);
  registerImageCommands(program, ctx);
  registerAppCommands(program, ctx);
  registerClusterCommands(program, ctx);
  registerKubeconfigCommand(program, ctx);
  registerImportCommands(program, ctx);
  registerDemoCommand(program, ctx);
  registerTemplateCommand(program, {
    stdout: (s) => io.out(s.replace(/\n$/, '')),
    stderr: (s) => io.err(s.replace(/\n$/, '')),
    exit: (code) => {
      exitCode = code;
    },
  });

  for (const cmd of program.commands) inheritSettings(cmd, io);
  return program;
}

function inheritSettings(cmd: Command, io: CliIO): void {
  cmd
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  cmd.showHelpAfterError();
  for (const sub of cmd.commands) inheritSettings(sub, io);
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(argv: string[], io?: CliIO): Promise<number> {
  const cliIO: CliIO = io ?? {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    env: process.env,
  };
  const program = buildProgram(cliIO);
  try {
    exitCode = 0;
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version'
        ? 0
        : 2;
    }
    if (isSlipwayError(err)) {
      const where = formatLocation(err.location);
      cliIO.err(`error: ${err.message}${where && !err.message.includes(where) ? ` (${where})` : ''}`);
      return err.exitCode;
    }
    cliIO.err(`error: ${describeError(err)}`);
    return 1;
  }
}
