// Module boundaries (ARCHITECTURE.md): modules import each other only through index.ts, dependencies
// point one way, and nothing but cli/ imports server/.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '..', 'src');

/** What each module may import. Modules not listed yet may import core, store and auth. */
const ALLOWED: Record<string, string[]> = {
  core: [],
  store: ['core'],
  auth: ['core', 'store'],
  template: ['core'],
  chart: ['core', 'template'],
  oci: ['core'],
  registry: ['core', 'store', 'auth', 'oci'],
  scan: ['core', 'store', 'auth', 'oci'],
  git: ['core', 'store', 'auth'],
  kube: ['core', 'store', 'auth'],
  localcluster: ['core', 'store', 'auth', 'kube', 'oci'],
  gitops: ['core', 'store', 'auth', 'chart', 'template', 'kube', 'git', 'oci', 'scan'],
  pipeline: ['core', 'store', 'auth', 'git', 'oci', 'registry', 'gitops', 'scan'],
  migrate: ['core'],
  demo: ['core'],
  server: ['*'],
  cli: ['*'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'testdata' ? [] : files(p);
    return /\.tsx?$/.test(name) ? [p] : [];
  });
}

test('modules import each other only through index.ts and in the allowed direction', () => {
  const problems: string[] = [];
  for (const file of files(SRC)) {
    if (file.endsWith('.test.ts') || /test-support|testdata|testing\.ts$/.test(file)) continue;
    const mod = relative(SRC, file).split('/')[0]!;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
      const target = resolve(dirname(file), m[1]!);
      const rel = relative(SRC, target);
      if (rel.startsWith('..')) continue;
      const targetMod = rel.split('/')[0]!;
      if (targetMod === mod) continue;
      const where = `${relative(SRC, file)} imports ${m[1]}`;
      if (!/^[^/]+\/index\.ts$/.test(rel)) problems.push(`${where}: import ${targetMod}/index.ts instead`);
      const allowed = ALLOWED[mod] ?? ['core', 'store', 'auth'];
      if (!allowed.includes('*') && !allowed.includes(targetMod)) {
        problems.push(`${where}: ${mod} may not depend on ${targetMod}`);
      }
      if ((targetMod === 'server' && mod !== 'cli') || targetMod === 'cli') {
        problems.push(`${where}: only cli/ may import server/, and nothing imports cli/`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('no module has a default export', () => {
  const offenders = files(SRC).filter((f) => /^export default /m.test(readFileSync(f, 'utf8')));
  assert.deepEqual(
    offenders.map((f) => relative(SRC, f)),
    [],
  );
});
