// Dockerfile parser (pure): directives, line continuations, heredocs, flags, exec/shell forms and stages.
import { InputError } from '../core/index.ts';

export type DockerfileKeyword =
  | 'ADD'
  | 'ARG'
  | 'CMD'
  | 'COPY'
  | 'ENTRYPOINT'
  | 'ENV'
  | 'EXPOSE'
  | 'FROM'
  | 'HEALTHCHECK'
  | 'LABEL'
  | 'MAINTAINER'
  | 'ONBUILD'
  | 'RUN'
  | 'SHELL'
  | 'STOPSIGNAL'
  | 'USER'
  | 'VOLUME'
  | 'WORKDIR';

const KEYWORDS = new Set<string>([
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
]);

/** Flags each instruction accepts (`--name=value`); other flags are errors. */
const FLAGS: Partial<Record<DockerfileKeyword, string[]>> = {
  FROM: ['platform'],
  RUN: ['mount', 'network', 'security'],
  COPY: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  ADD: ['chown', 'chmod', 'link', 'keep-git-dir', 'checksum', 'exclude'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

export interface Heredoc {
  name: string;
  content: string;
  /** False when the delimiter was quoted: the content is taken literally. */
  expand: boolean;
}

export interface KeyValue {
  key: string;
  value: string;
}

/** One instruction, with its arguments already split by form. */
export interface Instruction {
  keyword: DockerfileKeyword;
  /** The arguments after flags, continuations joined (heredoc bodies removed). */
  args: string;
  /** The instruction as written, for history (`created_by`). */
  original: string;
  flags: Record<string, string>;
  /** Exec form (`["a","b"]`) when given as JSON, else undefined. */
  json?: string[];
  heredocs: Heredoc[];
  /** For ENV, LABEL and ARG: the pairs (value unexpanded; `undefined` for `ARG NAME`). */
  pairs?: { key: string; value: string | undefined }[];
  /** For ONBUILD: the wrapped instruction. */
  inner?: Instruction;
  line: number;
  endLine: number;
}

export interface Stage {
  index: number;
  /** `FROM image AS name` (lower-cased), if named. */
  name?: string;
  /** The image reference as written (unexpanded). */
  base: string;
  platform?: string;
  from: Instruction;
  instructions: Instruction[];
}

export interface Dockerfile {
  file: string;
  escape: '\\' | '`';
  syntax?: string;
  /** ARG instructions before the first FROM. */
  globalArgs: Instruction[];
  stages: Stage[];
}

export interface ParseDockerfileOptions {
  /** The file name to put in errors (default `Dockerfile`). */
  file?: string;
}

function fail(file: string, line: number, message: string, column?: number): never {
  const location = column === undefined ? { file, line } : { file, line, column };
  const where = column === undefined ? `${file}:${line}` : `${file}:${line}:${column}`;
  throw new InputError(`${where}: ${message}`, { location });
}

/**
 * Parses a Dockerfile. Throws {@link InputError} with file, line (and column where it helps) on
 * anything Docker would reject: unknown instructions, missing arguments, bad flags, bad JSON,
 * unterminated heredocs, instructions before the first FROM, duplicate stage names.
 */
export function parseDockerfile(text: string, options: ParseDockerfileOptions = {}): Dockerfile {
  const file = options.file ?? 'Dockerfile';
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let esc: '\\' | '`' = '\\';
  let syntax: string | undefined;

  // Parser directives: `# key=value` lines at the very top; anything else ends them.
  let i = 0;
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (key !== 'escape' && key !== 'syntax' && key !== 'check') break;
    if (seen.has(key)) fail(file, i + 1, `the "${key}" directive may appear only once`);
    seen.add(key);
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`')
        fail(file, i + 1, `invalid escape character "${m[2]}": use \\ or \``);
      esc = m[2];
    } else if (key === 'syntax') syntax = m[2];
  }

  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i++;
      continue;
    }
    const startLine = i + 1;
    // Join continuation lines; comment and empty lines inside a continuation are dropped.
    let logical = '';
    let current = raw;
    for (;;) {
      const cont = endsWithEscape(current, esc);
      if (!cont) {
        logical += current;
        break;
      }
      logical += cont;
      i++;
      while (i < lines.length && /^\s*(#.*)?$/.test(lines[i]!)) i++;
      if (i >= lines.length) break;
      current = lines[i]!;
    }
    const endLine = Math.min(i + 1, lines.length);
    i++;
    const { instruction, consumed } = parseInstruction(logical, {
      file,
      line: startLine,
      endLine,
      escape: esc,
      following: lines,
      next: i,
    });
    i += consumed;
    instructions.push(instruction);
  }

  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  const names = new Map<string, number>();
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const stage = parseFrom(ins, file, stages.length);
      if (stage.name !== undefined) {
        if (names.has(stage.name)) {
          fail(
            file,
            ins.line,
            `duplicate stage name "${stage.name}" (first used on stage ${names.get(stage.name)})`,
          );
        }
        names.set(stage.name, stage.index);
      }
      stages.push(stage);
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') {
        fail(file, ins.line, `${ins.keyword} before the first FROM: only ARG may come before FROM`);
      }
      globalArgs.push(ins);
    } else {
      stages[stages.length - 1]!.instructions.push(ins);
    }
  }
  if (stages.length === 0)
    fail(file, Math.max(1, lines.length), 'no FROM instruction: a Dockerfile needs one');
  return { file, escape: esc, ...(syntax !== undefined ? { syntax } : {}), globalArgs, stages };
}

