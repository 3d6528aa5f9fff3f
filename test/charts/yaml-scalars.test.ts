// How values files read, against the real helm: every way YAML spells a boolean, null, number, timestamp,
// tag, key, anchor and merge key that go-yaml v2 and sigs.k8s.io/yaml give a meaning to, and the inputs they
// refuse. Slipway's chart engine parses with js-yaml and a schema of its own (src/chart/go-yaml.ts); this is
// the check that the two read the same values.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type CorpusCase, helmAvailable, removeHelmHome, runHelm, runSlipway } from './corpus.ts';

const skip = helmAvailable() ? false : 'helm binary not found (npm ci extracts it into node_modules/.cache)';

/** Values that load: one values.yaml, each line a key of its own. */
const SCALARS = `
bools: [yes, Yes, YES, no, No, NO, y, Y, n, N, on, On, ON, off, Off, OFF, true, True, TRUE, false, False, FALSE]
not_bools: [tRue, yES, oN, nO, "yes", 'no', t, f]
nulls: [~, null, Null, NULL, ]
not_nulls: [nULL, "~", "null", nil, None]
empty:
ints: [0, -0, +0, 7, -7, +7, 0777, 0o17, 0O17, 0x1F, 0X1f, -0x1F, +0x1F, 0b101, 0B11, -0b11, 1_000, 0x_1F, 1__0]
big_ints: [9007199254740993, -9223372036854775808, -9223372036854775809, 9223372036854775807, 9223372036854775808, 18446744073709551615, 18446744073709551616, 99999999999999999999]
not_ints: [0x, 0b, 0o, 0x1FFFFFFFFFFFFFFFFF, 0b2, 1:20, 12:30:45, 1_, _1, 1-2, 0xG, 1e, e1, 1.2.3, 1,000]
octal_like: [08, 09, 0999, 007, 00, -08]
floats: [1.0, 1., .5, -.5, +.5, 1e3, 1E3, 1e+3, 1e-3, 6.02e+23, 1_0.5, 0.1e-7, 1.5e300, 1e-400, 3.14159265358979323846, 0.30000000000000004, 123456789012345678901234567890]
not_floats: [., -., +., .e3, 1e400, -1e400, .5_0, 1.5.5, -inf, inf, nan, .iNf, +.nan, 0x1p3]
timestamps: [2001-12-14t21:59:43.10-05:00, 2002-12-14, 2001-12-15 2:59:43.10, 2001-12-14T21:59:43.123456789Z, 2024-1-2, 2024-13-45, 2024-02-30, 1999-01-01T00:00:00]
strings: ["a: b", 'it''s', "\\x41\\u00e9\\t", plain text, "multi
  line", '  spaced  ', "#not a comment", a#b]
block: |
  line1
    indented
  line3
folded: >-
  folded
  text

  para
keep: |+
  kept

strip: |-
  stripped
keys: {1: a, 1.5: b, true: c, 0x10: d, 2024-01-01: e, 1e6: f, 9007199254740993: g, on: h, 0.1: i, 1e-7: j, 1.5e300: k, 3.0: l, -0: m, 0.30000000000000004: n, 16777217.0: o, -9223372036854775809: p, "quoted 1": r, null_ish: s}
anchors:
  base: &base {x: 1, y: 2, z: 3}
  copy: *base
  list: &list [a, b]
  list_copy: *list
  scalar: &s hello
  scalar_copy: *s
merges:
  simple:
    <<: *base
    x: 9
  before:
    z: 5
    <<: *base
  listed:
    <<: [{a: 1}, {a: 2, b: 2}]
    c: 3
  inline:
    <<: {k: v}
tags:
  str: !!str 123
  int: !!int "12"
  int_hex: !!int "0x10"
  float: !!float 3
  bool: !!bool "yes"
  nul: !!null ~
  ts: !!timestamp 2001-12-14
  ts_full: !!timestamp 2001-12-14t21:59:43.10-05:00
  bin: !!binary aGVsbG8=
  bin_block: !!binary |
    aGVs
    bG8=
  set: !!set {a, b}
  custom: !Ref thing
  custom_seq: !foo [1, 2]
  custom_map: !foo {a: 1}
  nonspecific: ! 12
  verbatim: !<tag:example.com,2024:x> 5
flow: {a: [1, {b: yes}], c: {d: [], e: {}}}
nested_seq:
- - 1
  - 2
- key: value
  other: [x]
dupes: {a: 1, a: 2}
emitted_floats: [1234567.5, 123456.5, 100000.5, 0.0001, 0.00001234, 12345678.9, -1234567.5, 1e21, 1e22, 999999.9]
emitted_strings: ["\\x85", "\\u2028", "\\ufeff", "a\\rb", "\\xa0", "tab\\there", "\\U0001F600x", "é\\u2029", "a\\u0085b", "a \\x85\\x85 b", "<<", "-", "- a", "a:", "a :b", "?", "? x", "%x", "@x", "a,b", "[x]", "---x", "...", "x ", " x", "a  b", "it's a 'quote'", "\\\\back", "\\"dq\\""]
emitted_blocks: [" lead\\nx", "\\nlead break", "trail \\nx", "x\\ntrail ", "a\\n b", "tab\\tin\\nblock", "only\\n", "two\\n\\n", "\\n", "x\\n\\n\\ny"]
long_plain: this is a long plain string that goes past the eighty column limit of the go-yaml emitter and folds twice over the limit
long_single: "#this is a long single quoted string that goes past the eighty column limit of the go-yaml emitter and folds"
long_double: "this is a long double quoted string with a tab\\t that goes past the eighty column limit  with  doubled  spaces  there"
unicode: "\\u263A ☺ \\U0001F600"
`;

