// Stage images: pulls an image through the OCI distribution API and unpacks its layers (tar or
// tar+gzip, with OCI whiteouts) into a cached root filesystem under `<data>/builds/images/`.
import { createReadStream, existsSync } from 'node:fs';
import { chmod, lchown, link, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { UnavailableError } from '../core/index.ts';
import {
  type ImageConfig,
  parseImageReference,
  RegistryClient,
  type RegistryCredentials,
  referenceOf,
} from '../oci/index.ts';

export interface PreparedImage {
  ref: string;
  digest: string;
  /** Unpacked root filesystem (read-only by convention: steps run on an overlay or a copy). */
  rootfs: string;
  env: Record<string, string>;
}

function safeJoin(root: string, name: string): string | undefined {
  const clean = normalize(`/${name}`).replace(/^\/+/, '');
  if (clean === '' || clean === '.') return undefined;
  const full = join(root, clean);
  return full.startsWith(root + sep) ? full : undefined;
}

/** Unpacks one layer over `root`, applying whiteouts (`.wh.NAME` deletes, `.wh..wh..opq` empties a directory). */
export async function unpackLayer(file: string, root: string): Promise<void> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const s = createReadStream(file, { start: 0, end: 1 });
    const parts: Buffer[] = [];
    s.on('data', (b) => parts.push(b as Buffer));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const ex = extract();
  const hardlinks: { target: string; path: string }[] = [];
  ex.on('entry', (header, stream, next) => {
    const done = (err?: unknown) => {
      stream.resume();
      if (err) next(err as Error);
      else next();
    };
    (async () => {
      const path = safeJoin(root, header.name);
      if (!path) return;
      const base = path.slice(path.lastIndexOf(sep) + 1);
      const dir = dirname(path);
      if (base === '.wh..wh..opq') {
        if (existsSync(dir))
          for (const e of await readdir(dir)) await rm(join(dir, e), { recursive: true, force: true });
        return;
      }
      if (base.startsWith('.wh.')) {
        await rm(join(dir, base.slice(4)), { recursive: true, force: true });
        return;
      }
      await mkdir(dir, { recursive: true });
      const mode = header.mode ?? 0o644;
      switch (header.type) {
        case 'directory':
          await mkdir(path, { recursive: true });
          await chmod(path, mode);
          break;
        case 'file': {
          await rm(path, { recursive: true, force: true });
          const { createWriteStream } = await import('node:fs');
          await pipeline(stream, createWriteStream(path, { mode }));
          await chmod(path, mode);
          break;
        }
        case 'symlink':
          await rm(path, { recursive: true, force: true });
          await symlink(header.linkname ?? '', path);
          break;
        case 'link': {
          const target = safeJoin(root, header.linkname ?? '');
          if (target) hardlinks.push({ target, path });
          break;
        }
        default:
          return;
      }
      if (process.getuid?.() === 0 && header.uid !== undefined)
        await lchown(path, header.uid, header.gid ?? 0).catch(() => {});
    })().then(
      () => done(),
      (err) => done(err),
    );
  });
  const src = createReadStream(file);
  await (gz ? pipeline(src, createGunzip(), ex) : pipeline(src, ex));
  for (const h of hardlinks) {
    await rm(h.path, { force: true });
    await link(h.target, h.path).catch(() => {});
  }
}

/** Pulls and unpacks images once per manifest digest; concurrent requests for one image share the work. */
export class ImageCache {
  readonly #dir: string;
  readonly #busy = new Map<string, Promise<PreparedImage>>();
  readonly #defaultRegistry: () => string;

  constructor(options: { dir: string; defaultRegistry: () => string }) {
    this.#dir = options.dir;
    this.#defaultRegistry = options.defaultRegistry;
  }

  async prepare(image: string, credentials?: RegistryCredentials): Promise<PreparedImage> {
    const ref = parseImageReference(image, { defaultRegistry: this.#defaultRegistry() });
    const client = new RegistryClient(credentials ? { credentials } : {});
    const { manifest, digest } = await client.getImageManifest(
      ref.registry,
      ref.repository,
      referenceOf(ref),
    );
    const key = digest.replace(':', '-');
    const existing = this.#busy.get(key);
    if (existing) return existing;
    const work = (async (): Promise<PreparedImage> => {
      const dir = join(this.#dir, key);
      const rootfs = join(dir, 'rootfs');
      const configFile = join(dir, 'config.json');
      const config = JSON.parse(
        (await client.getBlob(ref.registry, ref.repository, manifest.config.digest)).toString('utf8'),
      ) as ImageConfig;
      if (!existsSync(join(dir, 'complete'))) {
        const tmp = `${dir}.tmp-${process.pid}`;
        await rm(tmp, { recursive: true, force: true });
        await mkdir(join(tmp, 'rootfs'), { recursive: true });
        for (const layer of manifest.layers) {
          const file = join(tmp, 'layer');
          await client.downloadBlob(ref.registry, ref.repository, layer.digest, file);
          await unpackLayer(file, join(tmp, 'rootfs'));
          await rm(file, { force: true });
        }
        for (const d of ['workspace', 'proc', 'dev', 'tmp', 'etc'])
          await mkdir(join(tmp, 'rootfs', d), { recursive: true });
        await writeFile(join(tmp, 'config.json'), JSON.stringify(config));
        await writeFile(join(tmp, 'complete'), digest);
        await rm(dir, { recursive: true, force: true });
        await rename(tmp, dir);
      }
      void configFile;
      const env: Record<string, string> = {};
      for (const kv of config.config?.Env ?? []) {
        const eq = kv.indexOf('=');
        if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      return { ref: image, digest, rootfs, env };
    })();
    this.#busy.set(key, work);
    try {
      return await work;
    } catch (err) {
      throw err instanceof UnavailableError
        ? err
        : new UnavailableError(`Cannot prepare image "${image}": ${(err as Error).message}`);
    } finally {
      this.#busy.delete(key);
    }
  }
}
