import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TemplateError, TemplateSet } from './index.ts';

function render(text: string, data: unknown = {}, missingKey?: 'default' | 'zero' | 'error'): string {
  const set = new TemplateSet();
  set.parse('t', text);
  return set.execute('t', data, missingKey ? { missingKey } : {});
}

function renderError(text: string, data: unknown = {}, missingKey?: 'default' | 'zero' | 'error'): string {
  try {
    render(text, data, missingKey);
  } catch (e) {
    assert.ok(e instanceof TemplateError, `expected TemplateError, got ${String(e)}`);
    return e.message;
  }
  assert.fail(`expected an error rendering ${text}`);
}

const cases: Array<[string, string, unknown, string]> = [
  ['text only', 'hello', {}, 'hello'],
  ['field', '{{ .a }}', { a: 'x' }, 'x'],
  ['nested field', '{{ .a.b.c }}', { a: { b: { c: 1.5 } } }, '1.5'],
  ['missing key prints <no value>', '{{ .nope }}', {}, '<no value>'],
  ['missing nested with default mode', '{{ .a.b }}', {}, '<no value>'],
  [
    'float formatting',
    '{{ .a }} {{ .b }} {{ .c }} {{ .d }}',
    { a: 1e6, b: 3, c: 0.00001, d: 123456 },
    '1e+06 3 1e-05 123456',
  ],
  [
    'integer constants',
    '{{ 3 }} {{ 0x1F }} {{ 1_000 }} {{ 017 }} {{ -4 }}',
    {},
    '31 31 1000 15 -4'.replace('31 31', '3 31'),
  ],
  ['float constants', '{{ 1.0 }} {{ 1e3 }} {{ 2.50 }}', {}, '1 1000 2.5'],
  ['char constant', "{{ 'a' }}", {}, '97'],
  ['string escapes', '{{ "a\\tb\\u00e9" }} {{ `raw\\n` }}', {}, 'a\tbé raw\\n'],
  ['bools and nil print', '{{ true }} {{ print nil }}', {}, 'true <nil>'],
  ['map prints sorted', '{{ . }}', { b: 2, a: [1, 'x'], c: null }, 'map[a:[1 x] b:2 c:<nil>]'],
  ['trim markers', 'a  {{- 1 -}}  b {{- /* c */ -}} c', {}, 'a1bc'],
  ['comment', 'a{{/* hi */}}b', {}, 'ab'],
  ['trim only with space', '{{3 -}} x', {}, '3x'],
  ['if else if', '{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}', { b: 1 }, 'B'],
  [
    'if empty collections false',
    '{{ if .l }}y{{ else }}n{{ end }}{{ if .m }}y{{ else }}n{{ end }}',
    { l: [], m: {} },
    'nn',
  ],
  ['with sets dot', '{{ with .a }}{{ .b }}{{ end }}', { a: { b: 'x' } }, 'x'],
  ['with else with', '{{ with .x }}X{{ else with .y }}{{ . }}{{ else }}none{{ end }}', { y: 'yy' }, 'yy'],
  ['range slice', '{{ range . }}[{{ . }}]{{ end }}', ['a', 'b'], '[a][b]'],
  ['range index value', '{{ range $i, $v := . }}{{ $i }}={{ $v }} {{ end }}', ['a', 'b'], '0=a 1=b '],
  ['range map sorted', '{{ range $k, $v := . }}{{ $k }}:{{ $v }},{{ end }}', { z: 1, a: 2 }, 'a:2,z:1,'],
  ['range else', '{{ range .l }}x{{ else }}empty{{ end }}', { l: [] }, 'empty'],
  ['range nil', '{{ range .l }}x{{ else }}empty{{ end }}', {}, 'empty'],
  ['range int', '{{ range 3 }}{{ . }}{{ end }}', {}, '012'],
  [
    'range break continue',
    '{{ range . }}{{ if eq . 2.0 }}{{ continue }}{{ end }}{{ if eq . 4.0 }}{{ break }}{{ end }}{{ . }}{{ end }}',
    [1, 2, 3, 4, 5],
    '13',
  ],
  ['variables and scope', '{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}', {}, '21'],
  [
    'assignment crosses scope',
    '{{ $x := 1 }}{{ range .l }}{{ $x = . }}{{ end }}{{ $x }}',
    { l: ['a', 'b'] },
    'b',
  ],
  ['dollar is root', '{{ range .l }}{{ $.n }}{{ end }}', { l: [1, 2], n: 'n' }, 'nn'],
  [
    'define and template',
    '{{ define "x" }}<{{ . }}>{{ end }}{{ template "x" "a" }}{{ template "x" }}',
    {},
    '<a><<no value>>',
  ],
  ['block', '{{ block "b" . }}B{{ .v }}{{ end }}', { v: 1 }, 'B1'],
  [
    'templates get no variables',
    '{{ define "x" }}{{ $ }}{{ end }}{{ $y := 1 }}{{ template "x" 5 }}',
    {},
    '5',
  ],
  ['pipelines', '{{ "a" | printf "%s-%s" "b" }}', {}, 'b-a'],
  ['parenthesised pipeline', '{{ printf "%s" (printf "%d" 3) }}', {}, '3'],
  ['chain on parens', '{{ (.a).b }}', { a: { b: 'c' } }, 'c'],
  [
    'method call',
    '{{ .F.Get "x" }} {{ .F.Name }}',
    { F: { Get: (s: unknown) => `got ${s}`, Name: () => 'nm' } },
    'got x nm',
  ],
  [
    'class getter method',
    '{{ .o.Hello "w" }}',
    {
      o: new (class {
        Hello(s: unknown) {
          return `hi ${s}`;
        }
      })(),
    },
    'hi w',
  ],
  ['and or return values', '{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 "" "z" }} {{ or 0 "" }}', {}, '0 2 z '],
  [
    'and short-circuits',
    '{{ and false (index .l 10) }} {{ or true (index .l 10) }}',
    { l: [] },
    'false true',
  ],
  ['not', '{{ not 0 }} {{ not "x" }}', {}, 'true false'],
  ['len bytes', '{{ len "héllo" }} {{ len .l }} {{ len .m }}', { l: [1, 2], m: { a: 1 } }, '6 2 1'],
  [
    'index',
    '{{ index .l 1 }} {{ index .m "a" }} {{ index .n 0 1 }} {{ index .m "zz" }}',
    { l: ['a', 'b'], m: { a: 1 }, n: [[1, 2]] },
    'b 1 2 <no value>',
  ],
  ['slice', '{{ slice .l 1 }} {{ slice .l 1 2 }} {{ slice "hello" 1 3 }}', { l: [1, 2, 3] }, '[2 3] [2] el'],
  [
    'eq multiple',
    '{{ eq 1 2 3 1 }} {{ eq "a" "b" }} {{ eq .x nil }} {{ eq .m nil }}',
    { m: { a: 1 } },
    'true false true false',
  ],
  [
    'comparisons',
    '{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }} {{ ne 1 2 }}',
    {},
    'true true true false true',
  ],
  [
    'html js urlquery',
    '{{ html "<a href=\'x\'>&" }} {{ js "it\'s <b>" }} {{ urlquery "a b&c=d/é" }}',
    {},
    "&lt;a href=&#39;x&#39;&gt;&amp; it\\'s \\u003Cb\\u003E a+b%26c%3Dd%2F%C3%A9",
  ],
  ['print spacing', '{{ print 1 2 "a" "b" 3 nil }}', {}, '1 2ab3 <nil>'],
  ['println', '{{ println 1 "a" }}', {}, '1 a\n'],
  ['call', '{{ call .f 2 }}', { f: (x: unknown) => `f${x}` }, 'f2'],
  ['missingkey zero', '{{ .nope }}', {}, '<no value>'],
  ['nil value in map', '{{ .a }}', { a: null }, '<no value>'],
  ['custom delimiters are per parse', '{{ "x" }}', {}, 'x'],
];

