/** `contrastive train`: run a recipe, render progress, write checkpoints and the final model. */
import type { CommandModule } from 'yargs';
import { basename, extname, join } from 'node:path';
import { loadTrainConfig } from '../train/config.js';
import { trainIter } from '../train/trainer.js';
import { withBackend, setupBackend, stopOnSignals, intFlag, type BackendArgs } from './common.js';
import { trainRenderer } from './train-progress.js';

interface TrainArgs extends BackendArgs {
  config: string;
  output?: string;
  resume: boolean;
  overwrite: boolean;
  'max-steps'?: number;
  'stop-after'?: number;
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
    const maxSteps = intFlag(argv['max-steps'], '--max-steps', 1);
    const stopAfter = intFlag(argv['stop-after'], '--stop-after', 1);
    const config = loadTrainConfig(argv.config);
    if (maxSteps !== undefined) config.train.maxSteps = maxSteps;
    const output = argv.output ?? join('checkpoints', basename(argv.config, extname(argv.config)));
    await setupBackend(argv.backend, argv.threads, true); // the trainer and its eval read asynchronously: webgpu can run them

    const render = trainRenderer();
    const stop = stopOnSignals();
    try {
      for await (const ev of trainIter({ config, configPath: argv.config, output, resume: argv.resume, overwrite: argv.overwrite, stopAfter, signal: stop.signal })) render(ev);
    } finally {
      stop.dispose();
    }
    const code = stop.exitCode();
    if (code !== undefined) {
      process.stderr.write(`resume with: contrastive train --config ${argv.config} --output ${output} --resume\n`);
      process.exitCode = code;
    }
  },
};
