import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { describeFetchFailure } from './errors.ts';

test('describeFetchFailure() names the reason fetch keeps in its cause', async () => {
  // A port that was just free: nothing listens there.
  const port = await new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
  const err = await fetch(`http://127.0.0.1:${port}/`).then(
    () => assert.fail('nothing listens there'),
    (e: unknown) => e,
  );
  assert.equal((err as Error).message, 'fetch failed');
  assert.equal(describeFetchFailure(err), `connect ECONNREFUSED 127.0.0.1:${port}`);
});

test('describeFetchFailure() adds a code the message does not name', () => {
  const cause = Object.assign(new Error('self-signed certificate in certificate chain'), {
    code: 'SELF_SIGNED_CERT_IN_CHAIN',
  });
  assert.equal(
    describeFetchFailure(new TypeError('fetch failed', { cause })),
    'self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN)',
  );
  assert.equal(describeFetchFailure(new Error('plain')), 'plain');
  assert.equal(describeFetchFailure('text'), 'text');
});
