// Refs of a bare repository read straight from their files (loose ref, else packed-refs), so a lookup
// spawns no git process. Callers fall back to `git rev-parse` for anything this does not answer.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The sha a ref names in a bare repo, read from its loose file or packed-refs; undefined when unknown. */
export async function readRef(gitDir: string, ref: string, depth = 0): Promise<string | undefined> {
  if (depth > 5 || !(ref === 'HEAD' || ref.startsWith('refs/'))) return undefined;
  if (ref.split('/').some((c) => c === '' || c === '.' || c === '..') || /[\0-\x20~^:?*[\\]/.test(ref))
    return undefined;
  let text: string | undefined;
  try {
    text = (await readFile(join(gitDir, ref), 'utf8')).trim();
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    if (text.startsWith('ref: ')) return readRef(gitDir, text.slice(5).trim(), depth + 1);
    return /^[0-9a-f]{40}$/.test(text) ? text : undefined;
  }
  let packed: string;
  try {
    packed = await readFile(join(gitDir, 'packed-refs'), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of packed.split('\n')) {
    if (line.length > 41 && line.charCodeAt(40) === 32 && line.slice(41) === ref) {
      const sha = line.slice(0, 40);
      return /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
    }
  }
  return undefined;
}