for (const [name, text, data, want] of cases) {
  test(`execute() ${name}`, () => {
    assert.equal(render(text, data), want);
  });
}

const errorCases: Array<[string, string, unknown, string]> = [
  [
    'nil pointer chain',
    '{{ .a.b }}',
    { a: null },
    'template: t:1:5: executing "t" at <.a.b>: nil pointer evaluating interface {}.b',
  ],
  [
    'field of string in interface',
    '{{ .a.b }}',
    { a: 's' },
    'template: t:1:5: executing "t" at <.a.b>: can\'t evaluate field b in type interface {}',
  ],
  [
    'field of range element',
    '{{ range .l }}{{ .x }}{{ end }}',
    { l: ['s'] },
    'template: t:1:17: executing "t" at <.x>: can\'t evaluate field x in type interface {}',
  ],
  [
    'field of with dot',
    '{{ with .a }}{{ .x }}{{ end }}',
    { a: 's' },
    'template: t:1:16: executing "t" at <.x>: can\'t evaluate field x in type string',
  ],
  [
    'wrong number of args',
    '{{ len 1 2 }}',
    {},
    'template: t:1:3: executing "t" at <len>: wrong number of args for len: want 1 got 2',
  ],
  [
    'index out of range',
    '{{ index .l 5 }}',
    { l: [1] },
    'template: t:1:3: executing "t" at <index .l 5>: error calling index: index out of range: 5',
  ],
  [
    'incompatible eq',
    '{{ eq .a 1 }}',
    { a: 1 },
    'template: t:1:3: executing "t" at <eq .a 1>: error calling eq: incompatible types for comparison',
  ],
  [
    'lt with nil',
    '{{ lt .x 1 }}',
    {},
    'template: t:1:3: executing "t" at <lt .x 1>: error calling lt: invalid type for comparison',
  ],
  [
    'printf arg type',
    '{{ printf .a }}',
    { a: 1.5 },
    'template: t:1:10: executing "t" at <.a>: wrong type for value; expected string; got float64',
  ],
  ['nil is not a command', '{{ nil }}', {}, 'template: t:1:3: executing "t" at <nil>: nil is not a command'],
  [
    'undefined template',
    '{{ template "nope" }}',
    {},
    'template: t:1:12: executing "t" at <{{template "nope"}}>: template "nope" not defined',
  ],
  [
    'missingkey error',
    '{{ .nope }}',
    {},
    'template: t:1:3: executing "t" at <.nope>: map has no entry for key "nope"',
  ],
  [
    'range over float',
    '{{ range 1.5 }}{{ end }}',
    {},
    'template: t:1:9: executing "t" at <1.5>: range can\'t iterate over 1.5',
  ],
  [
    'argument to non-function',
    '{{ .a 1 }}',
    { a: 1 },
    'template: t:1:3: executing "t" at <.a>: a is not a method but has arguments',
  ],
  [
    'method error',
    '{{ .f.Get }}',
    {
      f: {
        Get: () => {
          throw new Error('boom');
        },
      },
    },
    'template: t:1:5: executing "t" at <.f.Get>: error calling Get: boom',
  ],
  [
    'slice out of range',
    '{{ slice .l 0 9 }}',
    { l: [1] },
    'template: t:1:3: executing "t" at <slice .l 0 9>: error calling slice: index out of range: 9',
  ],
  [
    'call of non-function',
    '{{ call .a 2 }}',
    { a: 1.5 },
    'template: t:1:3: executing "t" at <call .a 2>: error calling call: non-function .a of type float64',
  ],
  [
    'error on later line',
    'a\nb\n  {{ .a.b }}',
    { a: null },
    'template: t:3:7: executing "t" at <.a.b>: nil pointer evaluating interface {}.b',
  ],
];

