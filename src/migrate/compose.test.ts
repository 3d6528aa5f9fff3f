import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { InputError } from '../core/index.ts';
import { durationSeconds, importCompose, parsePort, splitImage } from './index.ts';

const TESTDATA = join(import.meta.dirname, 'testdata');
const HELM = join(import.meta.dirname, '..', '..', 'node_modules', '.cache', 'slipway-tools', 'helm');
const compose = readFileSync(join(TESTDATA, 'docker-compose.yml'), 'utf8');
const envFiles = { './common.env': readFileSync(join(TESTDATA, 'common.env'), 'utf8') };

test('splitImage() separates repository and tag, keeping registry ports', () => {
  assert.deepEqual(splitImage('nginx'), { repository: 'nginx', tag: 'latest' });
  assert.deepEqual(splitImage('nginx:1.25'), { repository: 'nginx', tag: '1.25' });
  assert.deepEqual(splitImage('127.0.0.1:5000/base/app'), {
    repository: '127.0.0.1:5000/base/app',
    tag: 'latest',
  });
  assert.deepEqual(splitImage('127.0.0.1:5000/base/app:7'), {
    repository: '127.0.0.1:5000/base/app',
    tag: '7',
  });
});

test('parsePort() reads the short and long compose syntaxes', () => {
  assert.deepEqual(parsePort('80'), { container: 80, published: 80, protocol: 'TCP' });
  assert.deepEqual(parsePort('8080:80'), { container: 80, published: 8080, protocol: 'TCP' });
  assert.deepEqual(parsePort('127.0.0.1:53:53/udp'), { container: 53, published: 53, protocol: 'UDP' });
  assert.deepEqual(parsePort({ target: 80, published: 8000 }), {
    container: 80,
    published: 8000,
    protocol: 'TCP',
  });
  assert.equal(parsePort('http'), undefined);
});

test('durationSeconds() reads compose durations', () => {
  assert.equal(durationSeconds('10s'), 10);
  assert.equal(durationSeconds('1m30s'), 90);
  assert.equal(durationSeconds('500ms'), 1);
  assert.equal(durationSeconds('soon'), undefined);
});

test('importCompose() lays out a chart per service and environment', () => {
  const result = importCompose(compose, { file: 'docker-compose.yml', envFiles });
  assert.deepEqual(result.services, ['node-hello-world', 'redis', 'legacy-php']);
  for (const env of ['dev', 'prod']) {
    for (const f of [
      'Chart.yaml',
      'values.yaml',
      'templates/deployment.yaml',
      'templates/service.yaml',
      'templates/configmap.yaml',
      'templates/ingress.yaml',
    ]) {
      assert.ok(result.files[`${env}/node-hello-world/${f}`], `${env}/node-hello-world/${f}`);
    }
  }
  const values = parseYaml(result.files['dev/node-hello-world/values.yaml']!);
  assert.equal(values.replicaCount, 3);
  assert.deepEqual(values.image, {
    repository: 'registry.example.com/base/node-hello-world',
    tag: '42',
    pullPolicy: 'IfNotPresent',
  });
  assert.deepEqual(values.args, ['node', 'server.js', '--port', '3000']);
  assert.deepEqual(values.service.ports, [{ name: 'http', port: 8080, targetPort: 3000, protocol: 'TCP' }]);
  assert.deepEqual(values.env, {
    SHARED_FLAG: 'yes',
    QUOTED: 'a b',
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
  });
  assert.deepEqual(values.podLabels, { team: 'platform' });
  assert.deepEqual(values.livenessProbe, {
    httpGet: { path: '/healthz', port: 3000 },
    periodSeconds: 10,
    timeoutSeconds: 2,
    failureThreshold: 3,
    initialDelaySeconds: 5,
  });
  const redis = parseYaml(result.files['dev/redis/values.yaml']!);
  assert.deepEqual(redis.persistence, [{ name: 'redis-data', size: '1Gi' }]);
  assert.deepEqual(redis.resources, { limits: { memory: '256Mi' } });
});

