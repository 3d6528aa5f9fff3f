import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { runExecutorConformance } from './executor-conformance.ts';
import { createLocalExecutor } from './executor.ts';
import { ImageCache, type PreparedImage } from './rootfs.ts';
import { startBusyboxRegistry } from './test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'slipway-images-'));
let close: (() => Promise<void>) | undefined;
after(async () => {
  await close?.();
  rmSync(dir, { recursive: true, force: true });
});

runExecutorConformance('local executor', () => createLocalExecutor({ killGraceMs: 500 }), {
  image: async (): Promise<PreparedImage | undefined> => {
    const registry = await startBusyboxRegistry();
    if (!registry) return undefined;
    close = registry.close;
    return new ImageCache({ dir, defaultRegistry: () => registry.host }).prepare(registry.image);
  },
});
