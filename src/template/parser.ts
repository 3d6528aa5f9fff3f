// The text/template parser: tokens to trees, following Go's text/template/parse/parse.go (messages included).
import {
  type BranchNode,
  type CommandNode,
  type ListNode,
  N,
  type Node,
  type NumberNode,
  type PipeNode,
  type Source,
  type Tree,
  type VariableNode,
  isEmptyTree,
  nodeString,
} from './ast.ts';
import { T, type Token, lex, tokenString } from './lexer.ts';

/** A parse failure; the template set turns it into a TemplateError. */
export class ParseFailure extends Error {
  constructor(
    message: string,
    readonly parseName: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
  }
}

export interface ParseInput {
  name: string;
  text: string;
  leftDelim: string;
  rightDelim: string;
  hasFunction: (name: string) => boolean;
}

/** Parses text into trees: the top-level one (named `name`) and one per {{define}}/{{block}}. */
export function parseTemplates(input: ParseInput): Map<string, Tree> {
  const tokens = lex(input.text, { leftDelim: input.leftDelim, rightDelim: input.rightDelim });
  const treeSet = new Map<string, Tree>();
  const src: Source = { parseName: input.name, text: input.text };
  const top = new TreeParser(input.name, tokens, 0, src, input.hasFunction, treeSet);
  top.parseTop();
  return treeSet;
}

class TreeParser {
  vars: string[] = ['$'];
  rangeDepth = 0;
  actionLine = 0;
  lastLine = 1;

  constructor(
    public name: string,
    readonly tokens: Token[],
    public i: number,
    readonly src: Source,
    readonly hasFunction: (name: string) => boolean,
    readonly treeSet: Map<string, Tree>,
  ) {}

