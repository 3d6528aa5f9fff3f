import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { parseGoYamlFull } from './go-yaml.ts';
import { splitManifests } from './manifests.ts';
import { parseYamlFast } from './yaml-fast.ts';

/** parseYamlFast either declines (undefined) or gives exactly what the full parser gives. */
function agrees(text: string, name: string): boolean {
  const fast = parseYamlFast(text);
  if (fast === undefined) return false;
  let full: unknown;
  try {
    full = parseGoYamlFull(text, name);
  } catch (err) {
    assert.fail(`${name}: the fast reader accepted what the full parser rejects: ${(err as Error).message}`);
  }
  assert.deepEqual(fast, full, name);
  // deepEqual treats -0 and 0 alike and ignores key order; compare both too.
  assert.equal(JSON.stringify(fast), JSON.stringify(full), name);
  return true;
}

// Each is read by the fast reader (not declined) and equals the full parse.
const HANDLED: string[] = [
  '',
  '# only a comment\n',
  '---\na: 1\n',
  "a: 1\nb: two\nc: \"three\"\nd: 'fo''ur'\ne:\nf: ~\ng: null\n",
  'yes1: yes\nno1: No\non1: ON\noff1: off\ny1: y\nt: true\nf: False\n',
  'i: 017\nh: 0x1F\nb: 0b101\ns: 1:30\nf: 1.50\ne: 1e3\nu: 1_000\ninf: .inf\nninf: -.Inf\nnan: .NaN\nneg: -3\nbig: 9007199254740993\nm: -0\n',
  'a:\n  b:\n    c: 1\n  d: [] # empty\ne: {}\n',
  'list:\n- a\n- b: 1\n  c: 2\n-\n  - x\n  - y\n- - z\n-\nafter: 1\n',
  'k:\n  - 1\n  - "two"\n  - three # comment\nj: 2\n',
  'url: http://x.y:80/z\ncolon: a:b\nhash: a#b\nsp:   spaced   \n',
  'data:\n  conf: |\n    line 1\n      indented\n\n    # not a comment\n  strip: |-\n    x\n    y\n\n  empty: |\n  after: 1\n',
  'top: |\n  at the end',
  '- name: app\n  image: nginx:1.25\n  ports:\n  - containerPort: 80\n    protocol: TCP\n  env: []\n',
  '"quoted key": 1\n\'single\': 2\n"a b": {}\n',
  'dup: 1\ndup: 2\ntoString: x\n',
  'e: "a\\tb\\u00e9\\x41\\"q\\\\ \\/ \\n\\0\\e\\N\\_\\U0001F600"\n"k\\"ey": \'it\'\'s\'\n',
  'json: "{\\"a\\":[1,{\\"b\\":null}]}"\n',
  "command: ['wget']\nargs: [ 'a:80', \"b\", c d, 1, yes, ~ ] # flow\nempty: []\n- x\n".slice(0, -4),
  'list:\n  - [a, b]\n  - []\n',
  'a: b\n   # an indented comment\nc: d\n',
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    "helm.sh/hook": pre-install\n    helm.sh/hook-weight: "5"\n',
];

// Each is declined (left to the full parser).
const DECLINED: string[] = [
  'a: >\n  folded\n',
  'a: |+\n  keep\n',
  'a: |2\n  x\n',
  'a: &x 1\nb: *x\n',
  'a: !!str 1\n',
  'a: [1, [2]]\n',
  'a: [1, 2,]\n',
  'a: [1, 2\n  ]\n',
  'a: [b: 1]\n',
  'a: [1, {b: 1}]\n',
  'a: {b: 1}\n',
  'a: multi\n  line\n',
  'a: "open\n  quote"\n',
  'a: "bad \\q escape"\n',
  'a: "\\ud800"\n',
  '? complex\n: key\n',
  '<<: {}\n',
  '1: one\n',
  'yes: key\n',
  'a:\tb\n',
  'a: 1\r\n',
  'a: 1\n---\nb: 2\n',
  'plain document\n',
  'a: b: c\n',
  'a: 2001-12-14\n',
  'a: |\n   \n  x\n',
  'a: 1\n b: 2\n',
  'a:\n  - x\n  b: 1\n',
];

test('the fast YAML reader handles the common forms exactly as the yaml package does', () => {
  for (const text of HANDLED)
    assert.ok(agrees(text, JSON.stringify(text)), `declined ${JSON.stringify(text)}`);
});

test('the fast YAML reader declines what it does not handle', () => {
  for (const text of DECLINED) {
    assert.equal(parseYamlFast(text), undefined, JSON.stringify(text));
  }
});

/** Every YAML file of the chart test data, and each of its `---` documents. */
function* yamlFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* yamlFiles(p);
    else if (/\.(ya?ml|tpl|txt)$/.test(name)) yield p;
  }
}

test('the fast YAML reader agrees with the yaml package on every YAML file of the test data', () => {
  const root = resolve(import.meta.dirname, '../..');
  let handled = 0;
  let total = 0;
  for (const dir of ['test/charts/testdata', 'src/chart/testdata', 'src/template/testdata']) {
    let files: string[];
    try {
      files = [...yamlFiles(join(root, dir))];
    } catch {
      continue;
    }
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const doc of [text, ...splitManifests(text)]) {
        total++;
        if (agrees(doc, f)) handled++;
      }
    }
  }
  assert.ok(handled > total / 3, `the fast reader handled only ${handled} of ${total} documents`);
});
