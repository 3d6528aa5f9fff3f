import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../core/index.ts';
import { cronMatches, evaluateExpression, evaluateWhen, expandTag, matchesTrigger } from './conditions.ts';
import { LogMasker } from './mask.ts';
import { mergePipelines, parsePipeline, tryParsePipeline } from './spec.ts';
import { setImageTagInYaml } from './values-fallback.ts';

const GOOD = `# service pipeline
triggers:
  branches: ['pre-release/*', main]
  tags: ['v*']
env:
  APP: hello
credentials:
  - npm-token
  - { name: kubeconfig, file: KUBECONFIG }
stages:
  - name: Checkout
    steps: [checkout]
  - name: Test
    image: busybox
    steps:
      - run: npm test
        timeout: 5m
        retry: 1
        continue-on-error: true
  - name: Checks
    parallel:
      - name: lint
        steps: [{ run: "true" }]
      - name: audit
        when: "branch =~ 'pre-release/*'"
        steps: [{ run: "true" }]
  - name: Push
    steps:
      - image-build: { image: base/app, tags: ['{build}'] }
      - image-push: { tags: ['{branch-version}', latest] }
  - name: Deploy
    when: { branch: 'pre-release/*' }
    steps:
      - deploy: { repo: org/helm-values, environment: dev, service: app }
      - approval: { right: env.approve, environment: prod }
`;

test('parsePipeline() reads every field', () => {
  const spec = parsePipeline(GOOD);
  assert.deepEqual(spec.triggers.branches, ['pre-release/*', 'main']);
  assert.equal(spec.stages.length, 5);
  assert.equal(spec.stages[1]!.image, 'busybox');
  const run = spec.stages[1]!.steps[0]!;
  assert.equal(run.kind, 'run');
  assert.equal(run.timeoutMs, 300_000);
  assert.equal(run.retry, 1);
  assert.equal(run.continueOnError, true);
  assert.equal(spec.stages[2]!.parallel.length, 2);
  assert.deepEqual(spec.credentials[1], { name: 'kubeconfig', file: 'KUBECONFIG' });
  const deploy = spec.stages[4]!.steps[0]!;
  assert.equal(deploy.kind === 'deploy' && deploy.message, 'updated the image tag');
});

test('parsePipeline() errors name file, line, column and field', () => {
  const cases: [string, number, string | RegExp][] = [
    ['stages:\n  - name: A\n    stepz: []\n', 3, /Unknown field "stepz"/],
    [
      'stages:\n  - name: A\n    steps:\n      - run: make\n        retry: many\n',
      5,
      'stages[0].steps[0].retry',
    ],
    [
      'stages:\n  - name: A\n    steps:\n      - deploy: { environment: dev }\n',
      4,
      'stages[0].steps[0].deploy.repo',
    ],
    [
      'stages:\n  - name: A\n    steps:\n      - run: x\n  - name: A\n    steps: [checkout]\n',
      5,
      'stages[1].name',
    ],
    ['stages: [\n', 2, /YAML syntax error/],
    ['triggers:\n  cron: "* *"\nstages:\n  - name: A\n    steps: [checkout]\n', 2, 'triggers.cron'],
  ];
  for (const [text, line, what] of cases) {
    const { issues } = tryParsePipeline(text);
    assert.ok(issues.length > 0, text);
    assert.equal(issues[0]!.line, line, `${text} → ${JSON.stringify(issues[0])}`);
    if (typeof what === 'string') assert.equal(issues[0]!.field, what);
    else assert.match(issues[0]!.message, what);
  }
  assert.throws(
    () => parsePipeline('stages:\n  - name: A\n    steps:\n      - bogus: 1\n', '.slipway/pipeline.yaml'),
    (err: unknown) =>
      err instanceof ValidationError &&
      /^\.slipway\/pipeline\.yaml:4:/.test(err.message) &&
      err.location?.line === 4,
  );
});

test('mergePipelines() replaces stages by name and appends new ones', () => {
  const base = parsePipeline(
    'triggers: { branches: [main] }\nstages:\n  - { name: Build, steps: [{ run: make }] }\n  - { name: Test, steps: [{ run: make test }] }\n',
  );
  const child = parsePipeline(
    'extends: org/shared\nstages:\n  - { name: Test, steps: [{ run: npm test }] }\n  - { name: Extra, steps: [{ run: "true" }] }\n',
  );
  const merged = mergePipelines(base, child);
  assert.deepEqual(
    merged.stages.map((s) => s.name),
    ['Build', 'Test', 'Extra'],
  );
  assert.equal(merged.stages[1]!.steps[0]!.kind === 'run' && merged.stages[1]!.steps[0]!.run, 'npm test');
  assert.deepEqual(merged.triggers.branches, ['main']);
});

test('triggers, when and expressions', () => {
  const spec = parsePipeline(GOOD);
  assert.equal(matchesTrigger(spec, 'refs/heads/pre-release/1.0.0'), true);
  assert.equal(matchesTrigger(spec, 'refs/heads/feature/x'), false);
  assert.equal(matchesTrigger(spec, 'refs/tags/v1.0'), true);
  const facts = {
    event: 'push' as const,
    branch: 'pre-release/1.2.0',
    env: { DEPLOY: 'yes' },
    build: 7,
    sha: 'abcdef1234567',
  };
  assert.equal(evaluateWhen({ branch: 'pre-release/*' }, facts), true);
  assert.equal(evaluateWhen({ branch: 'main' }, facts), false);
  assert.equal(evaluateExpression("branch =~ 'pre-release/*' && env.DEPLOY == 'yes'", facts), true);
  assert.equal(evaluateExpression("!(event == 'push') || build == '8'", facts), false);
  assert.throws(() => evaluateExpression('nope == 1', facts), /Unknown name/);
  const now = new Date('2026-01-02T03:04:05Z');
  assert.equal(expandTag('{build}', { ...facts, now }), '7');
  assert.equal(expandTag('{branch-version}', { ...facts, now }), '1.2.0');
  assert.equal(expandTag('{sha7}-{date}', { ...facts, now }), 'abcdef1-20260102');
  assert.throws(() => expandTag('{nope}', { ...facts, now }), /Unknown tag placeholder/);
  assert.equal(cronMatches('*/5 3 * * 5', now), false);
  assert.equal(cronMatches('4 3 2 1 *', now), true);
});

test('LogMasker masks secrets split across chunks', () => {
  const m = new LogMasker(['hunter2-secret']);
  let out = m.push('token is hun');
  out += m.push('ter2-sec');
  out += m.push('ret and more\nnext ');
  out += m.push('line hunter2-secret');
  out += m.flush();
  assert.equal(out, 'token is *** and more\nnext line ***');
  const long = new LogMasker(['abcdefgh']);
  let o2 = long.push('x'.repeat(9000) + 'abcd');
  o2 += long.push('efgh tail');
  o2 += long.flush();
  assert.ok(!o2.includes('abcdefgh'));
  assert.ok(o2.endsWith('*** tail'));
});

test('setImageTagInYaml() keeps comments and formatting', () => {
  const text = '# dev values\nreplicaCount: 2 # two\nimage:\n  repository: base/app # repo\n  tag: "1"\n';
  assert.equal(
    setImageTagInYaml(text, '2', 'v.yaml'),
    '# dev values\nreplicaCount: 2 # two\nimage:\n  repository: base/app # repo\n  tag: "2"\n',
  );
});
