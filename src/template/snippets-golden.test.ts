// Renders testdata/snippets.txt and compares with the outputs real helm produced (testdata/snippets.golden.json,
// refreshed by `UPDATE_GOLDEN=1 node --import tsx --test src/template/helm-differential.test.ts`). Needs no helm.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { TemplateSet, sprigFunctions } from './index.ts';

const here = new URL('.', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(join(here, 'testdata/snippets.golden.json'), 'utf8')) as Record<
  string,
  string
>;
const values = parseYaml(readFileSync(join(here, 'testdata/values.yaml'), 'utf8'), {
  version: '1.1',
}) as unknown;

const set = new TemplateSet();
set.addFuncs(sprigFunctions({ now: () => new Date('2024-05-06T07:08:09Z') }));
set.addFuncs({
  include: (name: unknown, data: unknown) => set.execute(String(name), data, { missingKey: 'zero' }),
});
const snippets = Object.keys(golden);
snippets.forEach((snippet, i) => {
  set.parse(`hc/templates/_s${i}.tpl`, snippet);
});

snippets.forEach((snippet, i) => {
  test(`execute() renders like helm: ${snippet.slice(0, 90)}`, () => {
    assert.equal(
      set.execute(`hc/templates/_s${i}.tpl`, { Values: values }, { missingKey: 'zero' }),
      golden[snippet],
    );
  });
});

const errorsGolden = JSON.parse(readFileSync(join(here, 'testdata/errors.golden.json'), 'utf8')) as Record<
  string,
  string
>;

/** Helm's cleanupParseError, so our parse errors compare with what helm printed. */
function helmParseError(message: string): string {
  const tokens = message.split(': ');
  return `parse error at (${tokens[1]}): ${tokens[tokens.length - 1]}`;
}

for (const [snippet, want] of Object.entries(errorsGolden)) {
  test(`parse() or execute() fails like helm: ${snippet.slice(0, 80)}`, () => {
    const s = new TemplateSet();
    s.addFuncs(sprigFunctions());
    let got = '(no error)';
    try {
      s.parse('hc/templates/t.yaml', snippet);
      try {
        s.execute('hc/templates/t.yaml', { Values: values }, { missingKey: 'zero' });
      } catch (e) {
        got = (e as Error).message;
      }
    } catch (e) {
      got = helmParseError((e as Error).message);
    }
    assert.equal(got, want);
  });
}
