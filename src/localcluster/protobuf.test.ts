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

// A tiny protobuf writer for the tests (varint and length-delimited fields).
function pbVarint(n: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v > 127n) {
    out.push(Number(v & 127n) | 128);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}
const pbBytes = (no: number, payload: Buffer | string) => {
  const b = Buffer.from(payload);
  return Buffer.concat([pbVarint(BigInt((no << 3) | 2)), pbVarint(BigInt(b.length)), b]);
};
const pbInt = (no: number, v: number) => Buffer.concat([pbVarint(BigInt(no << 3)), pbVarint(BigInt(v))]);
const pbObject = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([
    Buffer.from([0x6b, 0x38, 0x73, 0x00]),
    pbBytes(1, Buffer.concat([pbBytes(1, apiVersion), pbBytes(2, kind)])),
    pbBytes(2, raw),
  ]);

test('the table decoder: pointers keep zeros, Go zero values are dropped, IntOrString, probes, env, maps', () => {
  const container = Buffer.concat([
    pbBytes(1, 'app'),
    pbBytes(2, 'nginx:1'),
    pbBytes(4, '--port'),
    pbBytes(4, '80'),
    pbBytes(5, ''), // workingDir: Go's zero value
    pbBytes(7, Buffer.concat([pbBytes(1, 'MODE'), pbBytes(2, 'fast')])),
    pbBytes(8, pbBytes(1, Buffer.concat([pbBytes(1, 'cpu'), pbBytes(2, pbBytes(1, '250m'))]))),
    pbBytes(
      11,
      Buffer.concat([
        pbBytes(
          1,
          pbBytes(
            2,
            Buffer.concat([
              pbBytes(1, '/healthz'),
              pbBytes(2, Buffer.concat([pbInt(1, 1), pbBytes(3, 'http')])),
            ]),
          ),
        ),
        pbInt(2, 5),
        pbInt(5, 0),
      ]),
    ),
  ]);
  const podSpec = Buffer.concat([pbBytes(2, container), pbInt(4, 0), pbBytes(3, 'Always'), pbInt(11, 0)]);
  const spec = Buffer.concat([
    pbInt(1, 0), // replicas: a pointer, 0 is meaningful
    pbBytes(2, pbBytes(1, Buffer.concat([pbBytes(1, 'app'), pbBytes(2, 'web')]))),
    pbBytes(
      3,
      Buffer.concat([
        pbBytes(1, pbBytes(11, Buffer.concat([pbBytes(1, 'app'), pbBytes(2, 'web')]))),
        pbBytes(2, podSpec),
      ]),
    ),
    pbBytes(
      4,
      Buffer.concat([
        pbBytes(1, 'RollingUpdate'),
        pbBytes(
          2,
          Buffer.concat([
            pbBytes(1, pbInt(2, 0)),
            pbBytes(2, Buffer.concat([pbInt(1, 1), pbBytes(3, '25%')])),
          ]),
        ),
      ]),
    ),
    pbInt(5, 0), // minReadySeconds: not a pointer, 0 means unset
    pbInt(6, -1), // a negative int32 as Go sends it (ten-byte varint)
  ]);
  const body = pbObject(
    'apps/v1',
    'Deployment',
    Buffer.concat([pbBytes(1, pbBytes(1, 'web')), pbBytes(2, spec), pbBytes(3, pbInt(2, 0))]),
  );
  const d = decodeProtobuf(body) as Record<string, unknown>;
  assert.deepEqual(d, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'nginx:1',
              args: ['--port', '80'],
              env: [{ name: 'MODE', value: 'fast' }],
              resources: { limits: { cpu: '250m' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 5 },
            },
          ],
          terminationGracePeriodSeconds: 0,
          restartPolicy: 'Always',
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      revisionHistoryLimit: -1,
    },
  });
});

test('the table decoder refuses a set field it does not know, naming it, and a kind it has no table for', () => {
  const body = pbObject(
    'apps/v1',
    'Deployment',
    Buffer.concat([pbBytes(2, pbBytes(3, pbBytes(2, pbBytes(2, pbBytes(12, pbBytes(1, 'x'))))))]),
  );
  assert.throws(
    () => decodeProtobuf(body),
    (e: unknown) =>
      e instanceof KubeError &&
      e.code === 415 &&
      /Deployment\.spec\.template\.spec\.containers\.<field 12 of Container>/.test(e.message),
  );
  assert.throws(
    () => decodeProtobuf(pbObject('apps/v1', 'StatefulSet', Buffer.alloc(0))),
    (e: unknown) => e instanceof KubeError && e.code === 415,
  );
  // Truncated and garbage bodies are refused, never a crash.
  assert.throws(
    () => decodeProtobuf(body.subarray(0, body.length - 3)),
    (e: unknown) => e instanceof KubeError,
  );
  assert.throws(
    () =>
      decodeProtobuf(pbObject('apps/v1', 'Deployment', Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]))),
    (e: unknown) => e instanceof KubeError,
  );
});
