/** A tiny, fast training setup on a temp Arrow file made with the real `prepare`. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepare } from '../../src/data/prepare.js';
import { validateTrainConfig, type TrainConfig } from '../../src/train/config.js';

export const BUNDLED_TOKENIZER = 'data/tokenizer.json';

export async function tempDir(prefix = 'contrastive-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** 24 short pairs with shared words per topic, written to pairs.arrow in `dir`. */
export async function tinyPairs(dir: string): Promise<string> {
  const topics = ['graph neural networks', 'protein folding', 'soil chemistry', 'exoplanet transits', 'квантовые вычисления', 'морской лёд'];
  const lines: string[] = [];
  for (let i = 0; i < 24; i++) {
    const t = topics[i % topics.length];
    lines.push(JSON.stringify({ title: `${t} study ${i}`, abstract: `we study ${t} with method ${i} and report results on ${t}` }));
  }
  await writeFile(join(dir, 'pairs.jsonl'), lines.join('\n') + '\n');
  const out = join(dir, 'pairs.arrow');
  await prepare({ input: join(dir, 'pairs.jsonl'), output: out, anchor: 'title', positive: 'abstract' });
  return out;
}

export function tinyConfig(train: string, overrides: Partial<Record<'train' | 'model' | 'data', object>> = {}): TrainConfig {
  return validateTrainConfig(
    {
      name: 'test',
      seed: 7,
      tokenizer: BUNDLED_TOKENIZER,
      model: { hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 32, ...overrides.model },
      data: { train, maxLength: 16, shuffleBuffer: 8, ...overrides.data },
      loss: { name: 'infonce', scale: 20 },
      train: { batchSize: 4, maxSteps: 6, lr: 1e-3, warmupRatio: 0.2, ...overrides.train },
    },
    'test-config',
  );
}
