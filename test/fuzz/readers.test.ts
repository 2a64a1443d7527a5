/**
 * Fuzz every reader of user files with seeded mutations of well-formed inputs (test/fuzz/mutate.ts):
 * JSONL and CSV pairs (through `prepare`), labelled CSV, Arrow (pairs and labelled), safetensors
 * (whole-file and by-tensor readers), tokenizer.json, the recipe config and a model folder's JSON files
 * (config.json, sentence_bert_config.json, modules.json, 1_Pooling/config.json, config_sentence_transformers.json).
 *
 * Each case must either parse or throw the toolkit's UserError (a one-line message the CLI prints with
 * exit 2) — never another exception, never a hang: the readers run in a worker whose every case is timed
 * by a watchdog here (CASE_MS), and whose heap is capped (an allocation bomb ends the worker).
 *
 * Reproduce: the seed is printed; FUZZ_SEED=<seed> FUZZ_TARGET=<target> FUZZ_CASE=<i> runs one case.
 * FUZZ_CASES scales the number of cases per target.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tiny-run.js';
import type { FuzzJob } from './fuzz-worker.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const CASES = Number(process.env.FUZZ_CASES ?? 800);
const ONLY_TARGET = process.env.FUZZ_TARGET;
const ONLY_CASE = process.env.FUZZ_CASE === undefined ? undefined : Number(process.env.FUZZ_CASE);
const CASE_MS = 5_000;
const TARGETS: Record<string, number> = { jsonl: CASES, csv: CASES, arrow: CASES, safetensors: CASES, tokenizer: Math.round(CASES / 2), recipe: CASES, 'model-folder': CASES };

const root = await tempDir('contrastive-fuzz-');
after(() => rm(root, { recursive: true, force: true }));
process.stdout.write(`# fuzz seed ${SEED} (FUZZ_SEED=${SEED} reproduces), ${CASES} cases per target\n`);

interface Bad {
  i: number;
  description: string;
  error: string;
  input?: string;
}

function fuzz(target: string, cases: number): Promise<{ tally?: { parsed: number; refused: number }; bad: Bad[]; hung?: { i: number; description: string; why: string } }> {
  const dir = join(root, target);
  mkdirSync(dir, { recursive: true });
  const job: FuzzJob = { target, seed: SEED, cases, dir, only: ONLY_CASE };
  const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: 512 } });
  const bad: Bad[] = [];
  let current = { i: -1, description: '(loading the worker)' };
  return new Promise((resolve) => {
    let settled = false;
    const finish = (value: Parameters<typeof resolve>[0]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(value);
    };
    let timer = setTimeout(() => finish({ bad, hung: { ...current, why: 'no answer' } }), 30_000); // the first case: imports and seeds
    worker.on('message', (m: { type: string; i: number; description: string; error: string; input?: string; tally: { parsed: number; refused: number } }) => {
      if (m.type === 'case') {
        current = { i: m.i, description: m.description };
        clearTimeout(timer);
        timer = setTimeout(() => finish({ bad, hung: { ...current, why: `no answer within ${CASE_MS} ms` } }), CASE_MS);
      } else if (m.type === 'bad') bad.push(m);
      else if (m.type === 'done') finish({ tally: m.tally, bad });
    });
    worker.on('error', (e) => finish({ bad, hung: { ...current, why: `the worker died: ${e.message}` } }));
    worker.on('exit', (code) => finish({ bad, hung: { ...current, why: `the worker exited with code ${code}` } }));
  });
}

for (const [target, cases] of Object.entries(TARGETS)) {
  if (ONLY_TARGET && target !== ONLY_TARGET) continue;
  test(`${target}: ${ONLY_CASE ?? cases} mutated inputs parse or are a UserError, never another error or a hang (seed ${SEED})`, async (t) => {
    const r = await fuzz(target, cases);
    const repro = (i: number) => `FUZZ_SEED=${SEED} FUZZ_TARGET=${target} FUZZ_CASE=${i} node --test dist/test/fuzz/readers.test.js`;
    if (r.hung) assert.fail(`case ${r.hung.i} (${r.hung.description}): ${r.hung.why}\nreproduce: ${repro(r.hung.i)}`);
    if (r.bad.length) {
      const shown = r.bad.slice(0, 5).map((b) => `case ${b.i} (${b.description}):\n${b.error.split('\n').slice(0, 6).join('\n')}\n${b.input ? `input (base64): ${b.input}\n` : ''}reproduce: ${repro(b.i)}`);
      assert.fail(`${r.bad.length} of ${cases} cases threw something other than a UserError:\n\n${shown.join('\n\n')}`);
    }
    t.diagnostic(`${r.tally!.parsed} parsed, ${r.tally!.refused} refused with a UserError`);
    if (ONLY_CASE === undefined) assert.ok(r.tally!.refused > cases / 10, `mutations too mild to test anything: ${JSON.stringify(r.tally)}`);
  });
}
