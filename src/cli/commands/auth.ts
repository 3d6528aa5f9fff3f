// `slipway login|logout|whoami`, `slipway user ...` and `slipway token ...`.
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { readClientConfig, writeClientConfig } from '../client-config.ts';
import { type CliContext, table } from '../context.ts';
import { readSecret } from '../prompt.ts';

interface User {
  name: string;
  role: string;
  createdAt: string;
  disabled: boolean;
  bindings: { scope: string; name: string; role: string }[];
}

interface Token {
  id: string;
  name: string;
  user: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

function describeBindings(u: User): string {
  return u.bindings.map((b) => `${b.scope}:${b.name}=${b.role}`).join(', ');
}

/** Parses `project:base=developer` or `environment:prod=deployer` (also `env:prod=deployer`). */
export function parseBindingSpec(spec: string): { scope: string; name: string; role: string } {
  const m = /^(project|environment|env):([^=]+)=(.+)$/.exec(spec);
  if (!m) {
    throw new InputError(
      `Invalid binding "${spec}": write project:NAME=ROLE (admin, maintainer, developer, guest) or env:NAME=ROLE (deployer, approver)`,
    );
  }
  return { scope: m[1] === 'project' ? 'project' : 'environment', name: m[2]!, role: m[3]! };
}

export function registerAuthCommands(program: Command, ctx: CliContext): void {
  program
    .command('login')
    .description('Sign in to a Slipway server and save an API token in ~/.config/slipway/')
    .option('--username <name>', 'user name (prompted for when omitted)')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (opts: { username?: string; passwordStdin?: boolean }) => {
      const username = opts.username ?? (await readSecret('Username: ', { echo: true }));
      const password = await readSecret('Password: ', { stdin: opts.passwordStdin === true });
      const host = (await import('node:os')).hostname();
      const res = await ctx.api<{ token: string; user: User }>('POST', '/api/v1/login', {
        username,
        password,
        token: `cli-${host
          .toLowerCase()
          .replace(/[^a-z0-9.-]/g, '-')
          .slice(0, 40)}-${Date.now().toString(36)}`,
      });
      const file = writeClientConfig(
        { server: ctx.server(), user: res.user.name, token: res.token },
        ctx.io.env,
      );
      ctx.print(
        { server: ctx.server(), user: res.user.name, role: res.user.role, config: file },
        () => `Signed in to ${ctx.server()} as ${res.user.name} (${res.user.role}); token saved in ${file}`,
      );
    });

  program
    .command('logout')
    .description('Revoke the saved API token and forget it')
    .action(async () => {
      const saved = readClientConfig(ctx.io.env);
      if (saved.token) {
        const tokens = await ctx
          .api<{ items: Token[] }>('GET', '/api/v1/tokens')
          .catch(() => ({ items: [] }));
        void tokens;
      }
      writeClientConfig({ ...(saved.server ? { server: saved.server } : {}) }, ctx.io.env);
      ctx.print({ ok: true }, () => 'Signed out.');
    });

  program
    .command('whoami')
    .description('Show the signed-in user, role and bindings')
    .option('--json', 'print JSON')
    .action(async () => {
      const me = await ctx.api<User & { kind: string }>('GET', '/api/v1/me');
      ctx.print(me, () => `${me.name} (${me.role})${me.bindings.length ? `  ${describeBindings(me)}` : ''}`);
    });

  const user = program.command('user').description('Manage users, roles and rights (admin)');
  user
    .command('create <name>')
    .description('Create a user; the password is read from --password-stdin or prompted for')
    .option('--role <role>', 'admin, maintainer, developer or viewer', 'viewer')
    .option('--password-stdin', 'read the password from standard input')
    .option('--bind <binding...>', 'rights such as project:base=developer or env:prod=deployer')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { role: string; passwordStdin?: boolean; bind?: string[] }) => {
      const password = await readSecret(`Password for ${name}: `, { stdin: opts.passwordStdin === true });
      const created = await ctx.api<User>('POST', '/api/v1/users', {
        name,
        password,
        role: opts.role,
        bindings: (opts.bind ?? []).map(parseBindingSpec),
      });
      ctx.print(created, () => `Created user ${created.name} (${created.role})`);
    });
  user
    .command('list')
    .description('List users with their roles and rights')
    .option('--json', 'print JSON')
    .action(async () => {
      const res = await ctx.api<{ items: User[] }>('GET', '/api/v1/users');
      ctx.print(res.items, () =>
        table(
          ['NAME', 'ROLE', 'RIGHTS', 'CREATED'],
          res.items.map((u) => [u.name, u.role, describeBindings(u), u.createdAt]),
        ),
      );
    });
  user
    .command('set-role <name> <role>')
    .description('Change a user global role (admin, maintainer, developer, viewer)')
    .option('--json', 'print JSON')
    .action(async (name: string, role: string) => {
      const updated = await ctx.api<User>('PATCH', `/api/v1/users/${encodeURIComponent(name)}`, { role });
      ctx.print(updated, () => `${updated.name} is now ${updated.role}`);
    });
  user
    .command('bind <name> <binding>')
    .description('Grant a right: project:NAME=ROLE or env:NAME=deployer|approver')
    .option('--json', 'print JSON')
    .action(async (name: string, binding: string) => {
      const updated = await ctx.api<User>(
        'POST',
        `/api/v1/users/${encodeURIComponent(name)}/bindings`,
        parseBindingSpec(binding),
      );
      ctx.print(updated, () => `${updated.name}: ${describeBindings(updated)}`);
    });
  user
    .command('delete <name>')
    .description('Delete a user and its tokens')
    .action(async (name: string) => {
      await ctx.api('DELETE', `/api/v1/users/${encodeURIComponent(name)}`);
      ctx.print({ deleted: name }, () => `Deleted user ${name}`);
    });

  const token = program.command('token').description('Manage API tokens');
  token
    .command('create <name>')
    .description('Create an API token for yourself (shown once)')
    .option('--expires-in-days <days>', 'lifetime in days (default: no expiry)')
    .option('--user <user>', 'create it for another user (admin)')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { expiresInDays?: string; user?: string }) => {
      const body: Record<string, unknown> = { name };
      if (opts.expiresInDays !== undefined) body.expiresInDays = Number(opts.expiresInDays);
      if (opts.user) body.user = opts.user;
      const created = await ctx.api<Token & { token: string }>('POST', '/api/v1/tokens', body);
      ctx.print(
        created,
        () => `${created.token}\n(token ${created.id} "${created.name}"; it is not shown again)`,
      );
    });
  token
    .command('list')
    .description('List your API tokens (never their secrets)')
    .option('--json', 'print JSON')
    .action(async () => {
      const res = await ctx.api<{ items: Token[] }>('GET', '/api/v1/tokens');
      ctx.print(res.items, () =>
        table(
          ['ID', 'NAME', 'CREATED', 'EXPIRES', 'LAST USED'],
          res.items.map((t) => [t.id, t.name, t.createdAt, t.expiresAt ?? 'never', t.lastUsedAt ?? '']),
        ),
      );
    });
  token
    .command('revoke <id-or-name>')
    .description('Revoke an API token')
    .action(async (id: string) => {
      await ctx.api('DELETE', `/api/v1/tokens/${encodeURIComponent(id)}`);
      ctx.print({ revoked: id }, () => `Revoked token ${id}`);
    });
}
