// The seed scenario (SEED_SCENARIO.md) as steps a user performs against a running Slipway, through its
// public REST API and the real git CLI. `slipway demo` runs it for a person; test/e2e/seed-scenario.test.ts
// runs it and asserts every outcome.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UnavailableError } from '../core/index.ts';

const exec = promisify(execFile);

export const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
export const SERVICE = 'node-hello-world';
export const SERVICE_REPO = `base/${SERVICE}`;
export const VALUES_REPO = 'platform/helm-values';
export const DEV_APP = `${SERVICE}-dev`;
export const PROD_APP = `${SERVICE}-prod`;
export const USERS = {
  alice: { role: 'developer', bindings: ['project:base=developer', 'env:dev=deployer', 'env:qa=deployer'] },
  bob: { role: 'maintainer', bindings: ['project:base=developer', 'env:prod=deployer'] },
  carol: { role: 'viewer', bindings: [] as string[] },
} as const;

export interface ScenarioOptions {
  /** Slipway's URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** An admin API token. */
  adminToken: string;
  /** A scratch directory for git clones. */
  workDir: string;
  /** Called as each step starts and ends. */
  onStep?: (event: { step: string; phase: 'start' | 'done'; ms?: number; detail?: string }) => void;
}

export interface AppView {
  name: string;
  spec: { environment: string };
  status: {
    sync: string;
    health: string;
    revision?: string;
    message?: string;
    phase?: string;
    images?: string[];
    comparisonError?: { message: string; location?: { file?: string; line?: number } } | null;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface BuildView {
  number: number;
  status: string;
  stages: { name: string; status: string; steps?: { status: string }[] }[];
  [k: string]: unknown;
}

function parseBinding(spec: string) {
  const m = /^(project|env):([^=]+)=(.+)$/.exec(spec)!;
  return { scope: m[1] === 'env' ? 'environment' : 'project', name: m[2]!, role: m[3]! };
}

export class SeedScenario {
  readonly tokens: Record<string, string> = {};
  readonly #o: ScenarioOptions;

  constructor(options: ScenarioOptions) {
    this.#o = options;
    this.tokens.admin = options.adminToken;
    mkdirSync(options.workDir, { recursive: true });
  }

  get host(): string {
    return new URL(this.#o.url).host;
  }

  /** Calls the REST API as `user` (default admin); returns status and parsed body without throwing. */
  async call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    user = 'admin',
  ): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.tokens[user]}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.#o.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T };
  }

