/** `contrastive train`: run a recipe, render progress, write checkpoints and the final model. */
import type { CommandModule } from 'yargs';
import { basename, extname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { loadTrainConfig } from '../train/config.js';
import { trainIter } from '../train/trainer.js';
import { withBackend, setupBackend, fmt, type BackendArgs } from './common.js';

interface TrainArgs extends BackendArgs {
  config: string;
  output?: string;
  resume: boolean;
  overwrite: boolean;
  'max-steps'?: number;
  'stop-after'?: number;
}

function formatMetrics(m: Record<string, number>): string {
  const keys = 'spearman' in m ? ['spearman', 'pearson'] : ['recall@1', 'recall@10', 'mrr@10', 'ndcg@10'];
  return keys.map((k) => `${k} ${fmt(m[k])}`).join('  ');
}

export const trainCommand: CommandModule<object, TrainArgs> = {
  command: 'train',
  describe: 'Train an encoder with a contrastive loss from a JSON recipe',
  builder: (y) =>
    withBackend(y)
      .option('config', { type: 'string', demandOption: true, describe: 'Recipe file, e.g. configs/tiny.json (paths inside are relative to the current directory)' })
      .option('output', { type: 'string', describe: 'Run folder for checkpoint-<step>/, final/ and metrics.jsonl [default: checkpoints/<config name>]' })
      .option('resume', { type: 'boolean', default: false, describe: 'Continue exactly from the latest checkpoint in --output' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'Start over even if --output already holds a run' })
      .option('max-steps', { type: 'number', describe: 'Override train.maxSteps from the recipe' })
      .option('stop-after', { type: 'number', describe: 'Stop after N steps of this invocation and leave a resumable checkpoint' })
      .example('$0 train --config configs/tiny.json', 'train the tiny recipe on the bundled data')
      .example('$0 train --config configs/tiny.json --resume', 'continue a killed run from its last checkpoint') as never,
  handler: async (argv) => {
    const config = loadTrainConfig(argv.config);
    if (argv['max-steps'] !== undefined) config.train.maxSteps = argv['max-steps'];
    const output = argv.output ?? join('checkpoints', basename(argv.config, extname(argv.config)));
    await setupBackend(argv.backend);

    const tty = Boolean(process.stderr.isTTY);
    const bar = new cliProgress.SingleBar(
      {
        format: 'train |{bar}| {value}/{total} | loss {loss} | lr {lr} | {pairs} pairs/s | ETA {eta_formatted}',
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    let logEvery = 1;
    for await (const ev of trainIter({ config, configPath: argv.config, output, resume: argv.resume, overwrite: argv.overwrite, stopAfter: argv['stop-after'] })) {
      switch (ev.type) {
        case 'start':
          process.stderr.write(
            `${ev.resumedFrom ? `resuming from ${ev.resumedFrom} at step ${ev.startStep}` : 'training'}: ` +
              `${(ev.numParams / 1e6).toFixed(2)}M params, ${ev.stepsPerEpoch} steps/epoch, ${ev.totalSteps} steps → ${ev.output}\n` +
              ev.datasets.map((d) => `  dataset ${d.name}: ${d.path}, loss ${d.loss}, ${d.batchesPerEpoch} batches/epoch\n`).join(''),
          );
          logEvery = Math.max(1, Math.round(ev.totalSteps / 20));
          if (tty) bar.start(ev.totalSteps, ev.startStep, { loss: '-', lr: '-', pairs: '-' });
          break;
        case 'step': {
          const payload = { loss: fmt(ev.loss), lr: fmt(ev.lr, 6), pairs: ev.pairsPerSec.toFixed(1) };
          if (tty) bar.update(ev.step, payload);
          else if (ev.step % logEvery === 0 || ev.step === ev.totalSteps) {
            process.stderr.write(`step ${ev.step}/${ev.totalSteps} loss ${payload.loss} lr ${payload.lr} ${payload.pairs} pairs/s\n`);
          }
          break;
        }
        case 'eval':
          if (tty) bar.stop();
          process.stderr.write(`eval @ step ${ev.step}: ${formatMetrics(ev.metrics as unknown as Record<string, number>)}\n`);
          if (tty) bar.start(bar.getTotal(), ev.step);
          break;
        case 'checkpoint':
          if (tty) bar.stop();
          process.stderr.write(`saved ${ev.path}\n`);
          if (tty && ev.step < bar.getTotal()) bar.start(bar.getTotal(), ev.step);
          break;
        case 'end':
          if (tty) bar.stop();
          if (ev.metrics) process.stderr.write(`eval: ${formatMetrics(ev.metrics as unknown as Record<string, number>)}\n`);
          process.stderr.write(`done in ${ev.seconds.toFixed(1)} s; model saved to ${ev.path}\n`);
          break;
      }
    }
  },
};
