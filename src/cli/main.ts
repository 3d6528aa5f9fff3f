// The `slipway` command line.
import { Command, CommanderError } from 'commander';
import { describeError, formatLocation, isSlipwayError, VERSION } from '../core/index.ts';
import { type CliContext, type CliIO, createCliContext } from './context.ts';

let exitCode = 0;

type Registrar = (program: Command, ctx: CliContext, io: CliIO) => void;

/**
 * Command modules, loaded lazily: `slipway template` must not pay for the server's dependencies at start.
 * `sole` names the one top-level command a module registers when it registers nothing else: running that
 * command loads only its module. Any other command (and plain `--help`) loads every module, in this order
 * (the order of `slipway --help`).
 */
const COMMAND_MODULES: { sole?: string; load: () => Promise<Registrar> }[] = [
  { sole: 'up', load: async () => (await import('./commands/up.ts')).registerUpCommand },
  { load: async () => (await import('./commands/auth.ts')).registerAuthCommands },
  { load: async () => (await import('./commands/registry.ts')).registerRegistryCommands },
  { load: async () => (await import('./commands/repo.ts')).registerRepoCommands },
  { load: async () => (await import('./commands/build.ts')).registerBuildCommands },
  { load: async () => (await import('./commands/image.ts')).registerImageCommands },
  { load: async () => (await import('./commands/app.ts')).registerAppCommands },
  { load: async () => (await import('./commands/cluster.ts')).registerClusterCommands },
  {
    sole: 'kubeconfig',
    load: async () => (await import('./commands/kubeconfig.ts')).registerKubeconfigCommand,
  },
  { sole: 'import', load: async () => (await import('./commands/import.ts')).registerImportCommands },
  { sole: 'demo', load: async () => (await import('./commands/demo.ts')).registerDemoCommand },
  {
    sole: 'template',
    load: async () => {
      const { registerTemplateCommand } = await import('./commands/template.ts');
      return (program, _ctx, io) =>
        registerTemplateCommand(program, {
          stdout: (s) => io.out(s.replace(/\n$/, '')),
          stderr: (s) => io.err(s.replace(/\n$/, '')),
          exit: (code) => {
            exitCode = code;
          },
        });
    },
  },
];

/** The first argument that is not an option (or option value) of the program itself. */
function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--server' || a === '--token') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * Builds the command tree. Given the arguments about to be parsed, it loads only the module of the command
 * they name when that is enough; without them, every command.
 */
export async function buildProgram(io: CliIO, argv?: string[]): Promise<Command> {
  const program = new Command('slipway');
  const ctx = createCliContext(io, () => {
    // --json may be given on the sub-command or globally.
    const opts = program.opts<{ server?: string; json?: boolean; token?: string }>();
    const json = opts.json === true || process.argv.includes('--json') || io.env.SLIPWAY_OUTPUT === 'json';
    return { ...opts, json };
  });
  const name = argv === undefined ? undefined : commandName(argv);
  program.description('Slipway: from git push to a running, healthy deployment');
  // Commander sees a program option anywhere on the line, so `-v, --version` would swallow a command's own
  // `--version` (`slipway template NAME oci://… --version 1.2.0`): it is Slipway's only before a command.
  if (name === undefined) program.version(VERSION, '-v, --version');
  program
    .option(
      '--server <url>',
      'Slipway server URL (default: saved login, $SLIPWAY_SERVER or http://127.0.0.1:8080)',
    )
    .option('--token <token>', 'API token (default: saved login or $SLIPWAY_TOKEN)')
    .option('--json', 'print machine-readable JSON')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const sole = name === undefined ? undefined : COMMAND_MODULES.find((m) => m.sole === name);
  const modules = sole === undefined ? COMMAND_MODULES : [sole];
  const registrars = await Promise.all(modules.map((m) => m.load()));
  for (const register of registrars) register(program, ctx, io);

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
  const program = await buildProgram(cliIO, argv);
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
