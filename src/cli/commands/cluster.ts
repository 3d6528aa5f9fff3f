// `slipway cluster add|list|remove`: the Kubernetes clusters Slipway deploys to.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { type CliContext, table } from '../context.ts';

interface ClusterStatus {
  name: string;
  server: string;
  context: string;
  namespace: string;
  builtin: boolean;
  createdAt: string | null;
  createdBy: string | null;
  reachable: boolean;
  version?: string;
  error?: string;
}

function describeStatus(c: ClusterStatus): string {
  return c.reachable ? `reachable (${c.version ?? '?'})` : `unreachable: ${c.error ?? 'unknown error'}`;
}

export function registerClusterCommands(program: Command, ctx: CliContext): void {
  const cluster = program
    .command('cluster')
    .description(
      'Manage the Kubernetes clusters Slipway deploys to ("in-cluster" is the embedded local cluster)',
    );

  cluster
    .command('add')
    .description(
      'Register a cluster from a kubeconfig file (credentials are stored encrypted and never shown again)',
    )
    .argument('<name>', 'cluster name: lower-case letters, digits and -')
    .requiredOption(
      '--kubeconfig <file>',
      'kubeconfig file with embedded credentials (token or *-data fields)',
    )
    .option('--context <context>', "context to use (default: the file's current-context)")
    .option('--json', 'print machine-readable JSON')
    .action(async (name: string, opts: { kubeconfig: string; context?: string }) => {
      let kubeconfig: string;
      try {
        kubeconfig = readFileSync(opts.kubeconfig, 'utf8');
      } catch (err) {
        throw new InputError(`Cannot read kubeconfig "${opts.kubeconfig}": ${(err as Error).message}`, {
          location: { file: opts.kubeconfig },
        });
      }
      const added = await ctx.api<ClusterStatus>('POST', '/api/v1/clusters', {
        name,
        kubeconfig,
        ...(opts.context ? { context: opts.context } : {}),
      });
      ctx.print(added, () => `Cluster "${added.name}" added: ${added.server} (${describeStatus(added)})`);
    });

  cluster
    .command('list')
    .description('List clusters with their reachability and Kubernetes version')
    .option('--json', 'print machine-readable JSON')
    .action(async () => {
      const { items } = await ctx.api<{ items: ClusterStatus[] }>('GET', '/api/v1/clusters');
      ctx.print(items, () =>
        table(
          ['NAME', 'SERVER', 'CONTEXT', 'STATUS', 'VERSION'],
          items.map((c) => [
            c.name,
            c.server || '-',
            c.context || '-',
            c.reachable ? 'Reachable' : `Unreachable: ${c.error ?? ''}`,
            c.version ?? '',
          ]),
        ),
      );
    });

  cluster
    .command('remove')
    .alias('rm')
    .description('Unregister a cluster (nothing is deleted in the cluster itself)')
    .argument('<name>', 'cluster name')
    .option('--json', 'print machine-readable JSON')
    .action(async (name: string) => {
      await ctx.api('DELETE', `/api/v1/clusters/${encodeURIComponent(name)}`);
      ctx.print({ removed: name }, () => `Cluster "${name}" removed`);
    });
}
