// Executors run one step's shell command. The local executor runs `sh -e -c` in its own process
// group (so cancel and timeouts kill the whole tree), on a reused shell of a ShellPool when it can
// (no Node spawn per step); with an image it runs the command inside the image's root filesystem with
// chroot in new mount and PID namespaces (util-linux `unshare`).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UnavailableError } from '../core/index.ts';
import type { PreparedImage } from './rootfs.ts';
import { killProcessGroup, ShellPool, shellQuote } from './shell-pool.ts';

export interface ExecRequest {
  command: string;
  /** Workspace directory on the host. */
  cwd: string;
  /** The complete environment of the step. */
  env: Record<string, string>;
  /** Run inside this image (workspace bind-mounted at /workspace). */
  image?: PreparedImage;
  /** Scratch directory the executor may use for this step (overlay layers). */
  scratch?: string;
  signal: AbortSignal;
  onOutput(chunk: string): void;
}

export interface ExecResult {
  exitCode: number;
  /** Set when the process was killed (cancel or timeout). */
  killed: boolean;
}

export interface Executor {
  readonly name: string;
  /** Why images cannot be honoured here, or undefined when they can. */
  imageSupport(): string | undefined;
  run(request: ExecRequest): Promise<ExecResult>;
  /** Releases what the executor keeps between steps (idle shells); it stays usable. */
  close?(): void;
}

const CHROOT_SCRIPT = `set -e
mkdir -p "$SW_MERGED" "$SW_UPPER" "$SW_WORK"
if ! mount -t overlay overlay -o "lowerdir=$SW_ROOT,upperdir=$SW_UPPER,workdir=$SW_WORK" "$SW_MERGED" 2>/dev/null; then
  cp -a "$SW_ROOT/." "$SW_MERGED/"
fi
mkdir -p "$SW_MERGED/workspace" "$SW_MERGED/proc" "$SW_MERGED/dev" "$SW_MERGED/tmp"
mount --bind "$SW_WS" "$SW_MERGED/workspace"
mount -t proc proc "$SW_MERGED/proc"
mount --rbind /dev "$SW_MERGED/dev" 2>/dev/null || true
[ -f /etc/resolv.conf ] && cp /etc/resolv.conf "$SW_MERGED/etc/resolv.conf" 2>/dev/null || true
exec chroot "$SW_MERGED" /bin/sh -e -c "$SW_CMD"
`;

let unshareChecked: string | undefined | null = null;

function checkImageSupport(): string | undefined {
  if (unshareChecked !== null) return unshareChecked;
  if (process.platform !== 'linux') unshareChecked = `Slipway runs on ${process.platform}, not Linux`;
  else if (process.getuid?.() !== 0) unshareChecked = 'Slipway does not run as root';
  else {
    const probe = spawnSync('unshare', ['--mount', '--pid', '--fork', 'true'], { stdio: 'ignore' });
    unshareChecked =
      probe.status === 0 ? undefined : 'util-linux "unshare --mount --pid --fork" does not work here';
  }
  return unshareChecked;
}

export function createLocalExecutor(options: { killGraceMs?: number; pool?: ShellPool } = {}): Executor {
  const grace = options.killGraceMs ?? 2000;
  const pool = options.pool ?? new ShellPool({ killGraceMs: grace });
  return {
    name: 'local',
    imageSupport: checkImageSupport,
    close: () => pool.close(),
    run(req) {
      if (!req.image && pool.accepts(req)) return pool.run(req);
      return new Promise<ExecResult>((resolve, reject) => {
        let args: string[];
        let cmd: string;
        let env = req.env;
        let scratch: string | undefined;
        if (req.image) {
          const why = checkImageSupport();
          if (why) {
            reject(
              new UnavailableError(
                `Cannot run steps in image "${req.image.ref}": ${why}. Steps with image: need Slipway as root on Linux with unshare (util-linux), or a Kubernetes executor`,
              ),
            );
            return;
          }
          scratch = req.scratch ?? join(req.cwd, '..', `.rootfs-${process.pid}-${Date.now()}`);
          mkdirSync(scratch, { recursive: true });
          cmd = 'unshare';
          args = ['--mount', '--pid', '--fork', '--kill-child', '/bin/sh', '-c', CHROOT_SCRIPT];
          const stepEnv: Record<string, string> = {
            PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            HOME: '/root',
            ...req.image.env,
            ...req.env,
          };
          env = {
            ...stepEnv,
            // The wrapper runs host tools (mount, chroot); the step gets the image's PATH back inside.
            PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
            WORKSPACE: '/workspace',
            SW_ROOT: req.image.rootfs,
            SW_UPPER: join(scratch, 'upper'),
            SW_WORK: join(scratch, 'work'),
            SW_MERGED: join(scratch, 'merged'),
            SW_WS: req.cwd,
            SW_CMD: `export PATH=${shellQuote(stepEnv.PATH ?? '/bin')}\ncd /workspace\n${req.command}`,
          };
        } else {
          cmd = 'sh';
          args = ['-e', '-c', req.command];
        }
        if (req.signal.aborted) {
          resolve({ exitCode: 130, killed: true });
          return;
        }
        const child = spawn(cmd, args, {
          cwd: req.cwd,
          env,
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let killed = false;
        const onAbort = () => {
          killed = true;
          if (child.pid) killProcessGroup(child.pid, grace);
        };
        req.signal.addEventListener('abort', onAbort, { once: true });
        child.stdout.setEncoding('utf8');
        child.stderr.setEncoding('utf8');
        child.stdout.on('data', (s: string) => req.onOutput(s));
        child.stderr.on('data', (s: string) => req.onOutput(s));
        child.on('error', (err) => {
          req.signal.removeEventListener('abort', onAbort);
          reject(new UnavailableError(`Cannot start ${cmd}: ${err.message}`));
        });
        child.on('close', (code, signal) => {
          req.signal.removeEventListener('abort', onAbort);
          // Whatever the shell left behind in its group goes too.
          if (child.pid) {
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              // none left
            }
          }
          if (scratch) {
            spawnSync('umount', ['-R', '-l', join(scratch, 'merged')], { stdio: 'ignore' });
            rmSync(scratch, { recursive: true, force: true });
          }
          resolve({ exitCode: code ?? (signal ? 128 + 9 : 1), killed });
        });
      });
    },
  };
}
