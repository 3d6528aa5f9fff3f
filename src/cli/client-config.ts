// Where the CLI keeps the server URL and API token: $SLIPWAY_CONFIG_DIR, else $XDG_CONFIG_HOME/slipway,
// else ~/.config/slipway; `config.json`, mode 0600.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError, writeFileAtomicSync } from '../core/index.ts';

export interface ClientConfig {
  server?: string;
  user?: string;
  token?: string;
}

export function clientConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SLIPWAY_CONFIG_DIR) return env.SLIPWAY_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'slipway');
}

export function readClientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const file = join(clientConfigDir(env), 'config.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ClientConfig;
  } catch (err) {
    throw new InputError(
      `Cannot read ${file}: ${(err as Error).message}; delete it and run "slipway login" again`,
      {
        location: { file },
      },
    );
  }
}

export function writeClientConfig(config: ClientConfig, env: NodeJS.ProcessEnv = process.env): string {
  const file = join(clientConfigDir(env), 'config.json');
  writeFileAtomicSync(file, `${JSON.stringify(config, null, 2)}\n`, 0o600);
  return file;
}
