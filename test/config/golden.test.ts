/**
 * The zod schemas keep every default of the hand-written validators they replaced: the validated form
 * of each bundled config and of a few minimal ones equals what those validators produced, recorded in
 * test/fixtures/config-golden/validated.json before the switch (at 007b67b). Recipes and pipelines are
 * compared as JSON text, key order included: `--resume` and pipeline reruns compare them as text with
 * what earlier runs recorded. Model configs are compared as values.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { validateTrainConfig } from '../../src/train/config.js';
import { validatePipelineConfig } from '../../src/pipeline/config.js';
import { validateModelConfig, validateModelFrom } from '../../src/model/config.js';

const golden = JSON.parse(readFileSync('test/fixtures/config-golden/validated.json', 'utf8')) as Record<string, string>;

test('every bundled config validates to what the hand-written validators gave, defaults and key order included', () => {
  for (const f of readdirSync('configs').filter((n) => n.endsWith('.json'))) {
    const raw = JSON.parse(readFileSync(`configs/${f}`, 'utf8'));
    if (raw.stages) {
      assert.equal(JSON.stringify(validatePipelineConfig(raw, `configs/${f}`)), golden[f], f);
      continue;
    }
    const c = validateTrainConfig(raw, `configs/${f}`);
    assert.equal(JSON.stringify(c), golden[f], f);
    if (!c.model.from) assert.deepEqual(validateModelConfig(c.model, f, 1000), JSON.parse(golden[`${f}#model`]), `${f} model`);
  }
});

test('minimal recipes get the same defaults as before', () => {
  assert.equal(JSON.stringify(validateTrainConfig({ tokenizer: 't.json', data: { train: 'x.arrow' } }, 'c.json')), golden.minimal);
  const all = { tokenizer: 't.json', datasets: ['infonce', 'angle', 'cosent', 'triplet'].map((name, i) => ({ path: `d${i}.arrow`, loss: { name } })) };
  assert.equal(JSON.stringify(validateTrainConfig(all, 'c.json')), golden['minimal-all-losses']);
  assert.equal(JSON.stringify(validateTrainConfig({ model: { from: 'x' }, data: { train: 'x.arrow', eval: 'e.arrow' } }, 'c.json')), golden.from);
  for (const t of ['bert', 'xlm-roberta', 'deberta']) assert.deepEqual(validateModelConfig({ modelType: t }, 'c.json', 300), JSON.parse(golden[`model-${t}`]), t);
  assert.deepEqual(validateModelFrom({ from: 'f', pooling: 'cls', hiddenDropout: 0 }, 'c.json'), JSON.parse(golden['model-from']));
});
