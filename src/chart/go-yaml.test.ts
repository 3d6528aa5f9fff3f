import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  compareGoYamlKeys,
  parseGoYaml,
  parseGoYamlMap,
  stringifyGoYaml,
  YamlSyntaxError,
} from './go-yaml.ts';

test('parseGoYaml() gives float64 numbers and string keys like sigs.k8s.io/yaml', () => {
  assert.deepEqual(parseGoYaml('a: 1\nb: 1.5\n1: x\nc: 2024-01-01\n'), {
    a: 1,
    b: 1.5,
    '1': 'x',
    c: '2024-01-01',
  });
  assert.deepEqual(parseGoYamlMap(''), {});
  assert.throws(() => parseGoYamlMap('- a'), /cannot unmarshal array/);
  assert.throws(
    () => parseGoYaml('a: [', 'v.yaml'),
    (e: unknown) => e instanceof YamlSyntaxError && e.location?.file === 'v.yaml',
  );
});

test('parseGoYaml() refuses excessive aliasing', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 0; i < 8; i++)
    bomb.push(
      `${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [${Array(10)
        .fill(i === 0 ? '*a' : `*${'b'.repeat(i)}`)
        .join(',')}]`,
    );
  assert.throws(() => parseGoYaml(bomb.join('\n')), YamlSyntaxError);
});

test('compareGoYamlKeys() orders digits numerically and non-letters first', () => {
  assert.deepEqual(['a10', 'a9', 'b', 'a_b', 'ab', 'A'].sort(compareGoYamlKeys), [
    'A',
    'a_b',
    'a9',
    'a10',
    'ab',
    'b',
  ]);
});

test('stringifyGoYaml() writes go-yaml v2 style', () => {
  assert.equal(
    stringifyGoYaml({
      z: 1,
      a: { list: ['x', { k: 'v', j: [] }], empty: {} },
      s: 'true',
      n: null,
      m: 'l1\nl2\n',
    }),
    'a:\n  empty: {}\n  list:\n  - x\n  - j: []\n    k: v\nm: |\n  l1\n  l2\n"n": null\ns: "true"\nz: 1\n',
  );
  assert.equal(
    stringifyGoYaml({ big: 1e6, f: 0.5, i: 12n, tiny: 1e-7 }),
    'big: 1000000\nf: 0.5\ni: 12\ntiny: 1e-07\n',
  );
  assert.equal(
    stringifyGoYaml({ q: "it's: here", h: '#x', t: 'a\tb', e: '' }),
    "e: \"\"\nh: '#x'\nq: 'it''s: here'\nt: \"a\\tb\"\n",
  );
  assert.equal(stringifyGoYaml({}), '{}\n');
});

test('stringifyGoYaml() folds long plain strings past 80 columns', () => {
  const long = Array(12).fill('word').join(' ').repeat(2);
  const out = stringifyGoYaml({ k: long });
  assert.ok(out.split('\n').length > 2);
  assert.deepEqual(parseGoYaml(out), { k: long });
});
