import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GoInt64 } from '../template/index.ts';
import {
  parseSet,
  parseSetFile,
  parseSetJson,
  parseSetLiteral,
  parseSetString,
  SetSyntaxError,
} from './strvals.ts';

/** A `--set` integer: Go's int64. */
const i64 = (n: bigint) => new GoInt64(n);

const cases: [string, Record<string, unknown>][] = [
  ['name=value', { name: 'value' }],
  ['a=1,b=2', { a: i64(1n), b: i64(2n) }],
  ['a.b.c=x', { a: { b: { c: 'x' } } }],
  ['flag=true,off=FALSE,none=null', { flag: true, off: false, none: null }],
  ['zero=0,lead=007,neg=-5,float=1.5', { zero: i64(0n), lead: '007', neg: i64(-5n), float: '1.5' }],
  ['huge=99999999999999999999', { huge: '99999999999999999999' }],
  ['list={a,b,c}', { list: ['a', 'b', 'c'] }],
  ['list={1,true}', { list: [i64(1n), true] }],
  ['list={}', { list: [''] }],
  ['a[0]=x,a[2]=z', { a: ['x', null, 'z'] }],
  ['a[0].name=n,a[0].port=80', { a: [{ name: 'n', port: i64(80n) }] }],
  ['a[0][1]=x', { a: [[null, 'x']] }],
  ['esc=a\\,b', { esc: 'a,b' }],
  ['dots.a\\.b=c', { dots: { 'a.b': 'c' } }],
  ['empty=', { empty: '' }],
  ['a=b=c', { a: 'b=c' }],
  ['a.b=1,a.c=2', { a: { b: i64(1n), c: i64(2n) } }],
  ['name=with space', { name: 'with space' }],
];

for (const [expr, want] of cases) {
  test(`parseSet() handles ${expr}`, () => {
    assert.deepEqual(parseSet(expr), want);
  });
}

test('parseSet() merges into existing values', () => {
  const dest: Record<string, unknown> = { a: { keep: 1 }, list: ['x', 'y'] };
  parseSet('a.b=2,list[1]=Y', dest);
  assert.deepEqual(dest, { a: { keep: 1, b: i64(2n) }, list: ['x', 'Y'] });
});

const errors: [string, RegExp][] = [
  ['a', /key "a" has no value/],
  ['a.b', /key "b" has no value/],
  ['a,b=c', /key "a" has no value \(cannot end with ,\)/],
  ['a[-1]=x', /negative -1 index not allowed/],
  ['a[x]=y', /error parsing index/],
  ['a[99999999]=y', /greater than maximum supported index/],
  ['a={x,y', /list must terminate with '}'/],
  ['a[0]b=c', /unexpected data at end of array index/],
];

for (const [expr, re] of errors) {
  test(`parseSet() rejects ${expr}`, () => {
    assert.throws(
      () => parseSet(expr),
      (err: unknown) => err instanceof SetSyntaxError && re.test(err.message),
    );
  });
}

test('parseSet() rejects a scalar used as a map', () => {
  assert.throws(() => parseSet('a=1,a.b=2'), /interface conversion/);
});

test('parseSetString() keeps strings', () => {
  assert.deepEqual(parseSetString('a=1,b=true,c=null,l={1,2}'), {
    a: '1',
    b: 'true',
    c: 'null',
    l: ['1', '2'],
  });
});

test('parseSetJson() decodes JSON values (numbers are float64)', () => {
  assert.deepEqual(parseSetJson('a={"x":[1,2.5,{"y":null}]},b="s",c=3'), {
    a: { x: [1, 2.5, { y: null }] },
    b: 's',
    c: 3,
  });
  assert.deepEqual(parseSetJson('l[1]={"k":true}'), { l: [null, { k: true }] });
  assert.deepEqual(parseSetJson('n='), { n: null });
});

test('parseSetFile() reads each value through the injected reader', () => {
  const files: Record<string, string> = { 'a.txt': 'A\n', 'b.txt': 'B' };
  assert.deepEqual(
    parseSetFile('x=a.txt,y.z=b.txt', {}, (p) => files[p] ?? ''),
    { x: 'A\n', y: { z: 'B' } },
  );
});

test('parseSetLiteral() keeps everything after = as one string', () => {
  assert.deepEqual(parseSetLiteral('a.b=x,y=z\\n'), { a: { b: 'x,y=z\\n' } });
  assert.deepEqual(parseSetLiteral('l[1].k=v'), { l: [null, { k: 'v' }] });
  assert.throws(() => parseSetLiteral('a.b'), /key "b" has no value/);
});
