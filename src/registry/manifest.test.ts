import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptsMediaType, parseManifest } from './manifest.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const image = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('a'), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('b'), size: 20 }],
};
const buf = (o: unknown) => Buffer.from(JSON.stringify(o));

test('parseManifest() returns the blobs of an image manifest and its artifact type', () => {
  const m = parseManifest(buf(image), 'application/vnd.oci.image.manifest.v1+json');
  assert.deepEqual(
    m.blobs.map((b) => b.digest),
    [d('a'), d('b')],
  );
  assert.equal(m.artifactType, 'application/vnd.oci.image.config.v1+json');
  assert.equal(m.subject, undefined);
});

test('parseManifest() reads indexes, Docker lists and subjects', () => {
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
    manifests: [
      { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: d('c'), size: 5 },
    ],
  };
  assert.deepEqual(
    parseManifest(buf(index), undefined).manifests.map((x) => x.digest),
    [d('c')],
  );
  const withSubject = {
    ...image,
    artifactType: 'x/sig',
    subject: { mediaType: image.mediaType, digest: d('e'), size: 3 },
  };
  const m = parseManifest(buf(withSubject), undefined);
  assert.equal(m.subject?.digest, d('e'));
  assert.equal(m.artifactType, 'x/sig');
});

test('parseManifest() refuses broken manifests with MANIFEST_INVALID', () => {
  const cases: [unknown, string | undefined, RegExp][] = [
    ['{', undefined, /not valid JSON/],
    [{ ...image, schemaVersion: 1 }, undefined, /schemaVersion/],
    [
      { ...image, mediaType: 'application/vnd.docker.distribution.manifest.v1+json' },
      undefined,
      /Unsupported manifest media type/,
    ],
    [image, 'application/vnd.oci.image.index.v1+json', /differs from Content-Type/],
    [{ ...image, config: { ...image.config, digest: 'sha256:zz' } }, undefined, /config.digest/],
    [{ ...image, layers: [{ ...image.layers[0], size: -1 }] }, undefined, /layers\[0\].size/],
  ];
  for (const [doc, ct, re] of cases) {
    const body = typeof doc === 'string' ? Buffer.from(doc) : buf(doc);
    assert.throws(() => parseManifest(body, ct), re);
  }
  assert.throws(() => parseManifest(Buffer.alloc(5 * 1024 * 1024, 32), undefined), /limit/);
});

test('acceptsMediaType() only withholds indexes from clients that do not accept them', () => {
  assert.equal(acceptsMediaType(undefined, 'application/vnd.oci.image.index.v1+json'), true);
  assert.equal(
    acceptsMediaType('application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json'),
    false,
  );
  assert.equal(acceptsMediaType('*/*', 'application/vnd.oci.image.index.v1+json'), true);
  assert.equal(acceptsMediaType('application/json', 'application/vnd.oci.image.manifest.v1+json'), true);
});
