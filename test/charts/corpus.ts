// The differential chart corpus: each case under testdata/ is rendered by Slipway and by the real helm binary
// with the same flags; outputs are compared document by document after YAML parsing.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import { registerTemplateCommand } from '../../src/cli/commands/template.ts';

export const CASES_DIR = resolve(import.meta.dirname, 'testdata');
export const HELM = resolve(import.meta.dirname, '../../node_modules/.cache/slipway-tools/helm');

export interface CorpusCase {
  name: string;
  dir: string;
  chart: string;
  release: string;
  args: string[];
  /** Phrases both error messages must contain (an error case), or undefined (a success case). */
  error?: string[];
  /** A known difference: the case runs as a todo with this reason. */
  todo?: string;
}

export interface RunResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export function listCases(): CorpusCase[] {
  return readdirSync(CASES_DIR)
    .filter((n) => existsSync(join(CASES_DIR, n, 'case.json')))
    .sort()
    .map((name) => {
      const dir = join(CASES_DIR, name);
      const spec = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as Partial<CorpusCase>;
      return {
        name,
        dir,
        chart: spec.chart ?? 'chart',
        release: spec.release ?? 'release-name',
        args: spec.args ?? [],
        ...(spec.error ? { error: spec.error } : {}),
        ...(spec.todo ? { todo: spec.todo } : {}),
      };
    });
}

export function helmAvailable(): boolean {
  return existsSync(HELM);
}

/** Helm's cache/config homes for these runs, so no user state is read or written; see removeHelmHome(). */
export const HELM_HOME = join(tmpdir(), `slipway-helm-${process.pid}`);

export function removeHelmHome(): void {
  rmSync(HELM_HOME, { recursive: true, force: true });
}

/** Runs a command to its end and collects what it printed. */
export function runProcess(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult & { code: number | null }> {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolveRun({ ok: code === 0, code, stdout, stderr }));
  });
}

/** Runs `helm template RELEASE CHART ARGS` in the case directory. */
export async function runHelm(c: CorpusCase): Promise<RunResult> {
  const { ok, stdout, stderr } = await runProcess(HELM, ['template', c.release, c.chart, ...c.args], {
    cwd: c.dir,
    env: {
      ...process.env,
      HELM_CACHE_HOME: '/tmp/slipway-helm-cache',
      HELM_CONFIG_HOME: '/tmp/slipway-helm-config',
    },
  });
  return { ok, stdout, stderr };
}

const PATH_FLAGS = new Set(['-f', '--values']);

/** The case's arguments with file paths made absolute (Slipway runs in this process, not in the case dir). */
export function absoluteArgs(c: CorpusCase): string[] {
  const out: string[] = [];
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i]!;
    out.push(a);
    const next = c.args[i + 1];
    if (next === undefined) continue;
    if (PATH_FLAGS.has(a)) {
      out.push(join(c.dir, next));
      i++;
    } else if (a === '--set-file') {
      out.push(
        next
          .split(',')
          .map((kv) => `${kv.slice(0, kv.indexOf('=') + 1)}${join(c.dir, kv.slice(kv.indexOf('=') + 1))}`)
          .join(','),
      );
      i++;
    }
  }
  return out;
}

/** Runs `slipway template` in process through the real command definition. */
export async function runSlipway(c: CorpusCase): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const program = new Command().exitOverride();
  registerTemplateCommand(program, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    exit: () => {},
  });
  await program.parseAsync(['template', c.release, join(c.dir, c.chart), ...absoluteArgs(c)], {
    from: 'user',
  });
  return { ok: stderr === '', stdout, stderr };
}

export interface ParsedDoc {
  source: string;
  value: unknown;
}

/** Splits `helm template` output into `# Source:` documents and parses each. */
export function parseOutput(text: string): ParsedDoc[] {
  return text
    .split(/^---\s*$/m)
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .map((d) => {
      const m = /^# Source: (.*)$/m.exec(d);
      let value: unknown;
      try {
        value = parse(d);
      } catch (err) {
        value = `unparseable: ${(err as Error).message}`;
      }
      return { source: m?.[1] ?? '', value };
    });
}
