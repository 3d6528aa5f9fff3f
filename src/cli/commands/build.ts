// `slipway pipeline list`, `slipway build run|list|show|logs|cancel|rerun|approve` and `slipway credential ...`.
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { type CliContext, table } from '../context.ts';

interface Stage {
  name: string;
  status: string;
  steps: { name: string; status: string; error?: string }[];
  parallel: Stage[];
}

interface Build {
  repo: string;
  number: number;
  status: string;
  trigger: string;
  ref: string;
  sha: string;
  who: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  images: string[];
  stages: Stage[];
}

const FINISHED = ['success', 'failed', 'cancelled', 'interrupted'];

function repoArg(value: string): string {
  if (!/^[^/\s]+\/[^/\s]+$/.test(value))
    throw new InputError(`Write the repository as ORG/REPO, not "${value}"`);
  return value.replace(/\.git$/, '');
}

function numberArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InputError(`Build number must be a positive whole number, not "${value}"`);
  return n;
}

function shortRef(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, '');
}

function duration(b: Build): string {
  if (!b.startedAt) return '';
  const end = b.finishedAt ? Date.parse(b.finishedAt) : Date.now();
  return `${((end - Date.parse(b.startedAt)) / 1000).toFixed(1)}s`;
}

function describeStages(stages: Stage[], indent = ''): string[] {
  const out: string[] = [];
  for (const s of stages) {
    out.push(`${indent}${s.status.padEnd(11)} ${s.name}`);
    for (const st of s.steps)
      out.push(`${indent}  ${st.status.padEnd(11)} ${st.name}${st.error ? ` — ${st.error}` : ''}`);
    out.push(...describeStages(s.parallel, `${indent}  `));
  }
  return out;
}

