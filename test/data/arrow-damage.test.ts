/**
 * A damaged Arrow file is an error naming the file (and the record batch), never a crash with an
 * internal error, a hang, or — as far as the format lets anyone tell — texts other than the file's.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readColumnBatches } from '../../src/data/arrow-reader.js';
import { UserError } from '../../src/util/errors.js';

const root = await mkdtemp(join(tmpdir(), 'contrastive-arrow-damage-'));
after(() => rm(root, { recursive: true, force: true }));
const SOURCE = readFileSync('data/eval.arrow');

async function readAll(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const b of readColumnBatches({ path, columns: ['anchor', 'positive'] })) out.push(...b.texts[0], ...b.texts[1]);
  return out;
}

/** Reads with a deadline: a hang fails the test instead of stalling the suite. */
function bounded<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms).unref())]);
}

test('0xFF written over any of 120 places of a real file: a UserError naming the file, or the same texts', async () => {
  const path = join(root, 'fuzz.arrow');
  await writeFile(path, SOURCE);
  const want = await readAll(path);
  let errors = 0;
  const step = Math.floor(SOURCE.length / 120);
  for (let pos = 7; pos < SOURCE.length; pos += step) {
    const bytes = Buffer.from(SOURCE);
    bytes[pos] = 0xff;
    await writeFile(path, bytes);
    try {
      const got = await bounded(readAll(path));
      // 0xFF is never UTF-8, so a changed text byte cannot pass; an offset may stay plausible (undetectable without checksums)
      if (got.length !== want.length) assert.fail(`byte ${pos}: ${got.length} texts instead of ${want.length}`);
    } catch (e) {
      assert.ok(e instanceof UserError, `byte ${pos}: ${String(e)}`);
      assert.match(e.message, /fuzz\.arrow/);
      errors++;
    }
  }
  assert.ok(errors >= 100, `${errors} of ~120 damaged files were refused`);
});

test('a truncated file and a damaged text buffer are UserErrors naming the record batch', async () => {
  const cut = join(root, 'cut.arrow');
  await writeFile(cut, SOURCE.subarray(0, Math.floor(SOURCE.length * 0.6)));
  await assert.rejects(bounded(readAll(cut)), (e: unknown) => e instanceof UserError && /cut\.arrow/.test(e.message));
  // find a text of the file and break its UTF-8 in place
  const text = Buffer.from('Анализ', 'utf8');
  const at = SOURCE.indexOf(text);
  assert.ok(at > 0, 'a Russian word in the bundled eval file');
  const bytes = Buffer.from(SOURCE);
  bytes[at + 1] = 0x41; // a lead byte followed by 'A': invalid UTF-8
  const bad = join(root, 'bad-utf8.arrow');
  await writeFile(bad, bytes);
  await assert.rejects(bounded(readAll(bad)), (e: unknown) => e instanceof UserError && /bad-utf8\.arrow: record batch \d+: column "(anchor|positive)": the text is not valid UTF-8/.test(e.message));
});
