// Structural edits of YAML values files: change one scalar and keep every other byte (comments, key order,
// quoting, indentation) exactly as it was. Pure: text in, text out.
import { isMap, isScalar, LineCounter, parseDocument, Scalar, type Document } from 'yaml';
import { InputError } from '../core/index.ts';

export interface YamlEditResult {
  text: string;
  /** False when the value was already what was asked. */
  changed: boolean;
  /** The value before the edit (undefined when the key did not exist). */
  previous: unknown;
}

/** Parses `text` as one YAML document; throws {@link InputError} with file:line:column on a syntax error. */
export function parseYamlDocument(text: string, file: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, keepSourceTokens: true });
  const first = doc.errors[0];
  if (first) {
    const pos = lines.linePos(first.pos[0]);
    throw new InputError(`Cannot parse ${file}:${pos.line}:${pos.col}: ${first.message.split('\n')[0]}`, {
      location: { file, line: pos.line, column: pos.col },
    });
  }
  return { doc, lines };
}

/** Reads the scalar at `path` (e.g. `['image','tag']`), or undefined. */
export function getYamlValue(text: string, path: string[], file = 'values.yaml'): unknown {
  const { doc } = parseYamlDocument(text, file);
  const node = doc.getIn(path, true);
  return isScalar(node)
    ? node.value
    : node === undefined
      ? undefined
      : (node as { toJSON(): unknown }).toJSON();
}

function wouldStayString(value: string): boolean {
  const probe = parseDocument(value);
  return probe.errors.length === 0 && isScalar(probe.contents) && probe.contents.value === value;
}

function renderScalar(value: string, style: Scalar.Type | undefined, previous: unknown): string {
  if (style === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  if (style === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  if (style === Scalar.PLAIN || style === undefined) {
    if (/^[^\s#:'"{}[\],&*!|>%@`]/.test(value) && !/\s$/.test(value) && !/: |\s#/.test(value)) {
      // A plain number stays a plain number when the old value was one (e.g. `tag: 41` → `tag: 42`).
      if (typeof previous === 'number' && /^[1-9]\d{0,8}$/.test(value)) return value;
      if (wouldStayString(value)) return value;
    }
  }
  return JSON.stringify(value);
}

/**
 * Sets the string scalar at `path` to `value`. When the scalar exists, only its characters in the text
 * change (its quoting style is kept; a value that would not read back as a string gets double quotes).
 * When it does not exist, the key is added through the Document API. Throws {@link InputError} when an
 * intermediate key is not a mapping.
 */
export function setYamlValue(
  text: string,
  path: string[],
  value: string,
  file = 'values.yaml',
): YamlEditResult {
  if (path.length === 0) throw new InputError('setYamlValue needs a non-empty key path');
  const { doc, lines } = parseYamlDocument(text, file);
  const node = doc.getIn(path, true);
  if (isScalar(node) && node.range) {
    const previous = node.value;
    if (previous === value) return { text, changed: false, previous };
    const [start, end] = node.range;
    const replacement = renderScalar(value, node.type, previous);
    return { text: text.slice(0, start) + replacement + text.slice(end), changed: true, previous };
  }
  if (node !== undefined && !isScalar(node)) {
    const r = (node as { range?: [number, number, number] }).range;
    const pos = r ? lines.linePos(r[0]) : undefined;
    throw new InputError(
      `Cannot set ${path.join('.')} in ${file}${pos ? `:${pos.line}` : ''}: it is not a scalar value`,
      { location: { file, ...(pos ? { line: pos.line, column: pos.col } : {}), field: path.join('.') } },
    );
  }
  // Missing: walk the parents to make sure each one is a mapping (or absent), then add through the Document API.
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new InputError(`Cannot set ${path.join('.')} in ${file}: the document is not a mapping`, {
      location: { file, line: 1, field: path.join('.') },
    });
  }
  for (let i = 1; i < path.length; i++) {
    const parent = doc.getIn(path.slice(0, i), true);
    if (
      parent !== undefined &&
      parent !== null &&
      !isMap(parent) &&
      !(isScalar(parent) && parent.value === null)
    ) {
      throw new InputError(
        `Cannot set ${path.join('.')} in ${file}: ${path.slice(0, i).join('.')} is not a mapping`,
        {
          location: { file, field: path.slice(0, i).join('.') },
        },
      );
    }
  }
  if (doc.contents === null) {
    const fresh = parseDocument('{}');
    fresh.setIn(path, value);
    const out = fresh.toString({ collectionStyle: 'block' });
    return {
      text: text + (text.endsWith('\n') || text === '' ? '' : '\n') + out,
      changed: true,
      previous: undefined,
    };
  }
  doc.setIn(path, value);
  return { text: doc.toString(), changed: true, previous: undefined };
}

/** The OCI tag grammar (distribution spec): what an image tag may be. */
export const IMAGE_TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
