// Finds the shell commands in Markdown documents, for test/docs/commands.test.ts.
//
// The convention (also in docs/README.md, "Commands in these pages"):
// - Fenced blocks tagged ```sh or ```bash: every line is a command; a line ending in `\` continues on the
//   next; lines starting with `#` are comments; a comment line `# => TEXT` right after a command says that
//   the command's output (stdout + stderr) contains TEXT.
// - Fenced blocks tagged ```console: lines starting with `$ ` are commands; the other lines are sample
//   output, shown to the reader but not compared.
// - `<!-- doc-test: skip REASON -->` on the line before a block: its commands are not run (REASON is
//   required). `<!-- doc-test: server-stopped -->`: the block runs while Slipway is stopped (backups).
// - Blocks without a tag or tagged ```text, ```yaml, ```ts ... are not run. Their lines that start with
//   `slipway ` are still checked against the CLI's commands and flags (synopsis lines), and so are
//   inline code spans such as `slipway build run ORG/REPO --branch B`.

export interface DocCommand {
  /** 1-based line of the command's first line. */
  line: number;
  text: string;
  /** Texts the output must contain (`# => TEXT`). */
  expect: string[];
}

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  skip?: string;
  serverStopped: boolean;
  /** Commands to run (sh, bash, console blocks). */
  commands: DocCommand[];
  /** Every line of the block that is a `slipway` (or `npx slipway`) invocation, with its line number. */
  slipwayLines: { line: number; text: string }[];
}

const RUNNABLE = new Set(['sh', 'bash', 'console', 'shell']);
const MARKER = /^<!--\s*doc-test:\s*([a-z-]+)\s*(.*?)\s*-->\s*$/;

/** Parses the fenced code blocks of a Markdown text. Throws on a skip marker without a reason. */
export function parseDocBlocks(markdown: string, file: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  let pendingMarker: { kind: string; arg: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const marker = MARKER.exec(raw.trim());
    if (marker) {
      pendingMarker = { kind: marker[1]!, arg: marker[2]!, line: i + 1 };
      if (pendingMarker.kind === 'skip' && !pendingMarker.arg) {
        throw new Error(`${file}:${i + 1}: a doc-test skip marker needs a reason`);
      }
      if (pendingMarker.kind !== 'skip' && pendingMarker.kind !== 'server-stopped') {
        throw new Error(`${file}:${i + 1}: unknown doc-test marker "${pendingMarker.kind}"`);
      }
      continue;
    }
    const fence = /^(\s*)(```+|~~~+)\s*([\w-]*)/.exec(raw);
    if (!fence) {
      if (raw.trim() !== '') pendingMarker = undefined;
      continue;
    }
    const indent = fence[1]!.length;
    const close = fence[2]!;
    const lang = fence[3]!.toLowerCase();
    const start = i + 1;
    const body: { line: number; text: string }[] = [];
    for (i++; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.trimStart().startsWith(close) && l.trim().replace(/[`~]/g, '') === '') break;
      body.push({ line: i + 1, text: l.slice(Math.min(indent, l.length - l.trimStart().length)) });
    }
    const block: DocBlock = {
      file,
      line: start,
      lang,
      serverStopped: pendingMarker?.kind === 'server-stopped',
      commands: RUNNABLE.has(lang) ? extractCommands(body, lang === 'console') : [],
      slipwayLines: [],
    };
    if (pendingMarker?.kind === 'skip') block.skip = pendingMarker.arg;
    pendingMarker = undefined;
    if (!['yaml', 'yml', 'ts', 'js', 'json', 'typescript', 'javascript', 'dockerfile'].includes(lang)) {
      for (const b of body) {
        const t = b.text.trim().replace(/^\$ /, '');
        if (/^(npx )?slipway(\s|$)/.test(t)) block.slipwayLines.push({ line: b.line, text: t });
      }
    }
    blocks.push(block);
  }
  return blocks;
}

function extractCommands(body: { line: number; text: string }[], console: boolean): DocCommand[] {
  const out: DocCommand[] = [];
  let current: DocCommand | undefined;
  let continuing = false;
  for (const { line, text } of body) {
    if (continuing && current) {
      current.text += `\n${text}`;
      continuing = /\\\s*$/.test(text);
      continue;
    }
    const t = text.trim();
    if (console) {
      if (!t.startsWith('$ ')) continue;
      current = { line, text: t.slice(2), expect: [] };
      out.push(current);
      continuing = /\\\s*$/.test(t);
      continue;
    }
    if (t === '') continue;
    if (t.startsWith('#')) {
      const expect = /^#\s*=>\s?(.*)$/.exec(t);
      if (expect && current) current.expect.push(expect[1]!.trim());
      continue;
    }
    current = { line, text: t, expect: [] };
    out.push(current);
    continuing = /\\\s*$/.test(t);
  }
  return out;
}

/** Splits a synopsis line like `slipway registry project list | set NAME [--public]` into its parts. */
export function synopsisParts(text: string): { words: string[]; flags: string[] }[] {
  const noComment = text.replace(/\s#\s.*$/, '');
  // `|` inside [...] separates alternative flags, not commands.
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of noComment) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === '|' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => {
    const tokens = p
      .replace(/^\s*(npx\s+)?slipway\s*/, '')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    const words: string[] = [];
    for (const tok of tokens) {
      if (!/^[a-z][a-z0-9-]*$/.test(tok)) break;
      words.push(tok);
    }
    const flags = [...p.matchAll(/(?:^|[\s[|])(--?[a-zA-Z][\w-]*)/g)].map((m) => m[1]!);
    return { words, flags };
  });
}

/** `slipway ...` commands in inline code spans outside fenced blocks, e.g. in tables and prose. */
export function inlineSlipwayCommands(markdown: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let inFence = false;
  markdown.split('\n').forEach((l, i) => {
    if (/^\s*(```|~~~)/.test(l)) inFence = !inFence;
    if (inFence) return;
    for (const m of l.matchAll(/`((?:npx )?slipway [^`]+)`/g)) out.push({ line: i + 1, text: m[1]! });
  });
  return out;
}
