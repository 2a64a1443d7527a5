/**
 * A run survives its own crash states and bad numbers: a torn metrics line, temp folders of killed
 * checkpoint writes, a checkpoint that lacks a file or has a damaged config (skipped, falling back to
 * the previous complete one), a run killed before its first checkpoint, NaN/Inf losses (updates
 * skipped, the run stopped after train.maxBadSteps naming the rows), and Ctrl-C (a resumable
 * checkpoint, exit 130, then an exact resume). Resumed runs end bit for bit as uninterrupted ones.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { train, trainIter, type TrainEvent } from '../../src/train/trainer.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir, tinyPairs, tinyConfig } from '../helpers/tiny-run.js';

await useBackend('cpu');
const root = await tempDir();
after(() => rm(root, { recursive: true, force: true }));
const pairs = await tinyPairs(root);
const config = () => tinyConfig(pairs, { train: { batchSize: 4, maxSteps: 6, checkpointEvery: 2 } });

const weights = (run: string) => readFile(join(run, 'final', 'model.safetensors'));
const reference = join(root, 'reference');
await train({ config: config(), output: reference });

async function events(opts: Parameters<typeof trainIter>[0]): Promise<TrainEvent[]> {
  const out: TrainEvent[] = [];
  for await (const e of trainIter(opts)) out.push(e);
  return out;
}

test('resume tolerates a torn metrics line and temp folders of killed writes, and ends bit for bit', async () => {
  const run = join(root, 'torn');
  await train({ config: config(), output: run, stopAfter: 4 });
  await appendFile(join(run, 'metrics.jsonl'), '{"step": 5, "loss": 0.12'); // killed mid-append
  await mkdir(join(run, '.checkpoint-6.tmp-4242-1700000000000'));
  await writeFile(join(run, '.checkpoint-6.tmp-4242-1700000000000', 'config.json'), '{');
  const evs = await events({ config: config(), output: run, resume: true });
  const start = evs[0] as Extract<TrainEvent, { type: 'start' }>;
  assert.match(start.notes.join('\n'), /removed .*\.checkpoint-6\.tmp-4242-1700000000000 \(left by a killed write\)/);
  assert.equal(start.startStep, 4);
  assert.deepEqual(await weights(run), await weights(reference));
  assert.deepEqual((await readdir(run)).filter((n) => n.startsWith('.')), []);
  const lines = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { step: number });
  assert.deepEqual(lines.filter((l) => 'loss' in l).map((l) => l.step), [1, 2, 3, 4, 5, 6]);
});

test('a checkpoint that lacks its optimizer file or has a damaged config is skipped, naming it; the previous one is used', async () => {
  for (const [damage, pattern] of [
    [(dir: string) => rm(join(dir, 'optimizer.safetensors')), /lacks optimizer\.safetensors/],
    [(dir: string) => writeFile(join(dir, 'training_config.json'), '{"seed": '), /training_config\.json: damaged: not valid JSON/],
  ] as const) {
    const run = join(root, `damaged-${String(pattern).length}`);
    await train({ config: config(), output: run, stopAfter: 4 }); // checkpoint-2 and checkpoint-4
    await damage(join(run, 'checkpoint-4'));
    const evs = await events({ config: config(), output: run, resume: true });
    const start = evs[0] as Extract<TrainEvent, { type: 'start' }>;
    assert.match(start.notes.join('\n'), new RegExp(`skipped .*checkpoint-4: .*${pattern.source}`));
    assert.equal(start.startStep, 2);
    assert.deepEqual(await weights(run), await weights(reference));
  }
  // with no complete checkpoint at all, resume refuses and says why
  const run = join(root, 'all-damaged');
  await train({ config: config(), output: run, stopAfter: 2 });
  await rm(join(run, 'checkpoint-2', 'model.safetensors'));
  await assert.rejects(train({ config: config(), output: run, resume: true }), (e: unknown) => e instanceof UserError && /nothing to resume: no complete checkpoint \(.*checkpoint-2: lacks model\.safetensors\)/.test(e.message));
});

test('a run killed before its first checkpoint can be resumed (from step 0) or simply started again', async () => {
  for (const resume of [true, false]) {
    const run = join(root, `early-${resume}`);
    await mkdir(run, { recursive: true });
    await writeFile(join(run, 'metrics.jsonl'), '{"step":1,"loss":2.3}\n{"step":2,"lo');
    const evs = await events({ config: config(), output: run, resume });
    const start = evs[0] as Extract<TrainEvent, { type: 'start' }>;
    assert.equal(start.startStep, 0);
    if (resume) assert.match(start.notes.join('\n'), /no checkpoint yet .*starting from step 0/);
    assert.deepEqual(await weights(run), await weights(reference));
  }
  await assert.rejects(train({ config: config(), output: join(root, 'never-ran'), resume: true }), /nothing to resume: the folder does not exist/);
});

test('NaN/Inf steps skip their update and are logged; more than train.maxBadSteps in a row stop the run naming the rows', async () => {
  const run = join(root, 'nan');
  const bad = tinyConfig(pairs, { train: { batchSize: 4, maxSteps: 12, lr: 1e36, warmupRatio: 0, maxBadSteps: 2, checkpointEvery: 1 } });
  const seen: TrainEvent[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of trainIter({ config: bad, output: run })) seen.push(e);
    })(),
    (e: unknown) => e instanceof UserError && /train\.maxBadSteps: the loss or gradient was NaN\/Inf for 3 steps in a row \(steps \d+–\d+, updates skipped\); the last batch was rows \d+(, \d+){3} of .*pairs\.arrow/.test(e.message),
  );
  const steps = seen.filter((e): e is Extract<TrainEvent, { type: 'step' }> => e.type === 'step');
  assert.deepEqual(steps.slice(-3).map((s) => s.skipped), [true, true, true]);
  // every metrics line parses (non-finite numbers are written as strings) and marks the skipped steps
  const lines = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { skipped?: boolean; loss: unknown });
  assert.equal(lines.filter((l) => l.skipped).length, 3);
  assert.ok(lines.filter((l) => l.skipped).every((l) => typeof l.loss === 'string' || !Number.isFinite(l.loss as number)));
});

test('Ctrl-C finishes the step, writes a resumable checkpoint, exits 130 saying how to resume; resuming ends bit for bit', async () => {
  const recipe = join(root, 'recipe.json');
  const slow = { ...config(), train: { ...config().train, maxSteps: 40, checkpointEvery: 0 } };
  await writeFile(recipe, JSON.stringify(slow));
  const whole = join(root, 'sig-whole');
  await train({ config: slow, output: whole });
  const run = join(root, 'sig');
  const child = spawn(process.execPath, ['dist/src/cli/main.js', 'train', '--config', recipe, '--output', run, '--backend', 'cpu'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let sent = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    if (!sent && /step 2\/40/.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /SIGINT: finishing this step and writing a checkpoint/);
  assert.match(stderr, /stopped at step \d+; resumable checkpoint .*checkpoint-\d+/);
  assert.match(stderr, new RegExp(`resume with: contrastive train --config .*recipe\\.json --output .*sig --resume`));
  assert.ok(!existsSync(join(run, 'final')));
  await train({ config: slow, output: run, resume: true });
  assert.deepEqual(await weights(run), await weights(whole));
});
