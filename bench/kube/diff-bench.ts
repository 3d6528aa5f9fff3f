// Throughput of the pure diff and health code on a recorded Deployment (run: node --import tsx bench/kube/diff-bench.ts).
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { assessHealth, diff, type KubeObject } from '../../src/kube/index.ts';

const dir = new URL('../../src/kube/testdata/', import.meta.url);
const live = JSON.parse(readFileSync(new URL('deployment-web.json', dir), 'utf8')) as KubeObject;
const desired = parseAllDocuments(
  readFileSync(new URL('manifests/02-web-deploy.yaml', dir), 'utf8'),
)[0]!.toJS() as KubeObject;
const changed = JSON.parse(JSON.stringify(desired).replace('nginx:1.25', 'nginx:1.26')) as KubeObject;

function measure(name: string, fn: () => unknown, n: number): void {
  for (let i = 0; i < Math.min(n, 200); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`${name}: ${(n / (ms / 1000)).toFixed(0)} ops/s (${((ms * 1000) / n).toFixed(1)} µs each)`);
}

measure('diff() Synced Deployment', () => diff(desired, live), 5000);
measure('diff() OutOfSync Deployment (with YAML text diff)', () => diff(changed, live), 2000);
measure('assessHealth() Deployment', () => assessHealth(live), 100000);
