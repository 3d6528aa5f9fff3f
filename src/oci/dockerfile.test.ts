import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from '../core/index.ts';
import { expandWord, parseDockerfile, parseDuration } from './dockerfile.ts';
import { parseDockerignore } from './dockerignore.ts';

const D = '$';

test('parseDockerfile() reads every instruction, continuations, heredocs and stages', () => {
  const df = parseDockerfile(
    [
      '# syntax=docker/dockerfile:1',
      '# escape=\\',
      '',
      'ARG BASE=scratch',
      `FROM ${D}{BASE} AS build`,
      'LABEL a=1 \\',
      '  # a comment inside a continuation',
      '  b="two words"',
      'ENV PATH=/usr/bin NAME=value',
      'ENV LEGACY some value here',
      'RUN <<EOF',
      'echo one',
      'echo two',
      'EOF',
      'COPY --chown=1:2 --chmod=640 a b /dst/',
      'ADD ["x y", "/z/"]',
      'EXPOSE 80/tcp 53/udp',
      'VOLUME /a /b',
      'WORKDIR /app',
      'USER nobody',
      'STOPSIGNAL SIGINT',
      'HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://localhost/',
      'SHELL ["/bin/bash", "-c"]',
      'ONBUILD COPY . /app',
      'MAINTAINER someone',
      'from build',
      'copy --from=build /app /app',
      'ENTRYPOINT ["/app/run"]',
      'CMD --help',
    ].join('\n'),
  );
  assert.equal(df.syntax, 'docker/dockerfile:1');
  assert.equal(df.globalArgs.length, 1);
  assert.equal(df.stages.length, 2);
  const [build, final] = df.stages;
  assert.equal(build!.name, 'build');
  assert.equal(build!.base, `${D}{BASE}`);
  const labels = build!.instructions[0]!;
  assert.equal(labels.line, 6);
  assert.deepEqual(labels.pairs, [
    { key: 'a', value: '1' },
    { key: 'b', value: '"two words"' },
  ]);
  assert.deepEqual(build!.instructions[2]!.pairs, [{ key: 'LEGACY', value: 'some value here' }]);
  const run = build!.instructions[3]!;
  assert.equal(run.keyword, 'RUN');
  assert.deepEqual(run.heredocs, [{ name: 'EOF', content: 'echo one\necho two\n', expand: true }]);
  const copy = build!.instructions[4]!;
  assert.deepEqual(copy.flags, { chown: '1:2', chmod: '640' });
  assert.equal(copy.line, 15);
  assert.deepEqual(build!.instructions[5]!.json, ['x y', '/z/']);
  const hc = build!.instructions.find((i) => i.keyword === 'HEALTHCHECK')!;
  assert.deepEqual(hc.flags, { interval: '30s', retries: '3' });
  assert.equal(build!.instructions.find((i) => i.keyword === 'ONBUILD')!.inner?.keyword, 'COPY');
  assert.equal(final!.base, 'build');
  assert.equal(final!.instructions[0]!.flags.from, 'build');
  assert.deepEqual(final!.instructions[1]!.json, ['/app/run']);
  assert.equal(final!.instructions[2]!.json, undefined);
});

test('parseDockerfile() honours the escape directive', () => {
  const df = parseDockerfile('# escape=`\nFROM scratch\nCOPY a `\n  b /c/\n');
  assert.equal(df.escape, '`');
  assert.equal(df.stages[0]!.instructions[0]!.args, 'a   b /c/');
});

test('parseDockerfile() handles <<- heredocs and quoted delimiters', () => {
  const df = parseDockerfile('FROM scratch\nCOPY <<-"END" /x\n\tliteral $HOME\n\tEND\n');
  const h = df.stages[0]!.instructions[0]!.heredocs[0]!;
  assert.equal(h.content, 'literal $HOME\n');
  assert.equal(h.expand, false);
});

const BAD: [string, string, RegExp][] = [
  ['unknown instruction', 'FROM scratch\nFOO bar\n', /Dockerfile:2:1: unknown instruction "FOO"/],
  ['no FROM', '# just a comment\n', /no FROM instruction/],
  ['instruction before FROM', 'COPY a b\nFROM scratch\n', /Dockerfile:1: COPY before the first FROM/],
  ['bad JSON exec form', 'FROM scratch\nCMD ["a", 1]\n', /Dockerfile:2: CMD exec form is not a JSON array/],
  [
    'COPY without destination',
    'FROM scratch\nCOPY onlyone\n',
    /Dockerfile:2: COPY needs at least one source/,
  ],
  ['unknown flag', 'FROM scratch\nCOPY --frm=x a b\n', /Dockerfile:2: COPY does not take the flag --frm/],
  ['flag without value', 'FROM scratch\nCOPY --from a b\n', /Dockerfile:2: the flag --from needs a value/],
  ['unterminated heredoc', 'FROM scratch\nRUN <<EOF\necho\n', /Dockerfile:2: unterminated heredoc <<EOF/],
  ['bad FROM', 'FROM a b c d\n', /Dockerfile:1: FROM takes an image/],
  ['duplicate stage', 'FROM scratch AS a\nFROM scratch AS a\n', /Dockerfile:2: duplicate stage name "a"/],
  ['bad EXPOSE', 'FROM scratch\nEXPOSE http\n', /Dockerfile:2: invalid port "http"/],
  ['LABEL without =', 'FROM scratch\nLABEL foo\n', /Dockerfile:2:7: LABEL needs key=value pairs/],
  ['ENV without value', 'FROM scratch\nENV FOO\n', /Dockerfile:2:5: ENV FOO needs a value/],
  ['bad ARG name', 'FROM scratch\nARG 1X=2\n', /Dockerfile:2: invalid ARG name "1X"/],
  ['SHELL not JSON', 'FROM scratch\nSHELL /bin/sh -c\n', /Dockerfile:2:7: SHELL needs a JSON array/],
  [
    'bad HEALTHCHECK',
    'FROM scratch\nHEALTHCHECK curl\n',
    /Dockerfile:2: HEALTHCHECK needs "NONE" or "CMD command"/,
  ],
  [
    'bad interval',
    'FROM scratch\nHEALTHCHECK --interval=soon CMD true\n',
    /invalid value "soon" for --interval/,
  ],
  ['ONBUILD FROM', 'FROM scratch\nONBUILD FROM x\n', /Dockerfile:2: ONBUILD may not wrap FROM/],
  ['bad escape directive', '# escape=x\nFROM scratch\n', /Dockerfile:1: invalid escape character "x"/],
  ['empty RUN', 'FROM scratch\nRUN\n', /Dockerfile:2: RUN needs a command/],
  ['STOPSIGNAL two', 'FROM scratch\nSTOPSIGNAL A B\n', /STOPSIGNAL takes exactly one signal/],
  [
    'continued error line',
    'FROM scratch\nLABEL a=1 \\\n  b=2\nBAD x\n',
    /Dockerfile:4:1: unknown instruction "BAD"/,
  ],
];