/** Returns the line without its trailing escape character when it continues, else undefined. */
function endsWithEscape(line: string, esc: string): string | undefined {
  const trimmed = line.replace(/[ \t]+$/, '');
  if (!trimmed.endsWith(esc)) return undefined;
  // An escaped escape (`\\`) at the end does not continue... Docker treats any trailing escape as continuation.
  return trimmed.slice(0, -1);
}

interface LineContext {
  file: string;
  line: number;
  endLine: number;
  escape: string;
  following: string[];
  next: number;
}

function parseInstruction(logical: string, ctx: LineContext): { instruction: Instruction; consumed: number } {
  const { file, line } = ctx;
  const leading = logical.length - logical.trimStart().length;
  const m = /^(\S+)(?:\s+([\s\S]*))?$/.exec(logical.trim());
  if (!m) fail(file, line, 'empty instruction');
  const word = m[1]!;
  const keyword = word.toUpperCase();
  if (!KEYWORDS.has(keyword)) {
    fail(file, line, `unknown instruction "${word}"`, leading + 1);
  }
  const kw = keyword as DockerfileKeyword;
  let rest = (m[2] ?? '').trim();
  const argColumn = leading + word.length + 2;

  // Flags: leading `--name=value` words.
  const flags: Record<string, string> = {};
  const allowed = FLAGS[kw] ?? [];
  for (; FLAGS[kw] !== undefined; ) {
    const fm = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
    if (!fm) break;
    const name = fm[1]!.toLowerCase();
    if (!allowed.includes(name)) {
      fail(
        file,
        line,
        `${kw} does not take the flag --${name}${allowed.length ? ` (it takes ${allowed.map((f) => `--${f}`).join(', ')})` : ''}`,
      );
    }
    if (fm[2] === undefined && name !== 'link' && name !== 'parents' && name !== 'keep-git-dir') {
      fail(file, line, `the flag --${name} needs a value: --${name}=VALUE`);
    }
    flags[name] = fm[2] ?? 'true';
    rest = rest.slice(fm[0].length);
  }

  // Heredocs (RUN, COPY, ADD): `<<EOF`, `<<-EOF`, `<<"EOF"`; bodies follow the instruction line.
  const heredocs: Heredoc[] = [];
  let consumed = 0;
  if (kw === 'RUN' || kw === 'COPY' || kw === 'ADD') {
    const re = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
    for (let hm = re.exec(rest); hm !== null; hm = re.exec(rest)) {
      const strip = hm[1] === '-';
      const name = hm[3]!;
      const body: string[] = [];
      let found = false;
      let j = ctx.next + consumed;
      for (; j < ctx.following.length; j++) {
        const l = ctx.following[j]!;
        const candidate = strip ? l.replace(/^\t+/, '') : l;
        if (candidate === name) {
          found = true;
          break;
        }
        body.push(candidate);
      }
      if (!found) fail(file, line, `unterminated heredoc <<${name}: no line "${name}" ends it`);
      consumed = j + 1 - ctx.next;
      heredocs.push({ name, content: body.length ? `${body.join('\n')}\n` : '', expand: hm[2] === '' });
    }
  }

  const original = `${kw} ${Object.entries(flags)
    .map(([k, v]) => `--${k}=${v} `)
    .join('')}${rest}`.trimEnd();
  const instruction: Instruction = {
    keyword: kw,
    args: rest,
    original,
    flags,
    heredocs,
    line,
    endLine: ctx.endLine + consumed,
  };

  const json = parseJsonForm(rest);
  switch (kw) {
    case 'RUN':
    case 'CMD':
    case 'ENTRYPOINT':
      if (json.kind === 'bad')
        fail(file, line, `${kw} exec form is not a JSON array of strings: ${json.reason}`);
      if (json.kind === 'ok') instruction.json = json.value;
      if (kw === 'RUN' && rest === '') fail(file, line, 'RUN needs a command');
      break;
    case 'SHELL':
      if (json.kind !== 'ok' || json.value.length === 0) {
        fail(file, line, 'SHELL needs a JSON array of strings, e.g. SHELL ["/bin/sh", "-c"]', argColumn);
      }
      instruction.json = json.value;
      break;
    case 'VOLUME':
      if (json.kind === 'bad') fail(file, line, `VOLUME JSON form is invalid: ${json.reason}`);
      if (json.kind === 'ok') instruction.json = json.value;
      if (rest === '') fail(file, line, 'VOLUME needs at least one path');
      break;
    case 'COPY':
    case 'ADD': {
      if (json.kind === 'bad') fail(file, line, `${kw} JSON form is invalid: ${json.reason}`);
      if (json.kind === 'ok') instruction.json = json.value;
      const count = json.kind === 'ok' ? json.value.length : splitWords(rest, ctx.escape).length;
      if (count < 2 && !(heredocs.length > 0 && count >= 1)) {
        fail(file, line, `${kw} needs at least one source and a destination`);
      }
      break;
    }
    case 'FROM':
      if (rest === '') fail(file, line, 'FROM needs an image (or "scratch")');
      break;
    case 'ENV':
    case 'LABEL':
      instruction.pairs = parsePairs(kw, rest, ctx, argColumn);
      break;
    case 'ARG': {
      const words = splitWords(rest, ctx.escape);
      if (words.length === 0) fail(file, line, 'ARG needs a name, e.g. ARG VERSION=1.0');
      instruction.pairs = words.map((w) => {
        const eq = w.indexOf('=');
        const key = eq < 0 ? w : w.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) fail(file, line, `invalid ARG name "${key}"`);
        return { key, value: eq < 0 ? undefined : w.slice(eq + 1) };
      });
      break;
    }
    case 'EXPOSE':
      if (rest === '') fail(file, line, 'EXPOSE needs at least one port, e.g. EXPOSE 8080/tcp');
      for (const p of splitWords(rest, ctx.escape)) {
        if (!/^(\$\{?[A-Za-z_][^}]*\}?|\d+(-\d+)?)(\/(tcp|udp|sctp))?$/i.test(p)) {
          fail(file, line, `invalid port "${p}" in EXPOSE: use PORT[/tcp|udp|sctp]`);
        }
      }
      break;
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
    case 'MAINTAINER':
      if (rest === '') fail(file, line, `${kw} needs an argument`);
      if (kw === 'STOPSIGNAL' && splitWords(rest, ctx.escape).length !== 1) {
        fail(file, line, 'STOPSIGNAL takes exactly one signal');
      }
      break;
    case 'HEALTHCHECK': {
      const upper = rest.toUpperCase();
      if (upper === 'NONE') break;
      const cm = /^CMD(\s+|$)([\s\S]*)$/i.exec(rest);
      if (!cm || cm[2]!.trim() === '') fail(file, line, 'HEALTHCHECK needs "NONE" or "CMD command"');
      const inner = parseJsonForm(cm[2]!.trim());
      if (inner.kind === 'bad') fail(file, line, `HEALTHCHECK CMD JSON form is invalid: ${inner.reason}`);
      if (inner.kind === 'ok') instruction.json = inner.value;
      for (const [k, v] of Object.entries(flags)) {
        if (k === 'retries' ? !/^\d+$/.test(v) : parseDuration(v) === undefined) {
          fail(file, line, `invalid value "${v}" for --${k}`);
        }
      }
      break;
    }
    case 'ONBUILD': {
      if (rest === '') fail(file, line, 'ONBUILD needs an instruction');
      const innerWord = rest.split(/\s+/, 1)[0]!.toUpperCase();
      if (innerWord === 'ONBUILD' || innerWord === 'FROM' || innerWord === 'MAINTAINER') {
        fail(file, line, `ONBUILD may not wrap ${innerWord}`);
      }
      instruction.inner = parseInstruction(rest, { ...ctx, following: [], next: 0 }).instruction;
      break;
    }
  }
  return { instruction, consumed };
}

