// Test support: a real Slipway with the registry mounted, and helpers to push content over HTTP.
import { Readable } from 'node:stream';
import { sha256Digest } from '../oci/index.ts';
import { createRegistry, type RegistryModule, type RegistryOptions } from './module.ts';
import { startTestServer, type TestServer } from '../server/index.ts';

export interface RegistryTestServer extends TestServer {
  registry: RegistryModule;
  /** `Basic` header for admin with its API token. */
  adminBasic: string;
}

export async function startRegistryServer(options: RegistryOptions = {}): Promise<RegistryTestServer> {
  let registry: RegistryModule | undefined;
  const server = await startTestServer({
    extraModules: (ctx) => {
      registry = createRegistry({
        ...ctx,
        registry: { gcIntervalSeconds: 0, ...options },
        get publicUrl() {
          return ctx.publicUrl;
        },
      });
      return registry.mounts;
    },
  });
  return Object.assign(server, {
    registry: registry!,
    adminBasic: basic('admin', server.adminToken),
  });
}

export function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

/** The sha256 digest of `data` (oci/'s helper, under the name the registry tests use). */
export const sha256 = sha256Digest;

/** Pushes a blob with POST + PUT; returns its digest. */
export async function pushBlob(url: string, repo: string, data: Uint8Array, auth: string): Promise<string> {
  const digest = sha256(data);
  const res = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/octet-stream' },
    body: data,
  });
  if (res.status !== 201) throw new Error(`blob push failed: ${res.status} ${await res.text()}`);
  return digest;
}

/** Pushes a minimal image (config + layers) and its manifest under `tag`; returns the manifest digest. */
export async function pushImage(
  url: string,
  repo: string,
  tag: string,
  auth: string,
  options: {
    layers?: Uint8Array[];
    subject?: { digest: string; size: number; mediaType: string };
    artifactType?: string;
  } = {},
): Promise<{ digest: string; body: string }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag, n: Math.random() }));
  const configDigest = await pushBlob(url, repo, config, auth);
  const layers = [];
  for (const l of options.layers ?? [Buffer.from(`layer of ${repo}:${tag}`)]) {
    layers.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar',
      digest: await pushBlob(url, repo, l, auth),
      size: l.length,
    });
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: configDigest,
      size: config.length,
    },
    layers,
    ...(options.subject ? { subject: options.subject } : {}),
  };
  const body = JSON.stringify(manifest);
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { authorization: auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body,
  });
  if (res.status !== 201) throw new Error(`manifest push failed: ${res.status} ${await res.text()}`);
  return { digest: res.headers.get('docker-content-digest')!, body };
}

/**
 * Writes an OCI image layout at `dir` holding one image with `layers` random layers of `layerSize`
 * bytes, tagged `tag`. Returns the manifest digest.
 */
export async function writeOciLayout(
  dir: string,
  options: { layers: number; layerSize: number; tag?: string; seed?: string },
): Promise<string> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { randomBytes } = await import('node:crypto');
  const { join } = await import('node:path');
  const blobsDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const put = async (data: Uint8Array) => {
    const d = sha256(data);
    await writeFile(join(blobsDir, d.slice(7)), data);
    return d;
  };
  const layers = [];
  const { gzipSync } = await import('node:zlib');
  for (let i = 0; i < options.layers; i++) {
    // Real gzip (of random bytes) so clients copy the layer as it is instead of compressing it.
    const data = gzipSync(randomBytes(options.layerSize), { level: 1 });
    layers.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: await put(data),
      size: data.length,
    });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      history: [{ created_by: options.seed ?? 'slipway test' }],
    }),
  );
  const configDesc = {
    mediaType: 'application/vnd.oci.image.config.v1+json',
    digest: await put(config),
    size: config.length,
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: configDesc,
      layers,
    }),
  );
  const manifestDigest = await put(manifest);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': options.tag ?? 'latest' },
        },
      ],
    }),
  );
  return manifestDigest;
}

/** A request body that yields `data` in pieces of `piece` bytes and, with `failAt`, breaks off there. */
export function chunkedBody(data: Buffer, piece: number, failAt?: number): Readable {
  let at = 0;
  return new Readable({
    read() {
      if (failAt !== undefined && at >= failAt) {
        this.destroy(new Error('client went away (connection reset)'));
        return;
      }
      if (at >= data.length) {
        this.push(null);
        return;
      }
      const end = Math.min(data.length, at + piece, failAt ?? Number.POSITIVE_INFINITY);
      this.push(data.subarray(at, end));
      at = end;
    },
  });
}
