// Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) for the kinds
// real clients send that way: Secret and ConfigMap (helm's release storage), DeleteOptions, and every kind
// kubectl's `create` subcommands send (table-driven: protobuf-schema.ts).
import { type FieldDef, type FieldType, KINDS, MESSAGES } from './protobuf-schema.ts';
import { KubeError, unsupportedMediaType } from './status.ts';

/** A body the decoder cannot represent: 415 naming the message and field, so the client can send JSON. */
class UnknownField extends Error {
  constructor(readonly path: string) {
    super(path);
  }
}

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

interface Field {
  no: number;
  wire: number;
  int?: bigint;
  bytes?: Buffer;
}

function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    const no = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, wire, int: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated field');
      out.push({ no, wire, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const str = (f: Field) => (f.bytes ?? Buffer.alloc(0)).toString('utf8');

function mapEntry(f: Field, binary: boolean): [string, string] {
  let k = '';
  let v = '';
  for (const e of readFields(f.bytes ?? Buffer.alloc(0))) {
    if (e.no === 1) k = str(e);
    else if (e.no === 2) v = binary ? (e.bytes ?? Buffer.alloc(0)).toString('base64') : str(e);
  }
  return [k, v];
}

function time(f: Field): string | undefined {
  let seconds = 0n;
  for (const e of readFields(f.bytes ?? Buffer.alloc(0))) if (e.no === 1) seconds = e.int ?? 0n;
  if (seconds === 0n) return undefined;
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

function objectMeta(buf: Buffer): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const finalizers: string[] = [];
  const owners: Record<string, unknown>[] = [];
  for (const f of readFields(buf)) {
    switch (f.no) {
      case 1:
        if (str(f)) m.name = str(f);
        break;
      case 2:
        if (str(f)) m.generateName = str(f);
        break;
      case 3:
        if (str(f)) m.namespace = str(f);
        break;
      case 5:
        if (str(f)) m.uid = str(f);
        break;
      case 6:
        if (str(f)) m.resourceVersion = str(f);
        break;
      case 7:
        if (f.int) m.generation = Number(f.int);
        break;
      case 8: {
        const t = time(f);
        if (t) m.creationTimestamp = t;
        break;
      }
      case 11: {
        const [k, v] = mapEntry(f, false);
        labels[k] = v;
        break;
      }
      case 12: {
        const [k, v] = mapEntry(f, false);
        annotations[k] = v;
        break;
      }
      case 13: {
        const o: Record<string, unknown> = {};
        for (const e of readFields(f.bytes ?? Buffer.alloc(0))) {
          if (e.no === 1) o.kind = str(e);
          else if (e.no === 3) o.name = str(e);
          else if (e.no === 4) o.uid = str(e);
          else if (e.no === 5) o.apiVersion = str(e);
          else if (e.no === 6) o.controller = e.int === 1n;
          else if (e.no === 7) o.blockOwnerDeletion = e.int === 1n;
        }
        owners.push(o);
        break;
      }
      case 14:
        finalizers.push(str(f));
        break;
      default:
        break;
    }
  }
  if (Object.keys(labels).length) m.labels = labels;
  if (Object.keys(annotations).length) m.annotations = annotations;
  if (owners.length) m.ownerReferences = owners;
  if (finalizers.length) m.finalizers = finalizers;
  return m;
}

function decodeKind(kind: string, apiVersion: string, raw: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = { apiVersion, kind, metadata: {} };
  const fields = readFields(raw);
  if (kind === 'Secret' || kind === 'ConfigMap') {
    const data: Record<string, string> = {};
    const second: Record<string, string> = {};
    for (const f of fields) {
      if (f.no === 1) out.metadata = objectMeta(f.bytes ?? Buffer.alloc(0));
      else if (f.no === 2) {
        const [k, v] = mapEntry(f, kind === 'Secret');
        data[k] = v;
      } else if (kind === 'Secret' && f.no === 3) out.type = str(f);
      else if (f.no === (kind === 'Secret' ? 4 : 3)) {
        const [k, v] = mapEntry(f, kind === 'ConfigMap');
        second[k] = v;
      } else if (f.no === (kind === 'Secret' ? 5 : 4)) out.immutable = f.int === 1n;
    }
    if (Object.keys(data).length) out.data = data;
    if (Object.keys(second).length) out[kind === 'Secret' ? 'stringData' : 'binaryData'] = second;
    return out;
  }
  if (kind === 'DeleteOptions') {
    for (const f of fields) {
      if (f.no === 1) out.gracePeriodSeconds = Number(f.int ?? 0n);
      else if (f.no === 2) {
        const pre: Record<string, string> = {};
        for (const e of readFields(f.bytes ?? Buffer.alloc(0))) {
          if (e.no === 1) pre.uid = str(e);
          else if (e.no === 2) pre.resourceVersion = str(e);
        }
        out.preconditions = pre;
      } else if (f.no === 3) out.orphanDependents = f.int === 1n;
      else if (f.no === 4) out.propagationPolicy = str(f);
      else if (f.no === 5) out.dryRun = [...((out.dryRun as string[]) ?? []), str(f)];
    }
    delete out.metadata;
    return out;
  }
  if (kind === 'Namespace') {
    for (const f of fields) if (f.no === 1) out.metadata = objectMeta(f.bytes ?? Buffer.alloc(0));
    return out;
  }
  const message = KINDS[`${apiVersion} ${kind}`];
  if (!message) throw unsupportedMediaType();
  return { apiVersion, kind, ...decodeMessage(message, raw, kind) };
}

const isZero = (f: Field) =>
  f.wire === 0 ? f.int === 0n : f.wire === 2 ? (f.bytes?.length ?? 0) === 0 : false;

function signed(v: bigint): number {
  // int32/int64 varints: negative numbers are sent as 64-bit two's complement.
  return Number(BigInt.asIntN(64, v));
}

function scalar(type: FieldType, f: Field, path: string): unknown {
  const bytes = f.bytes ?? Buffer.alloc(0);
  if (type === 'string') return bytes.toString('utf8');
  if (type === 'bytes') return bytes.toString('base64');
  if (type === 'int') {
    if (f.wire !== 0) throw new UnknownField(path);
    return signed(f.int ?? 0n);
  }
  if (type === 'bool') {
    if (f.wire !== 0) throw new UnknownField(path);
    return f.int !== 0n;
  }
  if (type === 'quantity') {
    let q = '';
    for (const e of readFields(bytes)) if (e.no === 1) q = str(e);
    return q;
  }
  if (type === 'time') return time(f);
  if (type === 'intOrString') {
    let t = 0n;
    let n = 0;
    let text = '';
    for (const e of readFields(bytes)) {
      if (e.no === 1) t = e.int ?? 0n;
      else if (e.no === 2) n = signed(e.int ?? 0n);
      else if (e.no === 3) text = str(e);
    }
    return t === 1n ? text : n;
  }
  throw new UnknownField(path);
}

/** Decodes one message by its table; zero values of non-pointer fields are Go's "unset" and are left out. */
function decodeMessage(name: string, buf: Buffer, path: string): Record<string, unknown> {
  const table = MESSAGES[name] ?? {};
  const out: Record<string, unknown> = {};
  for (const f of readFields(buf)) {
    const def: FieldDef | undefined = table[f.no];
    const here = `${path}.${def?.name ?? `<field ${f.no} of ${name}>`}`;
    if (!def) {
      if (isZero(f)) continue; // a zero-valued field this decoder does not know: what Go sends for "unset"
      throw new UnknownField(here);
    }
    if (def.type === 'skip') continue;
    let value: unknown;
    if (typeof def.type === 'object' && 'map' in def.type) {
      const [k, v] = mapEntryOf(f, def.type.map);
      const target = (out[def.name] ?? {}) as Record<string, unknown>;
      target[k] = v;
      out[def.name] = target;
      continue;
    }
    if (typeof def.type === 'object') {
      if (f.wire !== 2) throw new UnknownField(here);
      value = decodeMessage(def.type.message, f.bytes ?? Buffer.alloc(0), here);
      if (def.inline) {
        Object.assign(out, value);
        continue;
      }
    } else {
      if (!def.keepZero && !def.repeated && isZero(f)) continue;
      value = scalar(def.type, f, here);
      if (value === undefined) continue;
    }
    if (def.repeated) out[def.name] = [...((out[def.name] as unknown[] | undefined) ?? []), value];
    else out[def.name] = value;
  }
  return out;
}

function mapEntryOf(f: Field, of: 'string' | 'bytes' | 'quantity'): [string, unknown] {
  let k = '';
  let v: unknown = of === 'quantity' ? '0' : '';
  for (const e of readFields(f.bytes ?? Buffer.alloc(0))) {
    if (e.no === 1) k = str(e);
    else if (e.no === 2) v = scalar(of, e, k);
  }
  return [k, v];
}

/** Decodes a `k8s\0`-prefixed protobuf body into the JSON form of the object. */
export function decodeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) throw unsupportedMediaType();
  try {
    let apiVersion = '';
    let kind = '';
    let raw: Buffer = Buffer.alloc(0);
    for (const f of readFields(body.subarray(4))) {
      if (f.no === 1) {
        for (const t of readFields(f.bytes ?? Buffer.alloc(0))) {
          if (t.no === 1) apiVersion = str(t);
          else if (t.no === 2) kind = str(t);
        }
      } else if (f.no === 2) raw = f.bytes ?? Buffer.alloc(0);
    }
    return decodeKind(kind, apiVersion, raw);
  } catch (err) {
    if (err instanceof KubeError) throw err;
    if (err instanceof UnknownField)
      throw new KubeError(
        415,
        'UnsupportedMediaType',
        `the protobuf body sets ${err.path}, which this server cannot decode from protobuf: send the object as application/json`,
        {},
      );
    throw unsupportedMediaType();
  }
}
