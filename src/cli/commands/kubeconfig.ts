// `slipway kubeconfig`: prints a kubeconfig for Slipway's local cluster (simulated: no container really runs).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { defaultDataDir, NotFoundError } from '../../core/index.ts';
import type { CliContext } from '../context.ts';

/** Sets the context's namespace in a kubeconfig produced by the local cluster. */
export function withNamespace(kubeconfig: string, namespace: string | undefined): string {
  if (!namespace) return kubeconfig;
  return kubeconfig.replace(/^(\s+namespace:\s*).*$/m, `$1${namespace}`);
}

export function registerKubeconfigCommand(program: Command, ctx: CliContext): void {
  program
    .command('kubeconfig')
    .description(
      "Print a kubeconfig for Slipway's local Kubernetes cluster (simulated: no container really runs). " +
        'Reads <data>/kubeconfig when --data is given or a local server wrote one; otherwise asks the server (admins only).',
    )
    .option(
      '--data <dir>',
      'data directory of a local Slipway (default: ~/.slipway when it holds a kubeconfig)',
    )
    .option('-n, --namespace <name>', 'default namespace of the context')
    .option('--remote', 'always fetch from the server (GET /api/v1/cluster/kubeconfig)')
    .action(async (opts: { data?: string; namespace?: string; remote?: boolean }) => {
      let text: string | undefined;
      if (!opts.remote) {
        const file = join(opts.data ?? ctx.io.env.SLIPWAY_DATA ?? defaultDataDir(), 'kubeconfig');
        if (existsSync(file)) text = readFileSync(file, 'utf8');
        else if (opts.data)
          throw new NotFoundError(`No kubeconfig at ${file}: start Slipway with --data ${opts.data} first`);
      }
      if (text === undefined) {
        const res = await ctx.api<{ kubeconfig: string }>('GET', '/api/v1/cluster/kubeconfig');
        text = res.kubeconfig;
      }
      const out = withNamespace(text, opts.namespace);
      ctx.print({ kubeconfig: out }, () => out.trimEnd());
    });
}
