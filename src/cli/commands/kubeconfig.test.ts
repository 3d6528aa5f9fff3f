import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { renderKubeconfig } from '../../localcluster/index.ts';
import type { CliContext } from '../context.ts';
import { registerKubeconfigCommand, withNamespace } from './kubeconfig.ts';

function fakeContext(out: string[], remote: string): CliContext {
  return {
    io: { out: (t) => out.push(t), err: () => {}, env: {} },
    server: () => 'http://127.0.0.1:1',
    api: (async () => ({ kubeconfig: remote })) as CliContext['api'],
    print: (_data, human) => out.push(human()),
    json: false,
  };
}

test('slipway kubeconfig reads <data>/kubeconfig, or asks the server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-kc-'));
  try {
    const local = renderKubeconfig('http://127.0.0.1:8080/kube', 'tok');
    writeFileSync(join(dir, 'kubeconfig'), local);
    const out: string[] = [];
    const program = new Command().exitOverride();
    registerKubeconfigCommand(program, fakeContext(out, 'remote-config'));
    await program.parseAsync(['node', 'slipway', 'kubeconfig', '--data', dir, '-n', 'team-a']);
    assert.match(out[0] ?? '', /server: http:\/\/slipway-admin:tok@127\.0\.0\.1:8080\/kube/);
    assert.match(out[0] ?? '', /namespace: team-a/);
    await program.parseAsync(['node', 'slipway', 'kubeconfig', '--remote']);
    assert.equal(out[1], 'remote-config');
    await assert.rejects(
      program.parseAsync(['node', 'slipway', 'kubeconfig', '--data', join(dir, 'nope')]),
      /No kubeconfig/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(withNamespace('  namespace: default\n', undefined), '  namespace: default\n');
});
