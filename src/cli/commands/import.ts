// `slipway import compose`: docker-compose / Rancher 1.6 services → Helm charts in the GitOps layout.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConflictError, InputError, writeFileAtomicSync } from '../../core/index.ts';
import { importCompose } from '../../migrate/index.ts';
import type { CliContext } from '../context.ts';

export function registerImportCommands(program: Command, ctx: CliContext): void {
  const imp = program.command('import').description('Bring existing deployments onto Slipway');
  imp
    .command('compose <file>')
    .description(
      'Turn docker-compose (Rancher 1.6) services into Helm charts with per-environment values (<env>/<service>/)',
    )
    .requiredOption('--out <dir>', 'directory of the GitOps repository to write into')
    .option('--service <name>', 'import only this service')
    .option('--env <names>', 'comma-separated environments to lay out', 'dev,prod')
    .option('--force', 'overwrite files that already exist')
    .option('--json', 'print JSON')
    .action((file: string, opts: { out: string; service?: string; env: string; force?: boolean }) => {
      const path = resolve(file);
      if (!existsSync(path))
        throw new InputError(`Compose file ${file} does not exist`, { location: { file } });
      const text = readFileSync(path, 'utf8');
      const envFiles: Record<string, string> = {};
      for (const m of text.matchAll(/env_file:\s*(?:\[([^\]]*)\]|(\S+))|^\s*-\s*(\S+\.env)\s*$/gm)) {
        for (const ref of (m[1] ?? m[2] ?? m[3] ?? '')
          .split(',')
          .map((s) => s.trim().replace(/^['"]|['"]$/g, ''))) {
          const full = resolve(dirname(path), ref);
          if (ref && existsSync(full)) envFiles[ref] = readFileSync(full, 'utf8');
        }
      }
      const result = importCompose(text, {
        file,
        ...(opts.service ? { service: opts.service } : {}),
        environments: opts.env
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        envFiles,
      });
      const out = resolve(opts.out);
      const clashes = Object.keys(result.files).filter((f) => existsSync(join(out, f)));
      if (clashes.length && !opts.force) {
        throw new ConflictError(
          `${clashes.length} file(s) already exist under ${opts.out} (first: ${clashes[0]}); use --force to overwrite`,
        );
      }
      for (const [rel, content] of Object.entries(result.files)) {
        mkdirSync(dirname(join(out, rel)), { recursive: true });
        writeFileAtomicSync(join(out, rel), content);
      }
      ctx.print(
        { out, services: result.services, files: Object.keys(result.files), warnings: result.warnings },
        () =>
          [
            `Imported ${result.services.length} service(s) into ${opts.out}: ${result.services.join(', ')}`,
            `Wrote ${Object.keys(result.files).length} files (${opts.env} × chart, values.yaml, templates/).`,
            ...(result.warnings.length ? ['', 'Not translated (review these):'] : []),
            ...result.warnings.map(
              (w) => `  ${file}${w.line ? `:${w.line}` : ''} ${w.service}.${w.key}: ${w.message}`,
            ),
          ].join('\n'),
      );
    });
}
