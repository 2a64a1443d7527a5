import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPairBatches } from '../../src/data/arrow-reader.js';
import type { PairRecord } from '../../src/data/records.js';

/** A fresh temp dir under os.tmpdir(); remove it with `cleanup`. */
export async function tempDir(): Promise<{ dir: string; file: (name: string, text?: string) => Promise<string>; cleanup: () => Promise<void>; list: () => Promise<string[]> }> {
  const dir = await mkdtemp(join(tmpdir(), 'contrastive-data-test-'));
  return {
    dir,
    file: async (name, text) => {
      const p = join(dir, name);
      if (text !== undefined) await writeFile(p, text, 'utf8');
      return p;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
    list: async () => (await readdir(dir)).sort(),
  };
}

/** All records of an Arrow file, plus the batch sizes. */
export async function readAll(path: string): Promise<{ records: PairRecord[]; batchSizes: number[] }> {
  const records: PairRecord[] = [];
  const batchSizes: number[] = [];
  for await (const b of readPairBatches({ path })) {
    records.push(...b);
    batchSizes.push(b.length);
  }
  return { records, batchSizes };
}

/**
 * A file of the repository (e.g. data/tokenizer.json): from the working directory (npm test runs at the
 * root), else found by walking up from this compiled file (dist/test/data/ → root).
 */
export function repoFile(rel: string): string {
  if (existsSync(resolve(rel))) return resolve(rel);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    dir = dirname(dir);
  }
  throw new Error(`cannot find ${rel} (run the tests from the repository root)`);
}
