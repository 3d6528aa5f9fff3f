// Builds the web UI into web/dist (run by `npm ci` through postinstall, so no dev server is needed).
// Skips quietly when Vite is not installed (a production install without devDependencies).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = join(import.meta.dirname, '..');
const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
if (!existsSync(vite)) {
  console.warn('slipway: vite not installed; the web UI is not built');
  process.exit(0);
}
const res = spawnSync(
  process.execPath,
  [vite, 'build', '--config', join(root, 'web', 'vite.config.ts'), '--logLevel', 'warn'],
  {
    stdio: 'inherit',
    cwd: root,
  },
);
if (res.status !== 0) process.exit(res.status ?? 1);
// Precompress the hashed assets once here, so the server sends .br/.gz files without compressing per request.
const assets = join(root, 'web', 'dist', 'assets');
for (const name of existsSync(assets) ? readdirSync(assets) : []) {
  if (!/\.(js|css|svg|json)$/.test(name)) continue;
  const body = readFileSync(join(assets, name));
  writeFileSync(
    join(assets, `${name}.br`),
    brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  );
  writeFileSync(join(assets, `${name}.gz`), gzipSync(body, { level: 9 }));
}
