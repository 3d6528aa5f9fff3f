// TemplateSet: a set of named templates sharing functions, like Go's *template.Template and its associates.
import { InputError } from '../core/index.ts';
import { type Tree, isEmptyTree } from './ast.ts';
import { BUILTINS } from './builtins.ts';
import { ExecFailure, executeTree } from './exec.ts';
import { ParseFailure, parseTemplates } from './parser.ts';
import type { TemplateFunction } from './signature.ts';

const ASCII_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type FuncMap = Record<string, TemplateFunction>;

export interface ParseOptions {
  funcs?: FuncMap;
  leftDelim?: string;
  rightDelim?: string;
}

export interface ExecuteOptions {
  missingKey?: 'default' | 'zero' | 'error';
  funcs?: FuncMap;
  /** Max nested {{template}} calls; Go's is 100000. */
  maxDepth?: number;
}

/** A template parse or execution error. Its message is Go's, e.g. `template: x.yaml:3:7: executing ...`. */
export class TemplateError extends InputError {
  constructor(message: string, location: { file?: string; line?: number; column?: number }) {
    const loc: { file?: string; line?: number; column?: number } = {};
    if (location.file !== undefined) loc.file = location.file;
    if (location.line !== undefined) loc.line = location.line;
    if (location.column !== undefined) loc.column = location.column;
    super(message, { location: loc });
  }
}

const GO_MAX_EXEC_DEPTH = 100000;

/** A set of named templates like Go's *template.Template with its associated templates. */
export class TemplateSet {
  private trees: Map<string, Tree>;
  private funcs: Map<string, TemplateFunction>;
  /** Clones share maps until one side writes (copy-on-write keeps clone() cheap for Helm's tpl). */
  private ownsTrees = true;
  /** The name Go's errors give the set ("no template X associated with template NAME"). */
  readonly name: string;

  constructor(options: { funcs?: FuncMap; name?: string } = {}) {
    this.trees = new Map();
    this.funcs = new Map();
    this.name = options.name ?? 'gotpl';
    if (options.funcs) this.addFuncs(options.funcs);
  }

  /**
   * Parses `text` as template `name`, adding every {{define}} in it. A later non-empty definition of a
   * name replaces an earlier one (Go's rule); an empty one never replaces an existing template.
   * Throws TemplateError with Go's message `template: NAME:LINE: ...`.
   */
  parse(name: string, text: string, options: ParseOptions = {}): void {
    const extra = options.funcs;
    const hasFunction = (fn: string): boolean =>
      (extra !== undefined && Object.hasOwn(extra, fn)) || this.funcs.has(fn) || BUILTINS.has(fn);
    let parsed: Map<string, Tree>;
    try {
      parsed = parseTemplates({
        name,
        text,
        leftDelim: options.leftDelim ?? '{{',
        rightDelim: options.rightDelim ?? '}}',
        hasFunction,
      });
    } catch (e) {
      if (e instanceof ParseFailure) {
        throw new TemplateError(e.message, { file: e.parseName, line: e.line, column: e.column });
      }
      if (e instanceof RangeError) {
        throw new TemplateError(`template: ${name}: expression nested too deeply`, { file: name });
      }
      throw e;
    }
    if (extra) this.addFuncs(extra);
    if (!this.ownsTrees) {
      this.trees = new Map(this.trees);
      this.ownsTrees = true;
    }
    for (const [treeName, tree] of parsed) {
      const old = this.trees.get(treeName);
      if (old && isEmptyTree(tree.root)) continue;
      this.trees.set(treeName, tree);
    }
  }

  has(name: string): boolean {
    return this.trees.has(name);
  }

  names(): string[] {
    return [...this.trees.keys()];
  }

  /**
   * Executes template `name` with `data` as dot and returns the output. Throws TemplateError whose
   * message is Go's, e.g. `template: c/templates/x.yaml:12:15: executing "c/templates/x.yaml" at
   * <.Values.a.b>: nil pointer evaluating interface {}.b`.
   */
  execute(name: string, data: unknown, options: ExecuteOptions = {}): string {
    const tree = this.trees.get(name);
    if (!tree) {
      throw new TemplateError(
        `template: no template ${JSON.stringify(name)} associated with template ${JSON.stringify(this.name)}`,
        { file: name },
      );
    }
    try {
      return executeTree(
        {
          trees: this.trees,
          funcs: this.funcs,
          extraFuncs: options.funcs,
          missingKey: options.missingKey ?? 'default',
          maxDepth: options.maxDepth ?? GO_MAX_EXEC_DEPTH,
        },
        tree,
        data,
      );
    } catch (e) {
      if (e instanceof ExecFailure) {
        const loc: { file?: string; line?: number; column?: number } = {};
        if (e.file !== undefined) loc.file = e.file;
        if (e.line !== undefined) loc.line = e.line;
        if (e.column !== undefined) loc.column = e.column;
        throw new TemplateError(e.message, loc);
      }
      throw e;
    }
  }

  /** A copy sharing parsed trees; templates added to the copy do not change this set. */
  clone(): TemplateSet {
    const copy = new TemplateSet({ name: this.name });
    copy.trees = this.trees;
    copy.funcs = this.funcs;
    copy.ownsTrees = false;
    this.ownsTrees = false;
    return copy;
  }

  /** Adds or overrides functions for templates parsed and executed afterwards. */
  addFuncs(funcs: FuncMap): void {
    // Always a new map: executors cache lookups per map identity.
    const next = new Map(this.funcs);
    for (const [k, fn] of Object.entries(funcs)) {
      // The ASCII test first: compiling the Unicode one costs a CLI start ~2 ms, and every built-in passes it.
      if (!ASCII_IDENTIFIER.test(k) && !/^[\p{L}_][\p{L}\p{Nd}_]*$/u.test(k))
        throw new InputError(`function name ${JSON.stringify(k)} is not a valid identifier`);
      next.set(k, fn);
    }
    this.funcs = next;
  }
}
