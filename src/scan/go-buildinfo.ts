// Go binaries' embedded build info (Go 1.18+ inline format): the Go version (OSV package "stdlib"),
// the main module and its dependencies, as `go version -m` prints them.
import type { InstalledPackage } from './packages.ts';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
/** Marks a file's stored contents as an extracted build-info summary (see {@link summarizeGoBinary}). */
export const GO_SUMMARY_PREFIX = '\0slipway-go-buildinfo\n';

function uvarint(buf: Buffer, pos: number): [number, number] | undefined {
  let x = 0;
  let shift = 0;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i]!;
    x += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [x, i + 1];
    shift += 7;
  }
  return undefined;
}

export interface GoBuildInfo {
  goVersion: string;
  /** The raw module info text: `path`, `mod`, `dep`, `=>` and `build` lines. */
  modInfo: string;
}

/** Reads the build info of an ELF/Mach-O/PE Go binary; undefined when there is none (or an old format). */
export function readGoBuildInfo(data: Buffer): GoBuildInfo | undefined {
  const at = data.indexOf(MAGIC);
  if (at < 0 || at + 32 > data.length) return undefined;
  const flags = data[at + 15]!;
  if ((flags & 0x2) === 0) return undefined; // pre-1.18 pointer format: not supported
  const v = uvarint(data, at + 32);
  if (!v) return undefined;
  const goVersion = data.toString('utf8', v[1], v[1] + v[0]);
  const m = uvarint(data, v[1] + v[0]);
  if (!m) return undefined;
  let modInfo = data.toString('utf8', m[1], m[1] + m[0]);
  // The module info is wrapped in 16-byte sentinels.
  if (modInfo.length >= 33 && modInfo[modInfo.length - 17] === '\n') modInfo = modInfo.slice(16, -16);
  if (!/^go\d/.test(goVersion)) return undefined;
  return { goVersion, modInfo };
}

/** A small stand-in for a Go binary's contents, kept instead of the binary while scanning. */
export function summarizeGoBinary(data: Buffer): Buffer | undefined {
  if (data.length < 4 || !(data[0] === 0x7f && data[1] === 0x45 && data[2] === 0x4c && data[3] === 0x46))
    return undefined;
  const info = readGoBuildInfo(data);
  return info ? Buffer.from(GO_SUMMARY_PREFIX + JSON.stringify(info)) : undefined;
}

/** Packages of a Go binary: `stdlib` at its Go version, the main module (when versioned) and deps. */
export function goBinaryPackages(info: GoBuildInfo, location: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  const goVersion = /^go(\d+(?:\.\d+)*)/.exec(info.goVersion)?.[1];
  if (goVersion) out.push({ ecosystem: 'Go', name: 'stdlib', version: `v${goVersion}`, location });
  let last: InstalledPackage | undefined;
  for (const line of info.modInfo.split('\n')) {
    const f = line.split('\t');
    if ((f[0] === 'mod' || f[0] === 'dep') && f[1] && f[2]) {
      last = undefined;
      if (f[2] === '(devel)') continue;
      last = { ecosystem: 'Go', name: f[1], version: f[2], location };
      out.push(last);
    } else if (f[0] === '=>' && f[1] && f[2] && last) {
      // A replacement: the code that is really in the binary.
      last.name = f[1];
      last.version = f[2];
    }
  }
  return out;
}
