import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBus } from './index.ts';

declare module './index.ts' {
  interface EventMap {
    'test.ping': { n: number };
  }
}

test('EventBus delivers typed events to listeners and onAny, in order', () => {
  const bus = new EventBus();
  const seen: number[] = [];
  const any: string[] = [];
  const off = bus.on('test.ping', (d) => seen.push(d.n));
  bus.onAny((e) => any.push(`${e.type}#${e.seq}`));
  bus.emit('test.ping', { n: 1 });
  bus.emit('test.ping', { n: 2 });
  off();
  bus.emit('test.ping', { n: 3 });
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual(any, ['test.ping#1', 'test.ping#2', 'test.ping#3']);
});

test('EventBus.waitFor() resolves on a matching event and times out otherwise', async () => {
  const bus = new EventBus();
  const p = bus.waitFor('test.ping', (d) => d.n === 2, 1000);
  bus.emit('test.ping', { n: 1 });
  bus.emit('test.ping', { n: 2 });
  assert.deepEqual(await p, { n: 2 });
  await assert.rejects(
    bus.waitFor('test.ping', () => false, 10),
    /Timed out/,
  );
});
