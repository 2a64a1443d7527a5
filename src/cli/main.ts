#!/usr/bin/env node
/** The `contrastive` command line: one yargs command per file, errors as one line with exit code 2. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { prepareCommand } from './prepare.js';
import { trainCommand } from './train.js';
import { evalCommand } from './eval.js';
import { benchCommand } from './bench.js';
import { exportCommand } from './export.js';
import { encodeCommand } from './encode.js';
import { mergeCommand } from './merge.js';
import { pipelineCommand } from './pipeline.js';
import { UserError } from '../util/errors.js';
import { quietTfjsWarnings } from './common.js';

const EXIT_USAGE = 2;

async function main(): Promise<void> {
  quietTfjsWarnings();
  try {
    await yargs(hideBin(process.argv))
      .scriptName('contrastive')
      .usage('$0 <command> [options]\n\nTrain text-embedding encoders with contrastive learning on TensorFlow.js.')
      .command(prepareCommand)
      .command(trainCommand)
      .command(evalCommand)
      .command(exportCommand)
      .command(encodeCommand)
      .command(mergeCommand)
      .command(pipelineCommand)
      .command(benchCommand)
      .demandCommand(1, 'Name a command: prepare, train, eval, merge, pipeline, export, encode or bench (see --help).')
      .strict()
      .help()
      .alias('h', 'help')
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((msg, err) => {
        throw err ?? new UserError(msg.replace(/\s*\n\s*/g, ' ')); // yargs words some failures on several lines: one line, as every error
      })
      .parseAsync();
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`contrastive: ${err.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    const e = err as Error;
    if (e?.constructor?.name === 'RuntimeError' && /out of bounds|Aborted|memory/i.test(e.message)) {
      // tfjs-backend-wasm is wasm32: one heap of at most 4 GB, and a failed allocation surfaces like this.
      process.stderr.write(
        `contrastive: the wasm backend ran out of memory (its heap is capped at 4 GB): lower train.batchSize or data.maxLength, ` +
          `or set train.miniBatchSize (GradCache keeps one mini-batch of activations) (${e.message})\n`,
      );
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`contrastive: internal error: ${e?.message ?? String(err)}\n`);
    if (process.env.CONTRASTIVE_DEBUG) process.stderr.write(`${e?.stack}\n`);
    else process.stderr.write('(set CONTRASTIVE_DEBUG=1 for the stack trace)\n');
    process.exitCode = 1;
  }
}

await main();