/** Values files both must refuse; `exact` when the message after Helm's prefix must match too. */
const REFUSED: { name: string; yaml: string; exact?: string }[] = [
  { name: 'nan', yaml: 'n: .nan', exact: 'json: unsupported value: NaN' },
  { name: 'inf', yaml: 'n: .inf', exact: 'json: unsupported value: +Inf' },
  { name: 'minus-inf', yaml: 'n: [-.Inf]', exact: 'json: unsupported value: -Inf' },
  { name: 'float-nan-tag', yaml: 'n: !!float .NaN', exact: 'json: unsupported value: NaN' },
  { name: 'int-tag-float', yaml: 'i: !!int 1.5', exact: 'yaml: cannot decode !!float `1.5` as a !!int' },
  { name: 'bool-tag-int', yaml: 'b: !!bool 1', exact: 'yaml: cannot decode !!int `1` as a !!bool' },
  { name: 'int-tag-str', yaml: 'i: !!int abc', exact: 'yaml: cannot decode !!str `abc` as a !!int' },
  { name: 'null-tag', yaml: 'n: !!null x', exact: 'yaml: cannot decode !!str `x` as a !!null' },
  {
    name: 'timestamp-tag',
    yaml: 't: !!timestamp 5',
    exact: 'yaml: cannot decode !!int `5` as a !!timestamp',
  },
  { name: 'binary', yaml: 'b: !!binary "@@@"', exact: 'yaml: !!binary value contains invalid base64 data' },
  {
    name: 'binary-padding',
    yaml: 'b: !!binary aGVsbG8',
    exact: 'yaml: !!binary value contains invalid base64 data',
  },
  {
    name: 'null-key',
    yaml: '~: x',
    exact: 'unsupported map key of type: %!s(<nil>), key: <nil>, value: "x"',
  },
  {
    name: 'uint64-key',
    yaml: '18446744073709551615: f',
    exact: 'unsupported map key of type: uint64, key: 0xffffffffffffffff, value: "f"',
  },
  {
    name: 'merge-scalar',
    yaml: 'm:\n  <<: 5',
    exact: 'yaml: map merge requires map or sequence of maps as the value',
  },
  {
    name: 'merge-list-scalar',
    yaml: 'm:\n  <<: [{a: 1}, 2]',
    exact: 'yaml: map merge requires map or sequence of maps as the value',
  },
  { name: 'unclosed-flow', yaml: 'a: [1, 2' },
  { name: 'mapping-in-plain', yaml: 'a: b: c' },
  { name: 'missing-colon', yaml: 'a:\n - b\nc' },
  { name: 'tab-indent', yaml: '\ta: 1' },
  { name: 'unknown-anchor', yaml: 'a: *x' },
  { name: 'bad-indent', yaml: 'a:\n  b: 1\n c: 2' },
  { name: 'unclosed-quote', yaml: 'a: "abc' },
  { name: 'not-a-map', yaml: '- a\n- b' },
  { name: 'scalar-doc', yaml: 'just text' },
];

