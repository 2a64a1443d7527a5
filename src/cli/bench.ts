/** `contrastive bench`: seconds per training step on random tokens, comparable with torch_reference.py. */
import type { CommandModule } from 'yargs';
import { benchTrainStep, type BenchShape } from '../train/bench.js';
import { benchMerge } from '../merge/bench.js';
import { formatSuite, gemmFigures, runSuite, SUITE_SHAPES } from '../train/bench-suite.js';
import { withBackend, setupBackend, intFlag, type BackendArgs } from './common.js';
import { UserError } from '../util/errors.js';

type BenchArgs = BackendArgs & BenchShape & { profile: boolean; merge: number; suite: boolean; python: string[]; 'torch-script': string; 'suite-threads': number[]; 'suite-shapes'?: string[] };

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
      .option('profile', { type: 'boolean', default: false, describe: 'Also time every kernel of the timed steps (adds "profile": ms and calls per step per kernel, largest first; the timing wrapper costs a little)' })
      .option('merge', { type: 'number', default: 0, describe: 'Instead of training: merge this many random models of the shape and report the merge\'s peak memory against one model\'s size' })
      .option('suite', { type: 'boolean', default: false, describe: 'Run ours and torch_reference.py back to back on the tiny, SciRus-tiny and SciRus-tiny seq-1024 shapes at each --suite-threads; print a table and JSON' })
      .option('python', { type: 'array', string: true, default: ['python3'], describe: 'Python interpreters with torch for --suite (each is one PyTorch column; those without torch are skipped, saying why)' })
      .option('torch-script', { type: 'string', default: '../shared/bench/torch_reference.py', describe: 'The PyTorch yardstick script for --suite' })
      .option('suite-threads', { type: 'array', number: true, default: [1, 2], describe: 'Thread counts for --suite' })
      .option('suite-shapes', { type: 'array', string: true, choices: SUITE_SHAPES.map((s) => s.name), describe: 'Only these --suite shapes' })
      .example('$0 bench --suite --python .venv/bin/python --python /usr/bin/python3', 'ours vs PyPI and Debian PyTorch, 1 and 2 threads')
      .example('$0 bench --hidden 312 --layers 3 --heads 12 --intermediate 600 --seq 128 --batch 32 --vocab 30000', 'SciRus-tiny-like shape')
      .example('$0 bench --merge 3 --hidden 312 --layers 3 --heads 12 --intermediate 600 --vocab 30000', 'peak memory of merging three SciRus-tiny-size models') as never,
  handler: async (argv) => {
    for (const flag of ['hidden', 'layers', 'heads', 'intermediate', 'seq', 'batch', 'vocab', 'max-positions', 'steps'] as const) {
      intFlag((argv as unknown as Record<string, number>)[flag], `--${flag}`, 1);
    }
    intFlag(argv.merge, '--merge', 0);
    intFlag(argv.warmup, '--warmup', 0);
    if (argv.hidden % argv.heads !== 0) throw new UserError(`--heads: ${argv.heads} does not divide --hidden ${argv.hidden}`);
    if (argv.seq > (argv as unknown as Record<string, number>)['max-positions']) throw new UserError(`--seq: ${argv.seq} tokens exceed --max-positions ${(argv as unknown as Record<string, number>)['max-positions']}`);
    if (argv.merge === 1) throw new UserError('--merge: merging needs at least 2 models');
    if (argv.merge > 0) {
      const flags = argv as unknown as Record<string, number>;
      const result = await benchMerge({ ...argv, maxPositions: flags['max-positions'], models: argv.merge });
      process.stdout.write(JSON.stringify(result) + '\n');
      return;
    }
    if (argv.suite) {
      const { rows, skipped } = runSuite({
        backend: argv.backend, threads: argv['suite-threads'], pythons: argv.python, torchScript: argv['torch-script'],
        steps: argv.steps, warmup: argv.warmup, shapes: argv['suite-shapes'], log: (l) => process.stderr.write(l + '\n'),
      });
      for (const s of skipped) process.stderr.write(`PyTorch skipped: ${s}\n`);
      const gemm = gemmFigures();
      process.stdout.write(formatSuite(rows, gemm) + '\n');
      process.stdout.write(JSON.stringify({ rows, gemm, skipped }) + '\n');
      return;
    }
    await setupBackend(argv.backend, argv.threads, true); // bench reads asynchronously: webgpu can run it
    const flags = argv as unknown as Record<string, number>;
    const result = await benchTrainStep({ ...argv, maxPositions: flags['max-positions'], miniBatch: flags['mini-batch'] });
    process.stdout.write(JSON.stringify(result) + '\n');
  },
};
