// Git objects without a git process: tree and commit encoding (pure), loose-object writing into a bare
// repository, and rewriting a tree along a few changed paths. Used by the values editor to build a commit
// in Slipway's own repositories with no process but the final compare-and-swap `git update-ref`.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { UnavailableError } from '../core/index.ts';
import type { GitObject } from './cat-file.ts';

export type ObjectType = 'blob' | 'tree' | 'commit';

export interface TreeEntry {
  /** As stored in the tree: `100644`, `100755`, `120000`, `40000`, `160000`. */
  mode: string;
  name: string;
  sha: string;
}

/** A path's new content (`mode` + blob sha), or null to delete it. */
export type TreeChange = { mode: string; sha: string } | null;

/** Entries of a raw tree object. */
export function parseTree(data: Buffer): TreeEntry[] {
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(32, i);
    const nul = data.indexOf(0, sp + 1);
    if (sp < 0 || nul < 0 || nul + 21 > data.length) break;
    out.push({
      mode: data.subarray(i, sp).toString('latin1'),
      name: data.subarray(sp + 1, nul).toString('utf8'),
      sha: data.subarray(nul + 1, nul + 21).toString('hex'),
    });
    i = nul + 21;
  }
  return out;
}

/** Git's order: names compared as bytes, a sub-tree's name as if it ended in "/". */
function sortKey(e: TreeEntry): Buffer {
  return Buffer.from(e.mode === '40000' ? `${e.name}/` : e.name, 'utf8');
}

/** A tree object's content for `entries` (sorted the way git sorts them). */
export function encodeTree(entries: TreeEntry[]): Buffer {
  const sorted = entries
    .map((e) => ({ e, k: sortKey(e) }))
    .sort((a, b) => Buffer.compare(a.k, b.k))
    .map((x) => x.e);
  return Buffer.concat(
    sorted.flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`, 'utf8'), Buffer.from(e.sha, 'hex')]),
  );
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  time: number;
  /** Minutes east of UTC. */
  offsetMinutes?: number;
}

function sig(s: Signature): string {
  const clean = (v: string) => v.replace(/[<>\n\r\0]/g, '').trim();
  const off = s.offsetMinutes ?? 0;
  const abs = Math.abs(off);
  const tz = `${off < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${clean(s.name) || 'unknown'} <${clean(s.email)}> ${Math.floor(s.time)} ${tz}`;
}

/** A commit object's content. The message gets one trailing newline, as `git commit-tree -m` writes it. */
export function encodeCommit(c: {
  tree: string;
  parents: string[];
  author: Signature;
  committer: Signature;
  message: string;
}): Buffer {
  const lines = [`tree ${c.tree}`, ...c.parents.map((p) => `parent ${p}`)];
  lines.push(`author ${sig(c.author)}`, `committer ${sig(c.committer)}`);
  return Buffer.from(`${lines.join('\n')}\n\n${c.message.replace(/\s+$/, '')}\n`, 'utf8');
}

/** The object id (SHA-1) of an object. */
export function hashObject(type: ObjectType, data: Buffer): string {
  return createHash('sha1').update(`${type} ${data.length}\0`).update(data).digest('hex');
}

/**
 * True when objects can be written directly: a SHA-1 repository (the default; SHA-256 ones are edited
 * through git) whose refs are files (update-ref still moves them, but reading tips needs files).
 */
export function canWriteDirectly(gitDir: string): boolean {
  if (existsSync(join(gitDir, 'reftable'))) return false;
  try {
    const config = readFileSync(join(gitDir, 'config'), 'utf8');
    return !/^\s*objectformat\s*=\s*sha256/im.test(config);
  } catch {
    return false;
  }
}

/** Writes one loose object (zlib-deflated `type size\0data` under `objects/xx/`) unless it exists; returns its id. */
export async function writeLooseObject(gitDir: string, type: ObjectType, data: Buffer): Promise<string> {
  const sha = hashObject(type, data);
  const dir = join(gitDir, 'objects', sha.slice(0, 2));
  const path = join(dir, sha.slice(2));
  if (existsSync(path)) return sha;
  const body = deflateSync(Buffer.concat([Buffer.from(`${type} ${data.length}\0`), data]), { level: 1 });
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `tmp_obj_${process.pid}_${Math.random().toString(36).slice(2)}`);
  try {
    await writeFile(tmp, body, { mode: 0o444 });
    // A hard link never replaces: a concurrent writer of the same object leaves the same bytes.
    await link(tmp, path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  } catch (err) {
    throw new UnavailableError(`Cannot write object ${sha} to ${gitDir}: ${(err as Error).message}`);
  } finally {
    await rm(tmp, { force: true });
  }
  return sha;
}

/**
 * Applies `changes` (path → new entry, or null to delete) to the tree `root` and returns the new root tree.
 * Only the trees on the changed paths are read and written; directories left empty disappear.
 */
export async function rewriteTree(
  read: (sha: string) => Promise<GitObject | undefined>,
  write: (type: ObjectType, data: Buffer) => Promise<string>,
  root: string | undefined,
  changes: Map<string, TreeChange>,
): Promise<string> {
  async function rewrite(sha: string | undefined, sub: Map<string, TreeChange>): Promise<string | undefined> {
    const entries = new Map<string, TreeEntry>();
    if (sha) {
      const obj = await read(sha);
      if (obj?.type !== 'tree') throw new UnavailableError(`Tree ${sha} cannot be read`);
      for (const e of parseTree(obj.data)) entries.set(e.name, e);
    }
    const nested = new Map<string, Map<string, TreeChange>>();
    for (const [path, change] of sub) {
      const slash = path.indexOf('/');
      if (slash < 0) {
        if (change === null) entries.delete(path);
        else entries.set(path, { mode: change.mode, name: path, sha: change.sha });
        continue;
      }
      const head = path.slice(0, slash);
      let m = nested.get(head);
      if (!m) {
        m = new Map();
        nested.set(head, m);
      }
      m.set(path.slice(slash + 1), change);
    }
    for (const [head, m] of nested) {
      const existing = entries.get(head);
      const next = await rewrite(existing?.mode === '40000' ? existing.sha : undefined, m);
      if (next === undefined) entries.delete(head);
      else entries.set(head, { mode: '40000', name: head, sha: next });
    }
    if (entries.size === 0) return undefined;
    return write('tree', encodeTree([...entries.values()]));
  }
  return (await rewrite(root, changes)) ?? write('tree', Buffer.alloc(0));
}
