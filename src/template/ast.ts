// Parse-tree nodes of a template, mirroring Go's text/template/parse nodes and their String() forms.

export enum N {
  Text,
  Action,
  If,
  Range,
  With,
  Template,
  List,
  Pipe,
  Command,
  Field,
  Variable,
  Chain,
  Identifier,
  Dot,
  Nil,
  Bool,
  Number,
  String,
  Break,
  Continue,
  End,
  Else,
  Comment,
}

/** The text a node was parsed from: Go's Tree.ParseName and Tree.text. */
export interface Source {
  parseName: string;
  text: string;
}

interface Base {
  pos: number;
  src: Source;
}

export interface TextNode extends Base {
  k: N.Text;
  text: string;
}
export interface CommentNode extends Base {
  k: N.Comment;
  text: string;
}
export interface ActionNode extends Base {
  k: N.Action;
  line: number;
  pipe: PipeNode;
}
export interface BranchNode extends Base {
  k: N.If | N.Range | N.With;
  line: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}
export interface TemplateNode extends Base {
  k: N.Template;
  line: number;
  name: string;
  pipe: PipeNode | null;
}
export interface ListNode extends Base {
  k: N.List;
  nodes: Node[];
}
export interface PipeNode extends Base {
  k: N.Pipe;
  line: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}
export interface CommandNode extends Base {
  k: N.Command;
  args: Node[];
}
export interface FieldNode extends Base {
  k: N.Field;
  ident: string[];
}
export interface VariableNode extends Base {
  k: N.Variable;
  ident: string[];
}
export interface ChainNode extends Base {
  k: N.Chain;
  node: Node;
  field: string[];
}
export interface IdentifierNode extends Base {
  k: N.Identifier;
  ident: string;
  /** Executor cache: the function resolved against `cacheMap` (a set's function map). */
  cacheMap?: unknown;
  cacheFn?: ((...args: unknown[]) => unknown) | undefined;
}
export interface DotNode extends Base {
  k: N.Dot;
}
export interface NilNode extends Base {
  k: N.Nil;
}
export interface BoolNode extends Base {
  k: N.Bool;
  val: boolean;
}
export interface NumberNode extends Base {
  k: N.Number;
  text: string;
  isInt: boolean;
  isFloat: boolean;
  intVal: bigint;
  floatVal: number;
  /** The constant as text/template's idealConstant types it: bigint (int) or number (float64). */
  constant: bigint | number | undefined;
  constantError: string | undefined;
}
export interface StringNode extends Base {
  k: N.String;
  quoted: string;
  text: string;
}
export interface BreakNode extends Base {
  k: N.Break | N.Continue;
  line: number;
}
export interface EndNode extends Base {
  k: N.End | N.Else;
  line: number;
}

export type Node =
  | TextNode
  | CommentNode
  | ActionNode
  | BranchNode
  | TemplateNode
  | ListNode
  | PipeNode
  | CommandNode
  | FieldNode
  | VariableNode
  | ChainNode
  | IdentifierNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode
  | BreakNode
  | EndNode;

/** A parsed template: Go's parse.Tree. */
export interface Tree {
  name: string;
  root: ListNode;
  src: Source;
}

/** Go's Node.String(), used for the `at <...>` error context. */
export function nodeString(n: Node): string {
  switch (n.k) {
    case N.Text:
      return n.text;
    case N.Comment:
      return `{{${n.text}}}`;
    case N.Action:
      return `{{${nodeString(n.pipe)}}}`;
    case N.If:
    case N.Range:
    case N.With: {
      const name = n.k === N.If ? 'if' : n.k === N.Range ? 'range' : 'with';
      let s = `{{${name} ${nodeString(n.pipe)}}}${nodeString(n.list)}`;
      if (n.elseList) s += `{{else}}${nodeString(n.elseList)}`;
      return s + '{{end}}';
    }
    case N.Template:
      return n.pipe
        ? `{{template ${JSON.stringify(n.name)} ${nodeString(n.pipe)}}}`
        : `{{template ${JSON.stringify(n.name)}}}`;
    case N.List:
      return n.nodes.map(nodeString).join('');
    case N.Pipe: {
      let s = '';
      if (n.decl.length > 0) s = n.decl.map(nodeString).join(', ') + ' := ';
      return s + n.cmds.map(nodeString).join(' | ');
    }
    case N.Command:
      return n.args.map((a) => (a.k === N.Pipe ? `(${nodeString(a)})` : nodeString(a))).join(' ');
    case N.Field:
      return '.' + n.ident.join('.');
    case N.Variable:
      return n.ident.join('.');
    case N.Chain: {
      const inner = n.node.k === N.Pipe ? `(${nodeString(n.node)})` : nodeString(n.node);
      return inner + '.' + n.field.join('.');
    }
    case N.Identifier:
      return n.ident;
    case N.Dot:
      return '.';
    case N.Nil:
      return 'nil';
    case N.Bool:
      return n.val ? 'true' : 'false';
    case N.Number:
      return n.text;
    case N.String:
      return n.quoted;
    case N.Break:
      return '{{break}}';
    case N.Continue:
      return '{{continue}}';
    case N.End:
      return '{{end}}';
    case N.Else:
      return '{{else}}';
  }
}

/** Go's parse.IsEmptyTree: only whitespace text and comments. */
export function isEmptyTree(n: Node): boolean {
  switch (n.k) {
    case N.List:
      return n.nodes.every(isEmptyTree);
    case N.Text:
      return n.text.trim().length === 0 || /^[ \t\r\n]*$/.test(n.text);
    case N.Comment:
      return true;
    default:
      return false;
  }
}