for (const [name, text, data, want] of errorCases) {
  test(`execute() fails: ${name}`, () => {
    assert.equal(renderError(text, data, name === 'missingkey error' ? 'error' : undefined), want);
  });
}

test('execute() with missingkey=zero errors on nil chain like Helm', () => {
  assert.equal(
    renderError('{{ .a.b }}', {}, 'zero'),
    'template: t:1:5: executing "t" at <.a.b>: nil pointer evaluating interface {}.b',
  );
});

const parseErrors: Array<[string, string, string]> = [
  ['undefined function', '{{ nope 1 }}', 'template: t:1: function "nope" not defined'],
  ['unclosed action', 'a\n{{ .a ', 'template: t:2: unclosed action'],
  ['unexpected end', '{{ end }}', 'template: t:1: unexpected {{end}}'],
  ['missing end', '{{ if .a }}x', 'template: t:1: unexpected EOF'],
  ['undefined variable', '{{ $x }}', 'template: t:1: undefined variable "$x"'],
  [
    'variable out of scope',
    '{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}',
    'template: t:1: undefined variable "$x"',
  ],
  ['bad character', '{{ .a! }}', "template: t:1: bad character U+0021 '!'"],
  ['unclosed comment', '{{/* x }}', 'template: t:1: unclosed comment'],
  ['break outside range', '{{ break }}', 'template: t:1: {{break}} outside {{range}}'],
  ['missing value for if', '{{ if }}{{ end }}', 'template: t:1: missing value for if'],
  [
    'non executable pipeline stage',
    '{{ 1 | 2 }}',
    'template: t:1: non executable command in pipeline stage 2',
  ],
  ['unexpected right paren', '{{ .a ) }}', 'template: t:1: unexpected right paren'],
  ['unexpected token in command', '{{ .a = }}', 'template: t:1: unexpected "=" in operand'],
  ['unterminated string', '{{ "abc }}', 'template: t:1: unterminated quoted string'],
  [
    'multiple definition',
    '{{ define "a" }}x{{ end }}{{ define "a" }}y{{ end }}',
    'template: t:1: template: multiple definition of template "a"',
  ],
];

