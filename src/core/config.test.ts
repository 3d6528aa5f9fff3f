import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError, loadConfig } from './index.ts';

function withData(configYaml: string | undefined, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-config-'));
  try {
    if (configYaml !== undefined) writeFileSync(join(dir, 'config.yaml'), configYaml);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('loadConfig() uses defaults, then config.yaml, then environment, then flags', () => {
  withData('port: 9000\nlogLevel: debug\npollIntervalSeconds: 5\n', (data) => {
    const fromFile = loadConfig({ flags: { data }, env: {} });
    assert.equal(fromFile.port, 9000);
    assert.equal(fromFile.logLevel, 'debug');
    assert.equal(fromFile.host, '127.0.0.1');
    assert.equal(fromFile.publicUrl, 'http://127.0.0.1:9000');
    const fromEnv = loadConfig({ flags: { data }, env: { SLIPWAY_PORT: '9100' } });
    assert.equal(fromEnv.port, 9100);
    const fromFlag = loadConfig({ flags: { data, port: '9200' }, env: { SLIPWAY_PORT: '9100' } });
    assert.equal(fromFlag.port, 9200);
  });
});

test('loadConfig() reads registryDirectIo (default on) from config.yaml and SLIPWAY_REGISTRY_DIRECT_IO', () => {
  withData('registryDirectIo: false\n', (data) => {
    assert.equal(loadConfig({ flags: { data }, env: {} }).registryDirectIo, false);
    assert.equal(
      loadConfig({ flags: { data }, env: { SLIPWAY_REGISTRY_DIRECT_IO: 'on' } }).registryDirectIo,
      true,
    );
  });
  withData(undefined, (data) => {
    assert.equal(loadConfig({ flags: { data }, env: {} }).registryDirectIo, true);
    assert.equal(
      loadConfig({ flags: { data }, env: { SLIPWAY_REGISTRY_DIRECT_IO: '0' } }).registryDirectIo,
      false,
    );
  });
});
test('loadConfig() reads the data directory from SLIPWAY_DATA', () => {
  withData(undefined, (data) => {
    assert.equal(loadConfig({ env: { SLIPWAY_DATA: data } }).data, data);
  });
});

const bad: [string, string | undefined, Record<string, string>, Record<string, string>, RegExp][] = [
  ['a port out of range from a flag', undefined, { port: '70000' }, {}, /"port".*flag --port.*0 to 65535/],
  [
    'a non-numeric port from the environment',
    undefined,
    {},
    { SLIPWAY_PORT: 'eighty' },
    /"port".*SLIPWAY_PORT/,
  ],
  ['an unknown log level', undefined, { logLevel: 'loud' }, {}, /"logLevel".*must be one of/],
  [
    'a direct-I/O switch that is not a boolean',
    undefined,
    {},
    { SLIPWAY_REGISTRY_DIRECT_IO: 'maybe' },
    /"registryDirectIo".*SLIPWAY_REGISTRY_DIRECT_IO.*true or false/,
  ],
  ['a bad public URL', undefined, { publicUrl: 'ftp://x' }, {}, /"publicUrl".*http/],
  ['a bad value in config.yaml', 'host: 127.0.0.1\nport: -1\n', {}, {}, /"port".*config\.yaml:2/],
  [
    'an unknown key in config.yaml',
    'host: x\nprot: 8080\n',
    {},
    {},
    /Unknown setting "prot".*config\.yaml:2/,
  ],
  ['malformed config.yaml', 'port: [1,\n', {}, {}, /Cannot parse .*config\.yaml:\d+:\d+/],
  ['config.yaml that is not a mapping', '- a\n- b\n', {}, {}, /must hold a mapping/],
];

for (const [name, yaml, flags, env, message] of bad) {
  test(`loadConfig() rejects ${name} naming the key and source`, () => {
    withData(yaml, (data) => {
      assert.throws(
        () => loadConfig({ flags: { data, ...flags }, env }),
        (err: unknown) => err instanceof InputError && message.test(err.message),
      );
    });
  });
}
