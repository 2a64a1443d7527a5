/**
 * The README's config tables, generated from the zod schemas (`npm run config-tables` rewrites the
 * `<!-- config-table: NAME -->` blocks of README.md; test/config/readme-tables.test.ts fails when
 * they differ from what this renders).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fillTables, formatDefault, markdownTable, rowOf, rowsOf, shapeOf } from '../src/config/table.js';
import { recipeSchema, datasetSchema, dataSchema, optimSchema } from '../src/train/config.js';
import { modelSchema, modelFromSchema } from '../src/model/config.js';
import { moeSchema } from '../src/model/moe.js';
import { LOSS_NAMES, LOSS_OPTIONS, LOSS_SPECS, type LossName } from '../src/losses/registry.js';

/** The data a loss trains on, in words, from its spec. */
function lossData(name: LossName): string {
  const { pairs, labelled } = LOSS_SPECS[name].kinds;
  const words: string[] = [];
  if (labelled) words.push('labelled');
  if (pairs) {
    if (pairs.required.includes('negative')) words.push('pairs with `negative`');
    else words.push(`pairs (+ ${pairs.negatives === 'any' ? 'any negatives' : 'one negative'})`);
  }
  return words.join(', or ');
}

function lossTable(): string {
  const rows = LOSS_NAMES.map((name) => {
    const options = Object.entries(LOSS_OPTIONS[name]).map(([k, s]) => {
      const d = rowOf(k, s).default;
      return `\`${k}\` ${d}`;
    });
    return `| \`${name}\` | ${lossData(name)} | ${options.join(', ')} | ${LOSS_SPECS[name].definition} |`;
  });
  return ['| loss | data | options (defaults) | definition |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Every generated table, by the name its README block carries. */
export function configTables(): Record<string, string> {
  return {
    recipe: markdownTable([
      ...rowsOf(recipeSchema, '', ['name', 'seed', 'tokenizer']),
      ...rowsOf(modelSchema, 'model.'),
      rowOf('model.from', shapeOf(modelFromSchema).from),
      ...rowsOf(recipeSchema, '', ['datasets', 'loss']),
      ...rowsOf(dataSchema, 'data.'),
      ...rowsOf(optimSchema, 'train.'),
    ]),
    dataset: markdownTable(rowsOf(datasetSchema)),
    loss: lossTable(),
    moe: markdownTable(rowsOf(moeSchema(1))),
  };
}

export { formatDefault };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readme = readFileSync('README.md', 'utf8');
  const filled = fillTables(readme, configTables());
  if (filled !== readme) writeFileSync('README.md', filled);
  console.log(filled === readme ? 'README.md config tables are up to date' : 'README.md config tables rewritten');
}