test('importCompose() reports what it cannot translate, with the line', () => {
  const { warnings } = importCompose(compose, { file: 'docker-compose.yml', envFiles });
  const keys = warnings.map((w) => `${w.service}:${w.key}`);
  for (const k of [
    'node-hello-world:depends_on',
    'node-hello-world:labels',
    'legacy-php:build',
    'legacy-php:privileged',
    'legacy-php:volumes',
    'legacy-php:environment',
  ]) {
    assert.ok(keys.includes(k), `expected a warning for ${k}, got ${keys.join(', ')}`);
  }
  const dep = warnings.find((w) => w.key === 'depends_on');
  assert.equal(dep?.line, 23);
  assert.match(warnings.find((w) => w.key === 'environment')?.message ?? '', /DB_PASSWORD.*Secret/);
});

test('importCompose() with --service and custom environments', () => {
  const result = importCompose(compose, {
    file: 'c.yml',
    service: 'redis',
    environments: ['dev', 'qa', 'prod'],
  });
  assert.deepEqual(
    Object.keys(result.files)
      .map((f) => f.split('/')[0])
      .filter((v, i, a) => a.indexOf(v) === i),
    ['dev', 'qa', 'prod'],
  );
  assert.ok(Object.keys(result.files).every((f) => f.split('/')[1] === 'redis'));
});

const bad: [string, string, RegExp][] = [
  ['broken YAML', 'services:\n  web:\n    image: [unclosed\n', /c\.yml:\d+: cannot parse YAML/],
  ['a list at the top', '- a\n', /c\.yml:1: a compose file must be a mapping/],
  ['services that are a list', 'services:\n  - web\n', /c\.yml:2: "services" must be a mapping/],
  ['a service without image', 'services:\n  web:\n    build: .\n', /c\.yml:2: service "web" has no image/],
  ['a service that is a string', 'services:\n  web: nginx\n', /c\.yml:2: service "web" must be a mapping/],
];
for (const [name, text, message] of bad) {
  test(`importCompose() rejects ${name} with file:line`, () => {
    assert.throws(
      () => importCompose(text, { file: 'c.yml' }),
      (e: unknown) => e instanceof InputError && message.test(e.message),
    );
  });
}

test('importCompose() names the services when --service matches none', () => {
  assert.throws(
    () => importCompose(compose, { file: 'c.yml', service: 'nope' }),
    /no service "nope".*node-hello-world, redis, legacy-php/,
  );
});

test('the generated charts render with the real helm template', {
  skip: !existsSync(HELM) && 'helm not extracted',
}, () => {
  const { files } = importCompose(compose, { file: 'docker-compose.yml', envFiles });
  const dir = mkdtempSync(join(tmpdir(), 'slipway-compose-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    for (const svc of ['node-hello-world', 'redis', 'legacy-php']) {
      const res = spawnSync(HELM, ['template', svc, join(dir, 'dev', svc)], { encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
      const docs = parseAllDocuments(res.stdout)
        .map((d) => d.toJSON())
        .filter(Boolean);
      const deploy = docs.find((d) => d.kind === 'Deployment');
      assert.ok(deploy, `${svc} renders a Deployment`);
      if (svc === 'node-hello-world') {
        assert.equal(deploy.spec.replicas, 3);
        assert.equal(
          deploy.spec.template.spec.containers[0].image,
          'registry.example.com/base/node-hello-world:42',
        );
        assert.equal(deploy.spec.template.spec.containers[0].readinessProbe.httpGet.path, '/healthz');
        assert.deepEqual(docs.find((d) => d.kind === 'Service').spec.ports[0], {
          name: 'http',
          port: 8080,
          targetPort: 3000,
          protocol: 'TCP',
        });
        assert.equal(docs.find((d) => d.kind === 'ConfigMap').data.NODE_ENV, 'production');
      }
      if (svc === 'redis') assert.ok(docs.some((d) => d.kind === 'PersistentVolumeClaim'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