function parseFrom(ins: Instruction, file: string, index: number): Stage {
  const words = ins.args.split(/\s+/).filter(Boolean);
  let name: string | undefined;
  if (words.length === 3 && words[1]!.toUpperCase() === 'AS') {
    name = words[2]!.toLowerCase();
    if (!/^[a-z][a-z0-9._-]*$/.test(name)) {
      fail(file, ins.line, `invalid stage name "${words[2]}": use letters, digits, ".", "_" and "-"`);
    }
  } else if (words.length !== 1) {
    fail(file, ins.line, `FROM takes an image and optionally "AS name", got "${ins.args}"`);
  }
  return {
    index,
    ...(name !== undefined ? { name } : {}),
    base: words[0]!,
    ...(ins.flags.platform !== undefined ? { platform: ins.flags.platform } : {}),
    from: ins,
    instructions: [],
  };
}

type JsonForm = { kind: 'none' } | { kind: 'ok'; value: string[] } | { kind: 'bad'; reason: string };

function parseJsonForm(rest: string): JsonForm {
  if (!rest.startsWith('[')) return { kind: 'none' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(rest);
  } catch (err) {
    // Docker falls back to shell form when the JSON does not parse; we do too unless it looks meant as JSON.
    if (!rest.trimEnd().endsWith(']')) return { kind: 'none' };
    return { kind: 'bad', reason: (err as Error).message };
  }
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) {
    return { kind: 'bad', reason: 'every element must be a string' };
  }
  return { kind: 'ok', value: parsed as string[] };
}

