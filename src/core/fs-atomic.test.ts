import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic, writeFileAtomicSync } from './index.ts';

test('writeFileAtomic() replaces the file whole and leaves no temp files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-atomic-'));
  try {
    const file = join(dir, 'sub', 'state.json');
    writeFileAtomicSync(file, 'one');
    await writeFileAtomic(file, 'two');
    assert.equal(readFileSync(file, 'utf8'), 'two');
    assert.deepEqual(readdirSync(join(dir, 'sub')), ['state.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a process killed while writing never leaves a partial file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-atomic-'));
  try {
    const file = join(dir, 'big.bin');
    writeFileAtomicSync(file, 'old');
    // A child rewrites a 64 MB file atomically in a loop and is killed with SIGKILL part-way.
    const script = `import { writeFileAtomicSync } from ${JSON.stringify(new URL('./fs-atomic.ts', import.meta.url).pathname)};
      process.stdout.write('ready\\n');
      for (;;) writeFileAtomicSync(${JSON.stringify(file)}, Buffer.alloc(64 * 1024 * 1024, 7));`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 400));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const content = readFileSync(file);
    assert.ok(
      content.toString() === 'old' || content.length === 64 * 1024 * 1024,
      'old or complete, never partial',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
