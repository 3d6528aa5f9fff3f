// The conformance suite every Executor implementation must pass (run it from a test file).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ExecRequest, Executor } from './executor.ts';
import type { PreparedImage } from './rootfs.ts';

export interface ConformanceOptions {
  /** When given, the image cases run too (the image must have /bin/sh). */
  image?: () => Promise<PreparedImage | undefined>;
}

async function exec(ex: Executor, command: string, extra: Partial<ExecRequest> = {}) {
  const cwd = mkdtempSync(join(tmpdir(), 'slipway-exec-'));
  let out = '';
  try {
    const res = await ex.run({
      command,
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FOO: 'bar' },
      signal: new AbortController().signal,
      onOutput: (s) => {
        out += s;
      },
      ...extra,
    });
    return { ...res, out, cwd };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** Registers node:test cases that check `make()`'s executor. */
process.env.SLIPWAY_LEAK_CHECK = 'leaked';

export function runExecutorConformance(
  name: string,
  make: () => Executor,
  options: ConformanceOptions = {},
): void {
  test(`${name}: passes output, environment and exit codes`, async () => {
    const ex = make();
    const ok = await exec(ex, 'echo "out $FOO"; echo err >&2; pwd');
    assert.equal(ok.exitCode, 0);
    assert.match(ok.out, /out bar/);
    assert.match(ok.out, /err/);
    const bad = await exec(ex, 'exit 3');
    assert.equal(bad.exitCode, 3);
    const e = await exec(ex, 'false; echo not-reached');
    assert.notEqual(e.exitCode, 0, 'sh -e stops at the first failing command');
    assert.doesNotMatch(e.out, /not-reached/);
  });

  test(`${name}: a step sees only its own environment, starts in cwd, and steps do not mix`, async () => {
    const ex = make();
    const a = await exec(ex, 'printf \'x%sy|%s|\' "$SLIPWAY_LEAK_CHECK" "$FOO"; pwd; printf tail', {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', FOO: 'it\'s "quoted"\nline' },
    });
    assert.equal(a.exitCode, 0);
    assert.ok(a.out.startsWith(`xy|it's "quoted"\nline|`), a.out);
    assert.ok(a.out.includes(a.cwd), a.out);
    assert.ok(a.out.endsWith('tail'), a.out);
    const b = await exec(ex, 'echo second');
    assert.equal(b.out, 'second\n');
  });

  test(`${name}: aborting kills the whole process tree`, async () => {
    const ex = make();
    const controller = new AbortController();
    const marker = `slipway-conf-${process.pid}-${Date.now()}`;
    let started!: () => void;
    const ready = new Promise<void>((r) => {
      started = r;
    });
    const running = exec(ex, `sh -c 'sleep 1000; echo ${marker}' & sleep 1000 & echo started; wait`, {
      signal: controller.signal,
      onOutput: (s) => {
        if (s.includes('started')) started();
      },
    });
    await ready;
    controller.abort();
    const res = await running;
    assert.equal(res.killed, true);
    // No `sleep 1000` child of ours survives.
    const { execFileSync } = await import('node:child_process');
    await new Promise((r) => setTimeout(r, 300));
    const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
    assert.doesNotMatch(ps, new RegExp(`sleep 1000; echo ${marker}`));
  });

  if (options.image) {
    test(`${name}: runs steps inside the image root filesystem with /workspace`, async (t) => {
      const image = await options.image!();
      const ex = make();
      if (!image || ex.imageSupport()) {
        t.skip(`images are not supported here: ${ex.imageSupport() ?? 'no test image'}`);
        return;
      }
      const res = await exec(
        ex,
        'cat /etc/os-release; pwd; echo hi > out.txt; cat /workspace/out.txt; echo $$',
        { image },
      );
      assert.equal(res.exitCode, 0, res.out);
      assert.match(res.out, /slipway-test-os/);
      assert.match(res.out, /\/workspace/);
      assert.match(res.out, /hi/);
    });
  }
}
