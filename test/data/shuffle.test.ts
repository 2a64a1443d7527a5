import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shuffled } from '../../src/data/shuffle.js';

async function* range(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const ids = Array.from({ length: 100 }, (_, i) => i);

test('shuffle: output is a permutation of the input (same multiset)', async () => {
  for (const bufferSize of [2, 7, 50, 100, 1000]) {
    const out = await collect(shuffled(range(100), { bufferSize, seed: 3 }));
    assert.deepEqual([...out].sort((a, b) => a - b), ids, `bufferSize ${bufferSize}`);
    assert.notDeepEqual(out, ids, `bufferSize ${bufferSize} should reorder`);
  }
  const dup = await collect(shuffled((async function* () { yield* ['a', 'b', 'a', 'c', 'a']; })(), { bufferSize: 3, seed: 1 }));
  assert.deepEqual([...dup].sort(), ['a', 'a', 'a', 'b', 'c']);
});

test('shuffle: deterministic per seed, different across seeds', async () => {
  const a = await collect(shuffled(range(100), { bufferSize: 16, seed: 42 }));
  const b = await collect(shuffled(range(100), { bufferSize: 16, seed: 42 }));
  const c = await collect(shuffled(range(100), { bufferSize: 16, seed: 43 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('shuffle: bufferSize 1 (and 0) is the identity', async () => {
  assert.deepEqual(await collect(shuffled(range(100), { bufferSize: 1, seed: 5 })), ids);
  assert.deepEqual(await collect(shuffled(range(100), { bufferSize: 0, seed: 5 })), ids);
});

test('shuffle: buffer bounds how far items move earlier; empty input gives nothing', async () => {
  const out = await collect(shuffled(range(200), { bufferSize: 10, seed: 9 }));
  // an item cannot be yielded before it has been read: item i appears at position >= i - (bufferSize - 1)
  out.forEach((item, pos) => assert.ok(pos >= item - 9, `item ${item} at ${pos}`));
  assert.deepEqual(await collect(shuffled(range(0), { bufferSize: 10, seed: 9 })), []);
});
