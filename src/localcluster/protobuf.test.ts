import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeProtobuf } from './protobuf.ts';
import { KubeError } from './status.ts';

// The protobuf Secret helm 3.17 POSTed in traces/helm-install.txt (request 62), clipped to its metadata and one data key.
function encodeSecret(): Buffer {
  const field = (no: number, payload: Buffer) =>
    Buffer.concat([Buffer.from([(no << 3) | 2]), varint(payload.length), payload]);
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n >>= 7;
    }
    out.push(n);
    return Buffer.from(out);
  };
  const str = (s: string) => Buffer.from(s);
  const entry = (k: string, v: Buffer) => Buffer.concat([field(1, str(k)), field(2, v)]);
  const meta = Buffer.concat([
    field(1, str('sh.helm.release.v1.demo.v1')),
    field(11, entry('owner', str('helm'))),
    field(11, entry('status', str('deployed'))),
  ]);
  const secret = Buffer.concat([
    field(1, meta),
    field(2, entry('release', str('H4sI'))),
    field(3, str('helm.sh/release.v1')),
  ]);
  const typeMeta = Buffer.concat([field(1, str('v1')), field(2, str('Secret'))]);
  return Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), field(1, typeMeta), field(2, secret)]);
}

test('decodes a protobuf Secret like helm sends', () => {
  const obj = decodeProtobuf(encodeSecret()) as {
    kind: string;
    metadata: { name: string; labels: Record<string, string> };
    data: Record<string, string>;
    type: string;
  };
  assert.equal(obj.kind, 'Secret');
  assert.equal(obj.metadata.name, 'sh.helm.release.v1.demo.v1');
  assert.deepEqual(obj.metadata.labels, { owner: 'helm', status: 'deployed' });
  assert.equal(Buffer.from(obj.data.release ?? '', 'base64').toString(), 'H4sI');
  assert.equal(obj.type, 'helm.sh/release.v1');
});

test('rejects what it cannot decode with 415', () => {
  assert.throws(
    () => decodeProtobuf(Buffer.from('not protobuf')),
    (e: unknown) => e instanceof KubeError && e.code === 415,
  );
  assert.throws(
    () => decodeProtobuf(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0xff])),
    (e: unknown) => e instanceof KubeError && e.code === 415,
  );
});
