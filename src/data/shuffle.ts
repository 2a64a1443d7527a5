import { Rng } from '../util/rng.js';

/**
 * Seeded buffered shuffle (the tf.data / webdataset kind): keep a buffer of `bufferSize` items; once it is
 * full, each new item replaces a uniformly chosen buffered item, which is yielded. The remainder is
 * Fisher–Yates shuffled at the end. Output is a permutation of the input and a pure function of
 * (input order, bufferSize, seed). Items move at most about `bufferSize` positions earlier, so the buffer
 * should cover a good part of the dataset for a thorough shuffle. bufferSize <= 1 yields the input unchanged.
 */
export async function* shuffled<T>(src: AsyncIterable<T>, opts: { bufferSize: number; seed: number }): AsyncGenerator<T> {
  const size = Math.max(1, Math.floor(opts.bufferSize));
  if (size === 1) {
    yield* src;
    return;
  }
  const rng = new Rng(opts.seed);
  const buffer: T[] = [];
  for await (const item of src) {
    if (buffer.length < size) {
      buffer.push(item);
      continue;
    }
    const j = rng.int(size);
    const out = buffer[j];
    buffer[j] = item;
    yield out;
  }
  for (let i = buffer.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = buffer[i];
    buffer[i] = buffer[j];
    buffer[j] = t;
  }
  yield* buffer;
}
