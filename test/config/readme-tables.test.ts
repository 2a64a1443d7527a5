/**
 * The README's config tables cannot drift from the schemas: the generated tables (scripts/config-tables.ts)
 * must be what README.md holds, the generator must cover every key of every schema, and the
 * hand-written pipeline stage table must name exactly the keys the stage schemas accept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configTables } from '../../scripts/config-tables.js';
import { fillTables, rowOf, shapeOf } from '../../src/config/table.js';
import { recipeSchema } from '../../src/train/config.js';
import { modelSchema, modelFromSchema } from '../../src/model/config.js';
import { STAGE_SCHEMAS, STAGE_KINDS } from '../../src/pipeline/config.js';

const readme = readFileSync('README.md', 'utf8');
const tables = configTables();

test('README.md holds the config tables the schemas generate (run `npm run config-tables` after changing a schema)', () => {
  for (const name of Object.keys(tables)) assert.ok(readme.includes(`<!-- config-table: ${name} -->`), `README lacks the ${name} table`);
  const filled = fillTables(readme, tables);
  if (filled !== readme) {
    const a = readme.split('\n');
    const b = filled.split('\n');
    const i = a.findIndex((line, k) => line !== b[k]);
    assert.fail(`README.md line ${i + 1} differs from the schema:\n  README: ${a[i]}\n  schema: ${b[i]}`);
  }
});

test('the recipe table covers every key of the recipe and model schemas', () => {
  const keys = [...tables.recipe.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
  const sections = ['model', 'data', 'train'];
  for (const k of Object.keys(shapeOf(recipeSchema))) {
    if (sections.includes(k)) assert.ok(keys.some((x) => x.startsWith(`${k}.`)), `no ${k}.* rows`);
    else assert.ok(keys.includes(k), `no row for ${k}`);
  }
  for (const k of Object.keys(shapeOf(modelSchema))) assert.ok(keys.includes(`model.${k}`), `no row for model.${k}`);
  for (const k of Object.keys(shapeOf(modelFromSchema))) assert.ok(keys.includes(`model.${k}`), `no row for model.${k} (settable with model.from)`);
  assert.equal(new Set(keys).size, keys.length, 'a key appears twice');
});

test('a row shows the default the schema applies, and "required" for keys without one', () => {
  assert.match(tables.recipe, /^\| `train\.lr` \| a number ≥ 0 \| 5e-5 \| peak learning rate \|$/m);
  assert.match(tables.recipe, /^\| `data\.sampling` \| `"proportional"` \\\| `"round_robin"` \| `"proportional"` \|/m);
  assert.deepEqual(rowOf('seed', shapeOf(recipeSchema).seed), { key: 'seed', type: 'an integer ≥ 0', default: '42', meaning: 'model init, data order and dropout all derive from it' });
  assert.match(tables.dataset, /^\| `path` \| string \| required \|/m);
});

test('the pipeline stage table names exactly the keys each stage schema accepts, optional ones with "?"', () => {
  const table = readme.slice(readme.indexOf('| stage | keys | output |'));
  for (const kind of STAGE_KINDS) {
    const row = table.split('\n').find((l) => l.startsWith(`| \`{"name", "${kind}"`));
    assert.ok(row, `no ${kind} row`);
    const cell = row.split(' | ')[0];
    const written = new Map([...cell.matchAll(/"(\w+)"(\?)?/g)].map((m) => [m[1], m[2] === '?']));
    const stage = shapeOf(STAGE_SCHEMAS[kind]);
    const inner = kind === 'train' ? {} : shapeOf(stage[kind]);
    const expected = new Map<string, boolean>();
    for (const shape of [stage, inner]) for (const [k, s] of Object.entries(shape)) expected.set(k, s.safeParse(undefined).success);
    assert.deepEqual(written, expected, `${kind} row: ${cell}`);
  }
});
