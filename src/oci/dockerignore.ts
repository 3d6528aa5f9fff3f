// .dockerignore patterns (pure), following Docker's rules: Go filepath.Match syntax plus `**`,
// `!` exceptions, last match wins, and a pattern that matches a directory excludes what is in it.
import { posix } from 'node:path';
import { InputError } from '../core/index.ts';

interface Pattern {
  text: string;
  exclusion: boolean;
  regex: RegExp;
  line: number;
}

export interface IgnoreMatcher {
  /** True when `path` (relative to the context, `/`-separated) is excluded from the build context. */
  ignores(path: string): boolean;
  /** True when some `!` pattern might re-include something below an excluded directory. */
  readonly hasExceptions: boolean;
  readonly patterns: readonly string[];
}

/** Parses a .dockerignore; throws {@link InputError} naming file and line on an invalid pattern. */
export function parseDockerignore(text: string, file = '.dockerignore'): IgnoreMatcher {
  const patterns: Pattern[] = [];
  text.split(/\r?\n/).forEach((raw, idx) => {
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    let exclusion = false;
    if (line.startsWith('!')) {
      exclusion = true;
      line = line.slice(1).trim();
      if (line === '') {
        throw new InputError(`${file}:${idx + 1}: "!" needs a pattern after it`, {
          location: { file, line: idx + 1 },
        });
      }
    }
    let cleaned = posix.normalize(line);
    cleaned = cleaned.replace(/^\/+/, '').replace(/\/+$/, '');
    if (cleaned === '.' || cleaned === '') cleaned = '.';
    let regex: RegExp;
    try {
      regex = patternToRegex(cleaned);
    } catch (err) {
      throw new InputError(`${file}:${idx + 1}: invalid pattern "${raw.trim()}": ${(err as Error).message}`, {
        location: { file, line: idx + 1 },
      });
    }
    patterns.push({ text: cleaned, exclusion, regex, line: idx + 1 });
  });

  return {
    hasExceptions: patterns.some((p) => p.exclusion),
    patterns: patterns.map((p) => (p.exclusion ? `!${p.text}` : p.text)),
    ignores(path: string): boolean {
      const clean = posix.normalize(path).replace(/^\/+/, '').replace(/\/+$/, '');
      if (clean === '' || clean === '.') return false;
      const parts = clean.split('/');
      const parents = parts.slice(0, -1).map((_, n) => parts.slice(0, n + 1).join('/'));
      // Like Docker's MatchesOrParentMatches: each pattern in order, matching the path or a parent.
      let matched = false;
      for (const p of patterns) {
        if (p.exclusion !== matched) continue;
        const hit = p.text === '.' || p.regex.test(clean) || parents.some((d) => p.regex.test(d));
        if (hit) matched = !p.exclusion;
      }
      return matched;
    },
  };
}

/** Converts one Docker pattern to an anchored regular expression. */
function patternToRegex(pattern: string): RegExp {
  let re = '^';
  for (let k = 0; k < pattern.length; k++) {
    const c = pattern[k]!;
    if (c === '*') {
      if (pattern[k + 1] === '*') {
        k++;
        // `**/` matches zero or more directories; a trailing `**` matches everything.
        if (pattern[k + 1] === '/') {
          k++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', k + 1);
      if (close < 0) throw new Error('unterminated character class');
      let cls = pattern.slice(k + 1, close);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      k = close;
    } else if (c === '\\') {
      const n = pattern[k + 1];
      if (n === undefined) throw new Error('trailing backslash');
      re += escapeRegex(n);
      k++;
    } else re += escapeRegex(c);
  }
  return new RegExp(`${re}$`);
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}
