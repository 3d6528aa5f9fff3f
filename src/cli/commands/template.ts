// `slipway template NAME CHART`: renders a chart locally and prints exactly what `helm template` prints.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadChart, type RenderOptions, renderChart } from '../../chart/index.ts';
import { describeError, isSlipwayError, SlipwayError } from '../../core/index.ts';

/**
 * The options of `template`, in `--help` order: one table drives both commander (registerTemplateCommand) and
 * the fast parser of the CLI's start (parseTemplateArgv), so the two cannot drift apart. `key` is commander's
 * camel-cased attribute name.
 */
const OPTIONS: readonly TemplateOption[] = [
  {
    flags: '-f, --values <file>',
    key: 'values',
    kind: 'list',
    csv: true,
    description: 'values file (repeatable, comma-separated)',
  },
  { flags: '--set <expr>', key: 'set', kind: 'list', description: 'set values (a.b=c,d[0]=e)' },
  { flags: '--set-string <expr>', key: 'setString', kind: 'list', description: 'set STRING values' },
  { flags: '--set-json <expr>', key: 'setJson', kind: 'list', description: 'set JSON values' },
  {
    flags: '--set-file <expr>',
    key: 'setFile',
    kind: 'list',
    description: 'set values from files (key=path)',
  },
  {
    flags: '--set-literal <expr>',
    key: 'setLiteral',
    kind: 'list',
    description: 'set a literal STRING value (everything after =)',
  },
  {
    flags: '-n, --namespace <ns>',
    key: 'namespace',
    kind: 'value',
    default: 'default',
    description: 'namespace',
  },
  {
    flags: '--kube-version <version>',
    key: 'kubeVersion',
    kind: 'value',
    description: 'Kubernetes version for .Capabilities',
  },
  {
    flags: '-a, --api-versions <gv>',
    key: 'apiVersions',
    kind: 'list',
    csv: true,
    description: 'extra API versions for .Capabilities (repeatable)',
  },
  {
    flags: '-s, --show-only <path>',
    key: 'showOnly',
    kind: 'list',
    description: 'only show manifests rendered from the given templates',
  },
  { flags: '--include-crds', key: 'includeCrds', kind: 'flag', description: 'include CRDs from crds/' },
  {
    flags: '--skip-schema-validation',
    key: 'skipSchemaValidation',
    kind: 'flag',
    description: 'skip values.schema.json validation',
  },
  {
    flags: '--version <version>',
    key: 'version',
    kind: 'value',
    description: 'chart version (for oci:// references)',
  },
  { flags: '--plain-http', key: 'plainHttp', kind: 'flag', description: 'use http for the registry' },
  { flags: '--username <user>', key: 'username', kind: 'value', description: 'registry username' },
  { flags: '--password <password>', key: 'password', kind: 'value', description: 'registry password' },
];

interface TemplateOption {
  flags: string;
  key: keyof TemplateFlags;
  /** list: repeatable (comma-separated values too when csv); value: the last one wins; flag: boolean. */
  kind: 'list' | 'value' | 'flag';
  csv?: boolean;
  default?: string;
  description: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function collectCsv(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((v) => v !== '')];
}

export interface TemplateFlags {
  values?: string[];
  set?: string[];
  setString?: string[];
  setJson?: string[];
  setFile?: string[];
  setLiteral?: string[];
  namespace?: string;
  kubeVersion?: string;
  apiVersions?: string[];
  showOnly?: string[];
  includeCrds?: boolean;
  skipSchemaValidation?: boolean;
  version?: string;
  plainHttp?: boolean;
  username?: string;
  password?: string;
}

export interface TemplateCommandIO {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Receives a non-zero exit code; by default it becomes process.exitCode. */
  exit?: (code: number) => void;
  /** Receives the error behind a failure (before `Error: ...` is written to stderr). */
  onError?: (err: unknown) => void;
}

/**
 * Parses `template ARGS...` (argv without the program name) the way commander parses it with the options
 * above, for the common forms only: `--opt value`, `--opt=value`, `-x value`, boolean flags, one or two
 * positionals. Anything else (help, --version, program options, `--`, `-xVALUE`, unknown options, a value
 * that starts with `-`, missing or extra arguments) gives undefined: the caller then runs the full CLI, so
 * help and every error stay commander's own.
 */
export function parseTemplateArgv(
  argv: readonly string[],
): { args: string[]; flags: TemplateFlags } | undefined {
  if (argv[0] !== 'template') return undefined;
  const flags: Record<string, string | string[] | boolean> = {};
  for (const o of OPTIONS) if (o.default !== undefined) flags[o.key] = o.default;
  const args: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('-')) {
      args.push(token);
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq < 0 ? token : token.slice(0, eq);
    const option = OPTIONS.find((o) => optionNames(o).includes(name));
    if (option === undefined) return undefined;
    if (option.kind === 'flag') {
      if (eq >= 0) return undefined;
      flags[option.key] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = token.slice(eq + 1);
    else {
      value = argv[++i];
      if (value === undefined || value.startsWith('-')) return undefined;
    }
    if (value === '') return undefined;
    if (option.kind === 'value') flags[option.key] = value;
    else {
      const previous = flags[option.key] as string[] | undefined;
      flags[option.key] = option.csv ? collectCsv(value, previous) : collect(value, previous);
    }
  }
  if (args.length < 1 || args.length > 2) return undefined;
  return { args, flags: flags as TemplateFlags };
}

