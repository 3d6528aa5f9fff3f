// `slipway template NAME CHART`: renders a chart locally and prints exactly what `helm template` prints.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadChart, type RenderOptions, renderChart } from '../../chart/index.ts';
import { describeError, isSlipwayError, SlipwayError } from '../../core/index.ts';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function collectCsv(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((v) => v !== '')];
}

interface TemplateFlags {
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

/** Reads the files named in `--set-file key=path,key2=path2` so the renderer stays pure. */
async function readSetFiles(exprs: string[]): Promise<{ expr: string; files: Record<string, string> }[]> {
  const out: { expr: string; files: Record<string, string> }[] = [];
  for (const expr of exprs) {
    const files: Record<string, string> = {};
    for (const kv of expr.split(/(?<!\\),/)) {
      const p = kv.slice(kv.indexOf('=') + 1);
      if (p !== '') files[p] = await readFile(p, 'utf8');
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
    for (const f of flags.values ?? []) valueFiles.push({ name: f, text: await readFile(f, 'utf8') });
    const setFiles = await readSetFiles(flags.setFile ?? []);
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
  program
    .command('template')
    .description('render a chart locally and print the manifests, exactly like `helm template`')
    .argument('<name-or-chart>', 'release name, or the chart when no name is given')
    .argument('[chart]', 'chart directory, .tgz, or oci:// reference')
    .option('-f, --values <file>', 'values file (repeatable, comma-separated)', collectCsv)
    .option('--set <expr>', 'set values (a.b=c,d[0]=e)', collect)
    .option('--set-string <expr>', 'set STRING values', collect)
    .option('--set-json <expr>', 'set JSON values', collect)
    .option('--set-file <expr>', 'set values from files (key=path)', collect)
    .option('--set-literal <expr>', 'set a literal STRING value (everything after =)', collect)
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('--kube-version <version>', 'Kubernetes version for .Capabilities')
    .option('-a, --api-versions <gv>', 'extra API versions for .Capabilities (repeatable)', collectCsv)
    .option('-s, --show-only <path>', 'only show manifests rendered from the given templates', collect)
    .option('--include-crds', 'include CRDs from crds/')
    .option('--skip-schema-validation', 'skip values.schema.json validation')
    .option('--version <version>', 'chart version (for oci:// references)')
    .option('--plain-http', 'use http for the registry')
    .option('--username <user>', 'registry username')
    .option('--password <password>', 'registry password')
    .action(async (first: string, second: string | undefined, flags: TemplateFlags) => {
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
