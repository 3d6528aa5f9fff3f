// The native builder: Dockerfiles without RUN, built in-process with no daemon and no root. Layers are
// reproducible gzip tarballs, so identical input gives a byte-identical image; COPY layers are cached.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { InputError, NotFoundError, NotImplementedError } from '../core/index.ts';
import { type BuildContext, loadBuildContext, readDockerfile } from './build-context.ts';
import { sha256Digest } from './digest.ts';
import {
  type Dockerfile,
  expandWord,
  type Instruction,
  parseDockerfile,
  parseDuration,
  type Stage,
  splitWords,
} from './dockerfile.ts';
import type {
  BuildOptions,
  BuildResult,
  ContainerConfig,
  HistoryEntry,
  ImageBuilder,
  ImageConfig,
} from './image-builder.ts';
import { applyLayer, type FsNode, type LayerFs, lookupPath } from './layer-fs.ts';
import { MEDIA_TYPES } from './media-types.ts';
import { formatImageReference, parseImageReference, referenceOf } from './reference.ts';
import { type Descriptor, hostArchitecture, type ImageManifest, RegistryClient } from './registry-client.ts';
import { gzipLayer, type TarEntry, writeTarChunks } from './tar-writer.ts';

export interface NativeBuilderOptions {
  /** Where COPY layers are cached (default `<tmpdir>/slipway-build-cache`). */
  cacheDir?: string;
  /** Timestamp of every file and history entry, in seconds (SOURCE_DATE_EPOCH); default 0. */
  sourceDateEpoch?: number;
  /** Passed to the RegistryClient (default: plain http for localhost only). */
  plainHttp?: boolean | ((host: string) => boolean);
  fetch?: typeof fetch;
}

type LayerOrigin =
  | { kind: 'registry'; host: string; repo: string }
  | { kind: 'data'; data: Buffer }
  | { kind: 'cache'; path: string };

interface BuiltLayer {
  descriptor: Descriptor;
  diffId: string;
  origin: LayerOrigin;
  /** Uncompressed entries when built here (for COPY --from of this stage). */
  entries?: TarEntry[];
  cached?: boolean;
  instruction?: string;
}

interface DirInfo {
  mode: number;
  uid: number;
  gid: number;
}

interface StageState {
  stage: Stage;
  config: ImageConfig;
  layers: BuiltLayer[];
  args: Map<string, string | undefined>;
  shell: string[];
  cmdSetHere: boolean;
  fs?: LayerFs;
  /** Directories of the stage's filesystem (path → owner and mode), once known. */
  dirs?: Map<string, DirInfo>;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** Why a Dockerfile needs another backend, or undefined when the native builder can build it. */
export function nativeUnsupportedReason(df: Dockerfile, target?: string): string | undefined {
  for (const stage of neededStages(df, target)) {
    for (const ins of stage.instructions) {
      if (ins.keyword === 'RUN') {
        return `${df.file}:${ins.line}: RUN needs a container runtime; the native builder builds only Dockerfiles without RUN`;
      }
      for (const flag of ['parents', 'exclude'] as const) {
        if ((ins.keyword === 'COPY' || ins.keyword === 'ADD') && ins.flags[flag] !== undefined) {
          return `${df.file}:${ins.line}: ${ins.keyword} --${flag} is not supported by the native builder`;
        }
      }
    }
  }
  return undefined;
}

/**
 * The stages a build of `target` (default: the last) needs: the target, its `FROM <stage>` parent and
 * every `COPY --from` source, transitively. A `--from` with a variable counts every earlier stage.
 */
export function neededStages(df: Dockerfile, target?: string): Stage[] {
  const byRef = (ref: string): Stage | undefined =>
    df.stages.find((s) => s.name === ref.toLowerCase()) ??
    (/^\d+$/.test(ref) ? df.stages[Number(ref)] : undefined);
  const last = df.stages[df.stages.length - 1]!;
  const start = target ? (byRef(target) ?? last) : last;
  const needed = new Set<number>();
  const visit = (stage: Stage) => {
    if (needed.has(stage.index)) return;
    needed.add(stage.index);
    const parent = byRef(stage.base);
    if (parent && parent.index < stage.index) visit(parent);
    for (const ins of stage.instructions) {
      const from = ins.flags.from;
      if (from === undefined) continue;
      if (from.includes('$')) {
        for (const s of df.stages) if (s.index < stage.index) visit(s);
        continue;
      }
      const src = byRef(from);
      if (src && src.index < stage.index) visit(src);
    }
  };
  visit(start);
  return df.stages.filter((s) => needed.has(s.index));
}

export class NativeBuilder implements ImageBuilder {
  readonly #options: NativeBuilderOptions;

  constructor(options: NativeBuilderOptions = {}) {
    this.#options = options;
  }

