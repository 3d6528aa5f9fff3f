// The text/template executor: walks a tree with data as dot, following Go's text/template/exec.go.
import {
  type BranchNode,
  type ChainNode,
  type CommandNode,
  type FieldNode,
  type IdentifierNode,
  N,
  type Node,
  type PipeNode,
  type TemplateNode,
  type Tree,
  type VariableNode,
  nodeString,
} from './ast.ts';
import { AND_OR, BUILTINS } from './builtins.ts';
import { formatValue } from './fmt.ts';
import {
  type GoParamType,
  type TemplateFunction,
  assignable,
  canBeNil,
  goTypeDisplay,
  signatureOf,
  withSignature,
} from './signature.ts';
import { GoInt64, intValue, isGoMap, isTrue, mapGet, sortedKeys, typeName, utf8Length } from './value.ts';

/** An execution failure with Go's message; the template set turns it into a TemplateError. */
export class ExecFailure extends Error {
  constructor(
    message: string,
    readonly file: string | undefined,
    readonly line: number | undefined,
    readonly column: number | undefined,
  ) {
    super(message);
  }
}

export interface ExecEnv {
  trees: ReadonlyMap<string, Tree>;
  funcs: ReadonlyMap<string, TemplateFunction>;
  /** Per-execution functions that win over `funcs`. */
  extraFuncs: Readonly<Record<string, TemplateFunction>> | undefined;
  missingKey: 'default' | 'zero' | 'error';
  maxDepth: number;
}

function lookupFunc(env: ExecEnv, name: string): TemplateFunction | undefined {
  const extra = env.extraFuncs;
  if (extra !== undefined && Object.hasOwn(extra, name)) return extra[name];
  return env.funcs.get(name) ?? BUILTINS.get(name);
}

const NO_ARGS: Node[] = [];
const NOFINAL: unique symbol = Symbol('missing');
type Final = unknown;

const BREAK = { signal: 'break' };
const CONTINUE = { signal: 'continue' };

/** Go's ErrorContext: "name:line:col" of a node, col counted in bytes as Go does. */
export function errorLocation(n: Node): { file: string; line: number; column: number } {
  const text = n.src.text.slice(0, n.pos);
  const nl = text.lastIndexOf('\n');
  let line = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  const column = nl < 0 ? utf8Length(text) : utf8Length(text.slice(nl + 1));
  return { file: n.src.parseName, line, column };
}

export class ExecState {
  out = '';
  varNames: string[] = [];
  varValues: unknown[] = [];
  varIface: boolean[] = [];
  node: Node | null = null;
  /** Whether dot came from an interface slot (range element), for Go's type names in messages. */
  dotIface = false;
  depth = 0;

  constructor(
    readonly env: ExecEnv,
    public tmplName: string,
  ) {}

  at(n: Node): void {
    this.node = n;
  }

  errorf(msg: string): never {
    const name = this.tmplName;
    if (!this.node) throw new ExecFailure(`template: ${name}: ${msg}`, name, undefined, undefined);
    const loc = errorLocation(this.node);
    const context = nodeString(this.node);
    throw new ExecFailure(
      `template: ${loc.file}:${loc.line}:${loc.column}: executing ${JSON.stringify(name)} at <${context}>: ${msg}`,
      loc.file,
      loc.line,
      loc.column,
    );
  }

