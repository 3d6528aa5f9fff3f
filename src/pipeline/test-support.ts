// Test support for the pipeline module: a busybox OCI image served by a tiny in-process registry.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export const BUSYBOX = '/bin/busybox';

async function busyboxLayer(): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (b: unknown) => {
    chunks.push(b as Buffer);
  });
  const done = new Promise<void>((r) => p.on('end', () => r()));
  p.entry({ name: 'bin/', type: 'directory', mode: 0o755 });
  p.entry({ name: 'etc/', type: 'directory', mode: 0o755 });
  p.entry({ name: 'bin/busybox', mode: 0o755 }, readFileSync(BUSYBOX));
  for (const tool of ['sh', 'cat', 'echo', 'pwd', 'uname', 'ls', 'sleep', 'id', 'mkdir', 'rm']) {
    p.entry({ name: `bin/${tool}`, type: 'symlink', linkname: 'busybox', mode: 0o777 });
  }
  p.entry({ name: 'etc/os-release', mode: 0o644 }, 'NAME="slipway-test-os"\nID=slipway-test-os\n');
  p.entry({ name: 'etc/.wh.removed-by-whiteout', mode: 0o644 }, '');
  p.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Serves `test/busybox:latest` over the OCI distribution API (read-only); undefined without busybox. */
export async function startBusyboxRegistry(): Promise<
  { url: string; host: string; image: string; close(): Promise<void> } | undefined
> {
  if (!existsSync(BUSYBOX)) return undefined;
  const layer = await busyboxLayer();
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin', 'IMAGE_MARK=busybox'] },
      rootfs: { type: 'layers', diff_ids: [] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: digestOf(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: digestOf(layer),
          size: layer.length,
        },
      ],
    }),
  );
  const blobs = new Map([
    [digestOf(layer), layer],
    [digestOf(config), config],
  ]);
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/v2/' || url === '/v2') {
      res.writeHead(200, {
        'content-type': 'application/json',
        'docker-distribution-api-version': 'registry/2.0',
      });
      res.end('{}');
      return;
    }
    const m = /^\/v2\/test\/busybox\/(manifests|blobs)\/(.+)$/.exec(url);
    if (m?.[1] === 'manifests' && (m[2] === 'latest' || m[2] === digestOf(manifest))) {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'docker-content-digest': digestOf(manifest),
        'content-length': manifest.length,
      });
      res.end(req.method === 'HEAD' ? undefined : manifest);
      return;
    }
    const blob = m?.[1] === 'blobs' ? blobs.get(m[2]!) : undefined;
    if (blob) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length });
      res.end(req.method === 'HEAD' ? undefined : blob);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"NOT_FOUND"}]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const host = `127.0.0.1:${port}`;
  return {
    url: `http://${host}`,
    host,
    image: `${host}/test/busybox:latest`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
