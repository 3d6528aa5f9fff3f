import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { handle } from './server.js';

test('GET / says hello', async () => {
  const server = createServer(handle).listen(0);
  const { port } = server.address();
  const res = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal((await res.json()).message, 'Hello, world!');
  server.close();
});

test('GET /healthz is ok', async () => {
  const server = createServer(handle).listen(0);
  const { port } = server.address();
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text(), 'ok\n');
  server.close();
});