export function registerBuildCommands(program: Command, ctx: CliContext): void {
  const pipeline = program
    .command('pipeline')
    .description('Pipelines: .slipway/pipeline.yaml in service repositories');
  pipeline
    .command('list')
    .description('List repositories with a pipeline, their triggers and last build')
    .option('--json', 'print JSON')
    .action(async () => {
      const res = await ctx.api<{
        items: {
          repo: string;
          valid: boolean;
          error?: string;
          triggers?: { branches: string[]; tags: string[] };
          lastBuild?: number;
          lastStatus?: string;
        }[];
      }>('GET', '/api/v1/pipelines');
      ctx.print(res, () =>
        res.items.length === 0
          ? 'No pipelines yet: push a repository with .slipway/pipeline.yaml'
          : table(
              ['REPO', 'TRIGGERS', 'LAST BUILD', 'STATUS'],
              res.items.map((p) => [
                p.repo,
                p.valid
                  ? [
                      ...(p.triggers?.branches ?? []),
                      ...(p.triggers?.tags ?? []).map((t) => `tag:${t}`),
                    ].join(' ')
                  : `invalid: ${p.error ?? ''}`,
                p.lastBuild ? `#${p.lastBuild}` : '',
                p.lastStatus ?? '',
              ]),
            ),
      );
    });

  const build = program.command('build').description('Run, list, follow and cancel builds');
  build
    .command('run <org/repo>')
    .description('Start a build of a branch (or ref) by hand')
    .option('--branch <branch>', 'branch to build (default: the default branch)')
    .option('--ref <ref>', 'full ref to build, e.g. refs/tags/v1.0')
    .option('--follow', 'stream the log until the build finishes')
    .action(async (repo: string, o: { branch?: string; ref?: string; follow?: boolean }) => {
      const b = await ctx.api<Build>('POST', `/api/v1/pipelines/${repoArg(repo)}/run`, {
        ...(o.branch ? { branch: o.branch } : {}),
        ...(o.ref ? { ref: o.ref } : {}),
      });
      if (o.follow && !ctx.json) {
        ctx.io.out(`Build ${b.repo} #${b.number} queued`);
        await follow(ctx, b.repo, b.number);
        return;
      }
      ctx.print(b, () => `Build ${b.repo} #${b.number} queued (${shortRef(b.ref)} at ${b.sha.slice(0, 12)})`);
    });

  build
    .command('list <org/repo>')
    .description('List builds of a repository, newest first')
    .option('--limit <n>', 'how many (default 20)', '20')
    .option('--json', 'print JSON')
    .action(async (repo: string, o: { limit: string }) => {
      const res = await ctx.api<{ items: Build[] }>(
        'GET',
        `/api/v1/builds/${repoArg(repo)}?limit=${Number(o.limit) || 20}`,
      );
      ctx.print(res, () =>
        res.items.length === 0
          ? 'No builds yet'
          : table(
              ['#', 'STATUS', 'REF', 'COMMIT', 'TRIGGER', 'BY', 'DURATION'],
              res.items.map((b) => [
                b.number,
                b.status,
                shortRef(b.ref),
                b.sha.slice(0, 12),
                b.trigger,
                b.who,
                duration(b),
              ]),
            ),
      );
    });

  build
    .command('show <org/repo> <number>')
    .description('Show a build with its stages and steps')
    .option('--json', 'print JSON')
    .action(async (repo: string, n: string) => {
      const b = await ctx.api<Build>('GET', `/api/v1/builds/${repoArg(repo)}/${numberArg(n)}`);
      ctx.print(b, () =>
        [
          `Build ${b.repo} #${b.number}: ${b.status}${b.error ? ` — ${b.error}` : ''}`,
          `${shortRef(b.ref)} at ${b.sha.slice(0, 12)}, ${b.trigger} by ${b.who}, ${duration(b)}`,
          ...b.images.map((i) => `image ${i}`),
          ...describeStages(b.stages),
        ].join('\n'),
      );
    });

  build
    .command('logs <org/repo> <number>')
    .description('Print a build log; --follow keeps printing until the build finishes')
    .option('-f, --follow', 'follow the log')
    .option('--json', 'print JSON ({ log })')
    .action(async (repo: string, n: string, o: { follow?: boolean }) => {
      const r = repoArg(repo);
      const num = numberArg(n);
      if (o.follow && !ctx.json) {
        await follow(ctx, r, num);
        return;
      }
      const text = await ctx.api<string>('GET', `/api/v1/builds/${r}/${num}/logs`);
      ctx.print({ log: text ?? '' }, () => String(text ?? '').trimEnd());
    });

  build
    .command('cancel <org/repo> <number>')
    .description('Cancel a queued or running build (kills its processes)')
    .action(async (repo: string, n: string) => {
      const b = await ctx.api<Build>('POST', `/api/v1/builds/${repoArg(repo)}/${numberArg(n)}/cancel`);
      ctx.print(b, () => `Cancelling ${b.repo} #${b.number}`);
    });

  build
    .command('rerun <org/repo> <number>')
    .description('Run the same commit and ref again as a new build')
    .action(async (repo: string, n: string) => {
      const b = await ctx.api<Build>('POST', `/api/v1/builds/${repoArg(repo)}/${numberArg(n)}/rerun`);
      ctx.print(b, () => `Build ${b.repo} #${b.number} queued`);
    });

  build
    .command('approve <org/repo> <number>')
    .description('Approve the approval step a build waits on')
    .action(async (repo: string, n: string) => {
      const b = await ctx.api<Build>('POST', `/api/v1/builds/${repoArg(repo)}/${numberArg(n)}/approve`);
      ctx.print(b, () => `Approved ${b.repo} #${b.number}`);
    });

  const cred = program
    .command('credential')
    .description('Secrets that pipelines may use (encrypted at rest, masked in logs)');
  cred
    .command('create <name>')
    .description('Store a secret (--value, or --value-file) or a username/password pair')
    .option('--value <value>', 'secret value')
    .option('--value-file <file>', 'read the value from a file (kind file)')
    .option('--username <user>', 'user name (with --password)')
    .option('--password <password>', 'password (with --username)')
    .option('--description <text>', 'what it is for')
    .option('--replace', 'overwrite an existing credential')
    .action(
      async (
        name: string,
        o: {
          value?: string;
          valueFile?: string;
          username?: string;
          password?: string;
          description?: string;
          replace?: boolean;
        },
      ) => {
        const body: Record<string, unknown> = { name, replace: o.replace === true };
        if (o.valueFile) {
          body.kind = 'file';
          body.value = (await import('node:fs')).readFileSync(o.valueFile, 'utf8');
        } else if (o.username) {
          body.kind = 'usernamePassword';
          body.username = o.username;
          body.password = o.password;
        } else body.value = o.value;
        if (o.description) body.description = o.description;
        const info = await ctx.api<{ name: string; kind: string }>('POST', '/api/v1/credentials', body);
        ctx.print(info, () => `Stored credential ${info.name} (${info.kind})`);
      },
    );
  cred
    .command('list')
    .description('List credentials (names only)')
    .option('--json', 'print JSON')
    .action(async () => {
      const res = await ctx.api<{
        items: { name: string; kind: string; description: string; createdBy: string }[];
      }>('GET', '/api/v1/credentials');
      ctx.print(res, () =>
        table(
          ['NAME', 'KIND', 'DESCRIPTION', 'CREATED BY'],
          res.items.map((c) => [c.name, c.kind, c.description, c.createdBy]),
        ),
      );
    });
  cred
    .command('delete <name>')
    .description('Delete a credential')
    .action(async (name: string) => {
      await ctx.api('DELETE', `/api/v1/credentials/${encodeURIComponent(name)}`);
      ctx.print({ deleted: name }, () => `Deleted credential ${name}`);
    });
}

/** Prints a build's log as it grows until the build finishes (polls the log endpoint once a second). */
async function follow(ctx: CliContext, repo: string, number: number): Promise<void> {
  let printed = 0;
  for (;;) {
    const text = String((await ctx.api<string>('GET', `/api/v1/builds/${repo}/${number}/logs`)) ?? '');
    if (text.length > printed) {
      const chunk = text.slice(printed).replace(/\n$/, '');
      if (chunk) ctx.io.out(chunk);
      printed = text.length;
    }
    const b = await ctx.api<Build>('GET', `/api/v1/builds/${repo}/${number}`);
    if (FINISHED.includes(b.status)) {
      const rest = String((await ctx.api<string>('GET', `/api/v1/builds/${repo}/${number}/logs`)) ?? '');
      if (rest.length > printed) ctx.io.out(rest.slice(printed).replace(/\n$/, ''));
      if (b.status !== 'success') process.exitCode = 1;
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
