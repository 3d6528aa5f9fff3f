// The floor for bench/registry/run.ts: the least a registry can do for skopeo. It keeps pushed blobs and
// manifests in memory as the chunks arrived (no hashing, no files, no auth, no checks) and sends them back
// from memory, so what a push or pull costs against it is skopeo's own time. Prints one JSON line
// `{url}` once it listens. Past 1 GiB, the repositories pushed to first are dropped.
//   node --import tsx bench/registry/floor-server.ts
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

interface Stored {
  chunks: Buffer[];
  size: number;
  mediaType?: string;
}

/** Per repository: blobs by digest and manifests by reference (`b:` and `m:` keys), oldest repository first. */
const repositories = new Map<string, Map<string, Stored>>();
const uploads = new Map<string, Stored>();
const MAX_BYTES = 1 << 30;
let storedBytes = 0;

function repo(name: string): Map<string, Stored> {
  let r = repositories.get(name);
  if (!r) {
    r = new Map();
    repositories.set(name, r);
  }
  return r;
}

function keep(name: string, key: string, item: Stored): void {
  repo(name).set(key, item);
  storedBytes += item.size;
  for (const [other, items] of repositories) {
    if (storedBytes <= MAX_BYTES || other === name) break;
    for (const i of items.values()) storedBytes -= i.size;
    repositories.delete(other);
  }
}

function receive(req: IncomingMessage, into: Stored): Promise<void> {
  return new Promise((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      into.chunks.push(chunk);
      into.size += chunk.length;
    });
    req.on('end', resolve);
    req.on('error', reject);
  });
}

function send(req: IncomingMessage, res: ServerResponse, item: Stored, digest: string): void {
  res.writeHead(200, {
    'content-type': item.mediaType ?? 'application/octet-stream',
    'content-length': item.size,
    ...(digest.includes(':') ? { 'docker-content-digest': digest } : {}),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  for (const chunk of item.chunks) res.write(chunk);
  res.end();
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://floor');
  const path = url.pathname;
  if (path === '/v2/') {
    res.end('{}');
    return;
  }
  const m = /^\/v2\/(.+)\/(blobs\/uploads|blobs|manifests)\/?(.*)$/.exec(path);
  if (!m) {
    res.writeHead(404).end();
    return;
  }
  const [, name, kind, ref] = m as unknown as [string, string, string, string];
  if (kind === 'blobs/uploads') {
    const mount = url.searchParams.get('mount');
    const from = mount && repositories.get(url.searchParams.get('from') ?? '')?.get(`b:${mount}`);
    if (req.method === 'POST' && mount && from) {
      keep(name, `b:${mount}`, from);
      res.writeHead(201, { location: `/v2/${name}/blobs/${mount}`, 'docker-content-digest': mount });
      res.end();
      return;
    }
    if (req.method === 'POST') {
      const id = randomUUID();
      uploads.set(id, { chunks: [], size: 0 });
      res.writeHead(202, { location: `/v2/${name}/blobs/uploads/${id}`, range: '0-0', 'content-length': 0 });
      res.end();
      return;
    }
    const upload = uploads.get(ref);
    if (!upload) {
      res.writeHead(404).end();
      return;
    }
    await receive(req, upload);
    if (req.method === 'PATCH') {
      res.writeHead(202, {
        location: `/v2/${name}/blobs/uploads/${ref}`,
        range: `0-${Math.max(0, upload.size - 1)}`,
        'content-length': 0,
      });
      res.end();
      return;
    }
    const digest = url.searchParams.get('digest') ?? '';
    uploads.delete(ref);
    keep(name, `b:${digest}`, upload);
    res.writeHead(201, { location: `/v2/${name}/blobs/${digest}`, 'docker-content-digest': digest });
    res.end();
    return;
  }
  const key = `${kind === 'blobs' ? 'b' : 'm'}:${ref}`;
  if (req.method === 'PUT') {
    const item: Stored = { chunks: [], size: 0, mediaType: req.headers['content-type'] ?? '' };
    await receive(req, item);
    keep(name, key, item);
    res.writeHead(201, { location: path }).end();
    return;
  }
  const item = repositories.get(name)?.get(key);
  if (!item) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: kind === 'blobs' ? 'BLOB_UNKNOWN' : 'MANIFEST_UNKNOWN' }] }));
    return;
  }
  send(req, res, item, ref);
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => res.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${address.port}` })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
