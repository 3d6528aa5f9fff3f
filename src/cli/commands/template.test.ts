import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { parseTemplateArgv, registerTemplateCommand, type TemplateFlags } from './template.ts';

/** What commander hands the template action for `argv`, or 'error' when it refuses them. */
async function commanderParse(argv: string[]): Promise<{ args: string[]; flags: TemplateFlags } | 'error'> {
  const program = new Command('slipway')
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerTemplateCommand(program);
  const template = program.commands[0]!;
  template.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  let got: { args: string[]; flags: TemplateFlags } | undefined;
  template.action((first: string, second: string | undefined, flags: TemplateFlags) => {
    got = { args: second === undefined ? [first] : [first, second], flags: { ...flags } };
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch {
    return 'error';
  }
  return got ?? 'error';
}

const ACCEPTED: string[][] = [
  ['template', 'chart'],
  ['template', 'rel', 'chart'],
  ['template', 'rel', 'chart', '-f', 'a.yaml', '--values', 'b.yaml,c.yaml', '--values=d.yaml,,e.yaml'],
  [
    'template',
    '--set',
    'a=1,b=2',
    'rel',
    '--set=c=3',
    'chart',
    '--set-string',
    's=1',
    '--set-json',
    'j={"a":1}',
  ],
  ['template', 'rel', 'chart', '--set-file', 'f=x.txt', '--set-literal', 'l=a,b'],
  ['template', 'rel', 'chart', '-n', 'ns', '--namespace', 'ns2'],
  ['template', 'rel', 'chart', '--namespace=ns3', '--kube-version', '1.29.0', '--kube-version=1.30.0'],
  ['template', 'rel', 'chart', '-a', 'x/v1,y/v1', '--api-versions', 'z/v1', '--api-versions=w/v2'],
  ['template', 'rel', 'chart', '-s', 'templates/a.yaml', '--show-only', 'templates/b.yaml'],
  ['template', 'rel', 'chart', '--include-crds', '--skip-schema-validation', '--plain-http'],
  ['template', 'rel', 'oci://host/x', '--username', 'u', '--password', 'p=w'],
  ['template', 'rel', 'oci://host/x', '--version', '1.0.0'],
];

for (const argv of ACCEPTED) {
  test(`parseTemplateArgv reads ${argv.slice(1).join(' ')} as commander does`, async () => {
    const fast = parseTemplateArgv(argv);
    assert.ok(fast, 'the fast parser handles it');
    assert.deepEqual(fast, await commanderParse(argv));
  });
}

// Forms the fast parser leaves to commander: help, usage errors, program options, rare spellings.
const DECLINED: string[][] = [
  ['app', 'list'],
  ['--json', 'template', 'rel', 'chart'],
  ['template'],
  ['template', 'a', 'b', 'c'],
  ['template', 'rel', 'chart', '--help'],
  ['template', 'rel', 'chart', '-h'],
  ['template', 'rel', 'chart', '--json'],
  ['template', 'rel', 'chart', '--server', 'http://x'],
  ['template', 'rel', 'chart', '--bogus'],
  ['template', 'rel', 'chart', '-fvalues.yaml'],
  ['template', 'rel', 'chart', '-n'],
  ['template', 'rel', 'chart', '--set'],
  ['template', 'rel', 'chart', '--set', '-x=1'],
  ['template', 'rel', 'chart', '--set='],
  ['template', 'rel', 'chart', '--include-crds=true'],
  ['template', 'rel', 'chart', '--', '-f'],
  ['template', '-', 'chart'],
];

for (const argv of DECLINED) {
  test(`parseTemplateArgv leaves ${argv.join(' ')} to commander`, () => {
    assert.equal(parseTemplateArgv(argv), undefined);
  });
}
