/**
 * `train` killed with SIGKILL ten times, each time resumed with `--resume`, ends with weights bit for bit
 * equal to an uninterrupted run's (cpu backend), and with metrics.jsonl holding each step once with the
 * uninterrupted run's losses. A checkpoint is written after every step. Where each kill is aimed is drawn
 * from a seeded PRNG (SIGKILL_SEED reproduces the schedule): during start-up or at a random time
 * (milliseconds drawn), the moment the nth temp checkpoint folder appears (a checkpoint write under way),
 * or the first half-written metrics line seen after a drawn delay (appends are split in two by the
 * CONTRASTIVE_TEST_APPEND_PAUSE_MS test hook so that there is a moment to aim at). After each kill the
 * test records where it landed (a temp checkpoint folder left behind = during a checkpoint write; a
 * metrics line without its newline = during an append) and prints the log.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { train } from '../../src/train/trainer.js';
import { Rng } from '../../src/util/rng.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir, tinyPairs, tinyConfig } from '../helpers/tiny-run.js';

await useBackend('cpu');
const SEED = Number(process.env.SIGKILL_SEED ?? 424242);
const KILLS = 10;
/** Each metrics append is split in two writes this far apart (CONTRASTIVE_TEST_APPEND_PAUSE_MS, a test hook in util/fs.ts), so a kill can land inside one. */
const APPEND_PAUSE_MS = 40;
const root = await tempDir('contrastive-sigkill-');
after(() => rm(root, { recursive: true, force: true }));
const pairs = await tinyPairs(root);
const config = tinyConfig(pairs, { train: { batchSize: 4, maxSteps: 24, checkpointEvery: 1 } }); // 6 batches an epoch: 4 epochs
const recipe = join(root, 'recipe.json');
writeFileSync(recipe, JSON.stringify(config));

type Aim =
  | { at: 'startup'; ms: number } // ms after the spawn: loading, reading the data, the first step
  | { at: 'anytime'; ms: number } // ms after the first step line
  | { at: 'checkpoint'; nth: number } // the moment the nth temp checkpoint folder of this run appears
  | { at: 'append'; afterMs: number }; // the first half-written metrics line seen afterMs after the first step line

/** One `train` run of the CLI, killed with SIGKILL where `aim` says (watching its folder every 2 ms for checkpoint/append). */
function runTrain(output: string, resume: boolean, aim?: Aim): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const args = ['dist/src/cli/main.js', 'train', '--config', recipe, '--output', output, '--backend', 'cpu', ...(resume ? ['--resume'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CONTRASTIVE_DEBUG: '1', CONTRASTIVE_TEST_APPEND_PAUSE_MS: String(APPEND_PAUSE_MS) } });
  let stderr = '';
  let stepped = 0;
  const timers: NodeJS.Timeout[] = [];
  const kill = () => child.kill('SIGKILL');
  const seen = new Set<string>();
  const watch = (check: () => boolean) => {
    const t = setInterval(() => {
      if (check()) {
        kill();
        clearInterval(t);
      }
    }, 2);
    timers.push(t);
  };
  if (aim?.at === 'startup') timers.push(setTimeout(kill, aim.ms));
  if (aim?.at === 'checkpoint') {
    watch(() => {
      for (const n of existsSync(output) ? readdirSync(output) : []) if (n.startsWith('.checkpoint-')) seen.add(n);
      return seen.size >= aim.nth;
    });
  }
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    if (stepped++ === 0 && /step \d+\/\d+/.test(stderr)) {
      if (aim?.at === 'anytime') timers.push(setTimeout(kill, aim.ms));
      if (aim?.at === 'append') {
        const from = Date.now() + aim.afterMs;
        watch(() => Date.now() >= from && !readFileSync(join(output, 'metrics.jsonl'), 'utf8').endsWith('\n'));
      }
    } else if (!/step \d+\/\d+/.test(stderr)) stepped = 0;
  });
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      for (const t of timers) clearInterval(t);
      resolve({ code, signal, stderr });
    }),
  );
}

const lossLines = (run: string) =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; loss?: number | string })
    .filter((l) => 'loss' in l)
    .map((l) => `${l.step}:${l.loss}`);

test(`train killed with SIGKILL ${KILLS} times at seeded random moments (seed ${SEED}) and resumed each time ends bit for bit as an uninterrupted run`, async (t) => {
  const reference = join(root, 'reference');
  await train({ config, output: reference });
  const want = readFileSync(join(reference, 'final', 'model.safetensors'));

  const run = join(root, 'killed');
  const rng = new Rng(SEED);
  const landed = { startup: 0, checkpointWrite: 0, metricsAppend: 0, elsewhere: 0, finished: 0 };
  const log: string[] = [];
  for (let k = 0; k < KILLS; k++) {
    const pick = rng.int(10);
    const aim: Aim =
      pick < 1 ? { at: 'startup', ms: 100 + rng.int(1200) }
      : pick < 4 ? { at: 'anytime', ms: rng.int(1500) }
      : pick < 7 ? { at: 'checkpoint', nth: 1 + rng.int(4) }
      : { at: 'append', afterMs: rng.int(800) };
    const state = () => ({
      temps: existsSync(run) ? readdirSync(run).filter((n) => n.startsWith('.')) : [],
      metrics: existsSync(join(run, 'metrics.jsonl')) ? readFileSync(join(run, 'metrics.jsonl'), 'utf8') : '',
    });
    const before = state(); // what earlier kills left (a run killed during start-up has not cleaned it yet)
    const r = await runTrain(run, existsSync(run), aim);
    if (r.signal !== 'SIGKILL') {
      assert.equal(r.code, 0, `run ${k} ended by itself but not cleanly:\n${r.stderr}`);
      landed.finished++;
      log.push(`${k}: ${JSON.stringify(aim)} → finished`);
      break;
    }
    const now = state();
    const temps = now.temps.filter((n) => !before.temps.includes(n));
    const torn = now.metrics !== before.metrics && now.metrics !== '' && !now.metrics.endsWith('\n');
    const where = temps.length ? 'checkpointWrite' : torn ? 'metricsAppend' : !/step \d+\/\d+/.test(r.stderr) ? 'startup' : 'elsewhere';
    landed[where]++;
    log.push(`${k}: ${JSON.stringify(aim)} → ${where}${temps.length ? ` (${temps.join(', ')})` : ''}`);
  }
  const last = await runTrain(run, existsSync(run));
  assert.equal(last.code, 0, last.stderr);
  t.diagnostic(`where the kills landed: ${JSON.stringify(landed)}\n${log.join('\n')}`);

  assert.ok(readFileSync(join(run, 'final', 'model.safetensors')).equals(want), 'final weights differ from the uninterrupted run');
  assert.deepEqual(lossLines(run), lossLines(reference), 'metrics.jsonl: each step once, with the uninterrupted run\'s losses');
  assert.deepEqual(readdirSync(run).filter((n) => n.startsWith('.')), [], 'no temp folders left');
  assert.ok(landed.checkpointWrite >= 1 && landed.metricsAppend >= 1, `the schedule must hit a checkpoint write and a metrics append at least once each: ${log.join('; ')}`);
});