function parsePairs(
  kw: 'ENV' | 'LABEL',
  rest: string,
  ctx: LineContext,
  column: number,
): { key: string; value: string }[] {
  if (rest === '') fail(ctx.file, ctx.line, `${kw} needs at least one key=value pair`);
  const words = splitWords(rest, ctx.escape);
  // Legacy `ENV KEY value with spaces` (no `=` in the first word).
  if (!words[0]!.includes('=')) {
    if (kw === 'LABEL') fail(ctx.file, ctx.line, `LABEL needs key=value pairs, got "${words[0]}"`, column);
    const sp = /^(\S+)\s+([\s\S]*)$/.exec(rest);
    if (!sp) fail(ctx.file, ctx.line, `ENV ${words[0]} needs a value: ENV ${words[0]}=VALUE`, column);
    return [{ key: sp[1]!, value: sp[2]! }];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) fail(ctx.file, ctx.line, `${kw} expects key=value, got "${w}"`, column);
    const key = unquote(w.slice(0, eq), ctx.escape);
    if (kw === 'ENV' && !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) {
      fail(ctx.file, ctx.line, `invalid ENV name "${key}"`, column);
    }
    return { key, value: w.slice(eq + 1) };
  });
}

/** Splits on unquoted whitespace, keeping quotes and escapes in the words (they are removed later). */
export function splitWords(text: string, esc: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let inWord = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (c === esc && quote !== "'" && k + 1 < text.length) {
      cur += c + text[k + 1];
      k++;
      inWord = true;
      continue;
    }
    if (quote) {
      if (c === quote) quote = undefined;
      cur += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      cur += c;
      inWord = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += c;
    inWord = true;
  }
  if (inWord) words.push(cur);
  return words;
}

