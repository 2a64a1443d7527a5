import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunked, noDuplicateBatches } from '../../src/data/batching.js';
import { Rng } from '../../src/util/rng.js';

async function* from<T>(xs: T[]): AsyncGenerator<T> {
  yield* xs;
}

async function collect<T>(g: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of g) out.push(x);
  return out;
}

/**
 * sentence-transformers' NoDuplicatesBatchSampler.__iter__ transcribed over a fixed order (its randperm
 * replaced by the given order): passes over the not-yet-batched positions from the head; every pass yields a
 * full batch, or a short one (dropped when dropLast) when the pass reaches the end.
 */
function reference(items: string[][], batchSize: number, dropLast: boolean): number[][] {
  let remaining = items.map((_, i) => i);
  const out: number[][] = [];
  while (remaining.length > 0) {
    const values = new Set<string>();
    const batch: number[] = [];
    let full = false;
    for (const i of remaining) {
      const sample = new Set(items[i]);
      if ([...sample].some((v) => values.has(v))) continue;
      batch.push(i);
      if (batch.length === batchSize) {
        full = true;
        break;
      }
      for (const v of sample) values.add(v);
    }
    if (full || !dropLast) out.push(batch);
    remaining = remaining.filter((i) => !batch.includes(i));
  }
  return out;
}

test('batching: chunked keeps or drops the short tail', async () => {
  assert.deepEqual(await collect(chunked(from([1, 2, 3, 4, 5]), { batchSize: 2, dropLast: false })), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(await collect(chunked(from([1, 2, 3, 4, 5]), { batchSize: 2, dropLast: true })), [[1, 2], [3, 4]]);
});

test('batching: no-duplicates on a hand-worked example (held-back records go first in the next batch)', async () => {
  const recs = [['a', 'b'], ['a', 'c'], ['d', 'e'], ['b', 'f'], ['g', 'h']];
  // [a,b] joins; [a,c] shares a → held; [d,e] fills batch 1. Batch 2 starts with held [a,c]; [b,f] fills it. [g,h] is left.
  const keep = await collect(noDuplicateBatches(from(recs), { batchSize: 2, dropLast: false, keys: (r) => r }));
  assert.deepEqual(keep, [[['a', 'b'], ['d', 'e']], [['a', 'c'], ['b', 'f']], [['g', 'h']]]);
  const drop = await collect(noDuplicateBatches(from(recs), { batchSize: 2, dropLast: true, keys: (r) => r }));
  assert.deepEqual(drop, keep.slice(0, 2));
  // a record may repeat a text within itself; and when everything conflicts, several short batches remain
  const same = [['x', 'x'], ['x', 'y'], ['x', 'z']];
  assert.deepEqual(await collect(noDuplicateBatches(from(same), { batchSize: 2, dropLast: false, keys: (r) => r })), [[['x', 'x']], [['x', 'y']], [['x', 'z']]]);
  assert.deepEqual(await collect(noDuplicateBatches(from(same), { batchSize: 2, dropLast: true, keys: (r) => r })), []);
});

test('batching: no-duplicates matches the sentence-transformers algorithm on data with many duplicates', async () => {
  const rng = new Rng(5);
  for (let trial = 0; trial < 30; trial++) {
    const n = 5 + rng.int(60);
    const vocab = 3 + rng.int(40);
    const width = 1 + rng.int(3);
    const items = Array.from({ length: n }, () => Array.from({ length: width }, () => `t${rng.int(vocab)}`));
    const batchSize = 1 + rng.int(6);
    for (const dropLast of [false, true]) {
      const got = await collect(noDuplicateBatches(from(items.map((texts, id) => ({ id, texts }))), { batchSize, dropLast, keys: (r) => r.texts }));
      assert.deepEqual(got.map((b) => b.map((r) => r.id)), reference(items, batchSize, dropLast), `trial ${trial} dropLast ${dropLast}`);
      for (const b of got) {
        const texts = b.flatMap((r) => [...new Set(r.texts)]);
        assert.equal(new Set(texts).size, texts.length, 'no text twice in a batch');
      }
      const ids = got.flat().map((r) => r.id);
      assert.equal(new Set(ids).size, ids.length, 'each record at most once');
      if (!dropLast) assert.equal(ids.length, n, 'each record exactly once without dropLast');
    }
  }
});