  async build(options: BuildOptions): Promise<BuildResult> {
    const log = options.onLog ?? (() => {});
    const { file: dockerfilePath, text } = await readDockerfile(options);
    const df = parseDockerfile(text, { file: dockerfilePath });
    const why = nativeUnsupportedReason(df, options.target);
    if (why) throw new NotImplementedError(why);
    if (options.tags.length === 0 && options.push)
      throw new InputError('build --push needs at least one tag');
    const targets = options.tags.map((t) => parseImageReference(t));
    const client = new RegistryClient({
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(this.#options.plainHttp !== undefined ? { plainHttp: this.#options.plainHttp } : {}),
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
    const run = new BuildRun(df, options, client, await loadBuildContext(options.contextDir), {
      epoch: this.#options.sourceDateEpoch ?? 0,
      cacheDir: this.#options.cacheDir ?? join(tmpdir(), 'slipway-build-cache'),
      log,
    });
    const state = await run.buildTarget();
    const config = state.config;
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDesc: Descriptor = {
      mediaType: MEDIA_TYPES.ociConfig,
      digest: sha256Digest(configBytes),
      size: configBytes.length,
    };
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: configDesc,
      layers: state.layers.map((l) => l.descriptor),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const digest = sha256Digest(manifestBytes);
    if (options.push) {
      for (const target of targets) {
        log(`pushing ${formatImageReference(target)}`);
        for (const layer of state.layers) await run.pushLayer(layer, target.registry, target.repository);
        await client.pushBlob(target.registry, target.repository, configBytes, { digest: configDesc.digest });
        await client.putManifest(
          target.registry,
          target.repository,
          target.tag ?? target.digest ?? digest,
          manifestBytes,
          MEDIA_TYPES.ociManifest,
        );
      }
      log(`pushed ${digest}`);
    }
    return {
      digest,
      manifest,
      config,
      backend: 'native',
      layers: state.layers
        .filter((l) => l.instruction !== undefined)
        .map((l) => ({
          digest: l.descriptor.digest,
          cached: l.cached === true,
          instruction: l.instruction!,
        })),
    };
  }
}

interface RunSettings {
  epoch: number;
  cacheDir: string;
  log: (line: string) => void;
}

class BuildRun {
  readonly #states = new Map<number, Promise<StageState>>();
  readonly #images = new Map<string, Promise<StageState>>();
  readonly #globalArgs = new Map<string, string | undefined>();

  constructor(
    readonly df: Dockerfile,
    readonly options: BuildOptions,
    readonly client: RegistryClient,
    readonly context: BuildContext,
    readonly settings: RunSettings,
  ) {
    const buildArgs = options.buildArgs ?? {};
    for (const ins of df.globalArgs) {
      for (const p of ins.pairs ?? []) {
        const lookup = (n: string) => this.#globalArgs.get(n);
        const def =
          p.value === undefined
            ? undefined
            : expandWord(p.value, { lookup, escape: df.escape, location: { file: df.file, line: ins.line } });
        this.#globalArgs.set(p.key, buildArgs[p.key] ?? def);
      }
    }
  }

  get created(): string {
    return new Date(this.settings.epoch * 1000).toISOString().replace('.000Z', 'Z');
  }

  #fail(ins: Instruction, message: string): never {
    throw new InputError(`${this.df.file}:${ins.line}: ${message}`, {
      location: { file: this.df.file, line: ins.line },
    });
  }

  #stageByName(name: string): Stage | undefined {
    const lower = name.toLowerCase();
    const byName = this.df.stages.find((s) => s.name === lower);
    if (byName) return byName;
    if (/^\d+$/.test(name)) return this.df.stages[Number(name)];
    return undefined;
  }

  buildTarget(): Promise<StageState> {
    let stage = this.df.stages[this.df.stages.length - 1]!;
    if (this.options.target) {
      const found = this.#stageByName(this.options.target);
      if (!found) {
        throw new InputError(
          `Target stage "${this.options.target}" is not in ${this.df.file} (stages: ${this.df.stages.map((s) => s.name ?? s.index).join(', ')})`,
        );
      }
      stage = found;
    }
    return this.#stage(stage);
  }

  #stage(stage: Stage): Promise<StageState> {
    let p = this.#states.get(stage.index);
    if (!p) {
      p = this.#buildStage(stage);
      this.#states.set(stage.index, p);
    }
    return p;
  }

  async #buildStage(stage: Stage): Promise<StageState> {
    const log = this.settings.log;
    const lookupGlobal = (n: string) => this.#globalArgs.get(n);
    const base = expandWord(stage.base, {
      lookup: lookupGlobal,
      escape: this.df.escape,
      location: { file: this.df.file, line: stage.from.line },
    });
    log(`[stage ${stage.name ?? stage.index}] FROM ${base}`);
    let state: StageState;
    const earlier = this.#stageByName(base);
    if (earlier && earlier.index < stage.index) {
      const parent = await this.#stage(earlier);
      state = {
        ...parent,
        stage,
        config: structuredClone(parent.config),
        layers: [...parent.layers],
        args: new Map(),
        cmdSetHere: false,
      };
    } else if (base === 'scratch') {
      state = {
        stage,
        config: {
          created: this.created,
          architecture: hostArchitecture(),
          os: 'linux',
          config: {},
          rootfs: { type: 'layers', diff_ids: [] },
          history: [],
        },
        layers: [],
        args: new Map(),
        shell: DEFAULT_SHELL,
        cmdSetHere: false,
      };
    } else {
      const img = await this.#image(base, stage.platform);
      state = {
        ...img,
        stage,
        config: structuredClone(img.config),
        layers: [...img.layers],
        args: new Map(),
        cmdSetHere: false,
      };
    }
    delete state.fs;
    state.dirs = state.dirs ? new Map(state.dirs) : undefined;
    state.config.created = this.created;
    for (const ins of stage.instructions) await this.#apply(state, ins);
    return state;
  }