for (const [name, text, message] of BAD) {
  test(`parseDockerfile() rejects ${name} with file and line`, () => {
    assert.throws(
      () => parseDockerfile(text, { file: 'Dockerfile' }),
      (err: unknown) =>
        err instanceof InputError && message.test(err.message) && err.location?.file === 'Dockerfile',
    );
  });
}

test('expandWord() substitutes like Docker', () => {
  const vars: Record<string, string> = { A: 'a', EMPTY: '', PATH: '/bin' };
  const lookup = (n: string) => vars[n];
  const cases: [string, string][] = [
    [`${D}A`, 'a'],
    [`${D}{A}`, 'a'],
    [`x${D}{A}y`, 'xay'],
    [`${D}{MISSING:-def}`, 'def'],
    [`${D}{EMPTY:-def}`, 'def'],
    [`${D}{EMPTY-def}`, ''],
    [`${D}{A:-def}`, 'a'],
    [`${D}{A:+alt}`, 'alt'],
    [`${D}{MISSING:+alt}`, ''],
    [`${D}{EMPTY:+alt}`, ''],
    [`${D}{EMPTY+alt}`, 'alt'],
    [`${D}{MISSING:-${D}{A}}`, 'a'],
    [`'${D}A'`, `${D}A`],
    [`"${D}A b"`, 'a b'],
    [`\\${D}A`, `${D}A`],
    [`${D}{PATH}:/usr/bin`, '/bin:/usr/bin'],
    [`${D}MISSING`, ''],
  ];
  for (const [input, want] of cases) assert.equal(expandWord(input, { lookup }), want, input);
  assert.throws(
    () => expandWord(`${D}{MISSING:?must be set}`, { lookup, location: { file: 'Dockerfile', line: 3 } }),
    /Dockerfile:3: MISSING: must be set/,
  );
});

test('parseDuration() reads Docker durations', () => {
  assert.equal(parseDuration('30s'), 30e9);
  assert.equal(parseDuration('1m30s'), 90e9);
  assert.equal(parseDuration('500ms'), 500e6);
  assert.equal(parseDuration('soon'), undefined);
});

test('parseDockerignore() follows Docker pattern rules', () => {
  const m = parseDockerignore(
    [
      '# comment',
      '*.log',
      '/tmp',
      'docs/**/*.md',
      '!docs/keep/README.md',
      '**/secret',
      'a?c',
      'build/',
      '!build/keep',
    ].join('\n'),
  );
  const table: [string, boolean][] = [
    ['app.log', true],
    ['sub/app.log', false],
    ['tmp', true],
    ['tmp/file', true],
    ['docs/x.md', true],
    ['docs/a/b/x.md', true],
    ['docs/keep/README.md', false],
    ['docs/x.txt', false],
    ['secret', true],
    ['deep/er/secret', true],
    ['deep/er/secret/inner', true],
    ['abc', true],
    ['abbc', false],
    ['build/out.js', true],
    ['build/keep', false],
    ['src/main.ts', false],
  ];
  for (const [path, want] of table) assert.equal(m.ignores(path), want, path);
  assert.equal(m.hasExceptions, true);
  assert.throws(() => parseDockerignore('ok\n!\n', '.dockerignore'), /\.dockerignore:2/);
  assert.throws(() => parseDockerignore('[abc\n', '.dockerignore'), /\.dockerignore:1: invalid pattern/);
});

test('nativeUnsupportedReason() looks only at the stages the target needs', async () => {
  const { nativeUnsupportedReason, neededStages } = await import('./native-builder.ts');
  const df = parseDockerfile(
    [
      'FROM scratch AS assets',
      'COPY web /web',
      'FROM scratch AS tools',
      'RUN make',
      'FROM assets AS site',
      'COPY --from=0 /web /srv',
      'FROM scratch AS test',
      'COPY --from=tools /bin/x /x',
    ].join('\n'),
  );
  assert.deepEqual(
    neededStages(df, 'site').map((s) => s.name),
    ['assets', 'site'],
  );
  assert.equal(nativeUnsupportedReason(df, 'site'), undefined);
  assert.match(nativeUnsupportedReason(df) ?? '', /Dockerfile:4: RUN needs a container runtime/);
  const excl = parseDockerfile('FROM scratch\nCOPY --exclude=*.md . /app/\n');
  assert.match(nativeUnsupportedReason(excl) ?? '', /COPY --exclude is not supported by the native builder/);
});
