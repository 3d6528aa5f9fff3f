// The buildah backend (Dockerfiles with RUN): `buildah bud` with the vfs driver and chroot isolation,
// then `buildah push`; no daemon. Also the builder that picks native or buildah per Dockerfile.
import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { InputError, NotImplementedError, UnavailableError } from '../core/index.ts';
import { readDockerfile } from './build-context.ts';
import { parseDockerfile } from './dockerfile.ts';
import type { BuildOptions, BuildResult, ImageBuilder, ImageConfig } from './image-builder.ts';
import { NativeBuilder, type NativeBuilderOptions, nativeUnsupportedReason } from './native-builder.ts';
import { parseImageReference } from './reference.ts';
import { type ImageManifest, RegistryClient } from './registry-client.ts';

export interface BuildahBuilderOptions {
  /** The buildah binary (default: `buildah` on PATH). */
  buildah?: string;
  /** Separate storage (`--root`/`--runroot`) for isolation; default: buildah's own. */
  storageRoot?: string;
  plainHttp?: boolean | ((host: string) => boolean);
}

/** Finds an executable on PATH; undefined when absent. */
export async function findExecutable(name: string): Promise<string | undefined> {
  if (isAbsolute(name))
    return (await access(name).then(
      () => true,
      () => false,
    ))
      ? name
      : undefined;
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir, name);
    if (
      await access(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], onLine?: (line: string) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const feed = (chunk: Buffer, sink: 'out' | 'err') => {
      const text = chunk.toString('utf8');
      if (sink === 'out') stdout += text;
      else stderr += text;
      if (!onLine) return;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) onLine(l);
    };
    child.stdout.on('data', (c: Buffer) => feed(c, 'out'));
    child.stderr.on('data', (c: Buffer) => feed(c, 'err'));
    child.on('error', reject);
    child.on('close', (code) => {
      if (onLine && partial) onLine(partial);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

export class BuildahBuilder implements ImageBuilder {
  readonly #options: BuildahBuilderOptions;

  constructor(options: BuildahBuilderOptions = {}) {
    this.#options = options;
  }

  /** The common flags: storage driver, and separate storage when configured. */
  globalArgs(): string[] {
    const args = ['--storage-driver', 'vfs'];
    if (this.#options.storageRoot) {
      args.push(
        '--root',
        join(this.#options.storageRoot, 'root'),
        '--runroot',
        join(this.#options.storageRoot, 'run'),
      );
    }
    return args;
  }

  async build(options: BuildOptions): Promise<BuildResult> {
    const buildah = await findExecutable(this.#options.buildah ?? 'buildah');
    if (!buildah) {
      throw new UnavailableError(
        'buildah is not installed: Dockerfiles with RUN need it (Debian/Ubuntu: apt-get install buildah)',
      );
    }
    const log = options.onLog ?? (() => {});
    if (options.tags.length === 0) throw new InputError('buildah builds need at least one tag');
    const { file: dockerfile, text } = await readDockerfile(options);
    // Parse first so a malformed file gets our file:line error rather than buildah's.
    parseDockerfile(text, { file: dockerfile });
    const refs = options.tags.map((t) => parseImageReference(t));
    const creds = (host: string) =>
      typeof options.credentials === 'function' ? options.credentials(host) : options.credentials;
    const first = refs[0]!;
    const name = options.tags[0]!;
    const bud = [
      ...this.globalArgs(),
      'bud',
      '--isolation',
      'chroot',
      '--format',
      'oci',
      '--tls-verify=false',
      '--layers=false',
      '-f',
      dockerfile,
      ...options.tags.flatMap((t) => ['-t', t]),
    ];
    for (const [k, v] of Object.entries(options.buildArgs ?? {})) bud.push('--build-arg', `${k}=${v}`);
    if (options.target) bud.push('--target', options.target);
    const c = creds(first.registry);
    if (c) bud.push('--creds', `${c.username}:${c.password}`);
    bud.push(options.contextDir);
    log(`buildah ${redact(bud).join(' ')}`);
    const built = await run(buildah, bud, log);
    if (built.code !== 0) {
      throw new InputError(
        `buildah bud failed (exit ${built.code}): ${lastLines(built.stderr || built.stdout)}`,
      );
    }
    let digest = '';
    const tmp = await mkdtemp(join(tmpdir(), 'slipway-buildah-'));
    try {
      if (options.push) {
        for (const [i, ref] of refs.entries()) {
          const digestFile = join(tmp, `digest-${i}`);
          const args = [...this.globalArgs(), 'push', '--tls-verify=false', '--digestfile', digestFile];
          const rc = creds(ref.registry);
          if (rc) args.push('--creds', `${rc.username}:${rc.password}`);
          args.push(options.tags[i]!, `docker://${options.tags[i]!}`);
          log(`buildah ${redact(args).join(' ')}`);
          const pushed = await run(buildah, args, log);
          if (pushed.code !== 0) {
            throw new UnavailableError(`buildah push ${options.tags[i]} failed: ${lastLines(pushed.stderr)}`);
          }
          if (i === 0) digest = (await readFile(digestFile, 'utf8')).trim();
        }
        const client = new RegistryClient({
          ...(options.credentials ? { credentials: options.credentials } : {}),
          ...(this.#options.plainHttp !== undefined ? { plainHttp: this.#options.plainHttp } : {}),
        });
        const m = await client.getManifest(first.registry, first.repository, digest);
        const manifest = m.json as ImageManifest;
        const config = JSON.parse(
          (await client.getBlob(first.registry, first.repository, manifest.config.digest)).toString('utf8'),
        ) as ImageConfig;
        return { digest: m.digest, manifest, config, backend: 'buildah' };
      }
      const inspected = await run(buildah, [...this.globalArgs(), 'inspect', '--type', 'image', name]);
      if (inspected.code !== 0)
        throw new UnavailableError(`buildah inspect failed: ${lastLines(inspected.stderr)}`);
      const info = JSON.parse(inspected.stdout) as {
        FromImageDigest?: string;
        Manifest: string;
        Config: string;
      };
      const manifest = JSON.parse(info.Manifest) as ImageManifest;
      const config = JSON.parse(info.Config) as ImageConfig;
      const { sha256Digest } = await import('./digest.ts');
      digest = sha256Digest(info.Manifest);
      return { digest, manifest, config, backend: 'buildah' };
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

function redact(args: string[]): string[] {
  return args.map((a, i) => (args[i - 1] === '--creds' ? `${a.split(':')[0]}:***` : a));
}

function lastLines(text: string, n = 8): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

export interface AutoBuilderOptions extends NativeBuilderOptions {
  buildah?: BuildahBuilderOptions;
}

/**
 * The builder the pipeline uses: native for Dockerfiles without RUN, buildah (when installed) for the
 * rest. When neither can build a file the error says why and what to install.
 */
export function createImageBuilder(options: AutoBuilderOptions = {}): ImageBuilder {
  const native = new NativeBuilder(options);
  const buildah = new BuildahBuilder({
    ...(options.buildah ?? {}),
    ...(options.plainHttp !== undefined && options.buildah?.plainHttp === undefined
      ? { plainHttp: options.plainHttp }
      : {}),
  });
  return {
    async build(build: BuildOptions): Promise<BuildResult> {
      const { file, text } = await readDockerfile(build);
      const why = nativeUnsupportedReason(parseDockerfile(text, { file }), build.target);
      if (!why) return native.build(build);
      if (!(await findExecutable(options.buildah?.buildah ?? 'buildah'))) {
        throw new NotImplementedError(
          `${why}. Install buildah to build it (Debian/Ubuntu: apt-get install buildah; Fedora: dnf install buildah), or remove the RUN instructions.`,
        );
      }
      build.onLog?.(`using buildah: ${why}`);
      return buildah.build(build);
    },
  };
}
