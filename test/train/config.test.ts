/** Recipe validation: unknown keys and values are one-line errors that list what is valid. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateTrainConfig, loadTrainConfig } from '../../src/train/config.js';
import { validateModelConfig } from '../../src/model/config.js';
import { loadPipelineConfig } from '../../src/pipeline/config.js';
import { UserError } from '../../src/util/errors.js';

const base = { tokenizer: 't.json', data: { train: 'x.arrow' } };

test('defaults fill in a minimal recipe', () => {
  const c = validateTrainConfig(base, 'c.json');
  assert.equal(c.datasets.length, 1);
  assert.deepEqual(c.datasets[0].loss, { name: 'infonce', scale: 20, symmetric: false, similarity: 'cosine' });
  assert.equal(c.datasets[0].noDuplicates, true);
  assert.equal(c.data.sampling, 'proportional');
  assert.equal(c.train.batchSize, 32);
  assert.equal(c.seed, 42);
});

test('errors name the file and key and list valid values', () => {
  const expectError = (raw: unknown, pattern: RegExp) =>
    assert.throws(() => validateTrainConfig(raw, 'c.json'), (e: Error) => e instanceof UserError && pattern.test(e.message) && !e.message.includes('\n'));
  expectError({ ...base, loss: { name: 'hinge' } }, /^c\.json: loss\.name: unknown loss "hinge"; valid: infonce, angle, cosent, triplet/);
  expectError({ ...base, loss: { name: 'triplet', scale: 3 } }, /loss\.scale: unknown key; valid keys: name, margin, distance$/);
  expectError({ ...base, loss: { name: 'triplet', distance: 'manhattan' } }, /distance: "manhattan" is not valid; valid: l2, cosine/);
  expectError({ ...base, loss: { name: 'infonce', scale: 0 } }, /scale: must be a number > 0/);
  expectError({ ...base, train: { batchSize: 8, miniBatchSize: 16 } }, /train\.miniBatchSize: 16 is larger than train\.batchSize 8; valid: 1\.\.8/);
  expectError({ ...base, data: { train: 'x.arrow', sampling: 'random' } }, /data\.sampling: unknown sampling "random"; valid: proportional, round_robin/);
  expectError({ tokenizer: 't.json', datasets: [{ path: 'a.arrow', columns: { query: 'q' } }] }, /datasets\[0\]\.columns\.query: unknown role/);
  expectError({ tokenizer: 't.json', datasets: [{ name: 'a', path: 'a.arrow' }, { name: 'a', path: 'b.arrow' }] }, /duplicate dataset name "a"/);
  expectError({ ...base, datasets: [{ path: 'a.arrow' }] }, /either datasets: \[\.\.\.\] or data\.train/);
  expectError({ ...base, train: { lr: 'fast' } }, /^c\.json: train\.lr: must be a number/);
  expectError({ ...base, train: { batchsize: 8 } }, /train\.batchsize: unknown key; valid keys: batchSize, .*; did you mean `batchSize`\?$/);
  expectError({ ...base, bogus: 1 }, /bogus: unknown key/);
  expectError({ tokenizer: 't.json' }, /data\.train: required: a non-empty string \(or use datasets/);
  assert.throws(() => validateModelConfig({ pooling: 'max' }, 'c.json', 100), /model\.pooling: unknown pooling "max"; valid: mean, cls/);
});

test('datasets: per-dataset loss, prompts and columns; noDuplicates defaults to the loss', () => {
  const c = validateTrainConfig(
    {
      tokenizer: 't.json',
      datasets: [
        { name: 'pairs', path: 'p.arrow', prompts: { anchor: 'query: ', positive: 'passage: ' } },
        { name: 'cites', path: 'c.arrow', loss: { name: 'triplet' }, columns: { anchor: 'query' } },
      ],
      data: { sampling: 'round_robin' },
    },
    'c.json',
  );
  assert.deepEqual(c.datasets.map((d) => [d.name, d.loss.name, d.noDuplicates]), [['pairs', 'infonce', true], ['cites', 'triplet', false]]);
  assert.deepEqual(c.datasets[0].prompts, { anchor: 'query: ', positive: 'passage: ' });
  assert.deepEqual(c.datasets[1].columns, { anchor: 'query' });
  assert.deepEqual(c.datasets[1].loss, { name: 'triplet', margin: 1, distance: 'l2' });
});

test('unreadable and non-JSON config files are one-line errors naming the file', () => {
  assert.throws(() => loadTrainConfig('configs/does-not-exist.json'), /configs\/does-not-exist\.json: cannot read config \(ENOENT\)/);
  const dir = mkdtempSync(join(tmpdir(), 'contrastive-config-'));
  writeFileSync(join(dir, 'broken.json'), '{"seed": 1,');
  assert.throws(() => loadTrainConfig(join(dir, 'broken.json')), /broken\.json: not valid JSON/);
  writeFileSync(join(dir, 'list.json'), '[1, 2]');
  assert.throws(() => loadTrainConfig(join(dir, 'list.json')), (e: Error) => e instanceof UserError && /list\.json: a config must be a JSON object/.test(e.message));
});

test('every bundled recipe in configs/ validates (pipelines as pipelines; train refuses them with the command to use)', () => {
  for (const f of readdirSync('configs').filter((n) => n.endsWith('.json'))) {
    const path = `configs/${f}`;
    if ('stages' in JSON.parse(readFileSync(path, 'utf8'))) {
      loadPipelineConfig(path);
      assert.throws(() => loadTrainConfig(path), /is a pipeline \(it has stages\); run it with `contrastive pipeline --config/);
    } else {
      loadTrainConfig(path);
    }
  }
});
