/**
 * The fuzz loop of test/fuzz/readers.test.ts, run in a worker thread so that a hang or a runaway
 * allocation in a reader can be stopped from outside: for each case it posts `{case}` before running
 * the reader (the main thread's watchdog times the case), then `{bad}` for an outcome other than
 * "parsed" or "UserError", and `{done}` with the tallies at the end.
 *
 * Every case is a pure function of (seed, target, index): `mutate` draws its edits from a PRNG seeded
 * with those three, so a failure is reproduced by running the one case again (FUZZ_SEED, FUZZ_CASE;
 * FUZZ_DUMP=<file> also writes its input there).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/util/errors.js';
import { prepare } from '../../src/data/prepare.js';
import { readLabelledPairs } from '../../src/data/labelled.js';
import { readColumnBatches, readPairBatches } from '../../src/data/arrow-reader.js';
import { decodeSafetensors, encodeSafetensors, openSafetensors, readSafetensors } from '../../src/folder/safetensors.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { loadTrainConfig } from '../../src/train/config.js';
import { readModelFolder } from '../../src/folder/read.js';
import { mutate } from './mutate.js';

export interface FuzzJob {
  target: string;
  seed: number;
  cases: number;
  /** Run only this case (reproducing a failure). */
  only?: number;
  dir: string;
}

interface Target {
  /** The well-formed inputs mutations start from (a mutation may splice in bytes of another seed). */
  seeds: Buffer[];
  /** Read the mutated bytes; resolve when parsed, throw a UserError when refused. */
  read: (bytes: Buffer) => Promise<void>;
}

const job = workerData as FuzzJob;
const at = (name: string) => join(job.dir, name);
const MODEL = 'test/fixtures/lm-cocktail/models/a';

async function drain<T>(it: AsyncIterable<T>): Promise<number> {
  let n = 0;
  for await (const _ of it) n++;
  return n;
}

const pairsJsonl = [
  { anchor: 'graph neural networks', positive: 'we study message passing on graphs', negative: 'soil chemistry' },
  { anchor: 'квантовые вычисления', positive: 'кубиты и «шум»', negative: 'морской лёд' },
  { anchor: 'emoji 🤖 and tabs\tinside', positive: 'quotes " and \\ backslashes', negative: '' },
  { anchor: 'a', positive: 'b', negative: 'c' },
].map((o) => JSON.stringify(o)).join('\n') + '\n';
const pairsCsv = 'anchor,positive,negative\n"graph, networks","message ""passing""",soil\nквант,кубиты,лёд\r\nplain,"multi\nline",x\n';
const labelledCsv = 'sentence1,sentence2,score\na cat sits,a cat is sitting,4.5\n"two, words",other words,0.25\nкот,кошка,3\n';

