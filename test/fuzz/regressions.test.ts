/**
 * Inputs the reader fuzz test (readers.test.ts) found, kept as files in test/fixtures/fuzz/ so they stay
 * tested whatever the mutation code becomes. Each is read in a worker with a deadline (two of them hung
 * the process synchronously, one looped forever) and must be refused with a UserError naming the file and what is damaged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';

const DIR = 'test/fixtures/fuzz';

function readInWorker(kind: 'arrow' | 'tokenizer', path: string, ms = 10_000): Promise<{ outcome: string; message?: string }> {
  const worker = new Worker(new URL('./read-one.js', import.meta.url), { workerData: { kind, path }, resourceLimits: { maxOldGenerationSizeMb: 512 } });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      resolve({ outcome: `no answer within ${ms} ms` });
    }, ms);
    worker.once('message', (m: { outcome: string; message?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      resolve({ outcome: `the worker died: ${e.message}` });
    });
  });
}

const cases: Array<[string, 'arrow' | 'tokenizer', RegExp, string]> = [
  ['vector-length.arrow', 'arrow', /vector-length\.arrow: record batch 0: cannot be read \(flatbuffers vector of \d+ elements in a \d+-byte message/, 'a record batch claiming 960 M buffers: apache-arrow looped and allocated synchronously'],
  ['footer-loop.arrow', 'arrow', /footer-loop\.arrow: record batch 1: the footer points at a NONE message, not a record batch/, "a footer block at a message that is no record batch: apache-arrow's file reader re-read it forever"],
  ['footer-schema.arrow', 'arrow', /footer-schema\.arrow: record batch 0: its message header says -\d+ bytes/, 'a footer block at a message with a negative length: the same endless loop'],
  ['bigint-offset.arrow', 'arrow', /bigint-offset\.arrow: .*the file is damaged/, 'a footer offset beyond 2^53 (a TypeError escaped the first version of the footer check)'],
  ['footer-vector.arrow', 'arrow', /footer-vector\.arrow: .*flatbuffers vector of \d+ elements/, 'a footer whose block vector length is damaged (the flatbuffers guard\'s RangeError escaped the first version of the footer check)'],
  ['childless-list.arrow', 'arrow', /childless-list\.arrow: .*(a damaged type|damaged)/, 'a schema with a list type that lost its child: a TypeError naming the columns'],
  ['huge-id.json', 'tokenizer', /huge-id\.json: model\.vocab: has an id of 77999999 among only \d+ tokens/, 'a vocabulary id of 78 M: the tokenizer library built tables that size before any check'],
];

for (const [file, kind, pattern, what] of cases) {
  test(`${file}: ${what} — now a UserError`, async () => {
    const r = await readInWorker(kind, join(DIR, file));
    assert.equal(r.outcome, 'UserError', `${r.outcome}: ${r.message ?? ''}`);
    assert.match(r.message!, pattern);
  });
}
