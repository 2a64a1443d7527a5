/** Recipe validation: unknown keys and values are one-line errors that list what is valid. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateTrainConfig, loadTrainConfig } from '../../src/train/config.js';
import { validateModelConfig } from '../../src/model/config.js';
import { UserError } from '../../src/util/errors.js';

const base = { tokenizer: 't.json', data: { train: 'x.arrow' } };

test('defaults fill in a minimal recipe', () => {
  const c = validateTrainConfig(base, 'c.json');
  assert.equal(c.loss.scale, 20);
  assert.equal(c.train.batchSize, 32);
  assert.equal(c.seed, 42);
});

test('errors name the file and key and list valid values', () => {
  const expectError = (raw: unknown, pattern: RegExp) =>
    assert.throws(() => validateTrainConfig(raw, 'c.json'), (e: Error) => e instanceof UserError && pattern.test(e.message) && !e.message.includes('\n'));
  expectError({ ...base, loss: { name: 'hinge' } }, /^c\.json: loss\.name: unknown loss "hinge"; valid: infonce/);
  expectError({ ...base, train: { lr: 'fast' } }, /^c\.json: train\.lr: must be a number/);
  expectError({ ...base, train: { batchsize: 8 } }, /train\.batchsize: unknown key; valid keys: batchSize/);
  expectError({ ...base, bogus: 1 }, /bogus: unknown key/);
  expectError({ tokenizer: 't.json' }, /data\.train: must be a non-empty string/);
  assert.throws(() => validateModelConfig({ pooling: 'max' }, 'c.json', 100), /model\.pooling: unknown pooling "max"; valid: mean, cls/);
});

test('unreadable and non-JSON config files are one-line errors naming the file', () => {
  assert.throws(() => loadTrainConfig('configs/does-not-exist.json'), /configs\/does-not-exist\.json: cannot read config \(ENOENT\)/);
  const dir = mkdtempSync(join(tmpdir(), 'contrastive-config-'));
  writeFileSync(join(dir, 'broken.json'), '{"seed": 1,');
  assert.throws(() => loadTrainConfig(join(dir, 'broken.json')), /broken\.json: not valid JSON/);
  writeFileSync(join(dir, 'list.json'), '[1, 2]');
  assert.throws(() => loadTrainConfig(join(dir, 'list.json')), (e: Error) => e instanceof UserError && /list\.json: a config must be a JSON object/.test(e.message));
});

test('every bundled recipe in configs/ validates', () => {
  for (const f of readdirSync('configs').filter((n) => n.endsWith('.json'))) loadTrainConfig(`configs/${f}`);
});
