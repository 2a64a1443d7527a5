/** Input text is UTF-8 or an error naming the line: no U+FFFD slips into training data unless asked for. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstInvalidUtf8, utf8Chunks } from '../../src/data/utf8.js';
import { prepare } from '../../src/data/prepare.js';
import { readPairBatches } from '../../src/data/arrow-reader.js';
import { UserError } from '../../src/util/errors.js';

const root = await mkdtemp(join(tmpdir(), 'contrastive-utf8-'));
after(() => rm(root, { recursive: true, force: true }));

test('firstInvalidUtf8 against hand-picked sequences (overlongs, surrogates, stray continuation bytes, cut tails)', () => {
  const b = (...xs: number[]) => Uint8Array.from(xs);
  assert.equal(firstInvalidUtf8(Buffer.from('кошка ёж 🐈 café')), -1);
  assert.equal(firstInvalidUtf8(b(0x61, 0x80)), 1); // stray continuation
  assert.equal(firstInvalidUtf8(b(0xc0, 0xaf)), 0); // overlong '/'
  assert.equal(firstInvalidUtf8(b(0xe0, 0x80, 0xaf)), 0); // overlong 3-byte
  assert.equal(firstInvalidUtf8(b(0xed, 0xa0, 0x80)), 0); // UTF-16 surrogate
  assert.equal(firstInvalidUtf8(b(0xf4, 0x90, 0x80, 0x80)), 0); // > U+10FFFF
  assert.equal(firstInvalidUtf8(b(0x61, 0xd0, 0x61)), 1); // lead byte without its continuation
  assert.equal(firstInvalidUtf8(b(0x61, 0xf0, 0x9f, 0x90)), -1); // cut at the end: the next chunk decides
  assert.equal(firstInvalidUtf8(b(0xff)), 0);
});

test('utf8Chunks decodes across chunk boundaries and names the line of a bad byte', async () => {
  // a long file so the read stream splits multi-byte characters across 64 KiB chunks
  const good = Array.from({ length: 6000 }, (_, i) => `строка ${i} 🐈 ёжик`).join('\n') + '\n';
  const path = join(root, 'long.txt');
  await writeFile(path, good);
  let text = '';
  for await (const c of utf8Chunks(path)) text += c;
  assert.equal(text, good);
  const bad = Buffer.concat([Buffer.from(good), Buffer.from('ok\nbad \xff here\n', 'latin1')]);
  await writeFile(path, bad);
  await assert.rejects(async () => {
    for await (const _ of utf8Chunks(path)) void _;
  }, (e: unknown) => e instanceof UserError && /long\.txt: line 6002: invalid UTF-8 \(byte 0xff\); .* --replace-invalid-utf8/.test(e.message));
  let replaced = '';
  for await (const c of utf8Chunks(path, { replaceInvalid: true })) replaced += c;
  assert.ok(replaced.endsWith('bad \ufffd here\n'));
});

test('prepare refuses invalid UTF-8 in JSONL and CSV, naming the line, and writes nothing; --replace-invalid-utf8 reads it as U+FFFD', async () => {
  const jsonl = join(root, 'in.jsonl');
  await writeFile(jsonl, Buffer.concat([Buffer.from('{"anchor":"a","positive":"b"}\n{"anchor":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","positive":"d"}\n')]));
  const csv = join(root, 'in.csv');
  await writeFile(csv, Buffer.concat([Buffer.from('anchor,positive\nx,y\nz,'), Buffer.from([0xe2, 0x82]), Buffer.from('\n')]));
  for (const [input, line] of [[jsonl, 2], [csv, 3]] as const) {
    const output = join(root, `${line}.arrow`);
    await assert.rejects(prepare({ input, output }), (e: unknown) => e instanceof UserError && new RegExp(`line ${line}: invalid UTF-8`).test(e.message));
    await assert.rejects(import('node:fs/promises').then((fs) => fs.stat(output)), /ENOENT/);
  }
  const output = join(root, 'replaced.arrow');
  await prepare({ input: jsonl, output, replaceInvalidUtf8: true });
  const rows = [];
  for await (const batch of readPairBatches({ path: output })) rows.push(...batch);
  assert.equal(rows[1].anchor, '\ufffd(');
});
