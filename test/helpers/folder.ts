/** Test shorthands over the one folder writer and reader. */
import type { SentenceEncoder } from '../../src/model/encoder.js';
import { encoderWeights, writeModelFolder } from '../../src/folder/write.js';
import { loadEncoder, readModelFolder, type ModelFolder } from '../../src/folder/read.js';
import type { ModelCardInfo } from '../../src/folder/model-card.js';

/** Write `encoder` with `tokenizerPath` into the existing folder `dir`. */
export async function saveEncoder(
  dir: string,
  encoder: SentenceEncoder,
  tokenizerPath: string,
  opts: { maxLength: number; prompts?: Record<string, string>; card?: ModelCardInfo },
): Promise<void> {
  await writeModelFolder(dir, { config: encoder.config, weights: encoderWeights(encoder), tokenizerPath, ...opts });
}

/** Read a folder and load its encoder. */
export async function loadFolder(dir: string, opts: { requireTokenizer?: boolean } = {}): Promise<{ encoder: SentenceEncoder; folder: ModelFolder }> {
  const folder = await readModelFolder(dir, opts);
  return { encoder: await loadEncoder(folder), folder };
}
