// `slipway registry ...`: projects, members, robot accounts, repositories, tags and garbage collection.
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { type CliContext, table } from '../context.ts';

interface Project {
  name: string;
  public: boolean;
  quotaBytes: number | null;
  immutableTags: string[];
  preventVulnerable: { severity: string } | null;
  usageBytes: number;
  createdAt: string;
}

interface Robot {
  name: string;
  project: string;
  permission: string;
  createdAt: string;
  expiresAt: string | null;
  secret?: string;
}

interface Repo {
  name: string;
  project: string;
  tags: number;
  manifests: number;
  createdAt: string;
}

interface Tag {
  tag: string;
  digest: string;
  mediaType: string;
  size: number;
  pushedAt: string;
}

interface GcResult {
  dryRun: boolean;
  deletedBlobs: string[];
  freedBytes: number;
  deletedManifests: { repository: string; digest: string }[];
  removedUploads: number;
}

function bytes(n: number | null): string {
  if (n === null) return 'unlimited';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?$/i.exec(value.trim());
  if (!m)
    throw new InputError(
      `Invalid size ${JSON.stringify(value)}: write e.g. 500MiB, 10GiB or a number of bytes`,
    );
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const factor = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[unit] ?? 1;
  return Math.round(Number(m[1]) * factor);
}

const enc = encodeURIComponent;

