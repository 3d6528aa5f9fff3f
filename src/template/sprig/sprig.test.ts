import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GoInt64, TemplateSet, sprigFunctions } from '../index.ts';
import { semverCompare } from './semver.ts';

function sequence(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

function render(
  text: string,
  data: unknown = {},
  options: Parameters<typeof sprigFunctions>[0] = {},
): string {
  const set = new TemplateSet({ funcs: sprigFunctions(options) });
  set.parse('t', text);
  return set.execute('t', data, { missingKey: 'zero' });
}

const fixedNow = new Date('2024-05-06T07:08:09Z');

const cases: Array<[string, string, unknown, string]> = [
  [
    'int and int64 keep their Go types through arithmetic and conversions',
    '{{ typeOf 1 }} {{ typeOf (add 1 2) }} {{ kindOf .n }} {{ typeOf (int .n) }} {{ typeOf (len "ab") }} {{ printf "%T %d" (mul .n 2) (mul .n 2) }}',
    { n: new GoInt64(4n) },
    'int int64 int64 int int int64 8',
  ],
  [
    'int and int64 compare by value; deepEqual tells them apart',
    '{{ eq .n 4 }} {{ lt .n 5 }} {{ gt (len "abcde") .n }} {{ deepEqual .n 4 }} {{ deepEqual .n (int64 4) }} {{ empty (sub .n 4) }}',
    { n: new GoInt64(4n) },
    'true true true false true true',
  ],
  [
    'an int64 prints, indexes, serialises and takes int64-only Sprig paths like an integer',
    '{{ .n }} {{ index .l .n }} {{ toJson .n }} {{ duration .n }} {{ duration 4 }} {{ printf "%s" .n }}',
    { n: new GoInt64(1n), l: ['a', 'b'] },
    '1 b 1 1s 0s %!s(int64=1)',
  ],
  [
    'merge keeps destination values',
    '{{ merge .a .b }}',
    { a: { x: 1, n: { p: 1 } }, b: { x: 2, y: 3, n: { q: 2 } } },
    'map[n:map[p:1 q:2] x:1 y:3]',
  ],
  [
    'merge fills empty destination values',
    '{{ merge .a .b }}',
    { a: { x: '', f: false, z: 0 }, b: { x: 'v', f: true, z: 5 } },
    'map[f:true x:v z:5]',
  ],
  [
    'mergeOverwrite replaces, even with empty values',
    '{{ mergeOverwrite .a .b }}',
    { a: { x: 1, f: true }, b: { x: 2, f: false } },
    'map[f:false x:2]',
  ],
  [
    'mergeOverwrite copies nil',
    '{{ mergeOverwrite .a .b }}',
    { a: { x: 1 }, b: { x: null } },
    'map[x:<nil>]',
  ],
  ['merge skips nil', '{{ merge .a .b }}', { a: { x: 1 }, b: { x: null, y: null } }, 'map[x:1]'],
  [
    'merge mutates the destination',
    '{{ $_ := merge .a .b }}{{ .a }}',
    { a: { x: 1 }, b: { y: 2 } },
    'map[x:1 y:2]',
  ],
  [
    'mergeOverwrite replaces lists',
    '{{ mergeOverwrite .a .b }}',
    { a: { l: [1, 2] }, b: { l: [3] } },
    'map[l:[3]]',
  ],
  ['dig through maps', '{{ dig "a" "b" "none" . }}', { a: { b: 'x' } }, 'x'],
  ['randAlphaNum uses the injected random source', '{{ randAlphaNum 4 }}', {}, 'aaaa'],
  ['randNumeric', '{{ randNumeric 3 }}', {}, '000'],
  ['uuidv4 has version and variant bits', '{{ uuidv4 }}', {}, '00000000-0000-4000-8000-000000000000'],
  ['now is the injected clock', '{{ now | date "2006-01-02T15:04:05Z07:00" }}', {}, '2024-05-06T07:08:09Z'],
  ['ago against the injected clock', '{{ ago (toDate "2006-01-02" "2024-05-06") }}', {}, '7h8m9s'],
  ['date of unix seconds', '{{ date "2006-01-02 15:04" (int64 86400) }}', {}, '1970-01-02 00:00'],
  ['date of a float is now (Go ignores float64)', '{{ date "2006" 1.5 }}', {}, '2024'],
  [
    'dateInZone',
    '{{ dateInZone "2006-01-02 15:04 MST -0700" (toDate "2006-01-02 15:04" "2024-01-15 12:00") "America/New_York" }}',
    {},
    '2024-01-15 07:00 EST -0500',
  ],
  [
    'dateInZone with an unknown zone is UTC',
    '{{ dateInZone "15:04 MST" (toDate "15:04" "10:00") "Nowhere/Land" }}',
    {},
    '10:00 UTC',
  ],
  [
    'date layouts',
    '{{ date "Mon Monday Jan January 1 01 2 02 _2 3 03 15 4 04 5 05 06 2006 PM pm .000 .999" (toDate "2006-01-02 15:04:05.000" "2024-03-09 14:05:06.120") }}',
    {},
    'Sat Saturday Mar March 3 03 9 09  9 2 02 14 5 05 6 06 24 2024 PM pm .120 .12',
  ],
  [
    'toDate of a bad value is the zero time',
    '{{ toDate "2006-01-02" "nope" }}',
    {},
    '0001-01-01 00:00:00 +0000 UTC',
  ],
  ['mustToDate fails', '{{ mustToDate "2006-01-02" "2024-13-01" }}', {}, 'ERR'],
  [
    'durationRound',
    '{{ durationRound "49h" }} {{ durationRound "2400h" }} {{ durationRound "9000h" }}',
    {},
    '2d 3mo 1y',
  ],
  ['duration', '{{ duration "3725" }} {{ duration (int64 59) }} {{ duration "x" }}', {}, '1h2m5s 59s 0s'],
  [
    'dateModify',
    '{{ dateModify "-30m" (toDate "2006-01-02" "2024-01-01") | date "2006-01-02 15:04" }}',
    {},
    '2023-12-31 23:30',
  ],
  [
    'sha256sum is deterministic',
    '{{ sha256sum "abc" }}',
    {},
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  ],
  ['sha512sum', '{{ sha512sum "" | trunc 16 }}', {}, 'cf83e1357eefb8bd'],
  ['adler32sum', '{{ adler32sum "Wikipedia" }}', {}, '300286872'],
  ['b32 round trip', '{{ b32enc "hi!" | b32dec }}', {}, 'hi!'],
  ['unsupported functions say so', '{{ getHostByName "example.com" }}', {}, 'ERR'],
  [
    'derivePassword matches helm',
    '{{ derivePassword 1 "long" "password" "user" "example.com" }}|{{ derivePassword 1 "pin" "pw" "u" "s" }}',
    {},
    'ZedaFaxcZaso9*|6287',
  ],
  [
    'semver methods',
    '{{ $v := semver "v1.2.3-rc.1+b5" }}{{ $v.Major }}.{{ $v.Minor }}.{{ $v.Patch }} {{ $v.Prerelease }} {{ $v.Metadata }} {{ $v }}',
    {},
    '1.2.3 rc.1 b5 1.2.3-rc.1+b5',
  ],
  [
    'typeOf of function results',
    '{{ typeOf (list) }} {{ typeOf (dict) }} {{ typeOf (splitList "," "a") }} {{ typeOf (semver "1.0.0") }}',
    {},
    '[]interface {} map[string]interface {} []string *semver.Version',
  ],
  [
    'toJson sorts keys and escapes HTML',
    '{{ toJson . }}',
    { b: '<x>', a: [1, 2.5, null] },
    '{"a":[1,2.5,null],"b":"\\u003cx\\u003e"}',
  ],
  [
    'toJson of NaN is empty; mustToJson fails',
    '{{ toJson .n }}|{{ mustToJson .n }}',
    { n: Number.NaN },
    'ERR',
  ],
  ['fromJson numbers are floats', '{{ (fromJson "{\\"a\\": 3}").a | typeOf }}', {}, 'float64'],
  [
    'regex with Go named groups and flags',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ${w} is Go regexp expansion syntax
    '{{ regexReplaceAll "(?i)(?P<w>HELLO)" "hello there" "<${w}>" }}',
    {},
    '<hello> there',
  ],
  ['regex POSIX class', '{{ regexFindAll "[[:digit:]]+" "a12b345" -1 }}', {}, '[12 345]'],
  [
    'regex \\z and \\A',
    '{{ regexMatch "\\\\Aab\\\\z" "ab" }} {{ regexMatch "\\\\Aab\\\\z" "abc" }}',
    {},
    'true false',
  ],
  ['regexReplaceAll skips empty match after a match', '{{ regexReplaceAll "a*" "baaac" "-" }}', {}, '-b-c-'],
  ['regexSplit limits pieces', '{{ regexSplit "," "a,b,c" 2 }}', {}, '[a b,c]'],
  [
    'math on floats truncates through int64',
    '{{ add 1.9 1.9 }} {{ sub 5 1.5 }} {{ mul 2.5 2 }} {{ div 9 2 }} {{ mod -7 3 }}',
    {},
    '2 4 4 4 -1',
  ],
  [
    'float math is decimal-exact',
    '{{ addf 0.1 0.2 }} {{ mulf 1.1 1.1 }} {{ subf 0.3 0.1 }} {{ divf 1 3 }}',
    {},
    '0.3 1.21 0.2 0.3333333333333333',
  ],
  [
    'int conversions',
    '{{ int "0x1F" }} {{ int "010" }} {{ int64 "1e3" }} {{ int 1e3 }} {{ float64 "2.5e1" }} {{ atoi " 1" }}',
    {},
    '31 8 0 1000 25 0',
  ],
  [
    'list functions',
    '{{ initial (list 1 2 3) }} {{ rest (list) }} {{ last (list) }} {{ compact (list 0 "" nil false "a" (list)) }}',
    {},
    '[1 2] [] <no value> [a]',
  ],
  [
    'has and without use deep equality',
    '{{ has (list 1) (list (list 1)) }} {{ without (list (dict "a" 1) 2) (dict "a" 1) }}',
    {},
    'true [2]',
  ],
  ['sortAlpha of mixed values', '{{ sortAlpha (list "b" 10 "a" 2) }}', {}, '[10 2 a b]'],
  [
    'get/set/unset/hasKey',
    '{{ $d := dict }}{{ $_ := set $d "k" "v" }}{{ get $d "k" }} {{ hasKey $d "k" }} {{ $_ := unset $d "k" }}{{ hasKey $d "k" }}',
    {},
    'v true false',
  ],
  ['ternary and coalesce', '{{ ternary "a" "b" false }} {{ coalesce 0 "" "x" "y" }}', {}, 'b x'],
  ['quote and squote skip nil', '{{ quote "a" nil 1 }} {{ squote nil "b" }}', {}, '"a" "1" \'b\''],
  ['wrap keeps long words', '{{ wrap 3 "abcdef gh" }}', {}, 'abcdef\ngh'],
  [
    'camelcase and snakecase',
    '{{ camelcase "foo_bar_baz" }} {{ snakecase "fooBarBaz" }} {{ kebabcase "FooBar" }}',
    {},
    'FooBarBaz foo_bar_baz foo-bar',
  ],
  ['swapcase and shuffle', '{{ swapcase "aBc" }} {{ shuffle "abc" }}', {}, 'AbC bac'],
  [
    'urlParse',
    '{{ (urlParse "http://h:80/p?q=1#f").hostname }} {{ (urlParse "http://h:80/p?q=1#f").query }}',
    {},
    'h q=1',
  ],
  [
    'path functions',
    '{{ base "a/b/" }} {{ dir "a" }} {{ clean "/../a/./b" }} {{ ext "a.b/c" }}',
    {},
    'b . /a/b ',
  ],
];

for (const [name, text, data, want] of cases) {
  test(`sprig ${name}`, () => {
    const options = { random: sequence([0]), now: () => fixedNow };
    if (want === 'ERR') {
      assert.throws(() => render(text, data, options));
      return;
    }
    const got = render(
      text,
      data,
      name.startsWith('swapcase') ? { random: sequence([0.9, 0.1]), now: () => fixedNow } : options,
    );
    assert.equal(got, want);
  });
}

const semverCases: Array<[string, string, boolean]> = [
  ['>=1.21.0-0', 'v1.25.3-eks-abc', true],
  ['>=1.21.0', '1.25.3-eks-abc', false],
  ['>=1.21.0', '1.21.0', true],
  ['<1.19-0', '1.18.9-gke.1', true],
  ['^1.2.3', '1.9.9', true],
  ['^1.2.3', '2.0.0', false],
  ['^0.2.3', '0.2.9', true],
  ['^0.2.3', '0.3.0', false],
  ['^0.0.3', '0.0.4', false],
  ['~1.2.3', '1.2.9', true],
  ['~1.2.3', '1.3.0', false],
  ['~1', '1.9.0', true],
  ['1.2.x', '1.2.7', true],
  ['1.2.x', '1.3.0', false],
  ['*', '4.5.6', true],
  ['>1.0, <2.0', '1.5.0', true],
  ['>1.0 <2.0', '2.0.0', false],
  ['<1.0 || >=3.0', '3.1.0', true],
  ['1.2 - 1.4', '1.4.9', true],
  ['1.2 - 1.4', '1.5.0', false],
  ['!=1.2.3', '1.2.4', true],
  ['=1.2.3', '1.2.3+build', true],
  ['>1.2', '1.2.5', false],
  ['<=1.2', '1.2.9', true],
];

for (const [constraint, version, want] of semverCases) {
  test(`semverCompare() ${JSON.stringify(constraint)} against ${version} is ${want}`, () => {
    assert.equal(semverCompare(constraint, version), want);
  });
}

test('semverCompare() rejects bad constraints and versions with Masterminds messages', () => {
  assert.throws(() => semverCompare('>>1', '1.0.0'), /improper constraint: >>1/);
  assert.throws(() => semverCompare('>1', 'x.y'), /Invalid Semantic Version/);
});

test('genCA and genSignedCert build a verifiable chain with SANs', async () => {
  const { X509Certificate } = await import('node:crypto');
  const out = render(
    `{{- $ca := genCA "my-ca" 365 -}}
{{- $c := genSignedCert "svc.ns.svc" (list "10.0.0.1") (list "svc" "svc.ns.svc") 30 $ca -}}
{{ $ca.Cert }}|{{ $c.Cert }}|{{ $c.Key }}`,
    {},
    { now: () => fixedNow },
  );
  const [caPem, certPem, keyPem] = out.split('|');
  const ca = new X509Certificate(caPem!);
  const cert = new X509Certificate(certPem!);
  assert.equal(ca.subject, 'CN=my-ca');
  assert.equal(ca.ca, true);
  assert.equal(ca.validFrom, 'May  6 07:08:09 2024 GMT');
  assert.equal(cert.issuer, 'CN=my-ca');
  assert.equal(cert.ca, false);
  assert.equal(cert.subjectAltName, 'DNS:svc, DNS:svc.ns.svc, IP Address:10.0.0.1');
  assert.ok(cert.verify(ca.publicKey));
  assert.match(keyPem!, /^-----BEGIN RSA PRIVATE KEY-----\n/);
});

test('genPrivateKey makes PEM keys of the requested type', () => {
  assert.match(render('{{ genPrivateKey "ecdsa" }}'), /^-----BEGIN EC PRIVATE KEY-----\n/);
  assert.match(render('{{ genPrivateKey "ed25519" }}'), /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(render('{{ genPrivateKey "foo" }}'), 'Unknown type foo');
});

test('genSelfSignedCertWithKey and buildCustomCert reuse a given key', () => {
  const out = render(
    '{{ $k := genPrivateKey "ecdsa" }}{{ $c := genSelfSignedCertWithKey "x" nil (list "x.y") 1 $k }}{{ $b := buildCustomCert ($c.Cert | b64enc) ($c.Key | b64enc) }}{{ eq $b.Key $k }} {{ eq $b.Cert $c.Cert }}',
  );
  assert.equal(out, 'true true');
});

test('bcrypt and htpasswd make $2a$ hashes that verify', async () => {
  const bcryptjs = (await import('bcryptjs')).default;
  const [hash, line] = render('{{ bcrypt "pw" }}|{{ htpasswd "user" "pw" }}').split('|');
  assert.match(hash!, /^\$2a\$10\$/);
  assert.ok(bcryptjs.compareSync('pw', hash!));
  // A hash made by helm's Go bcrypt verifies too.
  assert.ok(bcryptjs.compareSync('pw', '$2a$10$iTyZgAI3UNaJ6aFjfWL3re7mj..KNNiR.dhTbEGnbWRfcZBRu0oly'));
  assert.match(line!, /^user:\$2a\$10\$/);
  assert.equal(render('{{ htpasswd "a:b" "pw" }}'), 'invalid username: a:b');
});

test('encryptAES and decryptAES interoperate with helm', () => {
  assert.equal(
    render('{{ decryptAES "secretkey" "lUUxWnsk/5pIvuUKM9KipcWB2dOEJ9F6Kcngg61G8JQ=" }}'),
    'round trip',
  );
  assert.equal(render('{{ encryptAES "k" "hello" | decryptAES "k" }}'), 'hello');
  assert.equal(render('{{ encryptAES "k" "" }}'), '');
});
