// Test support: temporary bare repositories seeded with files, through the real git CLI.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runGit } from './git-cli.ts';

export interface TempRepos {
  /** The data directory: bare repos live at `<root>/git/<org>/<name>.git`. */
  root: string;
  /** Creates `org/name` with `files` in one commit on `main`; returns the commit. */
  create(repo: string, files: Record<string, string>, message?: string): Promise<string>;
  /** Commits `files` (null deletes) to `main` of `org/name` as `author`; returns the commit. */
  commit(
    repo: string,
    files: Record<string, string | null>,
    message?: string,
    author?: string,
  ): Promise<string>;
  /** Reads a file at `main`. */
  read(repo: string, file: string, ref?: string): Promise<string>;
  /** Commit subjects on `main`, newest first. */
  log(repo: string): Promise<string[]>;
  cleanup(): void;
}

const ID = [
  '-c',
  'user.name=Test',
  '-c',
  'user.email=test@example.com',
  '-c',
  'init.defaultBranch=main',
  '-c',
  'commit.gpgsign=false',
];

export function createTempRepos(): TempRepos {
  const root = mkdtempSync(join(tmpdir(), 'slipway-gitops-'));
  const bare = (repo: string) => join(root, 'git', `${repo}.git`);
  const repos: TempRepos = {
    root,
    async create(repo, files, message = 'initial') {
      mkdirSync(dirname(bare(repo)), { recursive: true });
      await runGit([...ID, 'init', '-q', '--bare', '-b', 'main', bare(repo)]);
      return repos.commit(repo, files, message);
    },
    async commit(repo, files, message = 'change', author = 'Test <test@example.com>') {
      const work = mkdtempSync(join(tmpdir(), 'slipway-gitops-work-'));
      try {
        await runGit([...ID, 'clone', '-q', bare(repo), work]);
        await runGit([...ID, 'checkout', '-q', '-B', 'main'], { cwd: work });
        for (const [f, text] of Object.entries(files)) {
          if (text === null) {
            await runGit(['rm', '-q', '-r', '--', f], { cwd: work });
            continue;
          }
          mkdirSync(dirname(join(work, f)), { recursive: true });
          writeFileSync(join(work, f), text);
        }
        await runGit(['add', '-A'], { cwd: work });
        await runGit([...ID, 'commit', '-q', '-m', message, `--author=${author}`], { cwd: work });
        await runGit(['push', '-q', 'origin', 'HEAD:refs/heads/main'], { cwd: work });
        return (await runGit(['rev-parse', 'HEAD'], { cwd: work })).stdout.toString().trim();
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
    async read(repo, file, ref = 'main') {
      return (await runGit(['--git-dir', bare(repo), 'show', `${ref}:${file}`])).stdout.toString('utf8');
    },
    async log(repo) {
      const out = (await runGit(['--git-dir', bare(repo), 'log', '--format=%s', 'main'])).stdout
        .toString('utf8')
        .trim();
      return out ? out.split('\n') : [];
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
  return repos;
}

/** The seed's chart for one environment: Deployment, Service, Ingress and ConfigMap, with a commented values.yaml. */
export function seedChart(env: string, service = 'node-hello-world', tag = 'latest'): Record<string, string> {
  const dir = `${env}/${service}`;
  return {
    [`${dir}/Chart.yaml`]: `apiVersion: v2\nname: ${service}\nversion: 0.1.0\nappVersion: "1.0"\n`,
    [`${dir}/values.yaml`]: `# ${service} in ${env.toUpperCase()}\nreplicaCount: 2\n\nimage:\n  repository: 127.0.0.1:5000/base/${service} # CI pushes here\n  tag: "${tag}"\n\nservice:\n  port: 80\n\ngreeting: hello from ${env}\n`,
    [`${dir}/templates/deployment.yaml`]: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels:
    app: {{ .Chart.Name }}
spec:
  replicas: {{ .Values.replicaCount }}
  strategy:
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  selector:
    matchLabels:
      app: {{ .Chart.Name }}
  template:
    metadata:
      labels:
        app: {{ .Chart.Name }}
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          ports:
            - containerPort: 3000
          envFrom:
            - configMapRef:
                name: {{ .Release.Name }}
`,
    [`${dir}/templates/service.yaml`]: `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    app: {{ .Chart.Name }}
  ports:
    - port: {{ .Values.service.port }}
      targetPort: 3000
`,
    [`${dir}/templates/ingress.yaml`]: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ .Release.Name }}
spec:
  rules:
    - host: ${service}.${env}.local
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ .Release.Name }}
                port:
                  number: {{ .Values.service.port }}
`,
    [`${dir}/templates/configmap.yaml`]: `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  GREETING: {{ .Values.greeting | quote }}
`,
  };
}
