/** `contrastive bench`: seconds per training step on random tokens, comparable with torch_reference.py. */
import type { CommandModule } from 'yargs';
import { benchTrainStep, type BenchShape } from '../train/bench.js';
import { withBackend, setupBackend, type BackendArgs } from './common.js';

type BenchArgs = BackendArgs & BenchShape;

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'Time training steps on random tokens; prints one JSON line like ../shared/bench/torch_reference.py',
  builder: (y) =>
    withBackend(y)
      .option('hidden', { type: 'number', default: 128, describe: 'Hidden size' })
      .option('layers', { type: 'number', default: 2, describe: 'Transformer layers' })
      .option('heads', { type: 'number', default: 4, describe: 'Attention heads' })
      .option('intermediate', { type: 'number', default: 512, describe: 'Feed-forward size' })
      .option('seq', { type: 'number', default: 64, describe: 'Tokens per text' })
      .option('batch', { type: 'number', default: 32, describe: 'Pairs per step' })
      .option('vocab', { type: 'number', default: 8000, describe: 'Vocabulary size' })
      .option('max-positions', { type: 'number', default: 1024, describe: 'Position embeddings' })
      .option('scale', { type: 'number', default: 20, describe: 'InfoNCE scale (1/temperature)' })
      .option('steps', { type: 'number', default: 5, describe: 'Timed steps' })
      .option('warmup', { type: 'number', default: 1, describe: 'Untimed steps first' })
      .option('mini-batch', { type: 'number', default: 0, describe: 'GradCache mini-batch (train.miniBatchSize); 0 = plain backprop (not in torch_reference.py)' })
      .example('$0 bench --hidden 312 --layers 3 --heads 12 --intermediate 600 --seq 128 --batch 32 --vocab 30000', 'SciRus-tiny-like shape') as never,
  handler: async (argv) => {
    await setupBackend(argv.backend);
    const flags = argv as unknown as Record<string, number>;
    const result = benchTrainStep({ ...argv, maxPositions: flags['max-positions'], miniBatch: flags['mini-batch'] });
    process.stdout.write(JSON.stringify(result) + '\n');
  },
};
