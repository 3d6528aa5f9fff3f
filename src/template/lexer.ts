// The text/template lexer: turns template text into tokens, following Go's text/template/parse/lex.go.

import { isPrintRune } from './fmt.ts';

export enum T {
  Error,
  Bool,
  Char,
  CharConstant,
  Comment,
  Assign,
  Declare,
  EOF,
  Field,
  Identifier,
  LeftDelim,
  LeftParen,
  Number,
  Pipe,
  RawString,
  RightDelim,
  RightParen,
  Space,
  String,
  Text,
  Variable,
  // keywords (after this marker)
  Keyword,
  Block,
  Break,
  Continue,
  Dot,
  Define,
  Else,
  End,
  If,
  Nil,
  Range,
  Template,
  With,
}

export interface Token {
  type: T;
  val: string;
  pos: number;
  line: number;
}

const KEYWORDS = new Map<string, T>(
  Object.entries({
    '.': T.Dot,
    block: T.Block,
    break: T.Break,
    continue: T.Continue,
    define: T.Define,
    else: T.Else,
    end: T.End,
    if: T.If,
    range: T.Range,
    nil: T.Nil,
    template: T.Template,
    with: T.With,
  }),
);

/** Go's item.String(), used in "unexpected X in Y" messages. */
export function tokenString(t: Token): string {
  if (t.type === T.EOF) return 'EOF';
  if (t.type === T.Error) return t.val;
  if (t.type > T.Keyword) return `<${t.val}>`;
  if (t.val.length > 10) return goQuotePrefix(t.val, 10) + '...';
  return goQuotePrefix(t.val, Number.MAX_SAFE_INTEGER);
}

