/**
 * The package's public entry, imported by its name as a user would (`import … from 'contrastive'`),
 * used as the README's "Library API" section shows; and every name the README imports exists.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/tiny-run.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test("every name the README imports from 'contrastive' is exported by the package", async () => {
  const api = (await import('contrastive')) as Record<string, unknown>;
  const readme = readFileSync('README.md', 'utf8');
  const imports = [...readme.matchAll(/import \{([^}]+)\} from 'contrastive'/g)].flatMap((m) => m[1].split(',').map((s) => s.trim()).filter(Boolean));
  assert.ok(imports.length >= 8, `README imports ${imports.length} names`);
  for (const name of imports) assert.ok(name in api, `README imports ${name}, which the package does not export`);
});

test('the README library example: train, read the folder, load the encoder, evaluate, merge', async () => {
  const { initBackend, loadTrainConfig, trainIter, readModelFolder, loadEncoder, TextTokenizer, evaluateFile, mergeModels } = await import('contrastive');
  const root = await tempDir('contrastive-api-');
  dirs.push(root);

  await initBackend('cpu');
  const config = loadTrainConfig('configs/tiny.json');
  config.train.maxSteps = 2; // the README trains the whole recipe; two steps show the same calls
  config.data.eval = undefined;
  const seen: string[] = [];
  let finalPath = '';
  for await (const event of trainIter({ config, output: join(root, 'tiny'), overwrite: true })) {
    seen.push(event.type);
    if (event.type === 'end') finalPath = event.path;
  }
  assert.deepEqual([seen[0], seen.at(-1)], ['start', 'end']);
  assert.equal(seen.filter((t) => t === 'step').length, 2);

  const folder = await readModelFolder(finalPath);
  const encoder = await loadEncoder(folder);
  const metrics = await evaluateFile({ encoder, tokenizer: await TextTokenizer.load(folder.tokenizerPath), path: 'data/eval.arrow', maxLength: folder.maxLength });
  encoder.dispose();
  assert.ok(metrics['recall@10'] > 0 && metrics['recall@10'] <= 1, JSON.stringify(metrics));

  const merged = await mergeModels({ models: [finalPath, finalPath], output: join(root, 'merged'), weights: [0.5, 0.5] });
  assert.deepEqual(merged.weights, [0.5, 0.5]);
  assert.equal((await readModelFolder(merged.output)).config.hiddenSize, folder.config.hiddenSize);
});