/** Values files that load although they look broken: go-yaml reads only the first document. */
const LATER_DOCS = ['a: 1\n---\nb: [', 'a: 1\n---\nb: 2\n', '---\na: 1\n...\n--- x: [\n'];

const TEMPLATE = [
  'apiVersion: v1',
  'kind: ConfigMap',
  'metadata:',
  '  name: values',
  'data:',
  '  json: {{ toJson .Values | quote }}',
  '  kinds: {{ range $k, $v := .Values }}{{ $k }}={{ kindOf $v }},{{ end }}',
  // Map keys whose go-yaml order depends on Go's random map order (`16` and `1e+06`) are left out of toYaml:
  // helm itself prints them in a different order from run to run.
  '  yaml: {{ toYaml (omit .Values "keys") | quote }}',
  'raw:',
  '{{ toYaml (omit .Values "keys") | indent 2 }}',
  '',
].join('\n');

function makeChart(dir: string, values: string): CorpusCase {
  mkdirSync(join(dir, 'chart', 'templates'), { recursive: true });
  writeFileSync(join(dir, 'chart', 'Chart.yaml'), 'apiVersion: v2\nname: scalars\nversion: 0.1.0\n');
  writeFileSync(join(dir, 'chart', 'values.yaml'), values);
  writeFileSync(join(dir, 'chart', 'templates', 'values.yaml'), TEMPLATE);
  return { name: dir, dir, chart: 'chart', release: 'rel', args: [] };
}

/** Helm's message without its `Error: cannot load values.yaml: error converting YAML to JSON: ` prefix. */
function reason(stderr: string): string {
  return stderr
    .trim()
    .replace(/^Error: /, '')
    .replace(/^.*?error converting YAML to JSON: /, '');
}

describe('values files read as helm reads them', { skip }, () => {
  const root = mkdtempSync(join(tmpdir(), 'slipway-yaml-'));
  after(() => {
    rmSync(root, { recursive: true, force: true });
    removeHelmHome();
  });

  test('every scalar, key, tag, anchor and merge resolves to the same value and kind', async () => {
    const c = makeChart(join(root, 'scalars'), SCALARS);
    const [want, got] = await Promise.all([runHelm(c), runSlipway(c)]);
    assert.equal(want.ok, true, want.stderr);
    assert.equal(got.ok, true, got.stderr);
    assert.equal(got.stdout, want.stdout);
  });

  test('the same values given through fromYaml in a template', async () => {
    const c = makeChart(join(root, 'from-yaml'), `doc: ${JSON.stringify(SCALARS)}\n`);
    writeFileSync(
      join(c.dir, 'chart', 'templates', 'values.yaml'),
      TEMPLATE.replaceAll('.Values', '(fromYaml .Values.doc)'),
    );
    const [want, got] = await Promise.all([runHelm(c), runSlipway(c)]);
    assert.equal(want.ok, true, want.stderr);
    assert.equal(got.ok, true, got.stderr);
    assert.equal(got.stdout, want.stdout);
  });

  for (const [i, yaml] of LATER_DOCS.entries()) {
    test(`only the first document counts (${JSON.stringify(yaml)})`, async () => {
      const c = makeChart(join(root, `later-${i}`), yaml);
      const [want, got] = await Promise.all([runHelm(c), runSlipway(c)]);
      assert.equal(want.ok, true, want.stderr);
      assert.equal(got.ok, true, got.stderr);
      assert.equal(got.stdout, want.stdout);
    });
  }

  for (const r of REFUSED) {
    test(`both refuse ${r.name}: ${JSON.stringify(r.yaml)}`, async () => {
      const c = makeChart(join(root, `refused-${r.name}`), `${r.yaml}\n`);
      const [want, got] = await Promise.all([runHelm(c), runSlipway(c)]);
      assert.equal(want.ok, false, `helm loaded it:\n${want.stdout}`);
      assert.equal(got.ok, false, `slipway loaded it:\n${got.stdout}`);
      assert.match(got.stderr, /values\.yaml/, 'the message names the file');
      if (r.exact !== undefined) {
        assert.equal(reason(want.stderr), r.exact, 'helm says what the table says');
        assert.equal(reason(got.stderr), r.exact);
      } else if (/line \d+/.test(want.stderr)) {
        assert.match(got.stderr, /line \d+/, `helm names a line: ${want.stderr}`);
      }
    });
  }
});