function goQuotePrefix(s: string, n: number): string {
  const chars = [...s].slice(0, n).join('');
  return JSON.stringify(chars);
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 10;

function isAlphaNumeric(c: number): boolean {
  if (c === 95) return true;
  if (c >= 48 && c <= 57) return true;
  if (c >= 65 && c <= 90) return true;
  if (c >= 97 && c <= 122) return true;
  if (c < 0x80) return false;
  const ch = String.fromCharCode(c);
  return /[\p{L}\p{Nd}]/u.test(ch);
}

interface LexOptions {
  leftDelim: string;
  rightDelim: string;
}

/** Lexes the whole input into tokens. A lexer error becomes the final Error token. */
export function lex(input: string, options: LexOptions): Token[] {
  const ld = options.leftDelim || '{{';
  const rd = options.rightDelim || '}}';
  const out: Token[] = [];
  let pos = 0;
  let line = 1;
  let parenDepth = 0;
  const n = input.length;

  const countLines = (from: number, to: number): number => {
    let c = 0;
    for (let k = from; k < to; k++) if (input.charCodeAt(k) === 10) c++;
    return c;
  };
  const emit = (type: T, start: number, end: number): void => {
    out.push({ type, val: input.slice(start, end), pos: start, line });
    line += countLines(start, end);
  };
  const error = (msg: string, at: number): Token[] => {
    out.push({ type: T.Error, val: msg, pos: at, line });
    return out;
  };
  const atRightDelim = (p: number): { delim: boolean; trim: boolean } => {
    if (
      p + 1 < n &&
      isSpace(input.charCodeAt(p)) &&
      input.charCodeAt(p + 1) === 45 &&
      input.startsWith(rd, p + 2)
    )
      return { delim: true, trim: true };
    if (input.startsWith(rd, p)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  };
  const atTerminator = (p: number): boolean => {
    if (p >= n) return true;
    const c = input.charCodeAt(p);
    if (isSpace(c)) return true;
    switch (c) {
      case 46: // .
      case 44: // ,
      case 124: // |
      case 58: // :
      case 41: // )
      case 40: // (
        return true;
    }
    return input.startsWith(rd, p);
  };

  for (;;) {
    // Text
    const x = input.indexOf(ld, pos);
    let textEnd = x < 0 ? n : x;
    if (x >= 0) {
      const afterLd = x + ld.length;
      const trimLeft =
        afterLd + 1 < n && input.charCodeAt(afterLd) === 45 && isSpace(input.charCodeAt(afterLd + 1));
      let textStop = textEnd;
      if (trimLeft) {
        while (textStop > pos && isSpace(input.charCodeAt(textStop - 1))) textStop--;
      }
      if (textStop > pos) emit(T.Text, pos, textStop);
      line += countLines(textStop, x);
      textEnd = x;
      // Left delim
      pos = afterLd;
      if (trimLeft) {
        if (input.charCodeAt(pos + 1) === 10) line++;
        pos += 2;
      }
      out.push({ type: T.LeftDelim, val: ld, pos: x, line });
      // Comment?
      if (input.startsWith('/*', pos)) {
        const close = input.indexOf('*/', pos + 2);
        if (close < 0) return error('unclosed comment', pos);
        const afterComment = close + 2;
        const rdel = atRightDelim(afterComment);
        if (!rdel.delim) return error('comment ends before closing delimiter', afterComment);
        // Go drops comments from the token stream (without ParseComments); keep the line count.
        out.pop();
        line += countLines(x, afterComment);
        pos = afterComment + (rdel.trim ? 2 : 0) + rd.length;
        if (rdel.trim) while (pos < n && isSpace(input.charCodeAt(pos))) pos++;
        continue;
      }
      // Inside action
      parenDepth = 0;
      for (;;) {
        const rdel = atRightDelim(pos);
        if (rdel.delim) {
          if (parenDepth !== 0) return error('unclosed left paren', pos);
          if (rdel.trim) {
            if (input.charCodeAt(pos) === 10) line++;
            pos += 2;
          }
          out.push({ type: T.RightDelim, val: rd, pos, line });
          pos += rd.length;
          if (rdel.trim) {
            const s = pos;
            while (pos < n && isSpace(input.charCodeAt(pos))) pos++;
            line += countLines(s, pos);
          }
          break;
        }
        if (pos >= n) return error('unclosed action', pos);
        const start = pos;
        const c = input.charCodeAt(pos);
        if (isSpace(c)) {
          let p = pos;
          while (p < n && isSpace(input.charCodeAt(p))) p++;
          // A single space before " -}}" belongs to the trim marker.
          if (
            input.charCodeAt(p) === 45 &&
            input.startsWith(rd, p + 1) &&
            isSpace(input.charCodeAt(p - 1)) &&
            p - 1 >= pos
          ) {
            if (p - 1 > pos) emit(T.Space, pos, p - 1);
            pos = p - 1;
            continue;
          }
          emit(T.Space, pos, p);
          pos = p;
          continue;
        }
        switch (c) {
          case 61: // =
            pos++;
            emit(T.Assign, start, pos);
            continue;
          case 58: // :
            if (input.charCodeAt(pos + 1) !== 61) return error('expected :=', pos);
            pos += 2;
            emit(T.Declare, start, pos);
            continue;
          case 124: // |
            pos++;
            emit(T.Pipe, start, pos);
            continue;
          case 34: {
            // "
            let p = pos + 1;
            for (;;) {
              if (p >= n) return error('unterminated quoted string', p);
              const d = input.charCodeAt(p);
              if (d === 92) {
                p++;
                const e = input.charCodeAt(p);
                if (p >= n || e === 10) return error('unterminated quoted string', p);
              } else if (d === 10) return error('unterminated quoted string', p);
              else if (d === 34) break;
              p++;
            }
            pos = p + 1;
            emit(T.String, start, pos);
            continue;
          }
          case 96: {
            // `
            const close = input.indexOf('`', pos + 1);
            if (close < 0) return error('unterminated raw quoted string', n);
            pos = close + 1;
            emit(T.RawString, start, pos);
            continue;
          }
          case 36: {
            // $
            let p = pos + 1;
            if (atTerminator(p)) {
              pos = p;
              emit(T.Variable, start, pos);
              continue;
            }
            while (p < n && isAlphaNumeric(input.charCodeAt(p))) p++;
            if (!atTerminator(p)) return error(`bad character ${unicodeName(input, p)}`, p);
            pos = p;
            emit(T.Variable, start, pos);
            continue;
          }
          case 39: {
            // '
            let p = pos + 1;
            for (;;) {
              if (p >= n) return error('unterminated character constant', p);
              const d = input.charCodeAt(p);
              if (d === 92) {
                p++;
                if (p >= n || input.charCodeAt(p) === 10) return error('unterminated character constant', p);
              } else if (d === 10) return error('unterminated character constant', p);
              else if (d === 39) break;
              p++;
            }
            pos = p + 1;
            emit(T.CharConstant, start, pos);
            continue;
          }
          case 40:
            pos++;
            emit(T.LeftParen, start, pos);
            parenDepth++;
            continue;
          case 41:
            parenDepth--;
            if (parenDepth < 0) return error('unexpected right paren', start);
            pos++;
            emit(T.RightParen, start, pos);
            continue;
          case 46: {
            // .
            const d = input.charCodeAt(pos + 1);
            if (!(d >= 48 && d <= 57)) {
              let p = pos + 1;
              if (atTerminator(p)) {
                pos = p;
                emit(T.Dot, start, pos);
                continue;
              }
              while (p < n && isAlphaNumeric(input.charCodeAt(p))) p++;
              if (!atTerminator(p)) return error(`bad character ${unicodeName(input, p)}`, p);
              pos = p;
              emit(T.Field, start, pos);
              continue;
            }
            break;
          }
        }
        if (c === 43 || c === 45 || c === 46 || (c >= 48 && c <= 57)) {
          const end = scanNumber(input, pos);
          if (end < 0) {
            const bad = -end;
            return error(`bad number syntax: ${JSON.stringify(input.slice(pos, bad))}`, pos);
          }
          pos = end;
          emit(T.Number, start, pos);
          continue;
        }
        if (isAlphaNumeric(c)) {
          let p = pos;
          while (p < n && isAlphaNumeric(input.charCodeAt(p))) p++;
          if (!atTerminator(p)) return error(`bad character ${unicodeName(input, p)}`, p);
          const word = input.slice(pos, p);
          const kw = KEYWORDS.get(word);
          pos = p;
          if (kw !== undefined && word !== '.') emit(kw, start, pos);
          else if (word === 'true' || word === 'false') emit(T.Bool, start, pos);
          else emit(T.Identifier, start, pos);
          continue;
        }
        if (c < 0x80 && c >= 0x20 && c !== 0x7f) {
          pos++;
          emit(T.Char, start, pos);
          continue;
        }
        return error(`unrecognized character in action: ${unicodeName(input, pos)}`, pos);
      }
      continue;
    }
    if (textEnd > pos) emit(T.Text, pos, textEnd);
    out.push({ type: T.EOF, val: '', pos: n, line });
    return out;
  }
}

/** Go's %#U: U+0041 'A'. */
function unicodeName(input: string, p: number): string {
  const cp = input.codePointAt(p);
  if (cp === undefined) return 'U+FFFD';
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  const ch = String.fromCodePoint(cp);
  return isPrintRune(ch) ? `U+${hex} '${ch}'` : `U+${hex}`;
}

/** Scans a Go number literal; returns the end offset, or -(end) on bad syntax. */
function scanNumber(s: string, p: number): number {
  const n = s.length;
  if (s[p] === '+' || s[p] === '-') p++;
  let digits = '0123456789_';
  let hex = false;
  if (s[p] === '0' && p + 1 < n) {
    const c = s[p + 1]!;
    if (c === 'x' || c === 'X') {
      p += 2;
      digits = '0123456789abcdefABCDEF_';
      hex = true;
    } else if (c === 'o' || c === 'O') {
      p += 2;
      digits = '01234567_';
    } else if (c === 'b' || c === 'B') {
      p += 2;
      digits = '01_';
    }
  }
  while (p < n && digits.includes(s[p]!)) p++;
  if (s[p] === '.') {
    p++;
    while (p < n && digits.includes(s[p]!)) p++;
  }
  if (digits.length === 11 && (s[p] === 'e' || s[p] === 'E')) {
    p++;
    if (s[p] === '+' || s[p] === '-') p++;
    while (p < n && '0123456789_'.includes(s[p]!)) p++;
  }
  if (hex && (s[p] === 'p' || s[p] === 'P')) {
    p++;
    if (s[p] === '+' || s[p] === '-') p++;
    while (p < n && '0123456789_'.includes(s[p]!)) p++;
  }
  if (s[p] === 'i') p++;
  if (p < n && isAlphaNumeric(s.charCodeAt(p))) return -(p + 1);
  return p;
}