/** `-f, --values <file>` -> ['-f', '--values']. */
function optionNames(o: TemplateOption): string[] {
  return o.flags.split(/[ ,]+/).filter((p) => p.startsWith('-'));
}

/** Reads the files named in `--set-file key=path,key2=path2` so the renderer stays pure. */
function readSetFiles(exprs: string[]): { expr: string; files: Record<string, string> }[] {
  const out: { expr: string; files: Record<string, string> }[] = [];
  for (const expr of exprs) {
    const files: Record<string, string> = {};
    for (const kv of expr.split(/(?<!\\),/)) {
      const p = kv.slice(kv.indexOf('=') + 1);
      if (p !== '') files[p] = readFileSync(p, 'utf8');
    }
    out.push({ expr, files });
  }
  return out;
}

/** Runs `template` and returns the exit code (0, or 1 with `Error: ...` on stderr like helm). */
export async function runTemplate(
  args: string[],
  flags: TemplateFlags,
  io: TemplateCommandIO = {},
): Promise<number> {
  const stdout = io.stdout ?? ((t: string) => process.stdout.write(t));
  const stderr = io.stderr ?? ((t: string) => process.stderr.write(t));
  try {
    const [first, second] = args;
    const releaseName = second === undefined ? 'release-name' : first!;
    const source = second === undefined ? first! : second;
    const chart = await loadChart(source, {
      ...(flags.version ? { version: flags.version } : {}),
      ...(flags.plainHttp ? { plainHttp: true } : {}),
      ...(flags.username !== undefined
        ? { registryAuth: { username: flags.username, password: flags.password ?? '' } }
        : {}),
    });
    const valueFiles: { name: string; text: string }[] = [];
    for (const f of flags.values ?? []) valueFiles.push({ name: f, text: readFileSync(f, 'utf8') });
    const setFiles = readSetFiles(flags.setFile ?? []);
    const options: RenderOptions = {
      releaseName,
      namespace: flags.namespace ?? 'default',
      valueFiles,
      set: flags.set ?? [],
      setString: flags.setString ?? [],
      setJson: flags.setJson ?? [],
      setFile: setFiles,
      setLiteral: flags.setLiteral ?? [],
      apiVersions: flags.apiVersions ?? [],
      showOnly: flags.showOnly ?? [],
      includeCrds: flags.includeCrds === true,
      skipSchemaValidation: flags.skipSchemaValidation === true,
      ...(flags.kubeVersion ? { kubeVersion: flags.kubeVersion } : {}),
    };
    const result = renderChart(chart, options);
    stdout(result.output);
    return 0;
  } catch (err) {
    io.onError?.(err);
    stderr(`Error: ${describeError(err)}\n`);
    return 1;
  }
}

/**
 * Registers `slipway template [NAME] CHART` with helm's flags. Without `io` the manifests go to stdout and a
 * failure throws a SlipwayError with exitCode 1 (for the main CLI's error handling); with `io.stderr`/`io.exit`
 * it prints `Error: ...` like helm and reports the exit code instead (tests, the benchmark).
 */
export function registerTemplateCommand(program: Command, io: TemplateCommandIO = {}): void {
  const command = program
    .command('template')
    .description('render a chart locally and print the manifests, exactly like `helm template`')
    .argument('<name-or-chart>', 'release name, or the chart when no name is given')
    .argument('[chart]', 'chart directory, .tgz, or oci:// reference');
  for (const o of OPTIONS) {
    if (o.kind === 'list') command.option(o.flags, o.description, o.csv ? collectCsv : collect);
    else if (o.default !== undefined) command.option(o.flags, o.description, o.default);
    else command.option(o.flags, o.description);
  }
  command.action(async (first: string, second: string | undefined, flags: TemplateFlags) => {
    const args = second === undefined ? [first] : [first, second];
    if (io.stderr || io.exit) {
      const code = await runTemplate(args, flags, io);
      if (code !== 0) {
        if (io.exit) io.exit(code);
        else process.exitCode = code;
      }
      return;
    }
    // Wired into the main CLI without an io: fail by throwing, so the CLI prints the error and exits 1.
    let failure: unknown;
    const code = await runTemplate(args, flags, {
      ...io,
      stderr: () => {},
      onError: (err) => {
        failure = err;
      },
    });
    if (code !== 0) {
      throw new SlipwayError(describeError(failure), {
        code: 'TEMPLATE_FAILED',
        status: 400,
        exitCode: 1,
        ...(isSlipwayError(failure) && failure.location ? { location: failure.location } : {}),
        cause: failure,
      });
    }
  });
}
