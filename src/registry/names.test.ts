import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReference, parseRepository, parseScope, parseV2Path } from './names.ts';
import { OciError } from './oci-errors.ts';

test('parseRepository() accepts spec names and splits the project', () => {
  assert.deepEqual(parseRepository('base/app'), { repository: 'base/app', project: 'base' });
  assert.deepEqual(parseRepository('base/a.b/c_d/e--f'), {
    repository: 'base/a.b/c_d/e--f',
    project: 'base',
  });
});

test('parseRepository() refuses bad names with NAME_INVALID', () => {
  for (const name of [
    'app',
    'Base/app',
    'base/../etc',
    'base//app',
    'base/app/',
    '/base/app',
    'base/a..b',
    `base/${'a'.repeat(260)}`,
    'base/a%2f',
  ]) {
    assert.throws(
      () => parseRepository(name),
      (e: unknown) => e instanceof OciError && e.code === 'NAME_INVALID',
      name,
    );
  }
});

test('parseReference() tells tags from digests', () => {
  assert.deepEqual(parseReference('v1.0_rc-1'), { kind: 'tag', tag: 'v1.0_rc-1' });
  const d = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(parseReference(d), { kind: 'digest', digest: d });
  assert.throws(() => parseReference('sha256:abc'), /Invalid digest/);
  assert.throws(() => parseReference('-bad'), /Invalid tag/);
  assert.throws(() => parseReference('a'.repeat(129)), /Invalid tag/);
});

test('parseScope() reads Docker token scopes', () => {
  assert.deepEqual(parseScope('repository:base/app:pull,push'), [
    { type: 'repository', name: 'base/app', actions: ['pull', 'push'] },
  ]);
  assert.deepEqual(parseScope('repository:a/b:pull registry:catalog:*'), [
    { type: 'repository', name: 'a/b', actions: ['pull'] },
    { type: 'registry', name: 'catalog', actions: ['*'] },
  ]);
  assert.deepEqual(parseScope('repository(plugin):x/y:pull'), [
    { type: 'repository', name: 'x/y', actions: ['pull'] },
  ]);
  assert.deepEqual(parseScope('garbage'), []);
});

test('parseV2Path() routes every endpoint', () => {
  assert.deepEqual(parseV2Path(''), { kind: 'base' });
  assert.deepEqual(parseV2Path('_catalog'), { kind: 'catalog' });
  assert.deepEqual(parseV2Path('a/b/tags/list'), { kind: 'tags', name: 'a/b' });
  assert.deepEqual(parseV2Path('a/b/manifests/v1'), { kind: 'manifest', name: 'a/b', reference: 'v1' });
  assert.deepEqual(parseV2Path('a/b/blobs/uploads/'), { kind: 'upload-start', name: 'a/b' });
  assert.deepEqual(parseV2Path('a/b/blobs/uploads/xyz'), { kind: 'upload', name: 'a/b', id: 'xyz' });
  assert.deepEqual(parseV2Path('a/b/blobs/sha256:1'), { kind: 'blob', name: 'a/b', digest: 'sha256:1' });
  assert.deepEqual(parseV2Path('a/b/referrers/sha256:1'), {
    kind: 'referrers',
    name: 'a/b',
    digest: 'sha256:1',
  });
  assert.equal(parseV2Path('a/b/other'), undefined);
});
