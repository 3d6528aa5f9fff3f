import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChartMetadata } from './chart.ts';
import {
  coalesceTables,
  coalesceValues,
  mergeMaps,
  mergeValues,
  pathValue,
  type ValuesNode,
} from './values.ts';

function md(name: string): ChartMetadata {
  return {
    Name: name,
    Home: '',
    Sources: [],
    Version: '0.1.0',
    Description: '',
    Keywords: [],
    Maintainers: [],
    Icon: '',
    APIVersion: 'v2',
    Condition: '',
    Tags: '',
    AppVersion: '',
    Deprecated: false,
    Annotations: {},
    KubeVersion: '',
    Dependencies: [],
    Type: '',
  };
}

function node(name: string, values: Record<string, unknown>, deps: ValuesNode[] = []): ValuesNode {
  return { metadata: md(name), values, deps };
}

test('coalesceValues() puts user values over chart defaults and merges maps', () => {
  const chart = node('app', { a: 1, image: { repo: 'nginx', tag: 'latest' }, list: [1, 2] });
  const out = coalesceValues(chart, { image: { tag: 'v2' }, list: [9] });
  assert.deepEqual(out, { a: 1, image: { repo: 'nginx', tag: 'v2' }, list: [9] });
});

test('coalesceValues() deletes a default when the user value is null', () => {
  const chart = node('app', { resources: { limits: { cpu: 1 }, requests: { cpu: 1 } }, keep: 1 });
  const out = coalesceValues(chart, { resources: { limits: null }, keep: null });
  assert.deepEqual(out, { resources: { requests: { cpu: 1 } } });
});

test('mergeValues() keeps nulls', () => {
  const chart = node('app', { a: 1 });
  assert.deepEqual(mergeValues(chart, { a: null }), { a: null });
});

test('coalesceValues() scopes sub-chart values and copies globals into them', () => {
  const sub = node('sub', { replicas: 1, global: { region: 'eu', labels: { owner: 'sub' } } });
  const parent = node('app', { global: { env: 'prod', labels: { team: 'a' } }, sub: { replicas: 3 } }, [sub]);
  const out = coalesceValues(parent, { global: { env: 'staging' } });
  assert.deepEqual(out.sub, {
    replicas: 3,
    global: { env: 'staging', region: 'eu', labels: { team: 'a', owner: 'sub' } },
  });
  assert.deepEqual(out.global, { env: 'staging', labels: { team: 'a' } });
});

test('coalesceValues() does not change the chart values', () => {
  const values = { a: { b: 1 } };
  coalesceValues(node('app', values), { a: { c: 2 } });
  assert.deepEqual(values, { a: { b: 1 } });
});

test('mergeMaps() merges -f files in order, later wins', () => {
  assert.deepEqual(mergeMaps({ a: { x: 1, y: 2 }, b: 1 }, { a: { y: 3 }, b: null }), {
    a: { x: 1, y: 3 },
    b: null,
  });
});

test('coalesceTables() keeps dst and fills from src', () => {
  assert.deepEqual(coalesceTables({ a: 1, m: { x: 1 } }, { a: 2, b: 3, m: { y: 2 } }), {
    a: 1,
    b: 3,
    m: { x: 1, y: 2 },
  });
});

test('pathValue() finds only non-table values', () => {
  const v = { a: { enabled: true, t: { x: 1 } } };
  assert.deepEqual(pathValue(v, 'a.enabled'), { found: true, value: true });
  assert.equal(pathValue(v, 'a.t').found, false);
  assert.equal(pathValue(v, 'b.c').found, false);
});
