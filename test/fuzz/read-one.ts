/** Worker for test/fuzz/regressions.test.ts: read one file with one reader, post the outcome (a hang is timed out by the test). */
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { UserError } from '../../src/util/errors.js';
import { readColumnBatches, readPairBatches } from '../../src/data/arrow-reader.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';

const { kind, path } = workerData as { kind: 'arrow' | 'tokenizer'; path: string };
try {
  if (kind === 'tokenizer') await TextTokenizer.load(path);
  else if (readFileSync(path).indexOf('anchor') >= 0) {
    for await (const _ of readPairBatches({ path })) void _; // as the fuzz worker reads a pairs file
  } else for await (const _ of readColumnBatches({ path, columns: ['text1', 'text2'], score: 'score' })) void _;
  parentPort!.postMessage({ outcome: 'parsed' });
} catch (e) {
  parentPort!.postMessage(e instanceof UserError ? { outcome: 'UserError', message: e.message } : { outcome: 'other', message: `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}` });
}
