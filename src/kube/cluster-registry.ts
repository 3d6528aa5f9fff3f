// Registered clusters: kubeconfigs stored encrypted in SQLite, plus `in-cluster` (the embedded local cluster,
// whose kubeconfig the server writes to <data>/kubeconfig). Hands out cached KubeClients.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ConflictError,
  describeError,
  InputError,
  NotFoundError,
  UnavailableError,
  ValidationError,
  writeFileAtomicSync,
} from '../core/index.ts';
import type { Store } from '../store/index.ts';
import type { KubeClient } from './client.ts';
import { createKubeconfigClient } from './kubeconfig-client.ts';
import { loadKubeConfig } from './transport.ts';

/** The name of the embedded local cluster. */
export const IN_CLUSTER = 'in-cluster';

export interface ClusterInfo {
  name: string;
  /** The API server URL (without credentials). */
  server: string;
  context: string;
  /** The namespace objects without one go to. */
  namespace: string;
  /** True for `in-cluster`, which cannot be removed. */
  builtin: boolean;
  createdAt: string | null;
  createdBy: string | null;
}

export interface ClusterStatus extends ClusterInfo {
  reachable: boolean;
  /** The server's gitVersion when reachable. */
  version?: string;
  /** Why it is unreachable. */
  error?: string;
}

export interface AddClusterInput {
  name: string;
  /** Kubeconfig YAML. Credentials must be embedded (token, *-data fields); file paths and exec plugins are refused. */
  kubeconfig: string;
  /** Context to use; default the kubeconfig's current-context. */
  context?: string;
}

export interface ClusterRegistryOptions {
  store: Store;
  dataDir: string;
  /** Per-call timeout of the clients handed out (default 15 s). */
  timeoutMs?: number;
  /** Timeout of one reachability probe in status() (default 3 s). */
  probeTimeoutMs?: number;
  now?: () => Date;
}

export interface ClusterRegistry {
  /** Every cluster: `in-cluster` first, then the registered ones by name. */
  list(): ClusterInfo[];
  /** NotFoundError for an unknown name. */
  info(name: string): ClusterInfo;
  /** A client for the cluster (cached; rebuilt when its kubeconfig changes). NotFoundError for an unknown name,
   * UnavailableError when `in-cluster` has no kubeconfig yet. */
  get(name: string): Promise<KubeClient>;
  add(input: AddClusterInput, actor: string): ClusterInfo;
  remove(name: string, actor: string): void;
  /** Probes clusters in parallel (each with its own timeout): reachability and version. */
  status(names?: string[]): Promise<ClusterStatus[]>;
  close(): void;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

interface Row {
  name: string;
  server: string;
  context: string;
  namespace: string;
  kubeconfig: string;
  created_at: string;
  created_by: string;
}

const MIGRATIONS = {
  module: 'kube',
  steps: [
    `CREATE TABLE kube_clusters (
      name TEXT PRIMARY KEY,
      server TEXT NOT NULL,
      context TEXT NOT NULL,
      namespace TEXT NOT NULL,
      kubeconfig TEXT NOT NULL,
      created_at TEXT NOT NULL,
      created_by TEXT NOT NULL)`,
  ],
};

/** Refuses kubeconfigs that would read the server's files or run commands on it. */
function checkPortable(text: string, name: string): void {
  const rules: [RegExp, string][] = [
    [/^\s*(certificate-authority|client-certificate|client-key|tokenFile)\s*:/m, 'refers to a file'],
    [/^\s*exec\s*:/m, 'runs an exec credential plugin'],
    [/^\s*auth-provider\s*:/m, 'uses an auth-provider plugin'],
  ];
  for (const [re, why] of rules) {
    const m = re.exec(text);
    if (m) {
      const line = text.slice(0, m.index).split('\n').length + (m[0].startsWith('\n') ? 1 : 0);
      throw new ValidationError(
        `The kubeconfig of cluster "${name}" ${why} (${m[1]}); embed the credentials instead (token, certificate-authority-data, client-certificate-data, client-key-data)`,
        { location: { file: 'kubeconfig', line, field: m[1] } },
      );
    }
  }
}

function serverWithoutCredentials(server: string): string {
  try {
    const url = new URL(server);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return server;
  }
}

function timeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new UnavailableError(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function createClusterRegistry(options: ClusterRegistryOptions): ClusterRegistry {
  const { store, dataDir } = options;
  store.migrate(MIGRATIONS);
  const now = options.now ?? (() => new Date());
  const clients = new Map<string, { fingerprint: string; client: KubeClient }>();

  // Kubeconfigs hold credentials: encrypted with a key kept beside (not in) the database.
  let key: Buffer | undefined;
  const secretKey = (): Buffer => {
    if (key) return key;
    const dir = join(dataDir, 'kube');
    const path = join(dir, 'clusters.key');
    if (!existsSync(path)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileAtomicSync(path, `${randomBytes(32).toString('base64')}\n`, 0o600);
    }
    key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
    return key;
  };
  const encrypt = (text: string): string => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', secretKey(), iv);
    const data = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return `v1:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${data.toString('base64')}`;
  };
  const decrypt = (blob: string, name: string): string => {
    const [v, iv, tag, data] = blob.split(':');
    if (v !== 'v1' || !iv || !tag || data === undefined)
      throw new UnavailableError(`The stored kubeconfig of cluster "${name}" is unreadable`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', secretKey(), Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new UnavailableError(
        `Cannot decrypt the kubeconfig of cluster "${name}" (was ${join(dataDir, 'kube', 'clusters.key')} replaced?): ${describeError(err)}`,
      );
    }
  };

