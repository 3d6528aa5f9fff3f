// Test support: a CNCF Distribution registry (`docker-registry serve`) on a free port in a temp dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from './buildah-builder.ts';

export interface DistributionRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `docker-registry serve`; undefined when it is not installed (the caller skips). */
export async function startDistributionRegistry(): Promise<DistributionRegistry | undefined> {
  const bin = await findExecutable('docker-registry');
  if (!bin) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'slipway-distribution-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = join(dir, 'config.yml');
    await writeFile(
      config,
      `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    const child: ChildProcess = spawn(bin, ['serve', config], { stdio: 'ignore' });
    const host = `127.0.0.1:${port}`;
    let up = false;
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      try {
        const res = await fetch(`http://${host}/v2/`);
        await res.body?.cancel();
        up = true;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    if (up) {
      return {
        host,
        async stop() {
          if (child.exitCode === null) {
            const exited = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await exited;
          }
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error('docker-registry did not start');
}
