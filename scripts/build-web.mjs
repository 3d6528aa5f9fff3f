// Builds the web UI into web/dist (run by `npm ci` through postinstall, so no dev server is needed).
// Skips quietly when Vite is not installed (a production install without devDependencies).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

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
process.exit(res.status ?? 1);