  const inClusterPath = join(dataDir, 'kubeconfig');
  const inClusterInfo = (): ClusterInfo => {
    const info: ClusterInfo = {
      name: IN_CLUSTER,
      server: '',
      context: '',
      namespace: 'default',
      builtin: true,
      createdAt: null,
      createdBy: null,
    };
    if (!existsSync(inClusterPath)) return info;
    try {
      const kc = loadKubeConfig(readFileSync(inClusterPath, 'utf8'), undefined, inClusterPath);
      info.server = serverWithoutCredentials(kc.getCurrentCluster()?.server ?? '');
      info.context = kc.getCurrentContext();
      info.namespace = kc.getContextObject(info.context)?.namespace || 'default';
    } catch {
      // Reported by get()/status().
    }
    return info;
  };
  const rowInfo = (row: Row): ClusterInfo => ({
    name: row.name,
    server: row.server,
    context: row.context,
    namespace: row.namespace,
    builtin: false,
    createdAt: row.created_at,
    createdBy: row.created_by,
  });
  const row = (name: string): Row | undefined =>
    store.db.prepare<[string], Row>('SELECT * FROM kube_clusters WHERE name = ?').get(name);

  const registry: ClusterRegistry = {
    list() {
      const rows = store.db.prepare<[], Row>('SELECT * FROM kube_clusters ORDER BY name').all();
      return [inClusterInfo(), ...rows.map(rowInfo)];
    },

    info(name) {
      if (name === IN_CLUSTER) return inClusterInfo();
      const r = row(name);
      if (!r) throw new NotFoundError(`No cluster named "${name}"`, { details: { cluster: name } });
      return rowInfo(r);
    },

    async get(name) {
      let kubeconfig: string;
      let context: string | undefined;
      if (name === IN_CLUSTER) {
        if (!existsSync(inClusterPath)) {
          throw new UnavailableError(
            `The local cluster has not written ${inClusterPath} yet (is it enabled?)`,
            {
              details: { cluster: name },
            },
          );
        }
        kubeconfig = readFileSync(inClusterPath, 'utf8');
      } else {
        const r = row(name);
        if (!r) throw new NotFoundError(`No cluster named "${name}"`, { details: { cluster: name } });
        kubeconfig = decrypt(r.kubeconfig, name);
        context = r.context;
      }
      const fingerprint = createHash('sha256')
        .update(`${context ?? ''}\n${kubeconfig}`)
        .digest('hex');
      const cached = clients.get(name);
      if (cached?.fingerprint === fingerprint) return cached.client;
      cached?.client.close();
      const client = createKubeconfigClient({
        name,
        kubeconfig,
        ...(context ? { context } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      });
      clients.set(name, { fingerprint, client });
      return client;
    },

    add(input, actor) {
      const name = typeof input?.name === 'string' ? input.name : '';
      if (!NAME.test(name)) {
        throw new ValidationError(
          `Invalid cluster name "${name}": use lower-case letters, digits and '-' (at most 63)`,
          {
            location: { field: 'name' },
          },
        );
      }
      if (name === IN_CLUSTER)
        throw new ConflictError(`"${IN_CLUSTER}" is the local cluster's name; choose another`);
      if (typeof input.kubeconfig !== 'string' || !input.kubeconfig.trim()) {
        throw new InputError('A kubeconfig is required', { location: { field: 'kubeconfig' } });
      }
      checkPortable(input.kubeconfig, name);
      const kc = loadKubeConfig(
        input.kubeconfig,
        input.context || undefined,
        `kubeconfig of cluster "${name}"`,
      );
      const context = kc.getCurrentContext();
      const namespace = kc.getContextObject(context)?.namespace || 'default';
      const server = serverWithoutCredentials(kc.getCurrentCluster()?.server ?? '');
      if (row(name))
        throw new ConflictError(`A cluster named "${name}" is already registered`, {
          details: { cluster: name },
        });
      const createdAt = now().toISOString();
      store.db
        .prepare(
          'INSERT INTO kube_clusters (name, server, context, namespace, kubeconfig, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(name, server, context, namespace, encrypt(input.kubeconfig), createdAt, actor);
      return registry.info(name);
    },

    remove(name, actor) {
      void actor;
      if (name === IN_CLUSTER) throw new ConflictError(`"${IN_CLUSTER}" is built in and cannot be removed`);
      const result = store.db.prepare('DELETE FROM kube_clusters WHERE name = ?').run(name);
      if (result.changes === 0)
        throw new NotFoundError(`No cluster named "${name}"`, { details: { cluster: name } });
      clients.get(name)?.client.close();
      clients.delete(name);
    },

    async status(names) {
      const infos = names ? names.map((n) => registry.info(n)) : registry.list();
      const probeMs = options.probeTimeoutMs ?? 3000;
      return Promise.all(
        infos.map(async (info): Promise<ClusterStatus> => {
          try {
            const client = await registry.get(info.name);
            const v = await timeout(client.serverVersion(), probeMs, `Cluster "${info.name}"`);
            return { ...info, reachable: true, version: v.gitVersion };
          } catch (err) {
            return { ...info, reachable: false, error: describeError(err) };
          }
        }),
      );
    },

    close() {
      for (const { client } of clients.values()) client.close();
      clients.clear();
    },
  };
  return registry;
}