  // --- token stream ---
  next(): Token {
    const t = this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]!;
    if (this.i < this.tokens.length - 1) this.i++;
    else this.i = this.tokens.length;
    this.lastLine = t.line;
    return t;
  }
  backup(count = 1): void {
    this.i -= count;
  }
  peek(): Token {
    return this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]!;
  }
  nextNonSpace(): Token {
    let t: Token;
    do t = this.next();
    while (t.type === T.Space);
    return t;
  }
  /** Like Go's: consumes spaces, then peeks. */
  peekNonSpace(): Token {
    while (this.peek().type === T.Space) this.next();
    return this.peek();
  }
  expect(type: T, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }
  expectOneOf(a: T, b: T, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== a && t.type !== b) this.unexpected(t, context);
    return t;
  }

  errorf(msg: string, pos?: number): never {
    const at = pos ?? this.tokens[Math.max(0, Math.min(this.i, this.tokens.length) - 1)]?.pos ?? 0;
    const before = this.src.text.slice(0, at);
    const nl = before.lastIndexOf('\n');
    const column = at - (nl + 1) + 1;
    throw new ParseFailure(
      `template: ${this.src.parseName}:${this.lastLine}: ${msg}`,
      this.src.parseName,
      this.lastLine,
      column,
    );
  }
  unexpected(t: Token, context: string): never {
    if (t.type === T.Error) {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at ${this.src.parseName}:${this.actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${tokenString(t)}${extra}`, t.pos);
    }
    this.errorf(`unexpected ${tokenString(t)} in ${context}`, t.pos);
  }

  // --- trees ---
  addTree(tree: Tree): void {
    const existing = this.treeSet.get(tree.name);
    if (!existing || isEmptyTree(existing.root)) {
      this.treeSet.set(tree.name, tree);
      return;
    }
    if (!isEmptyTree(tree.root))
      this.errorf(`template: multiple definition of template ${JSON.stringify(tree.name)}`);
  }

  parseTop(): void {
    const root = this.newList(this.peek().pos);
    while (this.peek().type !== T.EOF) {
      if (this.peek().type === T.LeftDelim) {
        const save = this.i;
        this.next();
        if (this.nextNonSpace().type === T.Define) {
          const sub = new TreeParser(
            'definition',
            this.tokens,
            this.i,
            this.src,
            this.hasFunction,
            this.treeSet,
          );
          sub.lastLine = this.lastLine;
          sub.parseDefinition();
          this.i = sub.i;
          this.lastLine = sub.lastLine;
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (n.k === N.End || n.k === N.Else) this.errorf(`unexpected ${nodeString(n)}`);
      root.nodes.push(n);
    }
    this.addTree({ name: this.name, root, src: this.src });
  }

  parseDefinition(): void {
    const context = 'define clause';
    const nameTok = this.expectOneOf(T.String, T.RawString, context);
    this.name = this.unquote(nameTok);
    this.expect(T.RightDelim, context);
    const [root, end] = this.itemList();
    if (end.k !== N.End) this.errorf(`unexpected ${nodeString(end)} in ${context}`);
    this.addTree({ name: this.name, root, src: this.src });
  }

  newList(pos: number): ListNode {
    return { k: N.List, pos, src: this.src, nodes: [] };
  }

  itemList(): [ListNode, Node] {
    const list = this.newList(this.peekNonSpace().pos);
    while (this.peekNonSpace().type !== T.EOF) {
      const n = this.textOrAction();
      if (n.k === N.End || n.k === N.Else) return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  textOrAction(): Node {
    const t = this.nextNonSpace();
    switch (t.type) {
      case T.Text:
        return { k: N.Text, pos: t.pos, src: this.src, text: t.val };
      case T.LeftDelim: {
        this.actionLine = t.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      case T.Comment:
        return { k: N.Comment, pos: t.pos, src: this.src, text: t.val };
      default:
        this.unexpected(t, 'input');
    }
  }

  action(): Node {
    const t = this.nextNonSpace();
    switch (t.type) {
      case T.Block:
        return this.blockControl();
      case T.Break:
      case T.Continue:
        return this.breakControl(t);
      case T.Else:
        return this.elseControl();
      case T.End: {
        const e = this.expect(T.RightDelim, 'end');
        return { k: N.End, pos: e.pos, src: this.src, line: e.line };
      }
      case T.If:
        return this.branch(N.If, 'if');
      case T.Range:
        return this.branch(N.Range, 'range');
      case T.Template:
        return this.templateControl();
      case T.With:
        return this.branch(N.With, 'with');
    }
    this.backup();
    const tok = this.peek();
    return {
      k: N.Action,
      pos: tok.pos,
      src: this.src,
      line: tok.line,
      pipe: this.pipeline('command', T.RightDelim),
    };
  }

  breakControl(t: Token): Node {
    const word = t.type === T.Break ? 'break' : 'continue';
    const next = this.nextNonSpace();
    if (next.type !== T.RightDelim) this.unexpected(next, `{{${word}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${word}}} outside {{range}}`);
    return { k: t.type === T.Break ? N.Break : N.Continue, pos: t.pos, src: this.src, line: t.line };
  }

  elseControl(): Node {
    const peek = this.peekNonSpace();
    if (peek.type === T.If || peek.type === T.With)
      return { k: N.Else, pos: peek.pos, src: this.src, line: peek.line };
    const t = this.expect(T.RightDelim, 'else');
    return { k: N.Else, pos: t.pos, src: this.src, line: t.line };
  }

  branch(k: N.If | N.Range | N.With, context: string): BranchNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, T.RightDelim);
      if (k === N.Range) this.rangeDepth++;
      let list: ListNode;
      let next: Node;
      try {
        [list, next] = this.itemList();
      } finally {
        if (k === N.Range) this.rangeDepth--;
      }
      let elseList: ListNode | null = null;
      if (next.k === N.Else) {
        const peek = this.peek();
        if (k === N.If && peek.type === T.If) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branch(N.If, 'if'));
        } else if (k === N.With && peek.type === T.With) {
          this.next();
          elseList = this.newList(next.pos);
          elseList.nodes.push(this.branch(N.With, 'with'));
        } else {
          let end: Node;
          [elseList, end] = this.itemList();
          if (end.k !== N.End) this.errorf(`expected end; found ${nodeString(end)}`);
        }
      }
      return { k, pos: pipe.pos, src: this.src, line: pipe.line, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  blockControl(): Node {
    const context = 'block clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    const pipe = this.pipeline(context, T.RightDelim);
    const sub = new TreeParser(name, this.tokens, this.i, this.src, this.hasFunction, this.treeSet);
    sub.lastLine = this.lastLine;
    const [root, end] = sub.itemList();
    if (end.k !== N.End) sub.errorf(`unexpected ${nodeString(end)} in ${context}`);
    sub.addTree({ name, root, src: this.src });
    this.i = sub.i;
    this.lastLine = sub.lastLine;
    return { k: N.Template, pos: t.pos, src: this.src, line: t.line, name, pipe };
  }

  templateControl(): Node {
    const context = 'template clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().type !== T.RightDelim) {
      this.backup();
      pipe = this.pipeline(context, T.RightDelim);
    }
    return { k: N.Template, pos: t.pos, src: this.src, line: t.line, name, pipe };
  }

  templateName(t: Token, context: string): string {
    if (t.type === T.String || t.type === T.RawString) return this.unquote(t);
    this.unexpected(t, context);
  }

  pipeline(context: string, end: T): PipeNode {
    const start = this.peekNonSpace();
    const pipe: PipeNode = {
      k: N.Pipe,
      pos: start.pos,
      src: this.src,
      line: start.line,
      isAssign: false,
      decl: [],
      cmds: [],
    };
    // Declarations or assignments.
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== T.Variable) break;
      const save = this.i;
      this.nextNonSpace();
      const next = this.peekNonSpace();
      if (next.type === T.Assign || next.type === T.Declare) {
        pipe.isAssign = next.type === T.Assign;
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        break;
      }
      if (next.type === T.Char && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(this.newVariable(v.pos, v.val));
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace().type;
          if (p === T.Variable || p === T.RightDelim || p === T.RightParen) continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      this.i = save;
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (t.type) {
        case T.Bool:
        case T.CharConstant:
        case T.Dot:
        case T.Field:
        case T.Identifier:
        case T.Number:
        case T.Nil:
        case T.RawString:
        case T.String:
        case T.Variable:
        case T.LeftParen:
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < pipe.cmds.length; i++) {
      const k = pipe.cmds[i]!.args[0]!.k;
      if (k === N.Bool || k === N.Dot || k === N.Nil || k === N.Number || k === N.String) {
        this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  command(): CommandNode {
    const cmd: CommandNode = { k: N.Command, pos: this.peekNonSpace().pos, src: this.src, args: [] };
    for (;;) {
      this.peekNonSpace();
      // skip spaces
      while (this.peek().type === T.Space) this.next();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === T.Space) continue;
      if (t.type === T.RightDelim || t.type === T.RightParen) this.backup();
      else if (t.type !== T.Pipe) this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  operand(): Node | null {
    const node = this.term();
    if (!node) return null;
    if (this.peek().type === T.Field) {
      const chainPos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().type === T.Field) fields.push(this.next().val.slice(1));
      switch (node.k) {
        case N.Field:
          return { k: N.Field, pos: chainPos, src: this.src, ident: [...node.ident, ...fields] };
        case N.Variable:
          return { k: N.Variable, pos: chainPos, src: this.src, ident: [...node.ident, ...fields] };
        case N.Bool:
        case N.String:
        case N.Number:
        case N.Nil:
        case N.Dot:
          this.errorf(`unexpected . after term ${JSON.stringify(nodeString(node))}`);
          break;
        default:
          return { k: N.Chain, pos: chainPos, src: this.src, node, field: fields };
      }
    }
    return node;
  }

  term(): Node | null {
    const t = this.nextNonSpace();
    switch (t.type) {
      case T.Identifier:
        if (!this.hasFunction(t.val)) this.errorf(`function ${JSON.stringify(t.val)} not defined`);
        return { k: N.Identifier, pos: t.pos, src: this.src, ident: t.val };
      case T.Dot:
        return { k: N.Dot, pos: t.pos, src: this.src };
      case T.Nil:
        return { k: N.Nil, pos: t.pos, src: this.src };
      case T.Variable:
        return this.useVar(t);
      case T.Field:
        return { k: N.Field, pos: t.pos, src: this.src, ident: [t.val.slice(1)] };
      case T.Bool:
        return { k: N.Bool, pos: t.pos, src: this.src, val: t.val === 'true' };
      case T.CharConstant:
      case T.Number:
        return this.newNumber(t);
      case T.LeftParen:
        return this.pipeline('parenthesized pipeline', T.RightParen);
      case T.String:
      case T.RawString:
        return { k: N.String, pos: t.pos, src: this.src, quoted: t.val, text: this.unquote(t) };
    }
    this.backup();
    return null;
  }

  newVariable(pos: number, name: string): VariableNode {
    return { k: N.Variable, pos, src: this.src, ident: name.split('.') };
  }

  useVar(t: Token): VariableNode {
    const v = this.newVariable(t.pos, t.val);
    const name = v.ident[0]!;
    if (!this.vars.includes(name)) this.errorf(`undefined variable ${JSON.stringify(name)}`);
    return v;
  }

  unquote(t: Token): string {
    const r = unquoteGo(t.val);
    if (r === undefined) this.errorf('invalid syntax');
    return r;
  }

  newNumber(t: Token): NumberNode {
    const n: NumberNode = {
      k: N.Number,
      pos: t.pos,
      src: this.src,
      text: t.val,
      isInt: false,
      isFloat: false,
      intVal: 0n,
      floatVal: 0,
      constant: undefined,
      constantError: undefined,
    };
    const text = t.val;
    if (t.type === T.CharConstant) {
      const s = unquoteGo(text);
      const cp = s === undefined ? undefined : s.codePointAt(0);
      if (s === undefined || cp === undefined || String.fromCodePoint(cp) !== s)
        this.errorf(`malformed character constant: ${text}`);
      n.isInt = true;
      n.isFloat = true;
      n.intVal = BigInt(cp);
      n.floatVal = cp;
      n.constant = n.intVal;
      return n;
    }
    if (text.endsWith('i')) this.errorf(`complex numbers are not supported: ${JSON.stringify(text)}`);
    const iv = parseGoInt(text);
    if (iv !== undefined && iv >= -(2n ** 63n) && iv < 2n ** 63n) {
      n.isInt = true;
      n.intVal = iv;
      n.isFloat = true;
      n.floatVal = Number(iv);
    } else if (iv !== undefined) {
      if (iv >= 0n && iv < 2n ** 64n) {
        n.isFloat = true;
        n.floatVal = Number(iv);
      } else this.errorf(`integer overflow: ${JSON.stringify(text)}`);
    } else {
      const f = parseGoFloat(text);
      if (f === undefined) this.errorf(`illegal number syntax: ${JSON.stringify(text)}`);
      if (!/[.eEpP]/.test(text)) this.errorf(`integer overflow: ${JSON.stringify(text)}`);
      n.isFloat = true;
      n.floatVal = f;
      if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
        n.isInt = true;
        n.intVal = BigInt(f);
      }
    }
    // text/template's idealConstant.
    const isHexInt = /^[+-]?0[xX][0-9a-fA-F_]*$/.test(text);
    if (n.isFloat && !isHexInt && /[.eEpP]/.test(text)) n.constant = n.floatVal;
    else if (n.isInt) n.constant = n.intVal;
    else n.constantError = `${text} overflows int`;
    return n;
  }
}

/** Go's strconv.ParseInt(s, 0, ...) to a bigint, or undefined when it is not an integer literal. */
export function parseGoInt(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let base = 10;
  let body = s;
  let prefixed = false;
  if (/^0[xX]/.test(s)) {
    base = 16;
    body = s.slice(2);
    prefixed = true;
  } else if (/^0[oO]/.test(s)) {
    base = 8;
    body = s.slice(2);
    prefixed = true;
  } else if (/^0[bB]/.test(s)) {
    base = 2;
    body = s.slice(2);
    prefixed = true;
  } else if (/^0[0-9_]/.test(s)) {
    base = 8;
    body = s.slice(1);
    prefixed = true;
  }
  if (body.includes('_')) {
    if (!prefixed && !/^[0-9]+(_[0-9]+)*$/.test(body)) return undefined;
    if (/__|_$/.test(body) || (!prefixed && body.startsWith('_'))) return undefined;
    body = body.replace(/_/g, '');
  }
  if (body === '') return base === 8 && !/^0[oO]/.test(s) ? 0n : undefined;
  const valid = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[
    base as 2 | 8 | 10 | 16
  ];
  if (!valid.test(body)) return undefined;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const v = BigInt(prefix + body);
  return neg ? -v : v;
}

function parseGoFloat(text: string): number | undefined {
  const s = text.replace(/_/g, '');
  if (/^[+-]?0[xX]/.test(s)) {
    const m = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(s);
    if (!m) return undefined;
    const int = m[2] ?? '';
    const frac = m[3] ?? '';
    if (!int && !frac) return undefined;
    const mant = Number.parseInt(int + frac || '0', 16) / 16 ** frac.length;
    const v = mant * 2 ** Number(m[4]);
    return m[1] === '-' ? -v : v;
  }
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(s)) return undefined;
  return Number(s);
}

/** Go's strconv.Unquote for "...", `...` and '...' literals; undefined on bad syntax. */
export function unquoteGo(q: string): string | undefined {
  if (q.length < 2) return undefined;
  const quote = q[0];
  if (quote !== q[q.length - 1]) return undefined;
  const body = q.slice(1, -1);
  if (quote === '`') return body.includes('`') ? undefined : body.replace(/\r/g, '');
  if (quote !== '"' && quote !== "'") return undefined;
  if (!body.includes('\\')) {
    if (quote === "'" && [...body].length !== 1) return undefined;
    if (body.includes('\n')) return undefined;
    if (quote === '"' && body.includes('"')) return undefined;
    return body;
  }
  const bytes: number[] = [];
  const enc = new TextEncoder();
  const pushStr = (s: string): void => {
    for (const b of enc.encode(s)) bytes.push(b);
  };
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      if (ch === quote || ch === '\n') return undefined;
      pushStr(ch);
      i += ch.length;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        bytes.push(7);
        break;
      case 'b':
        bytes.push(8);
        break;
      case 'f':
        bytes.push(12);
        break;
      case 'n':
        bytes.push(10);
        break;
      case 'r':
        bytes.push(13);
        break;
      case 't':
        bytes.push(9);
        break;
      case 'v':
        bytes.push(11);
        break;
      case '\\':
        bytes.push(92);
        break;
      case '"':
      case "'":
        if (e !== quote) return undefined;
        bytes.push(e.charCodeAt(0));
        break;
      case 'x': {
        const h = body.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) return undefined;
        bytes.push(Number.parseInt(h, 16));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const len = e === 'u' ? 4 : 8;
        const h = body.slice(i, i + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) return undefined;
        const cp = Number.parseInt(h, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
        pushStr(String.fromCodePoint(cp));
        i += len;
        break;
      }
      default: {
        if (e !== undefined && e >= '0' && e <= '7') {
          const o = body.slice(i - 1, i + 2);
          if (!/^[0-7]{3}$/.test(o)) return undefined;
          const v = Number.parseInt(o, 8);
          if (v > 255) return undefined;
          bytes.push(v);
          i += 2;
          break;
        }
        return undefined;
      }
    }
  }
  const out = new TextDecoder().decode(new Uint8Array(bytes));
  if (quote === "'" && [...out].length !== 1) return undefined;
  return out;
}
