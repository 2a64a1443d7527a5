/**
 * A stand-alone `contrastive encode` for the CLI tests (the lead's main.ts registers the command in
 * the real binary): same yargs setup and error handling, run as a child process.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { encodeCommand } from '../../src/cli/encode.js';
import { UserError } from '../../src/util/errors.js';

try {
  await yargs(hideBin(process.argv))
    .scriptName('contrastive')
    .command(encodeCommand)
    .demandCommand(1)
    .strict()
    .help()
    .fail((msg, err) => {
      throw err ?? new UserError(msg);
    })
    .parseAsync();
} catch (err) {
  process.stderr.write(`contrastive: ${err instanceof UserError ? '' : 'internal error: '}${(err as Error).message}\n`);
  process.exitCode = err instanceof UserError ? 2 : 1;
}