async function targets(): Promise<Record<string, () => Promise<Target>>> {
  return {
    async jsonl() {
      let n = 0;
      return {
        seeds: [Buffer.from(pairsJsonl)],
        read: async (bytes) => {
          writeFileSync(at('in.jsonl'), bytes);
          await prepare({ input: at('in.jsonl'), output: at(`out-${n++ % 4}.arrow`), negative: ['negative'] });
        },
      };
    },
    async csv() {
      let n = 0;
      return {
        seeds: [Buffer.from(pairsCsv), Buffer.from(labelledCsv)],
        read: async (bytes) => {
          writeFileSync(at('in.csv'), bytes);
          const labelled = bytes.subarray(0, 9).toString('latin1') === 'sentence1';
          if (labelled) await readLabelledPairs(at('in.csv'));
          else await prepare({ input: at('in.csv'), output: at(`out-${n++ % 4}.arrow`), negative: ['negative'] });
        },
      };
    },
    async arrow() {
      writeFileSync(at('seed.jsonl'), pairsJsonl.repeat(3));
      await prepare({ input: at('seed.jsonl'), output: at('pairs.arrow'), negative: ['negative'], batchRows: 4 });
      writeFileSync(at('seed.csv'), labelledCsv);
      await prepare({ input: at('seed.csv'), output: at('labelled.arrow'), kind: 'labelled', text1: 'sentence1', text2: 'sentence2', batchRows: 2 });
      const pairs = readFileSync(at('pairs.arrow'));
      return {
        seeds: [pairs, readFileSync(at('labelled.arrow'))],
        read: async (bytes) => {
          writeFileSync(at('in.arrow'), bytes);
          if (bytes.indexOf('anchor') >= 0) {
            await drain(readPairBatches({ path: at('in.arrow') }));
            await drain(readColumnBatches({ path: at('in.arrow'), columns: ['anchor', 'positive', 'negative'] }));
          } else await drain(readColumnBatches({ path: at('in.arrow'), columns: ['text1', 'text2'], score: 'score' }));
        },
      };
    },
    async safetensors() {
      const small = encodeSafetensors(
        {
          'a.weight': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-3, 7]) },
          'b.half': { dtype: 'F16', shape: [4], data: Float32Array.from([1, 0.5, -2, 65504]) },
          'c.bf16': { dtype: 'BF16', shape: [2, 1], data: Float32Array.from([1, -1]) },
          'd.ids': { dtype: 'I64', shape: [3], data: BigInt64Array.from([0n, 1n, 2n]) },
          'e.i32': { dtype: 'I32', shape: [1, 1, 2], data: Int32Array.from([5, -5]) },
        },
        { format: 'pt', step: '3' },
      );
      return {
        seeds: [Buffer.from(small)],
        read: async (bytes) => {
          decodeSafetensors(bytes, 'fuzz.safetensors');
          writeFileSync(at('in.safetensors'), bytes);
          await readSafetensors(at('in.safetensors'));
          const file = await openSafetensors(at('in.safetensors'));
          try {
            for (const s of file.specs) await file.read(s.name);
          } finally {
            await file.close();
          }
        },
      };
    },
    async tokenizer() {
      const tok = readFileSync(join(MODEL, 'tokenizer.json'));
      return {
        seeds: [tok],
        read: async (bytes) => {
          writeFileSync(at('tokenizer.json'), bytes);
          const t = await TextTokenizer.load(at('tokenizer.json'));
          t.encode(['a cat sat', 'квант 🤖', ''], { maxLength: 16 });
        },
      };
    },
    async recipe() {
      copyFileSync('configs/tiny.json', at('recipe.json'));
      return {
        seeds: [readFileSync('configs/tiny.json'), readFileSync('configs/user.json')],
        read: async (bytes) => {
          writeFileSync(at('recipe.json'), bytes);
          loadTrainConfig(at('recipe.json'));
        },
      };
    },
    async 'model-folder'() {
      // config.json, sentence_bert_config.json, modules.json and 1_Pooling/config.json of a real folder, one mutated at a time
      const files = ['config.json', 'sentence_bert_config.json', 'modules.json', '1_Pooling/config.json', 'config_sentence_transformers.json'];
      const dir = at('model');
      mkdirSync(dir, { recursive: true });
      cpSync(MODEL, dir, { recursive: true });
      const originals = files.map((f) => readFileSync(join(MODEL, f)));
      // the seed is the file's name and its bytes, so a mutation knows which file it edits
      return {
        seeds: files.map((f, i) => Buffer.concat([Buffer.from(`${f}\0`), originals[i]])),
        read: async (bytes) => {
          const nul = bytes.indexOf(0);
          const name = files.find((f) => nul > 0 && bytes.subarray(0, nul).toString('latin1') === f);
          for (const [i, f] of files.entries()) writeFileSync(join(dir, f), originals[i]);
          if (!name) return; // the mutation hit the file name: nothing to read
          writeFileSync(join(dir, name), bytes.subarray(nul + 1));
          await readModelFolder(dir);
        },
      };
    },
  };
}

const port = parentPort!;
const all = await targets();
const target = await all[job.target]();
const tally = { parsed: 0, refused: 0 };
const first = job.only ?? 0;
const last = job.only ?? job.cases - 1;
for (let i = first; i <= last; i++) {
  const { bytes, description } = mutate(target.seeds, job.seed, job.target, i);
  port.postMessage({ type: 'case', i, description });
  if (process.env.FUZZ_DUMP) writeFileSync(process.env.FUZZ_DUMP, bytes); // the input of the case being reproduced, to debug it
  try {
    await target.read(bytes);
    tally.parsed++;
  } catch (e) {
    if (e instanceof UserError) {
      tally.refused++;
      continue;
    }
    const err = e as Error;
    port.postMessage({ type: 'bad', i, description, error: `${err?.constructor?.name}: ${err?.message}\n${err?.stack ?? ''}`, input: bytes.length <= 4096 ? bytes.toString('base64') : undefined });
  }
}
port.postMessage({ type: 'done', tally });
