// `slipway build`, `slipway scan`, `slipway sbom` and `slipway scan db import`: image builds and
// vulnerability scans that run in the CLI process against any OCI registry.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { defaultDataDir, InputError, ValidationError } from '../../core/index.ts';
import {
  BuildahBuilder,
  createImageBuilder,
  type ImageBuilder,
  NativeBuilder,
  parseImageReference,
  RegistryClient,
  type RegistryCredentials,
} from '../../oci/index.ts';
import {
  checkPolicy,
  importOsvDatabase,
  loadOsvDatabase,
  SEVERITIES,
  type ScanReport,
  Scanner,
  type Severity,
} from '../../scan/index.ts';
import { readClientConfig } from '../client-config.ts';
import { type CliContext, table } from '../context.ts';

interface CredentialFlags {
  username?: string;
  password?: string;
}

/** Registry credentials: flags, $SLIPWAY_REGISTRY_USERNAME/PASSWORD, or the saved login for Slipway's own host. */
function credentialsFor(
  ctx: CliContext,
  flags: CredentialFlags,
): (host: string) => RegistryCredentials | undefined {
  return (host) => {
    const username = flags.username ?? ctx.io.env.SLIPWAY_REGISTRY_USERNAME;
    const password = flags.password ?? ctx.io.env.SLIPWAY_REGISTRY_PASSWORD;
    if (username && password) return { username, password };
    const saved = readClientConfig(ctx.io.env);
    if (saved.server && saved.user && saved.token) {
      try {
        if (new URL(saved.server).host === host) return { username: saved.user, password: saved.token };
      } catch {
        // not a URL: no saved credentials
      }
    }
    return undefined;
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function severityOption(value: string | undefined): Severity | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase() as Severity;
  if (!SEVERITIES.includes(upper) || upper === 'UNKNOWN') {
    throw new InputError(`--fail-on must be one of critical, high, medium, low; got "${value}"`);
  }
  return upper;
}

function humanReport(report: ScanReport): string {
  const c = report.counts;
  const head = `${report.image.registry}/${report.image.repository}@${report.image.digest}\n${report.os ? `os: ${report.os.prettyName ?? `${report.os.id} ${report.os.versionId ?? ''}`}\n` : ''}packages: ${report.packageCount}   critical ${c.CRITICAL}  high ${c.HIGH}  medium ${c.MEDIUM}  low ${c.LOW}  unknown ${c.UNKNOWN}`;
  if (report.findings.length === 0) return `${head}\nno known vulnerabilities`;
  return `${head}\n\n${table(
    ['SEVERITY', 'PACKAGE', 'INSTALLED', 'FIXED', 'ADVISORY'],
    report.findings.map((f) => [f.severity, f.package, f.installedVersion, f.fixedVersion ?? '-', f.id]),
  )}`;
}

export function registerImageCommands(program: Command, ctx: CliContext): void {
  // `slipway build DIR -t REF` shares the `build` command with the pipeline's `build run|list|...`:
  // a first argument that is no sub-command name is the build context.
  const build =
    program.commands.find((c) => c.name() === 'build') ??
    program.command('build').description('Build images and run pipeline builds');
  build
    .command('image <dir>', { isDefault: true })
    .description(
      'Build an image from a Dockerfile (natively without a daemon, or with buildah for RUN) and push it',
    )
    .requiredOption('-t, --tag <ref>', 'image reference host:port/repo:tag (repeatable)', collect)
    .option('-f, --file <path>', 'Dockerfile path (default DIR/Dockerfile)')
    .option('--build-arg <k=v>', 'build argument (repeatable)', collect)
    .option('--target <stage>', 'stage to build')
    .option('--push', 'push to the registry', false)
    .option('--backend <name>', 'auto, native or buildah', 'auto')
    .option('--cache-dir <dir>', 'layer cache directory (default ~/.slipway/build-cache)')
    .option('--username <user>', 'registry user (default $SLIPWAY_REGISTRY_USERNAME or the saved login)')
    .option('--password <secret>', 'registry password or token (default $SLIPWAY_REGISTRY_PASSWORD)')
    .action(
      async (
        dir: string,
        opts: CredentialFlags & {
          tag: string[];
          file?: string;
          buildArg?: string[];
          target?: string;
          push: boolean;
          backend: string;
          cacheDir?: string;
        },
      ) => {
        const buildArgs: Record<string, string> = {};
        for (const kv of opts.buildArg ?? []) {
          const eq = kv.indexOf('=');
          if (eq <= 0) throw new InputError(`--build-arg needs KEY=VALUE, got "${kv}"`);
          buildArgs[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
        for (const t of opts.tag) parseImageReference(t);
        const cacheDir = opts.cacheDir ?? join(defaultDataDir(), 'build-cache');
        const epoch = ctx.io.env.SOURCE_DATE_EPOCH ? Number(ctx.io.env.SOURCE_DATE_EPOCH) : 0;
        if (!Number.isInteger(epoch) || epoch < 0) {
          throw new InputError(
            `SOURCE_DATE_EPOCH must be a whole number of seconds, got "${ctx.io.env.SOURCE_DATE_EPOCH}"`,
          );
        }
        let builder: ImageBuilder;
        if (opts.backend === 'native') builder = new NativeBuilder({ cacheDir, sourceDateEpoch: epoch });
        else if (opts.backend === 'buildah') builder = new BuildahBuilder();
        else if (opts.backend === 'auto') builder = createImageBuilder({ cacheDir, sourceDateEpoch: epoch });
        else throw new InputError(`--backend must be auto, native or buildah; got "${opts.backend}"`);
        const contextDir = resolve(dir);
        const result = await builder.build({
          contextDir,
          ...(opts.file ? { dockerfile: resolve(opts.file) } : {}),
          tags: opts.tag,
          push: opts.push,
          buildArgs,
          ...(opts.target ? { target: opts.target } : {}),
          credentials: credentialsFor(ctx, opts),
          onLog: ctx.json ? undefined : (line) => ctx.io.err(line),
        });
        ctx.print(
          {
            digest: result.digest,
            backend: result.backend,
            tags: opts.tag,
            pushed: opts.push,
            layers: result.layers,
          },
          () =>
            `${opts.push ? 'pushed' : 'built'} ${opts.tag.join(', ')}\ndigest: ${result.digest} (${result.backend})`,
        );
      },
    );

  const scan = program
    .command('scan')
    .description('Scan an image in a registry for known vulnerabilities (OSV database under --data)')
    .argument('[ref]', 'image reference host:port/repo:tag or @sha256:...')
    .option('--data <dir>', 'data directory holding the imported database (default ~/.slipway)')
    .option(
      '--fail-on <severity>',
      'exit with an error when a finding is at or above: critical, high, medium, low',
    )
    .option('--push-sbom', 'also push the CycloneDX SBOM as an OCI referrer of the image', false)
    .option('--json', 'print machine-readable JSON')
    .option('--username <user>', 'registry user')
    .option('--password <secret>', 'registry password or token')
    .action(
      async (
        ref: string | undefined,
        opts: CredentialFlags & { data?: string; failOn?: string; pushSbom: boolean },
      ) => {
        if (!ref)
          throw new InputError('scan needs an image reference, e.g. slipway scan 127.0.0.1:8080/team/app:1');
        const failOn = severityOption(opts.failOn);
        const scanDir = join(opts.data ?? ctx.io.env.SLIPWAY_DATA ?? defaultDataDir(), 'scan');
        const { db } = await loadOsvDatabase(scanDir);
        if (db.size === 0) {
          ctx.io.err(`warning: no advisory database in ${scanDir}; run "slipway scan db import PATH" first`);
        }
        const client = new RegistryClient({ credentials: credentialsFor(ctx, opts) });
        const scanner = new Scanner({ database: db, client });
        const { packages: _p, ...report } = await scanner.scanImage(ref);
        if (opts.pushSbom) await scanner.pushSbom(ref);
        ctx.print(report, () => humanReport(report));
        if (failOn) {
          const verdict = checkPolicy(report, { blockAtOrAbove: failOn });
          if (!verdict.ok) throw new ValidationError(verdict.message);
        }
      },
    );

  scan
    .command('db')
    .description('Manage the OSV advisory database')
    .command('import')
    .description('Import an OSV database (a directory or zip of OSV JSON files) into <data>/scan/')
    .argument('<path>', 'directory, zip or JSON file')
    .option('--data <dir>', 'data directory (default ~/.slipway)')
    .action(async (path: string, _opts: { data?: string }, command: Command) => {
      // `--data` may be taken by the parent `scan` command; read it from either.
      const data = command.optsWithGlobals<{ data?: string }>().data;
      const scanDir = join(data ?? ctx.io.env.SLIPWAY_DATA ?? defaultDataDir(), 'scan');
      const result = await importOsvDatabase(resolve(path), scanDir);
      ctx.print(result, () =>
        [
          `imported ${result.advisories} advisories into ${result.path}`,
          ...Object.entries(result.ecosystems).map(([e, n]) => `  ${e}: ${n}`),
          ...(result.skipped.length ? [`skipped ${result.skipped.length} files (see --json)`] : []),
        ].join('\n'),
      );
    });

  program
    .command('sbom')
    .description("Print an image's software bill of materials (CycloneDX 1.5 JSON)")
    .argument('<ref>', 'image reference host:port/repo:tag or @sha256:...')
    .option('--push', 'also push it as an OCI referrer of the image', false)
    .option('--username <user>', 'registry user')
    .option('--password <secret>', 'registry password or token')
    .action(async (ref: string, opts: CredentialFlags & { push: boolean }) => {
      const client = new RegistryClient({ credentials: credentialsFor(ctx, opts) });
      const { OsvDatabase } = await import('../../scan/index.ts');
      const scanner = new Scanner({ database: new OsvDatabase(), client });
      const bom = await scanner.sbom(ref);
      if (opts.push) {
        const { digest } = await scanner.pushSbom(ref, bom);
        ctx.io.err(`pushed SBOM referrer ${digest}`);
      }
      ctx.io.out(JSON.stringify(bom, null, 2));
    });
}