/** Removes quotes and escapes from one word without expanding variables. */
export function unquote(word: string, esc = '\\'): string {
  return expandWord(word, { lookup: () => undefined, escape: esc, noExpand: true });
}

export interface ExpandOptions {
  lookup: (name: string) => string | undefined;
  escape?: string;
  /** Only remove quotes and escapes. */
  noExpand?: boolean;
  /** Treat quotes as ordinary characters (heredoc bodies). */
  literalQuotes?: boolean;
  /** For errors. */
  location?: { file: string; line: number };
}

/**
 * Expands `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}` and
 * `${VAR:?message}` in one word, and removes quotes and escapes the way Docker's shell lexer does:
 * single quotes are literal, double quotes expand.
 */
export function expandWord(word: string, options: ExpandOptions): string {
  const esc = options.escape ?? '\\';
  let out = '';
  let quote: string | undefined;
  for (let k = 0; k < word.length; k++) {
    const c = word[k]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else out += c;
      continue;
    }
    if (c === esc && k + 1 < word.length) {
      const n = word[k + 1]!;
      // Inside double quotes only a few characters are escapable.
      if (quote === '"' && !['"', '$', esc].includes(n)) out += c;
      out += n;
      k++;
      continue;
    }
    if (c === '"' && !options.literalQuotes) {
      quote = quote === '"' ? undefined : '"';
      continue;
    }
    if (c === "'" && quote === undefined && !options.literalQuotes) {
      quote = "'";
      continue;
    }
    if (c === '$' && !options.noExpand) {
      const r = expandVariable(word, k, options);
      if (r) {
        out += r.value;
        k = r.end - 1;
        continue;
      }
    }
    out += c;
  }
  if (quote !== undefined && options.location) {
    fail(options.location.file, options.location.line, `unterminated ${quote} quote in "${word}"`);
  }
  return out;
}

function expandVariable(
  word: string,
  start: number,
  options: ExpandOptions,
): { value: string; end: number } | undefined {
  const simple = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(word.slice(start));
  if (simple) return { value: options.lookup(simple[1]!) ?? '', end: start + simple[0].length };
  if (word[start + 1] !== '{') return undefined;
  // Find the matching brace, allowing nested ${...} in the default.
  let depth = 0;
  let end = -1;
  for (let k = start + 1; k < word.length; k++) {
    if (word[k] === '{') depth++;
    else if (word[k] === '}') {
      depth--;
      if (depth === 0) {
        end = k;
        break;
      }
    }
  }
  const loc = options.location;
  if (end < 0) {
    if (loc) fail(loc.file, loc.line, `missing "}" in "${word}"`);
    return undefined;
  }
  const body = word.slice(start + 2, end);
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([\s\S]*))?$/.exec(body);
  if (!m) {
    if (loc) fail(loc.file, loc.line, `bad substitution "\${${body}}"`);
    return undefined;
  }
  const value = options.lookup(m[1]!);
  const op = m[2];
  const arg = m[3] ?? '';
  const sub = () => expandWord(arg, options);
  let result: string;
  switch (op) {
    case undefined:
      result = value ?? '';
      break;
    case ':-':
      result = value === undefined || value === '' ? sub() : value;
      break;
    case '-':
      result = value === undefined ? sub() : value;
      break;
    case ':+':
      result = value !== undefined && value !== '' ? sub() : '';
      break;
    case '+':
      result = value !== undefined ? sub() : '';
      break;
    default: {
      // `:?` and `?`: error when unset (or empty for `:?`).
      if (value === undefined || (op === ':?' && value === '')) {
        const msg = sub() || 'is not set';
        if (loc) fail(loc.file, loc.line, `${m[1]}: ${msg}`);
        return { value: '', end: end + 1 };
      }
      result = value;
    }
  }
  return { value: result, end: end + 1 };
}

/** Parses a Docker duration such as `30s`, `1m30s`, `500ms`; returns nanoseconds. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index !== consumed) return undefined;
    total += Number(m[1]) * unit[m[2]!]!;
    consumed = m.index + m[0].length;
  }
  return consumed === text.length && consumed > 0 ? Math.round(total) : undefined;
}
