/**
 * Multi-dataset training: the epoch's dataset order (proportional / round-robin, as
 * sentence-transformers' samplers), resuming inside an epoch, and datasets checked against their loss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { epochOrder, epochLength, epochBatches, resolveDataset, type ResolvedDataset } from '../../src/train/datasets.js';
import { validateTrainConfig } from '../../src/train/config.js';
import { train } from '../../src/train/trainer.js';
import { readSafetensors } from '../../src/folder/safetensors.js';
import { prepare } from '../../src/data/prepare.js';
import { TextTokenizer } from '../../src/data/tokenizer.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend } from '../helpers/backend.js';
import { tempDir, tinyPairs, BUNDLED_TOKENIZER } from '../helpers/tiny-run.js';

await useBackend('cpu');
const root = await tempDir();
const pairs = await tinyPairs(root); // 24 pairs

/** 20 triplets in a second file. */
async function tinyTriplets(): Promise<string> {
  const rows = Array.from({ length: 20 }, (_, i) => JSON.stringify({ anchor: `query paper ${i}`, positive: `cited paper ${i}`, negative: `unrelated paper ${i}` }));
  await writeFile(join(root, 'triplets.jsonl'), rows.join('\n') + '\n');
  const out = join(root, 'triplets.arrow');
  await prepare({ input: join(root, 'triplets.jsonl'), output: out });
  return out;
}
const triplets = await tinyTriplets();

test('proportional: every batch of every dataset once per epoch, shuffled by (seed, epoch)', () => {
  const order = epochOrder([3, 5], 'proportional', 7, 0);
  assert.deepEqual([...order].sort(), [0, 0, 0, 1, 1, 1, 1, 1]);
  assert.deepEqual(epochOrder([3, 5], 'proportional', 7, 0), order, 'deterministic');
  const others = [1, 2, 3].map((e) => epochOrder([3, 5], 'proportional', 7, e).join(''));
  assert.ok(others.some((o) => o !== order.join('')), 'a new interleaving each epoch');
  assert.equal(epochLength([3, 5], 'proportional'), 8);
});

test('round_robin: alternate until the smallest dataset runs out', () => {
  assert.deepEqual(epochOrder([3, 5], 'round_robin', 7, 0), [0, 1, 0, 1, 0, 1]);
  assert.equal(epochLength([3, 5], 'round_robin'), 6);
});

async function resolved(): Promise<ResolvedDataset[]> {
  const config = validateTrainConfig(
    {
      tokenizer: BUNDLED_TOKENIZER,
      datasets: [
        { name: 'pairs', path: pairs },
        { name: 'cites', path: triplets, loss: { name: 'triplet' } },
      ],
    },
    'test',
  );
  const opts = { batchSize: 4, seed: 3, shuffleBuffer: 8 };
  return Promise.all(config.datasets.map((d, i) => resolveDataset(d, i, opts, 'test')));
}

test('each batch comes from one dataset with its own roles; skipping k batches yields the tail exactly', async () => {
  const datasets = await resolved();
  assert.deepEqual(datasets.map((d) => [d.name, d.batchesPerEpoch, Object.keys(d.read)]), [
    ['pairs', 6, ['anchor', 'positive']],
    ['cites', 5, ['anchor', 'positive', 'negative']],
  ]);
  const tokenizer = await TextTokenizer.load(BUNDLED_TOKENIZER);
  const run = async (skipBatches: number) => {
    const out: string[] = [];
    for await (const { dataset, batch, position } of epochBatches({
      datasets, sampling: 'proportional', tokenizer, maxLength: 12, epoch: 1, skipBatches, batchSize: 4, seed: 3, shuffleBuffer: 8,
    })) {
      assert.deepEqual(Object.keys(batch.columns).sort(), Object.keys(dataset.read).sort());
      out.push(`${position}:${dataset.name}:${[...batch.columns.anchor.inputIds.slice(0, 6)].join(',')}`);
    }
    return out;
  };
  const all = await run(0);
  assert.equal(all.length, 11);
  assert.deepEqual(await run(4), all.slice(4));
});

test('a dataset whose file lacks the columns its loss needs is a one-line error listing what is there', async () => {
  const config = validateTrainConfig({ tokenizer: BUNDLED_TOKENIZER, datasets: [{ name: 'p', path: pairs, loss: { name: 'triplet' } }] }, 'c.json');
  await assert.rejects(resolveDataset(config.datasets[0], 0, { batchSize: 4, seed: 1, shuffleBuffer: 4 }, 'c.json'), (e: Error) =>
    e instanceof UserError &&
    /^c\.json: datasets\[0\]: .*pairs\.arrow lacks negative for loss triplet, which needs anchor, positive, negative; the file has anchor, positive$/.test(e.message),
  );
  const cosent = validateTrainConfig({ tokenizer: BUNDLED_TOKENIZER, datasets: [{ path: pairs, loss: { name: 'cosent' } }] }, 'c.json');
  await assert.rejects(resolveDataset(cosent.datasets[0], 0, { batchSize: 4, seed: 1, shuffleBuffer: 4 }, 'c.json'), /needs text1, text2, score/);
});

test('a two-dataset run stopped mid-epoch and resumed ends with the weights of an uninterrupted run', async () => {
  const config = () =>
    validateTrainConfig(
      {
        seed: 5,
        tokenizer: BUNDLED_TOKENIZER,
        model: { hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 32 },
        datasets: [
          { name: 'pairs', path: pairs },
          { name: 'cites', path: triplets, loss: { name: 'triplet' } },
        ],
        data: { maxLength: 16, shuffleBuffer: 8 },
        train: { batchSize: 4, maxSteps: 14, lr: 1e-3 },
      },
      'test',
    );
  await train({ config: config(), output: join(root, 'straight') });
  await train({ config: config(), output: join(root, 'split'), stopAfter: 5 });
  await train({ config: config(), output: join(root, 'split'), resume: true });
  const a = await readSafetensors(join(root, 'straight', 'final', 'model.safetensors'));
  const b = await readSafetensors(join(root, 'split', 'final', 'model.safetensors'));
  for (const [name, t] of Object.entries(a.tensors)) assert.deepEqual(b.tensors[name].data, t.data, name);
});
