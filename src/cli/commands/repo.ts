// `slipway repo create|list|delete|sync`: git repositories served at /git/ORG/NAME.git.
import type { Command } from 'commander';
import { type CliContext, table } from '../context.ts';
import { readSecret } from '../prompt.ts';

interface RepoCredential {
  id: number;
  url: string;
  type: string;
  username: string;
  createdBy: string;
  createdAt: string;
}

interface Repo {
  repo: string;
  createdAt: string;
  createdBy: string;
  cloneUrl: string;
  external?: { url: string; provider: string; poll: boolean };
}

export function registerRepoCommands(program: Command, ctx: CliContext): void {
  const repo = program.command('repo').description('Manage git repositories (served at /git/ORG/NAME.git)');

  repo
    .command('create <org/name>')
    .description(
      'Create an empty repository, or with --url a mirror of an external one (GitHub, Gitea, GitLab, any git URL)',
    )
    .option('--url <url>', 'mirror this external repository (https://, ssh://, git@host:path)')
    .option('--provider <provider>', 'github, gitea, gitlab or git (for webhooks and commit statuses)')
    .option('--webhook-secret <secret>', 'shared secret of push webhooks sent to /api/v1/hooks/<provider>')
    .option('--token <token>', 'HTTPS token for fetching')
    .option('--ssh-key-file <file>', 'SSH deploy key for fetching')
    .option('--status-api-url <url>', 'API base for commit statuses, e.g. https://api.github.com')
    .option('--status-token <token>', 'token for commit statuses (default: --token)')
    .option('--no-poll', 'do not poll the external repository')
    .option('--default-branch <branch>', 'initial branch of a new repository (default main)')
    .action(
      async (
        name: string,
        o: {
          url?: string;
          provider?: string;
          webhookSecret?: string;
          token?: string;
          sshKeyFile?: string;
          statusApiUrl?: string;
          statusToken?: string;
          poll: boolean;
          defaultBranch?: string;
        },
      ) => {
        const body: Record<string, unknown> = { name };
        if (o.defaultBranch) body.defaultBranch = o.defaultBranch;
        if (o.url) {
          body.url = o.url;
          body.poll = o.poll;
          if (o.provider) body.provider = o.provider;
          if (o.webhookSecret) body.webhookSecret = o.webhookSecret;
          if (o.token) body.token = o.token;
          if (o.statusApiUrl) body.statusApiUrl = o.statusApiUrl;
          if (o.statusToken) body.statusToken = o.statusToken;
          if (o.sshKeyFile) body.sshKey = (await import('node:fs')).readFileSync(o.sshKeyFile, 'utf8');
        }
        const r = await ctx.api<Repo>('POST', '/api/v1/repos', body);
        ctx.print(r, () =>
          r.external
            ? `Created mirror ${r.repo} of ${r.external.url}\nclone: ${r.cloneUrl}`
            : `Created ${r.repo}\nclone: git clone ${r.cloneUrl}`,
        );
      },
    );

  repo
    .command('list')
    .description('List repositories (with --creds: the registered repository credentials, without secrets)')
    .option('--creds', 'list repository credentials instead (admins)')
    .option('--json', 'print JSON')
    .action(async (o: { creds?: boolean }) => {
      if (o.creds) {
        const creds = await ctx.api<{ items: RepoCredential[] }>('GET', '/api/v1/repo-creds');
        ctx.print(creds, () =>
          creds.items.length === 0
            ? 'No repository credentials. Add one with: slipway repo add URL --username USER --password-stdin'
            : table(
                ['ID', 'URL PREFIX', 'TYPE', 'USERNAME', 'ADDED BY', 'ADDED'],
                creds.items.map((c) => [c.id, c.url, c.type, c.username, c.createdBy, c.createdAt]),
              ),
        );
        return;
      }
      const res = await ctx.api<{ items: Repo[] }>('GET', '/api/v1/repos');
      ctx.print(res, () =>
        res.items.length === 0
          ? 'No repositories yet. Create one with: slipway repo create ORG/NAME'
          : table(
              ['REPO', 'CLONE URL', 'MIRROR OF', 'CREATED BY'],
              res.items.map((r) => [r.repo, r.cloneUrl, r.external?.url ?? '', r.createdBy]),
            ),
      );
    });

  repo
    .command('add <url>')
    .description(
      'Register credentials for every repository under a URL prefix: git over https://, a Helm repository (https://), or an OCI registry (oci://host/path). Admins only; stored encrypted',
    )
    .requiredOption(
      '--username <user>',
      'user name (for a token: the name the host expects, e.g. x-access-token)',
    )
    .option('--password-stdin', 'read the password or token from standard input')
    .option('--json', 'print JSON')
    .action(async (url: string, o: { username: string; passwordStdin?: boolean }) => {
      const password = (await readSecret('Password or token: ', { stdin: o.passwordStdin === true })).trim();
      const c = await ctx.api<RepoCredential>('POST', '/api/v1/repo-creds', {
        url,
        username: o.username,
        password,
      });
      ctx.print(c, () => `Credentials for ${c.url} (${c.type}, user ${c.username}) saved`);
    });

  repo
    .command('remove <url-or-id>')
    .description('Remove the repository credentials registered for a URL prefix (or by id)')
    .action(async (key: string) => {
      await ctx.api('DELETE', `/api/v1/repo-creds/${encodeURIComponent(key)}`);
      ctx.print({ removed: key }, () => `Removed credentials for ${key}`);
    });

  repo
    .command('delete <org/name>')
    .description('Delete a repository and everything in it')
    .action(async (name: string) => {
      await ctx.api('DELETE', `/api/v1/repos/${name}`);
      ctx.print({ deleted: name }, () => `Deleted ${name}`);
    });

  repo
    .command('sync <org/name>')
    .description('Fetch an external repository now (as polling would) and start builds for new commits')
    .action(async (name: string) => {
      const res = await ctx.api<{ updated: { ref: string; after: string }[] }>(
        'POST',
        `/api/v1/repos/${name}/sync`,
      );
      ctx.print(res, () =>
        res.updated.length === 0
          ? 'Up to date'
          : res.updated.map((u) => `${u.ref} → ${u.after.slice(0, 12)}`).join('\n'),
      );
    });
}