export function registerRegistryCommands(program: Command, ctx: CliContext): void {
  const registry = program
    .command('registry')
    .description('Manage the image and chart registry (projects, robots, repositories, GC)');

  const project = registry.command('project').description('Manage registry projects');
  project
    .command('create <name>')
    .description('Create a project (private unless --public)')
    .option('--public', 'allow anonymous pulls')
    .option('--quota <size>', 'storage quota, e.g. 10GiB')
    .option(
      '--immutable <glob...>',
      'tag patterns that cannot be overwritten or deleted, e.g. "v*" or "app:release-*"',
    )
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { public?: boolean; quota?: string; immutable?: string[] }) => {
      const created = await ctx.api<Project>('POST', '/api/v1/registry/projects', {
        name,
        public: opts.public === true,
        ...(opts.quota ? { quotaBytes: parseBytes(opts.quota) } : {}),
        ...(opts.immutable ? { immutableTags: opts.immutable } : {}),
      });
      ctx.print(created, () => `Created ${created.public ? 'public' : 'private'} project ${created.name}`);
    });
  project
    .command('list')
    .description('List the projects you can see')
    .option('--json', 'print JSON')
    .action(async () => {
      const res = await ctx.api<{ items: Project[] }>('GET', '/api/v1/registry/projects');
      ctx.print(res.items, () =>
        table(
          ['NAME', 'VISIBILITY', 'USED', 'QUOTA', 'IMMUTABLE TAGS', 'BLOCK SEVERITY'],
          res.items.map((p) => [
            p.name,
            p.public ? 'public' : 'private',
            bytes(p.usageBytes),
            bytes(p.quotaBytes),
            p.immutableTags.join(' '),
            p.preventVulnerable?.severity ?? '',
          ]),
        ),
      );
    });
  project
    .command('set <name>')
    .description('Change visibility, quota, immutable tags or the vulnerability policy of a project')
    .option('--public', 'allow anonymous pulls')
    .option('--private', 'require credentials to pull')
    .option('--quota <size>', 'storage quota, e.g. 10GiB ("none" removes it)')
    .option('--immutable <glob...>', 'replace the immutable tag patterns ("none" clears them)')
    .option(
      '--prevent-vulnerable <severity>',
      'refuse deploys of images with vulnerabilities at or above low|medium|high|critical ("none" clears)',
    )
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        opts: {
          public?: boolean;
          private?: boolean;
          quota?: string;
          immutable?: string[];
          preventVulnerable?: string;
        },
      ) => {
        const patch: Record<string, unknown> = {};
        if (opts.public) patch.public = true;
        if (opts.private) patch.public = false;
        if (opts.quota) patch.quotaBytes = opts.quota === 'none' ? null : parseBytes(opts.quota);
        if (opts.immutable) patch.immutableTags = opts.immutable.includes('none') ? [] : opts.immutable;
        if (opts.preventVulnerable)
          patch.preventVulnerable =
            opts.preventVulnerable === 'none' ? null : { severity: opts.preventVulnerable };
        const updated = await ctx.api<Project>('PATCH', `/api/v1/registry/projects/${enc(name)}`, patch);
        ctx.print(updated, () => `Updated project ${updated.name}`);
      },
    );
  project
    .command('delete <name>')
    .description('Delete an empty project')
    .action(async (name: string) => {
      await ctx.api('DELETE', `/api/v1/registry/projects/${enc(name)}`);
      ctx.print({ deleted: name }, () => `Deleted project ${name}`);
    });

  const member = registry
    .command('member')
    .description('Manage project members (admin, maintainer, developer, guest)');
  member
    .command('add <project> <user> <role>')
    .description('Give a user a role in a project: admin, maintainer, developer (push+pull) or guest (pull)')
    .option('--json', 'print JSON')
    .action(async (p: string, user: string, role: string) => {
      const added = await ctx.api<{ user: string; role: string }>(
        'POST',
        `/api/v1/registry/projects/${enc(p)}/members`,
        { user, role },
      );
      ctx.print(added, () => `${added.user} is now ${added.role} of ${p}`);
    });
  member
    .command('remove <project> <user>')
    .description('Remove a user from a project')
    .action(async (p: string, user: string) => {
      await ctx.api('DELETE', `/api/v1/registry/projects/${enc(p)}/members/${enc(user)}`);
      ctx.print({ removed: user, project: p }, () => `Removed ${user} from ${p}`);
    });
  member
    .command('list <project>')
    .description('List the members of a project')
    .option('--json', 'print JSON')
    .action(async (p: string) => {
      const res = await ctx.api<{ items: { user: string; role: string }[] }>(
        'GET',
        `/api/v1/registry/projects/${enc(p)}/members`,
      );
      ctx.print(res.items, () =>
        table(
          ['USER', 'ROLE'],
          res.items.map((m) => [m.user, m.role]),
        ),
      );
    });

  const robot = registry.command('robot').description('Manage robot accounts (credentials for CI)');
  robot
    .command('create <project> <name>')
    .description('Create a robot account that may pull (or push with --push); its secret is shown once')
    .option('--push', 'allow pushes as well as pulls')
    .option('--expires-in-days <days>', 'lifetime in days (default: no expiry)')
    .option('--json', 'print JSON')
    .action(async (p: string, name: string, opts: { push?: boolean; expiresInDays?: string }) => {
      const created = await ctx.api<Robot>('POST', `/api/v1/registry/projects/${enc(p)}/robots`, {
        name,
        permission: opts.push ? 'push' : 'pull',
        ...(opts.expiresInDays ? { expiresInDays: Number(opts.expiresInDays) } : {}),
      });
      ctx.print(
        created,
        () =>
          `Robot ${created.name} (${created.permission})\nsecret: ${created.secret}\n(the secret is not shown again; use it with docker/skopeo/helm login as the password)`,
      );
    });
  robot
    .command('list <project>')
    .description('List the robot accounts of a project')
    .option('--json', 'print JSON')
    .action(async (p: string) => {
      const res = await ctx.api<{ items: Robot[] }>('GET', `/api/v1/registry/projects/${enc(p)}/robots`);
      ctx.print(res.items, () =>
        table(
          ['NAME', 'PERMISSION', 'CREATED', 'EXPIRES'],
          res.items.map((r) => [r.name, r.permission, r.createdAt, r.expiresAt ?? 'never']),
        ),
      );
    });
  robot
    .command('delete <project> <name>')
    .description('Delete a robot account')
    .action(async (p: string, name: string) => {
      await ctx.api('DELETE', `/api/v1/registry/projects/${enc(p)}/robots/${enc(name)}`);
      ctx.print({ deleted: name, project: p }, () => `Deleted robot ${name}`);
    });

  registry
    .command('repos [project]')
    .description('List repositories (of one project, or of every project you can see)')
    .option('--json', 'print JSON')
    .action(async (p: string | undefined) => {
      const res = await ctx.api<{ items: Repo[] }>(
        'GET',
        `/api/v1/registry/repositories${p ? `?project=${enc(p)}` : ''}`,
      );
      ctx.print(res.items, () =>
        table(
          ['REPOSITORY', 'TAGS', 'MANIFESTS', 'CREATED'],
          res.items.map((r) => [r.name, r.tags, r.manifests, r.createdAt]),
        ),
      );
    });

  registry
    .command('tags <repository>')
    .description('List the tags of a repository (PROJECT/NAME) with their digests')
    .option('--json', 'print JSON')
    .action(async (repo: string) => {
      const path = repo.split('/').map(enc).join('/');
      const res = await ctx.api<{ items: Tag[] }>('GET', `/api/v1/registry/repositories/${path}/tags`);
      ctx.print(res.items, () =>
        table(
          ['TAG', 'DIGEST', 'SIZE', 'PUSHED'],
          res.items.map((t) => [t.tag, t.digest, bytes(t.size), t.pushedAt]),
        ),
      );
    });

  registry
    .command('gc')
    .description('Delete blobs no manifest references (safe while pushes run; admin)')
    .option('--dry-run', 'only report what would be deleted')
    .option('--delete-untagged', 'also delete manifests that no tag or index refers to')
    .option('--json', 'print JSON')
    .action(async (opts: { dryRun?: boolean; deleteUntagged?: boolean }) => {
      const res = await ctx.api<GcResult>('POST', '/api/v1/registry/gc', {
        dryRun: opts.dryRun === true,
        deleteUntagged: opts.deleteUntagged === true,
      });
      ctx.print(
        res,
        () =>
          `${res.dryRun ? 'Would delete' : 'Deleted'} ${res.deletedBlobs.length} blobs (${bytes(res.freedBytes)}), ${res.deletedManifests.length} untagged manifests, ${res.removedUploads} stale uploads`,
      );
    });
}
