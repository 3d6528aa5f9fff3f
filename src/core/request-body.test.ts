import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError } from './errors.ts';
import { jsonObject, stringField } from './request-body.ts';

test('jsonObject accepts objects, refuses arrays and scalars, and an absent body only when optional', () => {
  assert.deepEqual(jsonObject({ a: 1 }), { a: 1 });
  assert.deepEqual(jsonObject(undefined, { optional: true }), {});
  for (const bad of [undefined, null, [], 'x', 3])
    assert.throws(
      () => jsonObject(bad),
      (e: unknown) => e instanceof InputError && /JSON object/.test(e.message),
    );
  assert.throws(() => jsonObject([], { optional: true }), InputError);
});

test('stringField names the missing or mistyped field', () => {
  assert.equal(stringField({ name: 'x' }, 'name'), 'x');
  assert.equal(stringField({}, 'name', false), undefined);
  assert.throws(
    () => stringField({}, 'name'),
    (e: unknown) =>
      e instanceof InputError && e.location?.field === 'name' && /Missing field "name"/.test(e.message),
  );
  assert.throws(
    () => stringField({ name: 3 }, 'name', false),
    (e: unknown) =>
      e instanceof InputError && e.location?.field === 'name' && /must be a string/.test(e.message),
  );
});
