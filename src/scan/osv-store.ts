// Importing an OSV database (a directory or zip of OSV JSON files) into `<data>/scan/`, and loading it.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, NotFoundError, writeFileAtomic } from '../core/index.ts';
import { type OsvAdvisory, OsvDatabase } from './osv.ts';
import { readZip } from './zip-reader.ts';

export interface OsvImportResult {
  advisories: number;
  skipped: { file: string; reason: string }[];
  ecosystems: Record<string, number>;
  path: string;
}

const INDEX_FILE = 'osv-index.json';

function parseAdvisory(text: string, file: string, skipped: OsvImportResult['skipped']): OsvAdvisory[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    skipped.push({ file, reason: `not JSON: ${(err as Error).message}` });
    return [];
  }
  const list = Array.isArray(json) ? json : [json];
  const out: OsvAdvisory[] = [];
  for (const a of list) {
    if (!a || typeof a !== 'object' || typeof (a as OsvAdvisory).id !== 'string') {
      skipped.push({ file, reason: 'no "id": not an OSV advisory' });
      continue;
    }
    out.push(a as OsvAdvisory);
  }
  return out;
}

/** Reads every OSV JSON file under `source` (a directory, a zip, or one JSON file). */
export async function readOsvSource(
  source: string,
): Promise<{ advisories: OsvAdvisory[]; skipped: OsvImportResult['skipped'] }> {
  const skipped: OsvImportResult['skipped'] = [];
  const advisories: OsvAdvisory[] = [];
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(source);
  } catch {
    throw new NotFoundError(`OSV database "${source}" does not exist`);
  }
  if (st.isDirectory()) {
    const walk = async (dir: string): Promise<void> => {
      for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
        a.name < b.name ? -1 : 1,
      )) {
        const p = join(dir, entry.name);
        if (entry.isDirectory()) await walk(p);
        else if (entry.name.endsWith('.json'))
          advisories.push(...parseAdvisory(await readFile(p, 'utf8'), p, skipped));
        else if (entry.name.endsWith('.zip')) {
          const inner = await readOsvSource(p);
          advisories.push(...inner.advisories);
          skipped.push(...inner.skipped);
        }
      }
    };
    await walk(source);
  } else if (source.endsWith('.zip')) {
    let entries: ReturnType<typeof readZip>;
    try {
      entries = readZip(await readFile(source));
    } catch (err) {
      throw new InputError(`Cannot read OSV zip "${source}": ${(err as Error).message}`);
    }
    for (const e of entries) {
      if (e.name.endsWith('.json'))
        advisories.push(...parseAdvisory(e.read().toString('utf8'), `${source}:${e.name}`, skipped));
    }
  } else {
    advisories.push(...parseAdvisory(await readFile(source, 'utf8'), source, skipped));
  }
  return { advisories, skipped };
}

/** Imports an OSV database into `<scanDir>/osv-index.json`, replacing the previous one atomically. */
export async function importOsvDatabase(source: string, scanDir: string): Promise<OsvImportResult> {
  const { advisories, skipped } = await readOsvSource(source);
  if (advisories.length === 0) {
    throw new InputError(
      `No OSV advisories found in "${source}"${skipped.length ? ` (${skipped.length} files skipped)` : ''}`,
    );
  }
  const ecosystems: Record<string, number> = {};
  for (const a of advisories) {
    for (const eco of new Set((a.affected ?? []).map((x) => x.package?.ecosystem ?? '?'))) {
      ecosystems[eco] = (ecosystems[eco] ?? 0) + 1;
    }
  }
  const path = join(scanDir, INDEX_FILE);
  await writeFileAtomic(
    path,
    JSON.stringify({ format: 'slipway-osv-index/1', importedFrom: source, advisories }),
  );
  return { advisories: advisories.length, skipped, ecosystems, path };
}

/** Loads the imported database; an empty database when none was imported yet. */
export async function loadOsvDatabase(scanDir: string): Promise<{ db: OsvDatabase; mtimeMs: number }> {
  const path = join(scanDir, INDEX_FILE);
  try {
    const st = await stat(path);
    const parsed = JSON.parse(await readFile(path, 'utf8')) as { advisories?: OsvAdvisory[] };
    return { db: new OsvDatabase(parsed.advisories ?? []), mtimeMs: st.mtimeMs };
  } catch {
    return { db: new OsvDatabase(), mtimeMs: 0 };
  }
}
