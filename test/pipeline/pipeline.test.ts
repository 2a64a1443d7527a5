/**
 * contrastive pipeline: a small USER-shaped pipeline (base → two fine-tunes → automatic merge → ONNX →
 * eval) killed with SIGKILL inside and between stages and started again ends byte for byte where an
 * uninterrupted run ends; the plan says what is done; bad configs are one-line errors naming the key.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validatePipelineConfig } from '../../src/pipeline/config.js';
import { pipelineIter, type PlannedStage } from '../../src/pipeline/run.js';
import { UserError } from '../../src/util/errors.js';
import { BUNDLED_TOKENIZER, tempDir, tinyPairs } from '../helpers/tiny-run.js';

const BIN = 'dist/src/cli/main.js';
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const model = { hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 32 };
const optim = { batchSize: 4, lr: 1e-3, warmupRatio: 0.2, checkpointEvery: 1 };

function pipeline(pairs: string): Record<string, unknown> {
  return {
    name: 'small',
    stages: [
      {
        name: 'base',
        train: { seed: 7, tokenizer: BUNDLED_TOKENIZER, model, data: { train: pairs, maxLength: 16, shuffleBuffer: 8 }, loss: { name: 'infonce' }, train: { ...optim, maxSteps: 4 } },
      },
      {
        name: 'asym',
        from: 'base',
        train: {
          seed: 8,
          datasets: [{ name: 'pairs', path: pairs, loss: { name: 'infonce' }, prompts: { anchor: 'query: ', positive: 'passage: ' } }],
          data: { maxLength: 16, shuffleBuffer: 8 },
          train: { ...optim, maxSteps: 3 },
        },
      },
      {
        name: 'sym',
        from: 'base',
        train: {
          seed: 9,
          datasets: [{ name: 'sts', path: 'data/sts-train.arrow', loss: { name: 'angle', ibnW: 0 }, prompts: { text1: 'query: ', text2: 'query: ' } }],
          data: { maxLength: 16, shuffleBuffer: 8 },
          train: { ...optim, maxSteps: 3 },
        },
      },
      { name: 'merged', merge: { models: ['asym', 'sym'], exampleData: pairs, maxExamples: 8 } },
      { name: 'onnx', export: { model: 'merged', quantize: false } },
      { name: 'eval', eval: { models: ['sym', 'asym', 'merged'], data: ['data/sts-eval.arrow', pairs] } },
    ],
  };
}

/** Every output that must not depend on interruptions. */
async function outputs(run: string): Promise<Record<string, Buffer>> {
  const files = ['base/final/model.safetensors', 'asym/final/model.safetensors', 'sym/final/model.safetensors', 'merged/model.safetensors', 'onnx/onnx/model.onnx', 'eval/metrics.json'];
  return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(run, f))] as const)));
}

/** Run the CLI; SIGKILL it when a stderr line matches `killAt`. Resolves with how it ended. */
function runCli(args: string[], killAt?: RegExp): Promise<{ code: number | null; killed: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killed = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (killAt && !killed && killAt.test(stderr)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('close', (code) => resolve({ code, killed, stderr }));
  });
}

test('killed inside and between stages and started again, a pipeline ends byte for byte as an uninterrupted one', async () => {
  const root = await tempDir('contrastive-pipeline-');
  dirs.push(root);
  const pairs = await tinyPairs(root);
  const configPath = join(root, 'small.json');
  await writeFile(configPath, JSON.stringify(pipeline(pairs)));
  const args = (out: string) => ['pipeline', '--config', configPath, '--output', out, '--backend', 'cpu'];

  // Given: an uninterrupted run
  const whole = join(root, 'whole');
  const clean = await runCli(args(whole));
  assert.equal(clean.code, 0, clean.stderr);
  const want = await outputs(whole);

  // When: the same pipeline is killed inside a train stage (after a checkpoint, and before the first one of
  // another), inside the merge, between stages, and started again each time
  const split = join(root, 'split');
  const kills = [/asym: saved .*checkpoint-2/, /stage sym \(train\): running/, /stage merged \(merge\): running/, /stage onnx done/];
  for (const at of kills) {
    const r = await runCli(args(split), at);
    assert.ok(r.killed, `the run reached ${at} before it ended:\n${r.stderr}`);
  }
  const rest = await runCli(args(split));
  assert.equal(rest.code, 0, rest.stderr);
  assert.match(rest.stderr, /done +base .*\n.*done +asym/);
  assert.match(rest.stderr, /done +merged/);

  // Then: every model, the ONNX file and the metrics are identical, and no temp folder is left
  const got = await outputs(split);
  for (const [file, bytes] of Object.entries(want)) assert.ok(bytes.equals(got[file]), `${file} differs from the uninterrupted run`);
  assert.deepEqual(readdirSync(split).filter((n) => n.startsWith('.')), []);

  // and a finished pipeline started again does nothing
  const again = await runCli(args(split));
  assert.match(again.stderr, /ran: nothing, all done/);
});

