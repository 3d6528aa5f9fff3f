// `slipway app ...`, `slipway env ...` and `slipway promote ...`: GitOps applications from the command line.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { type CliContext, table } from '../context.ts';

interface AppView {
  name: string;
  spec: {
    environment: string;
    destination: { name: string; namespace: string };
    sources: { repoURL: string; path?: string; targetRevision: string }[];
    syncPolicy: { automated: unknown };
  };
  status: {
    sync: string;
    health: string;
    revision: string | null;
    message: string;
    comparisonError?: { message: string; location?: { file?: string; line?: number } };
    resources: {
      kind: string;
      name: string;
      namespace?: string;
      sync: string;
      health?: string;
      message?: string;
      requiresPruning?: boolean;
    }[];
    operation?: { phase: string; message: string; initiatedBy: string };
  };
}

interface History {
  id: number;
  revision: string | null;
  author: string | null;
  message: string | null;
  initiatedBy: string;
  kind: string;
  result: string;
  startedAt: string;
  durationMs: number | null;
  detail: string | null;
}

function readSpec(file: string): { yaml: string; file: string } {
  try {
    return { yaml: file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8'), file };
  } catch (err) {
    throw new InputError(`Cannot read ${file}: ${(err as Error).message}`);
  }
}

const short = (sha: string | null | undefined) => (sha ? sha.slice(0, 12) : '');
const enc = encodeURIComponent;

function describeApp(a: AppView): string {
  const lines = [
    `Name:         ${a.name}`,
    `Environment:  ${a.spec.environment}`,
    `Source:       ${a.spec.sources.map((s) => `${s.repoURL} ${s.path ?? ''}@${s.targetRevision}`).join(', ')}`,
    `Destination:  ${a.spec.destination.name}/${a.spec.destination.namespace}`,
    `Sync policy:  ${a.spec.syncPolicy.automated ? 'automated' : 'manual'}`,
    `Sync status:  ${a.status.sync} (${short(a.status.revision)})`,
    `Health:       ${a.status.health}`,
    `Message:      ${a.status.message}`,
  ];
  if (a.status.operation)
    lines.push(
      `Last sync:    ${a.status.operation.phase} by ${a.status.operation.initiatedBy}: ${a.status.operation.message}`,
    );
  if (a.status.resources.length) {
    lines.push(
      '',
      table(
        ['KIND', 'NAMESPACE', 'NAME', 'STATUS', 'HEALTH', 'MESSAGE'],
        a.status.resources.map((r) => [
          r.kind,
          r.namespace ?? '',
          r.name,
          r.requiresPruning ? 'OutOfSync (prune)' : r.sync,
          r.health ?? '',
          r.message ?? '',
        ]),
      ),
    );
  }
  return lines.join('\n');
}

export function registerAppCommands(program: Command, ctx: CliContext): void {
  const app = program.command('app').description('GitOps applications: what runs where, synced from git');

  app
    .command('create')
    .description('Register applications from a YAML file (Slipway or Argo CD Application manifests)')
    .requiredOption('-f, --file <file>', 'YAML file ("-" for standard input)')
    .option('--upsert', 'update applications that already exist')
    .action(async (opts: { file: string; upsert?: boolean }) => {
      const res = await ctx.api<AppView | { items: AppView[] }>(
        'POST',
        `/api/v1/apps${opts.upsert ? '?upsert=true' : ''}`,
        readSpec(opts.file),
      );
      const items = 'items' in res ? res.items : [res];
      ctx.print(res, () =>
        items.map((a) => `application ${a.name} created (${a.spec.environment})`).join('\n'),
      );
    });

  app
    .command('apply')
    .description('Create or update applications from a YAML file')
    .requiredOption('-f, --file <file>', 'YAML file ("-" for standard input)')
    .action(async (opts: { file: string }) => {
      const res = await ctx.api<AppView | { items: AppView[] }>(
        'POST',
        '/api/v1/apps?upsert=true',
        readSpec(opts.file),
      );
      const items = 'items' in res ? res.items : [res];
      ctx.print(res, () => items.map((a) => `application ${a.name} configured`).join('\n'));
    });

  app
    .command('list')
    .description('List applications with their sync and health status')
    .option('--env <name>', 'only this environment')
    .option('--json', 'print JSON')
    .action(async (opts: { env?: string }) => {
      const res = await ctx.api<{ items: AppView[] }>(
        'GET',
        `/api/v1/apps${opts.env ? `?environment=${enc(opts.env)}` : ''}`,
      );
      ctx.print(res, () =>
        table(
          ['NAME', 'ENV', 'CLUSTER', 'NAMESPACE', 'SYNC', 'HEALTH', 'REVISION', 'POLICY'],
          res.items.map((a) => [
            a.name,
            a.spec.environment,
            a.spec.destination.name,
            a.spec.destination.namespace,
            a.status.sync,
            a.status.health,
            short(a.status.revision),
            a.spec.syncPolicy.automated ? 'auto' : 'manual',
          ]),
        ),
      );
    });

  app
    .command('get <name>')
    .description('Show an application: source, status, health and its resources')
    .option('--refresh', 'compare with git and the cluster first')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { refresh?: boolean }) => {
      const res = opts.refresh
        ? await ctx.api<AppView>('POST', `/api/v1/apps/${enc(name)}/refresh`)
        : await ctx.api<AppView>('GET', `/api/v1/apps/${enc(name)}`);
      ctx.print(res, () => describeApp(res));
    });

  app
    .command('diff <name>')
    .description('Show what a sync would change (git vs the live cluster)')
    .option('--json', 'print JSON')
    .action(async (name: string) => {
      const res = await ctx.api<{
        revision: string;
        resources: { kind: string; name: string; namespace?: string; summary: string[] }[];
      }>('GET', `/api/v1/apps/${enc(name)}/diff`);
      ctx.print(res, () =>
        res.resources.length === 0
          ? `${name} is in sync with ${short(res.revision)}`
          : res.resources
              .map((r) =>
                [
                  `===== ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name} =====`,
                  ...r.summary.map((l) => `  ${l}`),
                ].join('\n'),
              )
              .join('\n'),
      );
    });

  app
    .command('sync <name>')
    .description('Apply what git declares to the cluster (needs deploy rights on the environment)')
    .option('--prune', 'delete resources that are no longer in git')
    .option('--dry-run', 'only show what would change')
    .option('--resource <kind/name...>', 'only these resources')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { prune?: boolean; dryRun?: boolean; resource?: string[] }) => {
      const res = await ctx.api<{
        phase: string;
        message: string;
        revision: string | null;
        historyId?: number;
      }>('POST', `/api/v1/apps/${enc(name)}/sync`, {
        prune: opts.prune === true,
        dryRun: opts.dryRun === true,
        ...(opts.resource ? { resources: opts.resource } : {}),
      });
      ctx.print(res, () => `${name}: ${res.phase} — ${res.message}`);
      if (res.phase !== 'Succeeded') process.exitCode = 1;
    });

  app
    .command('rollback <name> <id>')
    .description('Roll back to a history entry (a git revert commit for automated apps)')
    .option('--json', 'print JSON')
    .action(async (name: string, id: string) => {
      const res = await ctx.api<{ phase: string; message: string; commit?: string }>(
        'POST',
        `/api/v1/apps/${enc(name)}/rollback`,
        { id: Number(id) },
      );
      ctx.print(
        res,
        () =>
          `${name}: rollback ${res.phase}${res.commit ? ` (commit ${short(res.commit)})` : ''} — ${res.message}`,
      );
      if (res.phase !== 'Succeeded') process.exitCode = 1;
    });

  app
    .command('history <name>')
    .description('List the syncs of an application: revision, author, who started it and the result')
    .option('--json', 'print JSON')
    .action(async (name: string) => {
      const res = await ctx.api<{ items: History[] }>('GET', `/api/v1/apps/${enc(name)}/history`);
      ctx.print(res, () =>
        table(
          ['ID', 'STARTED', 'KIND', 'BY', 'REVISION', 'AUTHOR', 'RESULT', 'DURATION', 'MESSAGE'],
          res.items.map((h) => [
            h.id,
            h.startedAt,
            h.kind,
            h.initiatedBy,
            short(h.revision),
            h.author ?? '',
            h.result,
            h.durationMs === null ? '' : `${(h.durationMs / 1000).toFixed(1)}s`,
            h.message ?? '',
          ]),
        ),
      );
    });

  app
    .command('tree <name>')
    .description(
      'Show the live resources as a tree (Ingress → Service → Pods, Deployment → ReplicaSet → Pods)',
    )
    .option('--json', 'print JSON')
    .action(async (name: string) => {
      const res = await ctx.api<{
        items: { id: string; kind: string; name: string; health?: string; parents: string[] }[];
      }>('GET', `/api/v1/apps/${enc(name)}/tree`);
      ctx.print(res, () => {
        const byParent = new Map<string, typeof res.items>();
        for (const n of res.items)
          for (const p of n.parents.length ? n.parents : [''])
            byParent.set(p, [...(byParent.get(p) ?? []), n]);
        const out: string[] = [];
        const walk = (id: string, depth: number, seen: Set<string>) => {
          for (const n of byParent.get(id) ?? []) {
            if (seen.has(n.id)) continue;
            out.push(`${'  '.repeat(depth)}${n.kind}/${n.name}${n.health ? ` (${n.health})` : ''}`);
            walk(n.id, depth + 1, new Set([...seen, n.id]));
          }
        };
        walk('', 0, new Set());
        return out.join('\n');
      });
    });

  app
    .command('delete <name>')
    .description('Delete an application (and, unless --keep-resources, what it deployed)')
    .option('--keep-resources', 'leave the deployed resources in the cluster')
    .action(async (name: string, opts: { keepResources?: boolean }) => {
      await ctx.api('DELETE', `/api/v1/apps/${enc(name)}${opts.keepResources ? '?cascade=false' : ''}`);
      ctx.print({ deleted: name }, () => `application ${name} deleted`);
    });

  const env = program
    .command('env')
    .description('Environments: who may deploy, protection, auto-sync and sync windows');
  env
    .command('list')
    .description('List environments')
    .option('--json', 'print JSON')
    .action(async () => {
      const res = await ctx.api<{
        items: {
          name: string;
          protected: boolean;
          autoSync: boolean;
          requireApproval: boolean;
          syncWindows: unknown[];
        }[];
      }>('GET', '/api/v1/envs');
      ctx.print(res, () =>
        table(
          ['NAME', 'PROTECTED', 'AUTO-SYNC', 'APPROVAL', 'WINDOWS'],
          res.items.map((e) => [
            e.name,
            String(e.protected),
            String(e.autoSync),
            String(e.requireApproval),
            e.syncWindows.length,
          ]),
        ),
      );
    });
  env
    .command('create <name>')
    .description('Create or update an environment')
    .option('--protected', 'only users with deploy rights on it may sync (like prod)')
    .option('--no-auto-sync', 'never sync automatically, even for automated apps')
    .option('--auto-sync', 'allow automated apps to sync by themselves')
    .option('--require-approval', 'promotions into it wait for a second user to approve')
    .option(
      '--window <kind,cron,duration[,manual]>',
      'sync window, e.g. "deny,0 22 * * *,8h" (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--description <text>', 'description')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        opts: {
          protected?: boolean;
          autoSync?: boolean;
          requireApproval?: boolean;
          window: string[];
          description?: string;
        },
      ) => {
        const syncWindows = opts.window.map((w) => {
          const [kind, schedule, duration, manual] = w.split(',').map((x) => x.trim());
          if (!kind || !schedule || !duration)
            throw new InputError(`Invalid --window "${w}": write kind,cron,duration[,manual]`);
          return { kind, schedule, duration, manualSync: manual === 'manual' || manual === 'true' };
        });
        const res = await ctx.api<{ name: string }>('PUT', `/api/v1/envs/${enc(name)}`, {
          ...(opts.protected ? { protected: true } : {}),
          ...(opts.autoSync !== undefined ? { autoSync: opts.autoSync } : {}),
          ...(opts.requireApproval ? { requireApproval: true } : {}),
          ...(syncWindows.length ? { syncWindows } : {}),
          ...(opts.description ? { description: opts.description } : {}),
        });
        ctx.print(res, () => `environment ${res.name} saved`);
      },
    );

  const promote = program
    .command('promote [service]')
    .description(
      "Copy a service's image tag from one environment to another as a commit (e.g. --from dev --to prod)",
    )
    .option('--from <env>', 'source environment')
    .option('--to <env>', 'target environment')
    .option('--tag <tag>', "promote this tag instead of the source's current one")
    .option('--json', 'print JSON')
    .action(async (service: string | undefined, opts: { from?: string; to?: string; tag?: string }) => {
      if (!service || !opts.from || !opts.to)
        throw new InputError('Usage: slipway promote SERVICE --from ENV --to ENV');
      const res = await ctx.api<{
        id: number;
        state: string;
        tag: string;
        commit: string | null;
        message: string | null;
      }>('POST', '/api/v1/promotions', {
        service,
        from: opts.from,
        to: opts.to,
        ...(opts.tag ? { tag: opts.tag } : {}),
      });
      ctx.print(res, () =>
        res.state === 'pending'
          ? `promotion #${res.id} of ${service}:${res.tag} to ${opts.to} waits for approval (slipway promote approve ${res.id})`
          : `promoted ${service}:${res.tag} to ${opts.to} (commit ${short(res.commit)})`,
      );
    });
  promote
    .command('list')
    .description('List promotions')
    .option('--json', 'print JSON')
    .action(async () => {
      const res = await ctx.api<{
        items: {
          id: number;
          service: string;
          from: string;
          to: string;
          tag: string;
          state: string;
          requestedBy: string;
          approvedBy: string | null;
        }[];
      }>('GET', '/api/v1/promotions');
      ctx.print(res, () =>
        table(
          ['ID', 'SERVICE', 'FROM', 'TO', 'TAG', 'STATE', 'BY', 'APPROVED BY'],
          res.items.map((p) => [
            p.id,
            p.service,
            p.from,
            p.to,
            p.tag,
            p.state,
            p.requestedBy,
            p.approvedBy ?? '',
          ]),
        ),
      );
    });
  promote
    .command('approve <id>')
    .description('Approve a pending promotion (a second user with approve rights on the target)')
    .option('--reject', 'reject it instead')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { reject?: boolean }) => {
      const res = await ctx.api<{ id: number; state: string; commit: string | null }>(
        'POST',
        `/api/v1/promotions/${enc(id)}/${opts.reject ? 'reject' : 'approve'}`,
      );
      ctx.print(
        res,
        () => `promotion #${res.id} ${res.state}${res.commit ? ` (commit ${short(res.commit)})` : ''}`,
      );
    });
}
