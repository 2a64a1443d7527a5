/**
 * Grouping a stream of records into batches: plain consecutive chunks, or "no duplicates" batches as
 * sentence-transformers' NoDuplicatesBatchSampler builds them.
 */

/** Consecutive chunks of `batchSize`; the final short chunk is dropped when `dropLast`. */
export async function* chunked<T>(src: AsyncIterable<T>, opts: { batchSize: number; dropLast: boolean }): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of src) {
    batch.push(item);
    if (batch.length === opts.batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0 && !opts.dropLast) yield batch;
}

/**
 * Batches in which no key (text) occurs twice, built as sentence-transformers' NoDuplicatesBatchSampler does
 * over the given order: walk the records; a record joins the current batch only if none of its keys is
 * already in the batch, otherwise it is held back. When a batch is full it is yielded and the next batch
 * starts from the held-back records, tried again in their original order, before the walk goes on.
 * When everything has been tried and the batch is still short, it is yielded (or dropped when `dropLast`) and
 * the records still held back form further batches the same way until none is left. Every record lands in
 * at most one batch; with dropLast = false in exactly one.
 *
 * A record's own keys may repeat among themselves (anchor = positive is allowed); only keys already in the
 * batch from other records count. Streaming: memory is the current batch plus the held-back records.
 */
export async function* noDuplicateBatches<T>(
  src: AsyncIterable<T>,
  opts: { batchSize: number; dropLast: boolean; keys: (item: T) => readonly string[] },
): AsyncGenerator<T[]> {
  const { batchSize, dropLast, keys } = opts;
  let held: T[] = [];
  let batch: T[] = [];
  let seen = new Set<string>();
  const fits = (item: T): boolean => !keys(item).some((k) => seen.has(k));
  const add = (item: T): void => {
    batch.push(item);
    for (const k of keys(item)) seen.add(k);
  };
  // Starts new batches from the held-back records (in order); yields the ones that fill up.
  function* refill(): Generator<T[]> {
    for (;;) {
      batch = [];
      seen = new Set();
      const rest: T[] = [];
      for (const item of held) {
        if (batch.length < batchSize && fits(item)) add(item);
        else rest.push(item);
      }
      held = rest;
      if (batch.length < batchSize) return;
      yield batch;
    }
  }

  for await (const item of src) {
    if (!fits(item)) {
      held.push(item);
      continue;
    }
    add(item);
    if (batch.length === batchSize) {
      yield batch;
      yield* refill();
    }
  }
  // Every remaining record has been tried against the current (short) batch.
  for (;;) {
    if (batch.length > 0 && !dropLast) yield batch;
    if (held.length === 0) return;
    yield* refill();
  }
}
