// The build context on disk: the files a Dockerfile may COPY, after .dockerignore.
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import { InputError } from '../core/index.ts';
import { type IgnoreMatcher, parseDockerignore } from './dockerignore.ts';

export interface ContextEntry {
  /** Relative, `/`-separated. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  linkname?: string;
}

export interface BuildContext {
  dir: string;
  /** Every visible entry by path (ignored entries are absent). */
  entries: Map<string, ContextEntry>;
  ignore: IgnoreMatcher;
  read(path: string): Promise<Buffer>;
}

/** Reads a build's Dockerfile: `dockerfile` (relative to the context) or `<context>/Dockerfile`. */
export async function readDockerfile(options: {
  contextDir: string;
  dockerfile?: string | undefined;
}): Promise<{ file: string; text: string }> {
  const { contextDir, dockerfile } = options;
  const file = dockerfile
    ? isAbsolute(dockerfile)
      ? dockerfile
      : join(contextDir, dockerfile)
    : join(contextDir, 'Dockerfile');
  try {
    return { file, text: await readFile(file, 'utf8') };
  } catch {
    throw new InputError(`Cannot read Dockerfile "${file}"`, { location: { file } });
  }
}

/** Walks `dir`, dropping what `.dockerignore` (if present) excludes. */
export async function loadBuildContext(dir: string): Promise<BuildContext> {
  let ignoreText = '';
  try {
    ignoreText = await readFile(join(dir, '.dockerignore'), 'utf8');
  } catch {
    // no .dockerignore
  }
  const ignore = parseDockerignore(ignoreText, join(dir, '.dockerignore'));
  const entries = new Map<string, ContextEntry>();
  const walk = async (rel: string): Promise<void> => {
    const names = (await readdir(join(dir, rel))).sort();
    // Stat a directory's entries in parallel (each is a thread-pool round trip), then walk in order.
    const stats = await Promise.all(names.map((name) => lstat(join(dir, rel ? `${rel}/${name}` : name))));
    for (const [i, name] of names.entries()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = stats[i]!;
      const ignored = ignore.ignores(path);
      if (st.isDirectory()) {
        // Descend into ignored directories only when an exception could re-include something.
        if (!ignored) entries.set(path, { path, type: 'dir', mode: st.mode & 0o7777, size: 0 });
        if (!ignored || ignore.hasExceptions) await walk(path);
        continue;
      }
      if (ignored) continue;
      if (st.isSymbolicLink()) {
        entries.set(path, {
          path,
          type: 'symlink',
          mode: 0o777,
          size: 0,
          linkname: await readlink(join(dir, path)),
        });
      } else if (st.isFile())
        entries.set(path, { path, type: 'file', mode: st.mode & 0o7777, size: st.size });
      // Parents of a re-included file must exist in the copy.
      for (let p = posix.dirname(path); p !== '.' && !entries.has(p); p = posix.dirname(p)) {
        entries.set(p, { path: p, type: 'dir', mode: 0o755, size: 0 });
      }
    }
  };
  await walk('');
  return { dir, entries, ignore, read: (path) => readFile(join(dir, path)) };
}
