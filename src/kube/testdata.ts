// Test-only loader for the recorded Kubernetes objects in testdata/ (copied from shared/k8s-reference).
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './types.ts';

const DIR = new URL('./testdata/', import.meta.url);

export function fixture<T = KubeObject>(name: string): T {
  return JSON.parse(readFileSync(new URL(name, DIR), 'utf8')) as T;
}

export function fixtureItems(name: string): KubeObject[] {
  const list = fixture<{ items: KubeObject[]; kind: string; apiVersion: string }>(name);
  const kind = list.kind.replace(/List$/, '');
  return list.items.map((item) => ({
    ...item,
    apiVersion: item.apiVersion ?? list.apiVersion,
    kind: item.kind ?? kind,
  }));
}

/** Every document of a manifest file under testdata/manifests/. */
export function manifests(name: string): KubeObject[] {
  const text = readFileSync(new URL(`manifests/${name}`, DIR), 'utf8');
  return parseAllDocuments(text).map((d) => d.toJS() as KubeObject);
}

export function manifest(name: string, kind: string): KubeObject {
  const found = manifests(name).find((m) => m.kind === kind);
  if (!found) throw new Error(`no ${kind} in ${name}`);
  return found;
}

export function lines(name: string): string[] {
  return readFileSync(new URL(name, DIR), 'utf8').split('\n').filter(Boolean);
}