test('the plan says what is done, what resumes and what runs; a changed stage is refused, naming it', async () => {
  const root = await tempDir('contrastive-pipeline-plan-');
  dirs.push(root);
  const pairs = await tinyPairs(root);
  const cfg = pipeline(pairs);
  const out = join(root, 'run');
  const configPath = join(root, 'p.json');
  await writeFile(configPath, JSON.stringify(cfg));
  // run up to the middle of asym
  const r = await runCli(['pipeline', '--config', configPath, '--output', out, '--backend', 'cpu'], /asym: saved .*checkpoint-1/);
  assert.ok(r.killed);
  const plan = async (config: Record<string, unknown>): Promise<PlannedStage[]> => {
    for await (const e of pipelineIter({ config: validatePipelineConfig(config, 'p.json'), output: out, planOnly: true })) if (e.type === 'plan') return e.stages;
    throw new Error('no plan');
  };
  const stages = await plan(cfg);
  assert.deepEqual(stages.map((s) => [s.name, s.status]), [['base', 'done'], ['asym', 'resume'], ['sym', 'run'], ['merged', 'run'], ['onnx', 'run'], ['eval', 'run']]);
  assert.match(stages[1].detail, /resumes at step 1/);
  // the CLI prints the same plan without running anything
  const printed = spawnSync(process.execPath, [BIN, 'pipeline', '--config', configPath, '--output', out, '--plan'], { encoding: 'utf8' });
  assert.equal(printed.status, 0, printed.stderr);
  assert.match(printed.stderr, /done +base +train/);
  assert.match(printed.stderr, /resume +asym +train .*resumes at step 1/);
  assert.doesNotMatch(printed.stderr, /backend:/);
  // a stage that completed with another definition is refused
  const changed = structuredClone(cfg) as { stages: Array<{ train?: { train: { maxSteps: number } } }> };
  changed.stages[0].train!.train.maxSteps = 5;
  await assert.rejects(plan(changed as unknown as Record<string, unknown>), (e: unknown) => e instanceof UserError && /base: stage "base" ran with another definition/.test(e.message));
  assert.ok(existsSync(join(out, 'base', 'final')));
});

test('pipeline configs: errors name the file and the stage key, and list what is valid', () => {
  const bad = (config: unknown, pattern: RegExp) =>
    assert.throws(() => validatePipelineConfig(config, 'p.json'), (e: unknown) => e instanceof UserError && pattern.test(e.message), String(pattern));
  const train = { tokenizer: BUNDLED_TOKENIZER, model, data: { train: 'x.arrow' } };
  bad({ stages: [] }, /p\.json: stages: must be a non-empty list/);
  bad({ stages: [{ name: 'a', train, merge: {} }] }, /stages\[0\]: needs exactly one of train, merge, export, eval, got train and merge/);
  bad({ stages: [{ name: 'a', train }, { name: 'a', train }] }, /stages\[1\]\.name: duplicate stage name "a"/);
  bad({ stages: [{ name: 'a/b', train }] }, /is not a folder name/);
  bad({ stages: [{ name: 'a', from: 'z', train }] }, /stages\[0\]\.from: "z" is not an earlier stage; earlier model stages: \(none\)/);
  bad({ stages: [{ name: 'a', train }, { name: 'b', from: 'a', train: { model: { hiddenSize: 8 }, data: { train: 'x.arrow' } } }] }, /model\.hiddenSize: cannot be set together with model\.from/);
  bad({ stages: [{ name: 'a', train }, { name: 'm', merge: { models: ['a'] } }] }, /stages\[1\]\.merge\.models: must be a list of at least 2 names/);
  bad({ stages: [{ name: 'a', train }, { name: 'e', eval: { models: ['a'], data: ['d.arrow'] } }, { name: 'x', export: { model: 'e' } }] }, /"e" is a eval stage, not a model; model stages: a/);
  bad({ stages: [{ name: 'a', train }, { name: 'm', merge: { models: ['a', 'a'], temprature: 5 } }] }, /merge\.temprature: unknown key; valid keys: models, weights, exampleData/);
  bad({ stages: [{ name: 'a', train: { ...train, train: { lr: -1 } } }] }, /stages\[0\]\.train: train\.lr: must be a number ≥ 0, got -1/);
});