for (const [name, text, want] of parseErrors) {
  test(`parse() fails: ${name}`, () => {
    const set = new TemplateSet();
    assert.throws(
      () => set.parse('t', text),
      (e: unknown) => e instanceof TemplateError && e.message === want,
    );
  });
}

test('parse() error carries a location', () => {
  const set = new TemplateSet();
  try {
    set.parse('f.yaml', 'x\n{{ nope }}');
    assert.fail('expected error');
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.location?.file, 'f.yaml');
    assert.equal(e.location?.line, 2);
  }
});

test('parse() later definitions replace earlier ones, empty ones do not', () => {
  const set = new TemplateSet();
  set.parse('a', '{{ define "x" }}one{{ end }}');
  set.parse('b', '{{ define "x" }}two{{ end }}');
  set.parse('c', '{{ define "x" }}  {{ end }}{{ template "x" }}');
  assert.equal(set.execute('c', {}), 'two');
  assert.deepEqual(set.names().sort(), ['a', 'b', 'c', 'x']);
});

test('clone() shares trees but not later additions', () => {
  const set = new TemplateSet();
  set.parse('a', '{{ define "x" }}one{{ end }}A');
  const copy = set.clone();
  copy.parse('b', '{{ define "x" }}two{{ end }}{{ template "x" }}');
  assert.equal(copy.execute('b', {}), 'two');
  assert.equal(set.has('b'), false);
  set.parse('c', '{{ template "x" }}');
  assert.equal(set.execute('c', {}), 'one');
});

test('addFuncs() functions may be closures over the set (include)', () => {
  const set = new TemplateSet();
  set.addFuncs({ include: (name: unknown, data: unknown) => set.execute(String(name), data) });
  set.parse('t', '{{ define "x" }}[{{ . }}]{{ end }}{{ include "x" 1 | printf "%s!" }}');
  assert.equal(set.execute('t', {}), '[1]!');
});

test('execute() of an unknown template names the set', () => {
  const set = new TemplateSet();
  assert.throws(() => set.execute('nope', {}), /no template "nope" associated with template "gotpl"/);
});

test('execute() stops runaway recursion', () => {
  const set = new TemplateSet();
  set.parse('t', '{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}');
  assert.throws(() => set.execute('t', {}, { maxDepth: 50 }), /exceeded maximum template depth \(50\)/);
});

test('parse() honours custom delimiters', () => {
  const set = new TemplateSet();
  set.parse('t', '[[ .a ]] {{ .a }}', { leftDelim: '[[', rightDelim: ']]' });
  assert.equal(set.execute('t', { a: 1n }), '1 {{ .a }}');
});

test('execute() reports JS stack exhaustion once, as a template error', () => {
  const set = new TemplateSet();
  set.addFuncs({ include: (name: unknown, data: unknown) => set.execute(String(name), data) });
  set.parse('t', '{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}');
  assert.throws(
    () => set.execute('t', {}),
    (e: unknown) =>
      e instanceof TemplateError &&
      e.message === 'template: t: exceeded maximum template depth (the JavaScript stack is exhausted)',
  );
});

test('parse() rejects absurd nesting without crashing', () => {
  const set = new TemplateSet();
  assert.throws(() => set.parse('p', `{{ ${'('.repeat(20000)}1${')'.repeat(20000)} }}`), TemplateError);
});

test('execute() calls methods of Map subclasses before looking up keys, and ranges over them', () => {
  class Files extends Map<string, Uint8Array> {
    Get(name: unknown): string {
      const b = this.get(String(name));
      return b ? new TextDecoder().decode(b) : '';
    }
  }
  const files = new Files([['a.txt', new TextEncoder().encode('hello')]]);
  assert.equal(
    render(
      '{{ .Files.Get "a.txt" }}|{{ range $k, $v := .Files }}{{ $k }}={{ printf "%s" $v }}{{ end }}|{{ len .Files }}',
      {
        Files: files,
      },
    ),
    'hello|a.txt=hello|1',
  );
});

test('addFuncs() after an execution replaces functions the executor resolved before', () => {
  const set = new TemplateSet({ funcs: { f: () => 'one' } });
  set.parse('t', '{{ f }}');
  assert.equal(set.execute('t', {}), 'one');
  set.addFuncs({ f: () => 'two' });
  assert.equal(set.execute('t', {}), 'two');
  assert.equal(set.execute('t', {}, { funcs: { f: () => 'three' } }), 'three');
  assert.equal(set.execute('t', {}), 'two');
});