  /** Pulls an image's manifest and config (not its layers) from its registry. */
  #image(ref: string, platform?: string): Promise<StageState> {
    const key = `${ref}|${platform ?? ''}`;
    let p = this.#images.get(key);
    if (!p) {
      p = this.#pullImage(ref, platform);
      this.#images.set(key, p);
    }
    return p;
  }

  async #pullImage(refText: string, platform?: string): Promise<StageState> {
    const ref = parseImageReference(refText);
    const wantArch = platform?.split('/')[1] ?? hostArchitecture();
    let manifest: ImageManifest;
    try {
      ({ manifest } = await this.client.getImageManifest(ref.registry, ref.repository, referenceOf(ref), {
        architecture: wantArch,
        exact: true,
      }));
    } catch (err) {
      if (!(err instanceof NotFoundError) || err.details?.platform === undefined) throw err;
      throw new InputError(`Image ${refText} has no linux/${wantArch} manifest`, {
        details: { ref: refText },
      });
    }
    const configBytes = await this.client.getBlob(ref.registry, ref.repository, manifest.config.digest);
    let config: ImageConfig;
    try {
      config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    } catch (err) {
      throw new InputError(`Base image ${refText} has a config that is not JSON: ${(err as Error).message}`);
    }
    if (!config || typeof config !== 'object')
      throw new InputError(`Base image ${refText} has an empty config`);
    config.config ??= {};
    const diffIds = config.rootfs?.diff_ids ?? [];
    const layers: BuiltLayer[] = manifest.layers.map((d, i) => ({
      descriptor: {
        mediaType: d.mediaType === MEDIA_TYPES.dockerLayerGzip ? MEDIA_TYPES.ociLayerGzip : d.mediaType,
        digest: d.digest,
        size: d.size,
      },
      diffId: diffIds[i] ?? d.digest,
      origin: { kind: 'registry', host: ref.registry, repo: ref.repository },
    }));
    if ((config.config.OnBuild ?? []).length > 0) {
      this.settings.log(`warning: ${refText} has ONBUILD triggers; the native builder does not run them`);
    }
    const cleaned: ImageConfig = {
      architecture: config.architecture ?? hostArchitecture(),
      os: config.os ?? 'linux',
      ...(config.variant ? { variant: config.variant } : {}),
      config: config.config,
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: config.history ?? [],
    };
    return {
      stage: this.df.stages[0]!,
      config: cleaned,
      layers,
      args: new Map(),
      shell: config.config.Shell ?? DEFAULT_SHELL,
      cmdSetHere: false,
    };
  }

  #lookup(state: StageState): (name: string) => string | undefined {
    return (name) => {
      for (const e of state.config.config.Env ?? []) {
        const eq = e.indexOf('=');
        if (e.slice(0, eq) === name) return e.slice(eq + 1);
      }
      return state.args.get(name);
    };
  }

  #expand(state: StageState, ins: Instruction, word: string): string {
    return expandWord(word, {
      lookup: this.#lookup(state),
      escape: this.df.escape,
      location: { file: this.df.file, line: ins.line },
    });
  }

  #words(state: StageState, ins: Instruction, text: string): string[] {
    return splitWords(text, this.df.escape).map((w) => this.#expand(state, ins, w));
  }

  #history(state: StageState, ins: Instruction, empty: boolean): void {
    const entry: HistoryEntry = {
      created: this.created,
      created_by: ins.original,
      comment: 'slipway.native',
    };
    if (empty) entry.empty_layer = true;
    state.config.history = [...(state.config.history ?? []), entry];
  }

  async #apply(state: StageState, ins: Instruction): Promise<void> {
    const c: ContainerConfig = state.config.config;
    switch (ins.keyword) {
      case 'ARG':
        for (const p of ins.pairs ?? []) {
          const fromBuild = this.options.buildArgs?.[p.key];
          const def = p.value === undefined ? this.#globalArgs.get(p.key) : this.#expand(state, ins, p.value);
          state.args.set(p.key, fromBuild ?? def);
        }
        return;
      case 'ENV': {
        const env = [...(c.Env ?? [])];
        for (const p of ins.pairs ?? []) {
          const value = this.#expand(state, ins, p.value ?? '');
          const i = env.findIndex((e) => e.startsWith(`${p.key}=`));
          if (i >= 0) env[i] = `${p.key}=${value}`;
          else env.push(`${p.key}=${value}`);
        }
        c.Env = env;
        break;
      }
      case 'LABEL': {
        const labels = { ...(c.Labels ?? {}) };
        for (const p of ins.pairs ?? []) {
          labels[this.#expand(state, ins, p.key)] = this.#expand(state, ins, p.value ?? '');
        }
        c.Labels = labels;
        break;
      }
      case 'EXPOSE': {
        const ports = { ...(c.ExposedPorts ?? {}) };
        for (const w of this.#words(state, ins, ins.args)) {
          const [port, proto = 'tcp'] = w.split('/');
          if (!/^\d+(-\d+)?$/.test(port ?? '')) this.#fail(ins, `invalid port "${w}" in EXPOSE`);
          ports[`${port}/${proto.toLowerCase()}`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case 'VOLUME': {
        const vols = { ...(c.Volumes ?? {}) };
        const list = ins.json ?? this.#words(state, ins, ins.args);
        for (const v of list) {
          const path = this.#expand(state, ins, v);
          if (path.trim() === '') this.#fail(ins, 'VOLUME path may not be empty');
          vols[path] = {};
        }
        c.Volumes = vols;
        break;
      }
      case 'WORKDIR': {
        const dir = this.#expand(state, ins, ins.args);
        c.WorkingDir = posix.resolve(c.WorkingDir || '/', dir);
        break;
      }
      case 'USER':
        c.User = this.#expand(state, ins, ins.args);
        break;
      case 'STOPSIGNAL':
        c.StopSignal = this.#expand(state, ins, ins.args);
        break;
      case 'MAINTAINER':
        state.config.author = ins.args;
        break;
      case 'SHELL':
        state.shell = ins.json!;
        c.Shell = ins.json!;
        break;
      case 'CMD':
        c.Cmd = ins.json ?? [...state.shell, ins.args];
        state.cmdSetHere = true;
        break;
      case 'ENTRYPOINT':
        c.Entrypoint = ins.json ?? [...state.shell, ins.args];
        if (!state.cmdSetHere) c.Cmd = null;
        break;
      case 'ONBUILD':
        c.OnBuild = [...(c.OnBuild ?? []), ins.args];
        break;
      case 'HEALTHCHECK': {
        if (ins.args.trim().toUpperCase() === 'NONE') {
          c.Healthcheck = { Test: ['NONE'] };
          break;
        }
        const cmd = /^CMD\s+([\s\S]*)$/i.exec(ins.args)![1]!.trim();
        const hc: ContainerConfig['Healthcheck'] = {
          Test: ins.json ? ['CMD', ...ins.json] : ['CMD-SHELL', cmd],
        };
        const d = (k: string) => (ins.flags[k] !== undefined ? parseDuration(ins.flags[k]!) : undefined);
        const interval = d('interval');
        const timeout = d('timeout');
        const start = d('start-period');
        const startInterval = d('start-interval');
        if (interval !== undefined) hc.Interval = interval;
        if (timeout !== undefined) hc.Timeout = timeout;
        if (start !== undefined) hc.StartPeriod = start;
        if (startInterval !== undefined) hc.StartInterval = startInterval;
        if (ins.flags.retries !== undefined) hc.Retries = Number(ins.flags.retries);
        c.Healthcheck = hc;
        break;
      }
      case 'COPY':
      case 'ADD':
        await this.#copy(state, ins);
        return;
      case 'FROM':
      case 'RUN':
        this.#fail(ins, `${ins.keyword} cannot be built natively`);
    }
    this.#history(state, ins, true);
  }

  async #copy(state: StageState, ins: Instruction): Promise<void> {
    const log = this.settings.log;
    const words = ins.json ?? splitWords(ins.args, this.df.escape);
    if (words.length < 2 && ins.heredocs.length === 0)
      this.#fail(ins, `${ins.keyword} needs a source and a destination`);
    const destRaw = this.#expand(state, ins, words[words.length - 1]!);
    const srcWords = words.slice(0, -1);
    const workdir = state.config.config.WorkingDir || '/';
    const destDirForm = destRaw.endsWith('/') || destRaw === '.' || destRaw.endsWith('/.');
    const dest = posix.resolve(workdir, destRaw);
    const chmod = ins.flags.chmod !== undefined ? this.#parseChmod(ins, ins.flags.chmod) : undefined;
    const owner =
      ins.flags.chown !== undefined
        ? await this.#parseChown(state, ins, ins.flags.chown)
        : { uid: 0, gid: 0 };
    const epoch = this.settings.epoch;

    // Collect: entries keyed by path in the layer.
    const out = new Map<string, TarEntry>();
    const sources: SourceTree =
      ins.flags.from !== undefined ? await this.#fromTree(state, ins) : contextTree(this.context);
    const srcs = srcWords.map((w) => (ins.json ? this.#expand(state, ins, w) : this.#expand(state, ins, w)));
    const heredocSources = srcs.filter((s) => /^<<-?["']?[A-Za-z_]/.test(s));
    const fileSources = srcs.filter((s) => !/^<<-?["']?[A-Za-z_]/.test(s));
    const many = srcs.length > 1 || fileSources.some((s) => /[*?[]/.test(s));
    if (many && !destDirForm) {
      this.#fail(
        ins,
        `when ${ins.keyword} has more than one source, the destination must end with "/" (got "${destRaw}")`,
      );
    }
    const addEntry = (e: TarEntry) => out.set(e.path, e);
    // File contents are read after collecting, several at a time.
    const reads: (() => Promise<void>)[] = [];
    const layerPath = (p: string) => p.replace(/^\/+/, '');
    const fileMode = (m: number) => chmod ?? m;

    for (const hd of heredocSources) {
      const name = /^<<-?["']?([A-Za-z_][A-Za-z0-9_]*)/.exec(hd)![1]!;
      const doc = ins.heredocs.find((h) => h.name === name);
      if (!doc) this.#fail(ins, `no heredoc named ${name}`);
      const content = doc.expand
        ? expandWord(doc.content, {
            lookup: this.#lookup(state),
            escape: this.df.escape,
            literalQuotes: true,
            location: { file: this.df.file, line: ins.line },
          })
        : doc.content;
      const target = destDirForm || many ? posix.join(dest, name) : dest;
      addEntry({
        path: layerPath(target),
        type: 'file',
        mode: chmod ?? 0o644,
        uid: owner.uid,
        gid: owner.gid,
        mtime: epoch,
        data: Buffer.from(content),
      });
    }

    for (const src of fileSources) {
      if (ins.keyword === 'ADD' && /^https?:\/\//.test(src)) {
        const res = await fetch(src).catch((err: Error) =>
          this.#fail(ins, `cannot download ${src}: ${err.message}`),
        );
        if (!res.ok) this.#fail(ins, `cannot download ${src}: HTTP ${res.status}`);
        const data = Buffer.from(await res.arrayBuffer());
        if (ins.flags.checksum && ins.flags.checksum !== sha256Digest(data)) {
          this.#fail(ins, `checksum of ${src} is ${sha256Digest(data)}, expected ${ins.flags.checksum}`);
        }
        const name = posix.basename(new URL(src).pathname) || 'index.html';
        const target = destDirForm ? posix.join(dest, name) : dest;
        addEntry({
          path: layerPath(target),
          type: 'file',
          mode: chmod ?? 0o600,
          uid: owner.uid,
          gid: owner.gid,
          mtime: epoch,
          data,
        });
        continue;
      }
      const matches = sources.match(src);
      if (matches.length === 0) {
        this.#fail(
          ins,
          `${ins.keyword} source "${src}" not found in ${sources.describe}${sources.describe === 'the build context' ? ' (or excluded by .dockerignore)' : ''}`,
        );
      }
      for (const m of matches) {
        const node = sources.get(m)!;
        if (node.type === 'dir') {
          // A directory's contents go into dest; the directory itself becomes dest.
          addEntry({
            path: layerPath(dest),
            type: 'dir',
            mode: chmod ?? 0o755,
            uid: owner.uid,
            gid: owner.gid,
            mtime: epoch,
          });
          for (const child of sources.below(m)) {
            const rel = m === '' ? child.path : child.path.slice(m.length + 1);
            const target = layerPath(posix.join(dest, rel));
            if (child.type === 'dir') {
              addEntry({
                path: target,
                type: 'dir',
                mode: chmod ?? child.mode,
                uid: owner.uid,
                gid: owner.gid,
                mtime: epoch,
              });
            } else if (child.type === 'symlink') {
              addEntry({
                path: target,
                type: 'symlink',
                mode: 0o777,
                uid: owner.uid,
                gid: owner.gid,
                mtime: epoch,
                linkname: child.linkname ?? '',
              });
            } else {
              const entry: TarEntry = {
                path: target,
                type: 'file',
                mode: fileMode(child.mode),
                uid: owner.uid,
                gid: owner.gid,
                mtime: epoch,
              };
              addEntry(entry);
              reads.push(async () => {
                entry.data = await sources.read(child.path);
              });
            }
          }
          continue;
        }
        // `COPY file /existing-dir` copies into the directory, as Docker does (the base's directory
        // list is read once and cached).
        const intoDir = destDirForm || many || (await this.#dirIndex(state)).has(layerPath(dest));
        const target = intoDir ? posix.join(dest, posix.basename(m)) : dest;
        if (node.type === 'symlink') {
          addEntry({
            path: layerPath(target),
            type: 'symlink',
            mode: 0o777,
            uid: owner.uid,
            gid: owner.gid,
            mtime: epoch,
            linkname: node.linkname ?? '',
          });
          continue;
        }
        const data = await sources.read(m);
        if (ins.keyword === 'ADD' && sources.describe === 'the build context' && isArchive(data)) {
          await this.#extractArchive(data, dest, owner, chmod, addEntry, ins);
          continue;
        }
        addEntry({
          path: layerPath(target),
          type: 'file',
          mode: fileMode(node.mode),
          uid: owner.uid,
          gid: owner.gid,
          mtime: epoch,
          data,
        });
      }
    }
    for (let next = 0; next < reads.length; ) {
      const batch = reads.slice(next, next + 32);
      next += batch.length;
      await Promise.all(batch.map((read) => read()));
    }
    // Parents of every entry: existing directories keep their owner and mode (a COPY into /tmp must
    // not reset its 1777); new ones are created 0755 with the --chown owner, as BuildKit and buildah do.
    const missing = [...out.values()].some((e) => {
      const parent = posix.dirname(e.path);
      return parent !== '.' && parent !== '' && !out.has(parent);
    });
    const known = missing ? await this.#dirIndex(state) : new Map<string, DirInfo>();
    for (const e of [...out.values()]) {
      for (let p = posix.dirname(e.path); p !== '.' && p !== ''; p = posix.dirname(p)) {
        if (out.has(p)) continue;
        const k = known.get(p);
        out.set(p, {
          path: p,
          type: 'dir',
          mode: k?.mode ?? 0o755,
          uid: k?.uid ?? owner.uid,
          gid: k?.gid ?? owner.gid,
          mtime: epoch,
        });
      }
    }
    out.delete('');
    const entries = [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

    // Cache key: the exact layer content (paths, metadata, content hashes).
    const hash = createHash('sha256');
    hash.update('slipway-layer-v1\n');
    for (const e of entries) {
      hash.update(
        `${e.path}\0${e.type}\0${e.mode}\0${e.uid}\0${e.gid}\0${e.mtime}\0${e.linkname ?? ''}\0${e.data ? createHash('sha256').update(e.data).digest('hex') : ''}\n`,
      );
    }
    const key = hash.digest('hex');
    const metaPath = join(this.settings.cacheDir, 'layers', `${key}.json`);
    let layer: BuiltLayer | undefined;
    try {
      const meta = JSON.parse(await readFile(metaPath, 'utf8')) as {
        digest: string;
        diffId: string;
        size: number;
      };
      const blobPath = join(this.settings.cacheDir, 'blobs', meta.digest.replace('sha256:', ''));
      await readFile(blobPath).then((b) => {
        if (b.length !== meta.size) throw new Error('size mismatch');
      });
      layer = {
        descriptor: { mediaType: MEDIA_TYPES.ociLayerGzip, digest: meta.digest, size: meta.size },
        diffId: meta.diffId,
        origin: { kind: 'cache', path: blobPath },
        entries,
        cached: true,
        instruction: ins.original,
      };
      log(`${ins.original}  CACHED`);
    } catch {
      // not cached (or the cache entry is damaged): build it
    }
    if (!layer) {
      const { gz, diffIdHex } = await gzipLayer(writeTarChunks(entries));
      const digest = sha256Digest(gz);
      const diffId = `sha256:${diffIdHex}`;
      const blobPath = join(this.settings.cacheDir, 'blobs', digest.replace('sha256:', ''));
      await mkdir(join(this.settings.cacheDir, 'blobs'), { recursive: true });
      await mkdir(join(this.settings.cacheDir, 'layers'), { recursive: true });
      // A cache, not a record: write-then-rename without fsync (a torn entry is detected by size and rebuilt).
      await writeThenRename(blobPath, gz);
      await writeThenRename(metaPath, JSON.stringify({ digest, diffId, size: gz.length }));
      layer = {
        descriptor: { mediaType: MEDIA_TYPES.ociLayerGzip, digest, size: gz.length },
        diffId,
        origin: { kind: 'data', data: gz },
        entries,
        cached: false,
        instruction: ins.original,
      };
      log(`${ins.original}  (${entries.length} entries, ${gz.length} bytes)`);
    }
    state.layers = [...state.layers, layer];
    state.config.rootfs = { type: 'layers', diff_ids: [...state.config.rootfs.diff_ids, layer.diffId] };
    if (state.fs) applyEntries(state.fs, entries);
    if (state.dirs) {
      for (const e of entries) {
        if (e.type === 'dir') state.dirs.set(e.path, { mode: e.mode, uid: e.uid, gid: e.gid });
        else state.dirs.delete(e.path);
      }
    }
    this.#history(state, ins, false);
  }

  /**
   * The directories of a stage (for parent metadata). Base image layers are read once (without file
   * contents) and the result is cached on disk by the chain of layer digests.
   */
  async #dirIndex(state: StageState): Promise<Map<string, DirInfo>> {
    if (state.dirs) return state.dirs;
    const dirs = new Map<string, DirInfo>();
    if (state.fs) {
      for (const [p, n] of state.fs)
        if (n.type === 'dir') dirs.set(p, { mode: n.mode, uid: n.uid, gid: n.gid });
      state.dirs = dirs;
      return dirs;
    }
    const remote = state.layers.filter((l) => !l.entries);
    const key = createHash('sha256')
      .update(remote.map((l) => l.descriptor.digest).join(','))
      .digest('hex');
    const cachePath = join(this.settings.cacheDir, 'dirs', `${key}.json`);
    let baseDirs: [string, DirInfo][] | undefined;
    if (remote.length > 0) {
      try {
        baseDirs = JSON.parse(await readFile(cachePath, 'utf8')) as [string, DirInfo][];
      } catch {
        // not cached yet
      }
    }
    if (remote.length > 0 && !baseDirs) {
      // Base image layers always come first (the layers built here are appended after them).
      const fs: LayerFs = new Map();
      for (const layer of remote)
        await applyLayer(fs, await this.#layerBytes(layer), { keepData: () => false });
      baseDirs = [...fs]
        .filter(([, n]) => n.type === 'dir')
        .map(([p, n]): [string, DirInfo] => [p, { mode: n.mode, uid: n.uid, gid: n.gid }]);
      await mkdir(join(this.settings.cacheDir, 'dirs'), { recursive: true });
      await writeThenRename(cachePath, JSON.stringify(baseDirs));
    }
    for (const [p, info] of baseDirs ?? []) dirs.set(p, info);
    // Layers built here on top, in order.
    for (const layer of state.layers) {
      for (const e of layer.entries ?? []) {
        if (e.type === 'dir') dirs.set(e.path, { mode: e.mode, uid: e.uid, gid: e.gid });
        else dirs.delete(e.path);
      }
    }
    state.dirs = dirs;
    return dirs;
  }

  async #extractArchive(
    data: Buffer,
    dest: string,
    owner: { uid: number; gid: number },
    chmod: number | undefined,
    add: (e: TarEntry) => void,
    ins: Instruction,
  ): Promise<void> {
    const fs: LayerFs = new Map();
    try {
      await applyLayer(fs, data);
    } catch (err) {
      this.#fail(ins, `cannot extract archive: ${(err as Error).message}`);
    }
    for (const [path, node] of fs) {
      const target = posix.join(dest, path).replace(/^\/+/, '');
      const base = {
        path: target,
        mode: chmod ?? node.mode,
        uid: owner.uid,
        gid: owner.gid,
        mtime: this.settings.epoch,
      };
      if (node.type === 'dir') add({ ...base, type: 'dir' });
      else if (node.type === 'symlink') add({ ...base, type: 'symlink', linkname: node.linkname ?? '' });
      else if (node.type === 'file') add({ ...base, type: 'file', data: node.data ?? Buffer.alloc(0) });
    }
  }

  #parseChmod(ins: Instruction, value: string): number {
    if (!/^[0-7]{3,4}$/.test(value))
      this.#fail(ins, `--chmod needs an octal mode such as 755, got "${value}"`);
    return Number.parseInt(value, 8);
  }

  async #parseChown(state: StageState, ins: Instruction, raw: string): Promise<{ uid: number; gid: number }> {
    const value = this.#expand(state, ins, raw);
    const [user = '', group] = value.split(':');
    const resolve = async (name: string, file: string): Promise<number> => {
      if (/^\d+$/.test(name)) return Number(name);
      if (name === 'root') return 0;
      const fs = await this.#materialize(state);
      const text = lookupPath(fs, file)?.node.data?.toString('utf8') ?? '';
      for (const line of text.split('\n')) {
        const parts = line.split(':');
        if (parts[0] === name && parts[2] !== undefined && /^\d+$/.test(parts[2])) return Number(parts[2]);
      }
      this.#fail(ins, `--chown: "${name}" is not in the image's ${file}; use a numeric id`);
    };
    const uid = await resolve(user, 'etc/passwd');
    let gid = uid;
    if (group !== undefined && group !== '') gid = await resolve(group, 'etc/group');
    else if (!/^\d+$/.test(user)) {
      // `--chown=name` uses the user's primary group from /etc/passwd.
      const fs = await this.#materialize(state);
      const line = (lookupPath(fs, 'etc/passwd')?.node.data?.toString('utf8') ?? '')
        .split('\n')
        .find((l) => l.startsWith(`${user}:`));
      const g = line?.split(':')[3];
      if (g && /^\d+$/.test(g)) gid = Number(g);
    }
    return { uid, gid };
  }

  /** Builds the in-memory root filesystem of a stage (downloading base layers as needed). */
  async #materialize(state: StageState): Promise<LayerFs> {
    if (state.fs) return state.fs;
    const fs: LayerFs = new Map();
    for (const layer of state.layers) {
      if (layer.entries) applyEntries(fs, layer.entries);
      else await applyLayer(fs, await this.#layerBytes(layer));
    }
    state.fs = fs;
    return fs;
  }

  async #layerBytes(layer: BuiltLayer): Promise<Buffer> {
    const o = layer.origin;
    if (o.kind === 'data') return o.data;
    if (o.kind === 'cache') return readFile(o.path);
    return this.client.getBlob(o.host, o.repo, layer.descriptor.digest);
  }

  async #fromTree(state: StageState, ins: Instruction): Promise<SourceTree> {
    const from = this.#expand(state, ins, ins.flags.from!);
    const stage = this.#stageByName(from);
    let source: StageState;
    if (stage) {
      if (stage.index >= state.stage.index)
        this.#fail(ins, `COPY --from=${from} refers to this or a later stage`);
      source = await this.#stage(stage);
    } else {
      try {
        source = await this.#image(from);
      } catch (err) {
        this.#fail(
          ins,
          `COPY --from=${from}: no such stage, and the image cannot be pulled: ${(err as Error).message}`,
        );
      }
    }
    return layerFsTree(await this.#materialize(source), `stage "${from}"`);
  }

  /** Makes sure `layer` is in host/repo: already there, mounted from its source repo, or uploaded. */
  async pushLayer(layer: BuiltLayer, host: string, repo: string): Promise<void> {
    const digest = layer.descriptor.digest;
    if (await this.client.hasBlob(host, repo, digest)) return;
    const o = layer.origin;
    if (o.kind === 'registry' && o.host === host && o.repo !== repo) {
      if (await this.client.mountBlob(host, repo, digest, o.repo)) return;
    }
    await this.client.pushBlob(host, repo, await this.#layerBytes(layer), { digest, skipExistsCheck: true });
  }
}

async function writeThenRename(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

function applyEntries(fs: LayerFs, entries: TarEntry[]): void {
  for (const e of entries) {
    const node: FsNode = { type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, size: e.data?.length ?? 0 };
    if (e.data) node.data = Buffer.from(e.data);
    if (e.linkname) node.linkname = e.linkname;
    fs.set(e.path, node);
  }
}

function isArchive(data: Buffer): boolean {
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) return true;
  return data.length > 262 && data.toString('latin1', 257, 262) === 'ustar';
}

interface SourceNode {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  linkname?: string;
}

interface SourceTree {
  describe: string;
  get(path: string): SourceNode | undefined;
  /** Paths matching a COPY source (Go filepath.Match per segment). `.` / `/` is the root (''). */
  match(src: string): string[];
  below(dir: string): SourceNode[];
  read(path: string): Promise<Buffer>;
}

function globRegex(pattern: string): RegExp {
  let re = '^';
  for (let k = 0; k < pattern.length; k++) {
    const c = pattern[k]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', k + 1);
      if (close < 0) re += '\\[';
      else {
        let cls = pattern.slice(k + 1, close);
        if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls}]`;
        k = close;
      }
    } else if (c === '\\' && k + 1 < pattern.length) re += `\\${pattern[++k]}`;
    else re += /[.+^${}()|/\]]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`${re}$`);
}

function makeTree(
  describe: string,
  nodes: Map<string, SourceNode>,
  read: (path: string) => Promise<Buffer>,
  rootIsDir: boolean,
): SourceTree {
  const sorted = [...nodes.keys()].sort();
  return {
    describe,
    get: (p) => (p === '' && rootIsDir ? { path: '', type: 'dir', mode: 0o755 } : nodes.get(p)),
    match(src) {
      const clean = posix.normalize(`/${src}`).slice(1).replace(/\/+$/, '');
      if (clean === '' || clean === '.') return [''];
      if (clean.startsWith('..')) return [];
      if (!/[*?[]/.test(clean)) return nodes.has(clean) ? [clean] : [];
      const re = globRegex(clean);
      return sorted.filter((p) => re.test(p));
    },
    below(dir) {
      const prefix = dir === '' ? '' : `${dir}/`;
      return sorted.filter((p) => p.startsWith(prefix) && p !== dir).map((p) => nodes.get(p)!);
    },
    read,
  };
}

function contextTree(ctx: BuildContext): SourceTree {
  const nodes = new Map<string, SourceNode>();
  for (const [p, e] of ctx.entries) {
    nodes.set(p, { path: p, type: e.type, mode: e.mode, ...(e.linkname ? { linkname: e.linkname } : {}) });
  }
  return makeTree('the build context', nodes, (p) => ctx.read(p), true);
}

function layerFsTree(fs: LayerFs, describe: string): SourceTree {
  const nodes = new Map<string, SourceNode>();
  for (const [p, n] of fs) {
    nodes.set(p, { path: p, type: n.type, mode: n.mode, ...(n.linkname ? { linkname: n.linkname } : {}) });
  }
  const tree = makeTree(
    describe,
    nodes,
    async (p) => {
      const found = lookupPath(fs, p);
      return found?.node.data ?? Buffer.alloc(0);
    },
    true,
  );
  // Follow symlinks for an explicit source path (e.g. /bin/sh -> busybox).
  const get = tree.get;
  tree.get = (p) => {
    const n = get(p);
    if (n?.type === 'symlink' && n.path !== '') {
      const target = lookupPath(fs, p);
      if (target) return { path: p, type: target.node.type, mode: target.node.mode };
    }
    return n;
  };
  return tree;
}