  // --- variables ---
  push(name: string, value: unknown, iface: boolean): void {
    this.varNames.push(name);
    this.varValues.push(value);
    this.varIface.push(iface);
  }
  mark(): number {
    return this.varNames.length;
  }
  pop(mark: number): void {
    this.varNames.length = mark;
    this.varValues.length = mark;
    this.varIface.length = mark;
  }
  setVar(name: string, value: unknown, iface: boolean): void {
    for (let i = this.varNames.length - 1; i >= 0; i--) {
      if (this.varNames[i] === name) {
        this.varValues[i] = value;
        this.varIface[i] = iface;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
  setTopVar(n: number, value: unknown, iface: boolean): void {
    const i = this.varNames.length - n;
    this.varValues[i] = value;
    this.varIface[i] = iface;
  }
  varIndex(name: string): number {
    for (let i = this.varNames.length - 1; i >= 0; i--) if (this.varNames[i] === name) return i;
    this.errorf(`undefined variable: ${name}`);
  }

  // --- walking ---
  walk(dot: unknown, node: Node): void {
    this.node = node;
    switch (node.k) {
      case N.Action: {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case N.Text:
        this.out += node.text;
        return;
      case N.List: {
        const nodes = node.nodes;
        for (let i = 0; i < nodes.length; i++) this.walk(dot, nodes[i]!);
        return;
      }
      case N.If:
      case N.With:
        this.walkIfOrWith(dot, node);
        return;
      case N.Range:
        this.walkRange(dot, node);
        return;
      case N.Template:
        this.walkTemplate(dot, node);
        return;
      case N.Break:
        throw BREAK;
      case N.Continue:
        throw CONTINUE;
      case N.Comment:
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  walkIfOrWith(dot: unknown, node: BranchNode): void {
    const mark = this.mark();
    const val = this.evalPipeline(dot, node.pipe);
    if (typeof val === 'function') this.errorf(`if/with can't use ${formatValue(val)}`);
    if (isTrue(val)) {
      if (node.k === N.With) {
        const saved = this.dotIface;
        this.dotIface = false;
        this.walk(val, node.list);
        this.dotIface = saved;
      } else this.walk(dot, node.list);
    } else if (node.elseList) this.walk(dot, node.elseList);
    this.pop(mark);
  }

  walkRange(dot: unknown, r: BranchNode): void {
    this.at(r);
    const outerMark = this.mark();
    const val = this.evalPipeline(dot, r.pipe);
    const mark = this.mark();
    const decl = r.pipe.decl;
    const savedIface = this.dotIface;
    const oneIteration = (index: unknown, elem: unknown, elemIface: boolean): boolean => {
      if (decl.length > 0) {
        if (r.pipe.isAssign) {
          if (decl.length > 1) this.setVar(decl[0]!.ident[0]!, index, false);
          else this.setVar(decl[0]!.ident[0]!, elem, elemIface);
        } else this.setTopVar(1, elem, elemIface);
      }
      if (decl.length > 1) {
        if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem, elemIface);
        else this.setTopVar(2, index, false);
      }
      this.dotIface = elemIface;
      try {
        this.walk(elem, r.list);
      } catch (e) {
        if (e === CONTINUE) return true;
        if (e === BREAK) return false;
        throw e;
      } finally {
        this.pop(mark);
        this.dotIface = savedIface;
      }
      return true;
    };
    let ran = false;
    if (Array.isArray(val) || val instanceof Uint8Array) {
      const list = val as ArrayLike<unknown>;
      if (list.length > 0) {
        ran = true;
        const isBytes = val instanceof Uint8Array;
        for (let i = 0; i < list.length; i++) {
          const e = list[i];
          const elem = isBytes ? BigInt(e as number) : e === undefined ? null : e;
          if (!oneIteration(BigInt(i), elem, !isBytes)) break;
        }
      }
    } else if (typeof val === 'bigint' || val instanceof GoInt64) {
      // Go 1.24's range over an integer: the values have its type (int or int64). Helm 3.17 (Go 1.23)
      // cannot range over integers at all.
      if (decl.length > 1) this.errorf(`can't use ${val} to iterate over more than one variable`);
      const n = intValue(val)!;
      const wrap = val instanceof GoInt64;
      if (n > 0n) {
        ran = true;
        for (let i = 0n; i < n; i++) {
          const v = wrap ? new GoInt64(i) : i;
          if (!oneIteration(v, v, false)) break;
        }
      }
    } else if (isGoMap(val)) {
      const keys = sortedKeys(val);
      if (keys.length > 0) {
        ran = true;
        for (const k of keys) {
          if (!oneIteration(k, mapGet(val, k) ?? null, true)) break;
        }
      }
    } else if (val !== undefined && val !== null) {
      this.errorf(`range can't iterate over ${formatValue(val)}`);
    }
    if (!ran && r.elseList) this.walk(dot, r.elseList);
    this.pop(outerMark);
  }

  walkTemplate(dot: unknown, t: TemplateNode): void {
    this.at(t);
    const tree = this.env.trees.get(t.name);
    if (!tree) this.errorf(`template ${JSON.stringify(t.name)} not defined`);
    if (this.depth >= this.env.maxDepth)
      this.errorf(`exceeded maximum template depth (${this.env.maxDepth})`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined;
    const saved = {
      names: this.varNames,
      values: this.varValues,
      iface: this.varIface,
      tmpl: this.tmplName,
      dotIface: this.dotIface,
    };
    this.varNames = ['$'];
    this.varValues = [newDot];
    this.varIface = [false];
    this.tmplName = t.name;
    this.dotIface = false;
    this.depth++;
    try {
      this.walk(newDot, tree.root);
    } finally {
      this.depth--;
      this.varNames = saved.names;
      this.varValues = saved.values;
      this.varIface = saved.iface;
      this.tmplName = saved.tmpl;
      this.dotIface = saved.dotIface;
    }
  }

  printValue(n: Node, v: unknown): void {
    this.at(n);
    if (v === undefined || v === null) {
      this.out += '<no value>';
      return;
    }
    switch (typeof v) {
      case 'string':
        this.out += v;
        return;
      case 'function':
        this.errorf(`can't print ${nodeString(n)} of type ${typeName(v)}`);
        break;
      default:
        this.out += formatValue(v);
    }
  }

  // --- evaluation ---
  evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.at(pipe);
    let value: unknown = NOFINAL;
    const cmds = pipe.cmds;
    for (let i = 0; i < cmds.length; i++) {
      value = this.evalCommand(dot, cmds[i]!, value);
      // An interface value is unwrapped: a nil interface becomes "no value".
      if (value === null) value = undefined;
    }
    const decl = pipe.decl;
    for (let i = 0; i < decl.length; i++) {
      const name = decl[i]!.ident[0]!;
      if (pipe.isAssign) this.setVar(name, value, false);
      else this.push(name, value, false);
    }
    return value;
  }

  notAFunction(args: Node[], final: Final): void {
    if (args.length > 1 || final !== NOFINAL)
      this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.k) {
      case N.Field:
        return this.evalFieldNode(dot, first, cmd.args, final);
      case N.Chain:
        return this.evalChainNode(dot, first, cmd.args, final);
      case N.Identifier:
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case N.Pipe:
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case N.Variable:
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.k) {
      case N.Bool:
        return first.val;
      case N.Dot:
        return dot;
      case N.Nil:
        this.errorf('nil is not a command');
        break;
      case N.Number:
        if (first.constantError) this.errorf(first.constantError);
        return first.constant;
      case N.String:
        return first.text;
    }
    this.errorf(`can't evaluate command ${JSON.stringify(nodeString(first))}`);
  }

  evalFieldNode(dot: unknown, field: FieldNode, args: Node[] | null, final: Final): unknown {
    this.at(field);
    return this.evalFieldChain(dot, dot, this.dotIface, field, field.ident, args, final);
  }

  evalChainNode(dot: unknown, chain: ChainNode, args: Node[] | null, final: Final): unknown {
    this.at(chain);
    if (chain.node.k === N.Nil) this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, 'value', chain.node);
    return this.evalFieldChain(dot, pipe, false, chain, chain.field, args, final);
  }

  evalVariableNode(dot: unknown, v: VariableNode, args: Node[] | null, final: Final): unknown {
    this.at(v);
    const i = this.varIndex(v.ident[0]!);
    const value = this.varValues[i];
    if (v.ident.length === 1) {
      if (args) this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, this.varIface[i]!, v, v.ident, args, final, 1);
  }

  /** Set while evaluating call's function argument, so a function-valued field is not invoked. */
  private suppressInvoke = false;

  /** Receivers after a map lookup are interface values; `ifaceAfter` tracks that through the chain. */
  private chainIface = false;

  evalFieldChain(
    dot: unknown,
    receiver: unknown,
    recvIface: boolean,
    node: Node,
    ident: string[],
    args: Node[] | null,
    final: Final,
    from = 0,
  ): unknown {
    const n = ident.length;
    for (let i = from; i < n - 1; i++) {
      receiver = this.evalField(dot, ident[i]!, node, null, NOFINAL, receiver, recvIface);
      recvIface = this.chainIface;
    }
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver, recvIface);
  }

  evalField(
    dot: unknown,
    name: string,
    node: Node,
    args: Node[] | null,
    final: Final,
    receiver: unknown,
    recvIface: boolean,
  ): unknown {
    this.chainIface = true;
    if (receiver === undefined) {
      if (this.env.missingKey === 'error') this.errorf(`nil data; no entry for key ${JSON.stringify(name)}`);
      return undefined;
    }
    if (receiver === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = (args !== null && args.length > 1) || final !== NOFINAL;
    if (typeof receiver === 'object') {
      if (isGoMap(receiver)) {
        // Like Go, a method of a named map type (a Map subclass here) wins over a key.
        if (receiver instanceof Map) {
          const method = classMethod(receiver, name);
          if (method) return this.evalMethod(dot, method, receiver, node, name, args, final);
        }
        const v = mapGet(receiver, name);
        if (typeof v === 'function')
          return this.evalMethod(dot, v as TemplateFunction, receiver, node, name, args, final);
        if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
        if (v === undefined) {
          switch (this.env.missingKey) {
            case 'zero':
              return null;
            case 'error':
              this.errorf(`map has no entry for key ${JSON.stringify(name)}`);
              break;
            default:
              return undefined;
          }
        }
        return v;
      }
      // Arrays may carry Go methods as own function properties (Helm's VersionSet.Has on .Capabilities.APIVersions).
      const arrayMethod =
        Array.isArray(receiver) &&
        Object.hasOwn(receiver, name) &&
        typeof (receiver as unknown as Record<string, unknown>)[name] === 'function';
      if (
        (arrayMethod || !Array.isArray(receiver)) &&
        !(receiver instanceof Uint8Array) &&
        name in receiver
      ) {
        const v = (receiver as Record<string, unknown>)[name];
        if (typeof v === 'function')
          return this.evalMethod(dot, v as TemplateFunction, receiver, node, name, args, final);
        if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
        this.chainIface = false;
        return v === undefined ? null : v;
      }
    }
    this.errorf(`can't evaluate field ${name} in type ${recvIface ? 'interface {}' : typeName(receiver)}`);
  }

  evalMethod(
    dot: unknown,
    fn: TemplateFunction,
    receiver: unknown,
    node: Node,
    name: string,
    args: Node[] | null,
    final: Final,
  ): unknown {
    if (this.suppressInvoke && (args === null || args.length <= 1) && final === NOFINAL) {
      this.suppressInvoke = false;
      return fn.bind(receiver);
    }
    const v = this.evalCall(dot, fn, receiver, false, node, name, args, final);
    this.chainIface = false;
    return v;
  }

  evalFunction(dot: unknown, node: IdentifierNode, cmd: Node, args: Node[] | null, final: Final): unknown {
    this.at(node);
    const name = node.ident;
    const env = this.env;
    let fn: TemplateFunction | undefined;
    // Cache the resolved function on the node while the set's function map is unchanged.
    if (env.extraFuncs === undefined && node.cacheMap === env.funcs) fn = node.cacheFn;
    else {
      fn = lookupFunc(env, name);
      if (env.extraFuncs === undefined) {
        node.cacheMap = env.funcs;
        node.cacheFn = fn;
      }
    }
    if (!fn) this.errorf(`${JSON.stringify(name)} is not a defined function`);
    return this.evalCall(dot, fn, undefined, BUILTINS.get(name) === fn, cmd, name, args, final);
  }

  evalCall(
    dot: unknown,
    fn: TemplateFunction,
    receiver: unknown,
    isBuiltin: boolean,
    node: Node,
    name: string,
    allArgs: Node[] | null,
    final: Final,
  ): unknown {
    // allArgs[0] is the function's own node; arguments start at 1 (no slice, to spare the GC).
    const all = allArgs ?? NO_ARGS;
    const argc = all.length > 0 ? all.length - 1 : 0;
    const sig = signatureOf(fn);
    const numParams = sig.params.length + (sig.variadic ? 1 : 0);
    let numIn = argc;
    if (final !== NOFINAL) numIn++;
    let numFixed = argc;
    if (sig.variadic) {
      numFixed = sig.params.length;
      if (numIn < numFixed)
        this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${argc}`);
    } else if (numIn !== numParams) {
      this.errorf(`wrong number of args for ${name}: want ${numParams} got ${numIn}`);
    }
    if (isBuiltin && name === 'call' && argc > 0) {
      const calleeName = nodeString(all[1]!);
      const callee = (...a: unknown[]): unknown => {
        const f = a[0];
        if (f === null || f === undefined) throw new Error('call of nil');
        if (typeof f !== 'function') throw new Error(`non-function ${calleeName} of type ${typeName(f)}`);
        return (f as TemplateFunction)(...a.slice(1).map((x) => (x === undefined ? null : x)));
      };
      fn = withSignature(callee, ['value'], 'value');
    }
    if (isBuiltin && AND_OR.has(name)) {
      const isOr = name === 'or';
      let v: unknown;
      for (let k = 1; k <= argc; k++) {
        v = this.evalArg(dot, 'value', all[k]!);
        if (v === null) v = undefined;
        if (isTrue(v) === isOr) return v;
      }
      if (final !== NOFINAL) v = final;
      return v;
    }
    const argv: unknown[] = new Array(numIn);
    let i = 0;
    if (isBuiltin && name === 'call' && argc > 0) {
      // call's first argument is a function value: fetch it without invoking it.
      this.suppressInvoke = true;
      try {
        argv[0] = this.evalArg(dot, 'value', all[1]!);
      } finally {
        this.suppressInvoke = false;
      }
      i = 1;
    }
    for (; i < numFixed && i < argc; i++) argv[i] = this.evalArg(dot, sig.params[i]!, all[i + 1]!);
    if (sig.variadic) for (; i < argc; i++) argv[i] = this.evalArg(dot, sig.variadic, all[i + 1]!);
    if (final !== NOFINAL) {
      let t: GoParamType;
      if (sig.variadic) t = numIn - 1 < numFixed ? sig.params[numIn - 1]! : sig.variadic;
      else t = sig.params[numParams - 1]!;
      argv[i] = this.validateType(final, t);
    }
    let result: unknown;
    try {
      result = fn.apply(receiver, argv);
    } catch (e) {
      if (isStackOverflow(e)) throw e;
      this.at(node);
      const msg = e instanceof Error ? e.message : String(e);
      this.errorf(`error calling ${name}: ${msg}`);
    }
    return result === undefined ? null : result;
  }

  evalArg(dot: unknown, typ: GoParamType, n: Node): unknown {
    this.at(n);
    switch (n.k) {
      case N.Dot:
        return this.validateType(dot, typ);
      case N.Nil:
        if (canBeNil(typ)) return typ === 'value' ? undefined : null;
        this.errorf(`cannot assign nil to ${goTypeDisplay(typ)}`);
        break;
      case N.Field:
        return this.validateType(this.evalFieldNode(dot, n, null, NOFINAL), typ);
      case N.Variable:
        return this.validateType(this.evalVariableNode(dot, n, null, NOFINAL), typ);
      case N.Pipe:
        return this.validateType(this.evalPipeline(dot, n), typ);
      case N.Identifier:
        return this.validateType(this.evalFunction(dot, n, n, null, NOFINAL), typ);
      case N.Chain:
        return this.validateType(this.evalChainNode(dot, n, null, NOFINAL), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.k === N.Bool) return n.val;
        this.errorf(`expected bool; found ${nodeString(n)}`);
        break;
      case 'float64':
        if (n.k === N.Number && n.isFloat) return n.floatVal;
        this.errorf(`expected float; found ${nodeString(n)}`);
        break;
      case 'int':
        if (n.k === N.Number && n.isInt) return n.intVal;
        this.errorf(`expected integer; found ${nodeString(n)}`);
        break;
      case 'int64':
        if (n.k === N.Number && n.isInt) return new GoInt64(n.intVal);
        this.errorf(`expected integer; found ${nodeString(n)}`);
        break;
      case 'string':
        if (n.k === N.String) return n.text;
        this.errorf(`expected string; found ${nodeString(n)}`);
        break;
      case 'any':
      case 'value':
        switch (n.k) {
          case N.Bool:
            return n.val;
          case N.Number:
            if (n.constantError) this.errorf(n.constantError);
            return n.constant;
          case N.String:
            return n.text;
        }
        break;
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${goTypeDisplay(typ)}`);
  }

  /** Go's validateType: undefined is an invalid value, null a nil interface. */
  validateType(value: unknown, typ: GoParamType): unknown {
    if (value === undefined) {
      if (typ === 'value') return undefined;
      if (canBeNil(typ)) return null;
      this.errorf(`invalid value; expected ${goTypeDisplay(typ)}`);
    }
    if (typ === 'any' || typ === 'value') return value;
    if (value === null) this.errorf(`wrong type for value; expected ${goTypeDisplay(typ)}; got interface {}`);
    if (!assignable(value, typ))
      this.errorf(`wrong type for value; expected ${goTypeDisplay(typ)}; got ${typeName(value)}`);
    return value;
  }
}

/** A method defined by a class below Map (not Map's own get/set/keys…). */
function classMethod(obj: Map<unknown, unknown>, name: string): TemplateFunction | undefined {
  let proto: unknown = Object.getPrototypeOf(obj);
  while (proto && proto !== Map.prototype && proto !== Object.prototype) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (d) return typeof d.value === 'function' ? (d.value as TemplateFunction) : undefined;
    proto = Object.getPrototypeOf(proto);
  }
  return undefined;
}

let activeExecutions = 0;

/** No regex here: near the stack limit even compiling one overflows again. */
function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.includes('call stack');
}

/** Executes one tree. Throws ExecFailure. */
export function executeTree(env: ExecEnv, tree: Tree, data: unknown): string {
  const state = new ExecState(env, tree.name);
  const dot = data === null ? undefined : data;
  state.push('$', dot, false);
  activeExecutions++;
  try {
    state.walk(dot, tree.root);
  } catch (e) {
    // A JS stack overflow unwinds to the outermost execution, which reports it once.
    if (isStackOverflow(e) && activeExecutions === 1) {
      state.node = null;
      state.errorf('exceeded maximum template depth (the JavaScript stack is exhausted)');
    }
    throw e;
  } finally {
    activeExecutions--;
  }
  return state.out;
}
