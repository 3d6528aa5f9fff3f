// Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`) for the kinds
// real clients send that way: Secret and ConfigMap (helm's release storage, kubectl create) and DeleteOptions.
import { unsupportedMediaType } from './status.ts';

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
  throw unsupportedMediaType();
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
    if (err instanceof Error && err.name === 'KubeError') throw err;
    throw unsupportedMediaType();
  }
}
