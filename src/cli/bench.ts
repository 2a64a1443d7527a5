/** `contrastive bench`: seconds per training step on random tokens, comparable with torch_reference.py. */
import type { CommandModule } from 'yargs';
import { benchTrainStep, type BenchShape } from '../train/bench.js';
import { benchMerge } from '../merge/bench.js';
import { withBackend, setupBackend, type BackendArgs } from './common.js';

type BenchArgs = BackendArgs & BenchShape & { merge: number };

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
      .option('merge', { type: 'number', default: 0, describe: 'Instead of training: merge this many random models of the shape and report the merge\'s peak memory against one model\'s size' })
      .example('$0 bench --hidden 312 --layers 3 --heads 12 --intermediate 600 --seq 128 --batch 32 --vocab 30000', 'SciRus-tiny-like shape')
      .example('$0 bench --merge 3 --hidden 312 --layers 3 --heads 12 --intermediate 600 --vocab 30000', 'peak memory of merging three SciRus-tiny-size models') as never,
  handler: async (argv) => {
    if (argv.merge > 0) {
      const flags = argv as unknown as Record<string, number>;
      const result = await benchMerge({ ...argv, maxPositions: flags['max-positions'], models: argv.merge });
      process.stdout.write(JSON.stringify(result) + '\n');
      return;
    }
    await setupBackend(argv.backend, argv.threads);
    const flags = argv as unknown as Record<string, number>;
    const result = benchTrainStep({ ...argv, maxPositions: flags['max-positions'], miniBatch: flags['mini-batch'] });
    process.stdout.write(JSON.stringify(result) + '\n');
  },
};
