import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { getYamlValue, setYamlValue } from './yaml-edit.ts';

const fixture = readFileSync(new URL('./testdata/values.yaml', import.meta.url), 'utf8');

function changedLines(a: string, b: string): string[] {
  const la = a.split('\n');
  const lb = b.split('\n');
  assert.equal(la.length, lb.length);
  return lb.filter((line, i) => line !== la[i]);
}

test('setYamlValue() changes only image.tag and keeps comments, order and quoting', () => {
  const r = setYamlValue(fixture, ['image', 'tag'], '1');
  assert.equal(r.changed, true);
  assert.equal(r.previous, 'latest');
  assert.deepEqual(changedLines(fixture, r.text), ['  tag: "1"']);
  assert.equal(getYamlValue(r.text, ['image', 'tag']), '1');
});

test('setYamlValue() keeps single quotes and plain style where the value reads back as a string', () => {
  assert.equal(
    setYamlValue("image:\n  tag: 'a' # c\n", ['image', 'tag'], "it's").text,
    "image:\n  tag: 'it''s' # c\n",
  );
  assert.equal(
    setYamlValue('image:\n  tag: v1\n', ['image', 'tag'], 'v2.0.1').text,
    'image:\n  tag: v2.0.1\n',
  );
  // A plain "2" would read back as a number for a string tag, so it gets quotes...
  assert.equal(setYamlValue('image:\n  tag: v1\n', ['image', 'tag'], '2').text, 'image:\n  tag: "2"\n');
  // ...unless the old value was a plain number too.
  assert.equal(setYamlValue('image:\n  tag: 1\n', ['image', 'tag'], '2').text, 'image:\n  tag: 2\n');
  assert.equal(setYamlValue('image:\n  tag: 1\n', ['image', 'tag'], 'true').text, 'image:\n  tag: "true"\n');
});

test('setYamlValue() reports no change when the value is already set', () => {
  const r = setYamlValue('image:\n  tag: "7"\n', ['image', 'tag'], '7');
  assert.equal(r.changed, false);
});

test('setYamlValue() adds a missing key', () => {
  const r = setYamlValue('# top\nimage:\n  repository: x # repo\n', ['image', 'tag'], '3');
  assert.equal(getYamlValue(r.text, ['image', 'tag']), '3');
  assert.match(r.text, /# top/);
  assert.match(r.text, /repository: x # repo/);
  assert.equal(getYamlValue(setYamlValue('', ['image', 'tag'], '4').text, ['image', 'tag']), '4');
});

test('setYamlValue() names file and line for bad YAML and for a non-scalar target', () => {
  assert.throws(
    () => setYamlValue('image:\n  tag: [1\n', ['image', 'tag'], '1', 'dev/x/values.yaml'),
    (e: Error & { location?: { file?: string; line?: number } }) =>
      e.location?.file === 'dev/x/values.yaml' && typeof e.location.line === 'number',
  );
  assert.throws(
    () => setYamlValue('image:\n  tag:\n    a: 1\n', ['image', 'tag'], '1', 'v.yaml'),
    /v\.yaml:3.*not a scalar/,
  );
  assert.throws(() => setYamlValue('image: 5\n', ['image', 'tag'], '1', 'v.yaml'), /image is not a mapping/);
});
