// Sprig's regex functions: Go RE2 patterns translated to JS regular expressions, with Go's match iteration.
import type { TemplateFunction } from '../signature.ts';
import { typedSlice } from '../value.ts';
import { sig } from './strings.ts';

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const JS_SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);

const cache = new Map<string, RegExp>();

/** Compiles a Go regexp to a global JS RegExp. Throws Go-style "error parsing regexp: ..." on bad syntax. */
export function compileGoRegex(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  let flags = 'gu';
  let p = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]!) if (f !== 'U' && !flags.includes(f)) flags += f;
    p = p.slice(lead[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1];
      if (n === undefined)
        throw new Error('error parsing regexp: trailing backslash at end of expression: ``');
      if (n === 'Q') {
        const end = p.indexOf('\\E', i + 2);
        const lit = end < 0 ? p.slice(i + 2) : p.slice(i + 2, end);
        out += lit.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? p.length : end + 1;
        continue;
      }
      if (n === 'z') {
        out += '(?![\\s\\S])';
        i++;
        continue;
      }
      if (n === 'A') {
        out += '(?<![\\s\\S])';
        i++;
        continue;
      }
      if ((n === 'p' || n === 'P') && p[i + 2] !== '{') {
        out += `\\${n}{${p[i + 2] ?? ''}}`;
        i += 2;
        continue;
      }
      if (/[!-/:-@[-`{-~]/.test(n) && !JS_SYNTAX.has(n) && !(inClass && n === '-')) {
        out += n === '-' ? '\\-' : n;
        i++;
        continue;
      }
      out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && p[i + 1] === ':') {
        const close = p.indexOf(':]', i + 2);
        if (close > 0) {
          let name = p.slice(i + 2, close);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const cls = POSIX[name];
          if (cls && !neg) {
            out += cls;
            i = close + 1;
            continue;
          }
        }
      }
      if (c === '[') {
        out += '\\[';
        continue;
      }
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (p[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (p[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && p.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    out += c;
  }
  let re: RegExp;
  try {
    re = new RegExp(out, flags);
  } catch (e) {
    throw new Error(
      `error parsing regexp: ${goRegexError(pattern, e instanceof Error ? e.message : String(e))}`,
    );
  }
  if (cache.size > 500) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** Maps a JS RegExp syntax error to RE2's wording where the cause is recognisable. */
function goRegexError(pattern: string, jsMessage: string): string {
  if (/Unterminated character class/i.test(jsMessage)) {
    return `missing closing ]: \`${pattern.slice(pattern.lastIndexOf('['))}\``;
  }
  if (/Unterminated group/i.test(jsMessage)) return `missing closing ): \`${pattern}\``;
  if (/Unmatched '\)'/i.test(jsMessage)) return `unexpected ): \`${pattern}\``;
  if (/Nothing to repeat/i.test(jsMessage)) {
    const m = /(^|[(|])([*+?]|\{[0-9,]+\})/.exec(pattern);
    return `missing argument to repetition operator: \`${m ? m[2] : pattern}\``;
  }
  if (/Invalid escape/i.test(jsMessage)) return `invalid escape sequence: \`${pattern}\``;
  if (/Range out of order/i.test(jsMessage)) return `invalid character class range: \`${pattern}\``;
  return jsMessage.replace(/^Invalid regular expression: /, '');
}

/** Go's FindAll iteration: non-overlapping matches, an empty match right after a match is skipped. */
export function findAll(re: RegExp, s: string, n: number): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  if (n === 0) return out;
  re.lastIndex = 0;
  let prevEnd = -1;
  while (n < 0 || out.length < n) {
    const m = re.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    if (end === start) {
      const cp = s.codePointAt(start);
      re.lastIndex = start + (cp !== undefined && cp > 0xffff ? 2 : 1);
      if (start === prevEnd) {
        if (start >= s.length) break;
        continue;
      }
      out.push(m);
      prevEnd = end;
      if (start >= s.length) break;
      continue;
    }
    out.push(m);
    prevEnd = end;
  }
  return out;
}

/** Regexp.Expand template: $1, ${1}, $name, ${name}, $$. */
function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const next = template[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    let end: number;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close < 0 || !/^[A-Za-z0-9_]+$/.test(inner)) {
        out += c;
        continue;
      }
      name = inner;
      end = close;
    } else {
      const mm = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (!mm) {
        out += c;
        continue;
      }
      name = mm[0];
      end = i + name.length;
    }
    if (/^[0-9]+$/.test(name)) {
      const idx = Number(name);
      out += idx < m.length ? (m[idx] ?? '') : '';
    } else out += m.groups?.[name] ?? '';
    i = end;
  }
  return out;
}

function replaceAll(re: RegExp, s: string, repl: (m: RegExpExecArray) => string): string {
  const matches = findAll(re, s, -1);
  let out = '';
  let last = 0;
  for (const m of matches) {
    out += s.slice(last, m.index) + repl(m);
    last = m.index + m[0].length;
  }
  return out + s.slice(last);
}

function split(re: RegExp, s: string, n: number): string[] {
  if (n === 0) return [];
  if (re.source !== '(?:)' && s.length === 0) return [''];
  const matches = findAll(re, s, n);
  const out: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of matches) {
    if (n > 0 && out.length === n - 1) break;
    end = m.index;
    if (m.index + m[0].length !== 0) out.push(s.slice(beg, end));
    beg = m.index + m[0].length;
  }
  if (end !== s.length) out.push(s.slice(beg));
  return out;
}

export function regexFunctions(): Record<string, TemplateFunction> {
  const pair = (
    name: string,
    params: Parameters<typeof sig>[0],
    impl: (...a: never[]) => unknown,
    soft?: unknown,
  ) => {
    const must = sig(params)(impl);
    const plain =
      soft === undefined
        ? must
        : sig(params)((...a: never[]) => {
            try {
              return impl(...a);
            } catch {
              return soft;
            }
          });
    return { [name]: plain, [`must${name[0]!.toUpperCase()}${name.slice(1)}`]: must };
  };
  return {
    ...pair('regexMatch', ['string', 'string'], (r: string, s: string) => compileGoRegex(r).test(s), false),
    ...pair('regexFindAll', ['string', 'string', 'int'], (r: string, s: string, n: bigint) =>
      typedSlice(
        findAll(compileGoRegex(r), s, Number(n)).map((m) => m[0]),
        '[]string',
      ),
    ),
    ...pair('regexFind', ['string', 'string'], (r: string, s: string) => {
      const m = findAll(compileGoRegex(r), s, 1)[0];
      return m ? m[0] : '';
    }),
    ...pair('regexReplaceAll', ['string', 'string', 'string'], (r: string, s: string, repl: string) =>
      replaceAll(compileGoRegex(r), s, (m) => expand(repl, m)),
    ),
    ...pair('regexReplaceAllLiteral', ['string', 'string', 'string'], (r: string, s: string, repl: string) =>
      replaceAll(compileGoRegex(r), s, () => repl),
    ),
    ...pair('regexSplit', ['string', 'string', 'int'], (r: string, s: string, n: bigint) =>
      typedSlice(split(compileGoRegex(r), s, Number(n)), '[]string'),
    ),
    regexQuoteMeta: sig(['string'])((s: string) => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')),
  };
}