  /** Like {@link call} but throws on a non-2xx answer, with the server's message. */
  async api<T = unknown>(method: string, path: string, body?: unknown, user = 'admin'): Promise<T> {
    const res = await this.call<T>(method, path, body, user);
    if (res.status >= 300) {
      const msg = (res.body as { error?: { message?: string } })?.error?.message ?? JSON.stringify(res.body);
      throw new Error(`${method} ${path} as ${user}: HTTP ${res.status}: ${msg}`);
    }
    return res.body;
  }

  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.#o.onStep?.({ step: name, phase: 'start' });
    const t0 = performance.now();
    const out = await fn();
    this.#o.onStep?.({ step: name, phase: 'done', ms: performance.now() - t0 });
    return out;
  }

  /** git with credentials of `user` for this server, and a fixed author. */
  async git(cwd: string, args: string[], user = 'admin'): Promise<string> {
    const { stdout } = await exec('git', args, {
      cwd,
      env: {
        ...process.env,
        GIT_TERMINAL_PROMPT: '0',
        GIT_AUTHOR_NAME: user,
        GIT_AUTHOR_EMAIL: `${user}@slipway.local`,
        GIT_COMMITTER_NAME: user,
        GIT_COMMITTER_EMAIL: `${user}@slipway.local`,
      },
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  }

  remote(repo: string, user = 'admin'): string {
    const u = new URL(this.#o.url);
    return `${u.protocol}//${user}:${this.tokens[user]}@${u.host}/git/${repo}.git`;
  }

  /** Step 2: registry project `base` (private) and users alice, bob and carol with their rights. */
  async createProjectAndUsers(): Promise<void> {
    await this.api('POST', '/api/v1/registry/projects', { name: 'base', public: false });
    for (const [name, u] of Object.entries(USERS)) {
      await this.api('POST', '/api/v1/users', {
        name,
        password: `${name}-demo-password`,
        role: u.role,
        bindings: u.bindings.map(parseBinding),
      });
      const t = await this.api<{ token: string }>('POST', '/api/v1/tokens', { name: 'demo', user: name });
      this.tokens[name] = t.token;
    }
  }

  /** Step 3: the GitOps repo `helm-values` with dev and prod charts, and the two Applications. */
  async createGitOpsRepo(): Promise<void> {
    await this.api('POST', '/api/v1/repos', { name: VALUES_REPO });
    const dir = join(this.#o.workDir, 'helm-values');
    cpSync(join(EXAMPLES, 'helm-values'), dir, { recursive: true });
    for (const env of ['dev', 'prod']) {
      const file = join(dir, env, SERVICE, 'values.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/127\.0\.0\.1:8080/g, this.host));
    }
    await this.git(dir, ['init', '-q', '-b', 'main']);
    await this.git(dir, ['add', '-A']);
    await this.git(dir, ['commit', '-q', '-m', 'helm-values: dev and prod for node-hello-world']);
    await this.git(dir, ['push', '-q', this.remote(VALUES_REPO), 'main']);
    for (const [name, env, automated] of [
      [DEV_APP, 'dev', true],
      [PROD_APP, 'prod', false],
    ] as const) {
      await this.api('POST', '/api/v1/apps', {
        yaml: this.appManifest(name, env, automated),
        file: `${name}.yaml`,
      });
    }
  }

  appManifest(name: string, env: string, automated: boolean): string {
    return `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: ${name}
  labels:
    slipway.dev/environment: ${env}
spec:
  project: default
  source:
    repoURL: ${this.#o.url}/git/${VALUES_REPO}.git
    targetRevision: main
    path: ${env}/${SERVICE}
    helm:
      valueFiles: [values.yaml]
  destination:
    name: in-cluster
    namespace: ${env}
  syncPolicy:
${automated ? '    automated: { prune: true, selfHeal: true }\n' : ''}    syncOptions: [CreateNamespace=true]
`;
  }

  /** Step 4 (and 8): push the service repo to `pre-release/1.0.0`; `change` edits it first. */
  async pushService(message: string, change?: (dir: string) => void): Promise<string> {
    const dir = join(this.#o.workDir, SERVICE);
    if (!existsSync(dir)) {
      await this.api('POST', '/api/v1/repos', { name: SERVICE_REPO });
      cpSync(join(EXAMPLES, SERVICE), dir, { recursive: true });
      await this.git(dir, ['init', '-q', '-b', 'pre-release/1.0.0'], 'alice');
    }
    change?.(dir);
    await this.git(dir, ['add', '-A'], 'alice');
    await this.git(dir, ['commit', '-q', '-m', message], 'alice');
    await this.git(dir, ['push', '-q', this.remote(SERVICE_REPO, 'alice'), 'pre-release/1.0.0'], 'alice');
    return (await this.git(dir, ['rev-parse', 'HEAD'], 'alice')).trim();
  }

  /** Waits until `check` returns a value (not undefined), polling; throws with the last state after `ms`. */
  async until<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000, every = 150): Promise<T> {
    const deadline = Date.now() + ms;
    let last: unknown;
    for (;;) {
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline) {
        throw new UnavailableError(
          `Timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
        );
      }
      await new Promise((r) => setTimeout(r, every));
    }
  }

  async build(n: number): Promise<BuildView | undefined> {
    const res = await this.call<BuildView>('GET', `/api/v1/builds/${SERVICE_REPO}/${n}`);
    return res.status === 200 ? res.body : undefined;
  }

  async waitForBuild(n: number, ms = 120_000): Promise<BuildView> {
    return this.until(
      `build #${n} to finish`,
      async () => {
        const b = await this.build(n);
        return b && !['queued', 'running', 'waiting'].includes(b.status) ? b : undefined;
      },
      ms,
    );
  }

  async app(name: string, user = 'admin'): Promise<AppView> {
    return this.api<AppView>('GET', `/api/v1/apps/${name}`, undefined, user);
  }

  async waitForApp(name: string, what: string, pred: (a: AppView) => boolean, ms = 60_000): Promise<AppView> {
    return this.until(
      `${name} to be ${what}`,
      async () => {
        const a = await this.app(name);
        return pred(a) ? a : undefined;
      },
      ms,
    );
  }

  /** The Deployment of an environment as the cluster has it. */
  async deployment(env: string): Promise<{
    spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
    status: {
      readyReplicas?: number;
      updatedReplicas?: number;
      availableReplicas?: number;
      replicas?: number;
    };
  }> {
    return this.api('GET', `/kube/apis/apps/v1/namespaces/${env}/deployments/${SERVICE}`);
  }

  /** Changes `image.tag` in an environment's values.yaml by hand (a person's commit, as in step 12). */
  async editValues(
    env: string,
    edit: (text: string) => string,
    message: string,
    user = 'admin',
  ): Promise<string> {
    const dir = join(this.#o.workDir, 'helm-values');
    await this.git(dir, ['pull', '-q', '--rebase', this.remote(VALUES_REPO, user), 'main'], user);
    const file = join(dir, env, SERVICE, 'values.yaml');
    writeFileSync(file, edit(readFileSync(file, 'utf8')));
    await this.git(dir, ['commit', '-q', '-am', message], user);
    await this.git(dir, ['push', '-q', this.remote(VALUES_REPO, user), 'HEAD:main'], user);
    return (await this.git(dir, ['rev-parse', 'HEAD'], user)).trim();
  }

  /** Edits any file of the GitOps repo (step 10's broken template). */
  async editGitOpsFile(path: string, edit: (text: string) => string, message: string): Promise<string> {
    const dir = join(this.#o.workDir, 'helm-values');
    await this.git(dir, ['pull', '-q', '--rebase', this.remote(VALUES_REPO), 'main']);
    writeFileSync(join(dir, path), edit(readFileSync(join(dir, path), 'utf8')));
    await this.git(dir, ['commit', '-q', '-am', message]);
    await this.git(dir, ['push', '-q', this.remote(VALUES_REPO), 'HEAD:main']);
    return (await this.git(dir, ['rev-parse', 'HEAD'])).trim();
  }

  async gitLog(repo: string, n = 10): Promise<{ sha: string; message: string; author: string }[]> {
    const dir = join(this.#o.workDir, `log-${repo.replace('/', '-')}`);
    if (!existsSync(dir)) await exec('git', ['clone', '-q', this.remote(repo), dir]);
    else await exec('git', ['-C', dir, 'pull', '-q'], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    const { stdout } = await exec('git', ['-C', dir, 'log', `-${n}`, '--format=%H%x09%an%x09%s']);
    return stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [sha = '', author = '', message = ''] = l.split('\t');
        return { sha, author, message };
      });
  }

  async gitShow(repo: string, sha: string): Promise<string> {
    const dir = join(this.#o.workDir, `log-${repo.replace('/', '-')}`);
    const { stdout } = await exec('git', ['-C', dir, 'show', '--format=', sha]);
    return stdout;
  }
}
