// Serves the built web UI (web/dist): index.html at `/` (revalidated: ETag, 304), hashed assets under
// `/assets/` with long caching, precompressed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

const ACCEPTED: [string, string][] = [
  ['br', '.br'],
  ['gzip', '.gz'],
];

const PLACEHOLDER = `<!doctype html><html><head><meta charset="utf-8"><title>Slipway</title></head>
<body><h1>Slipway</h1><p>The web UI is not built. Run <code>npm ci</code> (or <code>npm run build:web</code>) to build it.</p>
<p>API: <a href="/api/v1/health">/api/v1/health</a></p></body></html>`;

export function staticUi(distDir: string): FastifyPluginAsync {
  return async (app) => {
    const indexPath = join(distDir, 'index.html');
    const index = () => (existsSync(indexPath) ? readFileSync(indexPath, 'utf8') : PLACEHOLDER);
    app.get('/', async (request, reply) => {
      const html = index();
      const etag = `"${createHash('sha256').update(html).digest('base64url').slice(0, 22)}"`;
      reply.header('cache-control', 'no-cache').header('etag', etag);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type('text/html; charset=utf-8').send(html);
    });
    app.get<{ Params: { file: string } }>('/assets/:file', async (request, reply) => {
      const file = request.params.file;
      if (!/^[A-Za-z0-9._-]+$/.test(file) || file.startsWith('.')) {
        return reply
          .code(404)
          .send({ error: { code: 'NOT_FOUND', message: `No asset ${JSON.stringify(file)}` } });
      }
      try {
        // Precompressed by scripts/build-web.mjs: send the .br or .gz twin when the browser takes it.
        const accepts = String(request.headers['accept-encoding'] ?? '');
        const encodings = /\.(br|gz)$/.test(file) ? [] : ACCEPTED.filter(([e]) => accepts.includes(e));
        let body: Buffer | undefined;
        let encoding: string | undefined;
        for (const [e, suffix] of encodings) {
          body = await readFile(join(distDir, 'assets', file + suffix)).catch(() => undefined);
          if (body) {
            encoding = e;
            break;
          }
        }
        body ??= await readFile(join(distDir, 'assets', file));
        if (encoding) reply.header('content-encoding', encoding);
        return reply
          .type(TYPES[extname(file)] ?? 'application/octet-stream')
          .header('cache-control', 'public, max-age=31536000, immutable')
          .header('vary', 'accept-encoding')
          .send(body);
      } catch {
        return reply
          .code(404)
          .send({ error: { code: 'NOT_FOUND', message: `No asset ${JSON.stringify(file)}` } });
      }
    });
  };
}
