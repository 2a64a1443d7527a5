import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeSafetensors,
  encodeSafetensors,
  openSafetensors,
  writeSafetensorsStream,
  type TensorData,
  float32ToBfloat16,
  float32ToFloat16,
  readSafetensors,
  writeSafetensors,
  type NamedTensor,
} from '../../src/folder/safetensors.js';
import { UserError } from '../../src/util/errors.js';

const ascii = (s: string): number[] => [...Buffer.from(s, 'utf8')];
const u64le = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff, 0, 0, 0, 0];
const f32 = (...v: number[]): Float32Array => Float32Array.from(v);
const isUserError = (pattern: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
  assert.match(e.message, pattern);
  return true;
};

/** Build a file from a literal header string and data bytes (no padding added). */
function rawFile(header: string, data: number[]): Uint8Array {
  const h = ascii(header);
  return Uint8Array.from([...u64le(h.length), ...h, ...data]);
}

test('byte-exact encoding of a tiny F32 tensor, computed by hand', () => {
  // Header JSON, counted by hand:
  //   {"attn.0":                 10
  //   {"dtype":"F32",            15
  //   "shape":[1,2,3],           16
  //   "data_offsets":[0,24]}     22
  //   }                           1   → 64 bytes; 8 + 64 = 72 is a multiple of 8 → no padding.
  // Data: 0..5 as float32 LE: 0 = 00 00 00 00, 1 = 00 00 80 3f, 2 = 00 00 00 40, 3 = 00 00 40 40,
  //       4 = 00 00 80 40, 5 = 00 00 a0 40.
  // These are exactly the bytes the reference Rust implementation's own test_serialization asserts.
  const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
  assert.equal(header.length, 64);
  const expected = Uint8Array.from([
    64, 0, 0, 0, 0, 0, 0, 0,
    ...ascii(header),
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40,
    0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40,
  ]);
  const out = encodeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) } });
  assert.deepEqual(out, expected);
  const back = decodeSafetensors(expected);
  assert.deepEqual(back.tensors['attn.0'], { dtype: 'F32', shape: [1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) });
  assert.deepEqual(back.metadata, {});
});

test('header is padded with spaces so the data starts at a multiple of 8', () => {
  // "attn0" with shape [1,1,2,3]: 9 + 15 + 18 + 22 + 1 = 65 bytes of JSON → padded to 72 with 7 spaces
  // (again the reference implementation's test_serialization_forced_alignement bytes).
  const out = encodeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) } });
  const json = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
  assert.equal(json.length, 65);
  assert.deepEqual([...out.subarray(0, 8)], u64le(72));
  assert.deepEqual([...out.subarray(8, 8 + 72)], [...ascii(json), 32, 32, 32, 32, 32, 32, 32]);
  assert.equal(out.length, 8 + 72 + 24);

  // Every name length 1..17: 8 + N is a multiple of 8, the header is JSON + only spaces.
  for (let len = 1; len <= 17; len++) {
    const bytes = encodeSafetensors({ ['x'.repeat(len)]: { dtype: 'I32', shape: [1], data: Int32Array.of(7) } });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + n) % 8, 0, `name length ${len}`);
    const text = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
    assert.match(text, /^\{.*\} {0,7}$/);
    assert.deepEqual([...bytes.subarray(8 + n)], [7, 0, 0, 0]);
  }

  // No tensors: "{}" + 6 spaces; with metadata, __metadata__ is written (35 bytes → 40).
  assert.deepEqual([...encodeSafetensors({})], [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  const meta = '{"__metadata__":{"framework":"pt"}}';
  assert.deepEqual([...encodeSafetensors({}, { framework: 'pt' })], [...u64le(40), ...ascii(meta), 32, 32, 32, 32, 32]);
});

test('round trip of every dtype with metadata; bytes do not depend on insertion order', () => {
  const tensors: Record<string, NamedTensor> = {
    'layer.1.weight': { dtype: 'F32', shape: [2, 3], data: f32(0.1, -0.2, 3e-5, 1e20, -0, Infinity) },
    'half': { dtype: 'F16', shape: [3], data: f32(1, -2.5, 0.099975586) }, // 0.0999755859375 is exact F16
    'brain': { dtype: 'BF16', shape: [1, 2], data: f32(1, -2.5) },
    'ids': { dtype: 'I32', shape: [3], data: Int32Array.of(-1, 0, 2147483647) },
    'pos': { dtype: 'I64', shape: [1, 3], data: BigInt64Array.of(0n, -5n, 9007199254740993n) },
    'scalar': { dtype: 'F32', shape: [], data: f32(42) },
    'empty': { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    '0': { dtype: 'F32', shape: [1], data: f32(7) }, // integer-like name: JS objects reorder those keys
  };
  const meta = { format: 'pt', note: 'héllo "quoted"' };
  const bytes = encodeSafetensors(tensors, meta);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, meta);
  assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) {
    const got = back.tensors[name]!;
    assert.equal(got.dtype, t.dtype, name);
    assert.deepEqual(got.shape, t.shape, name);
    assert.deepEqual(got.data, name === 'half' ? f32(1, -2.5, 0.0999755859375) : t.data, name);
  }
  // Decoded F16/BF16 tensors keep their dtype, so re-encoding reproduces the file.
  assert.deepEqual(encodeSafetensors(back.tensors, back.metadata), bytes);
  // Reversed insertion order → same bytes (layout is sorted by dtype size, then name).
  const reversed = Object.fromEntries(Object.entries(tensors).reverse());
  assert.deepEqual(encodeSafetensors(reversed, meta), bytes);
  // Layout: I64 first, then F32 by name, I32, BF16, F16; each tensor aligned to its element size.
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const order = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0] || a[1].data_offsets[1] - b[1].data_offsets[1])
    .map(([k]) => k);
  assert.deepEqual(order, ['pos', '0', 'empty', 'layer.1.weight', 'scalar', 'ids', 'brain', 'half']);
  const size: Record<string, number> = { I64: 8, F32: 4, I32: 4, BF16: 2, F16: 2 };
  for (const info of Object.values(header)) if ('dtype' in info) assert.equal((8 + n + info.data_offsets[0]) % size[info.dtype]!, 0);
});

test('F16 and BF16 decode known bit patterns', () => {
  const f16Bits = [0x3c00, 0xc100, 0x7bff, 0x0001, 0x03ff, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555];
  const f16Values = [
    1, -2.5, 65504,
    2 ** -24, // smallest subnormal 5.960464477539063e-8
    1023 * 2 ** -24, // largest subnormal
    0, -0, Infinity, -Infinity, NaN,
    0.333251953125, // 0x3555 = (1024 + 341) × 2^-12
  ];
  const bf16Bits = [0x3f80, 0xc020, 0x477f, 0x4780, 0x0001, 0x0000, 0x8000, 0x7f80, 0x7fc0, 0x3dcd];
  const bf16Values = [
    1, -2.5,
    65280, // 0x477F: 1.9921875 × 2^15; 65504 itself is not a bfloat16
    65536, // 0x4780
    2 ** -133, // smallest subnormal: float32 bits 0x00010000
    0, -0, Infinity, NaN,
    0.10009765625, // 0x3DCD
  ];
  const le16 = (bits: number[]): number[] => bits.flatMap((b) => [b & 0xff, b >>> 8]);
  const header = `{"h":{"dtype":"F16","shape":[${f16Bits.length}],"data_offsets":[0,${2 * f16Bits.length}]},` +
    `"b":{"dtype":"BF16","shape":[${bf16Bits.length}],"data_offsets":[${2 * f16Bits.length},${2 * (f16Bits.length + bf16Bits.length)}]}}`;
  const { tensors } = decodeSafetensors(rawFile(header, [...le16(f16Bits), ...le16(bf16Bits)]));
  assert.equal(tensors.h!.dtype, 'F16');
  assert.equal(tensors.b!.dtype, 'BF16');
  assert.deepEqual([...tensors.h!.data], f16Values); // deepEqual: Object.is for -0 and NaN
  assert.deepEqual([...tensors.b!.data], bf16Values);
  // ...and the encoder maps those values back to the same bits (canonical NaN aside).
  assert.deepEqual(f16Values.map(float32ToFloat16), f16Bits);
  assert.deepEqual(bf16Values.map(float32ToBfloat16), bf16Bits);
});

// --- golden fixture made by test/fixtures/safetensors/make_fixture.py (torch + numpy) -------------

function fixturePath(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    resolve(here, '../../../test/fixtures/safetensors', name), // dist/test/model → repo root
    resolve(process.cwd(), 'test/fixtures/safetensors', name),
  ];
  const found = candidates.find((p) => existsSync(p));
  assert.ok(found, `fixture ${name} not found in ${candidates.join(' or ')}`);
  return found;
}

interface Expected {
  metadata: Record<string, string>;
  header_length: number;
  file_bytes: number;
  tensors: Record<string, { dtype: string; shape: number[]; values: Array<number | string> }>;
  rounding: { f32: number[]; f16_bits: number[]; bf16_bits: number[] };
}
const expected = (): Expected => JSON.parse(readFileSync(fixturePath('expected.json'), 'utf8')) as Expected;

test('reads the golden fixture exactly (F32, F16, BF16, I64 beyond 2^53, metadata)', async () => {
  const exp = expected();
  const file = fixturePath('tiny.safetensors');
  const { tensors, metadata } = await readSafetensors(file);
  assert.deepEqual(metadata, exp.metadata);
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(exp.tensors).sort());
  for (const [name, e] of Object.entries(exp.tensors)) {
    const t = tensors[name]!;
    assert.equal(t.dtype, e.dtype, name);
    assert.deepEqual(t.shape, e.shape, name);
    if (e.dtype === 'I64') {
      assert.ok(t.data instanceof BigInt64Array);
      assert.deepEqual([...t.data].map(String), e.values, name);
    } else {
      assert.ok(t.data instanceof Float32Array);
      assert.deepEqual([...t.data], e.values, name);
    }
  }
});

test('writer reproduces the golden fixture byte for byte', async () => {
  const exp = expected();
  const fileBytes = new Uint8Array(await readFile(fixturePath('tiny.safetensors')));
  assert.equal(fileBytes.length, exp.file_bytes);
  // From the fixture's independent description (not from our reader): build the tensors and encode.
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, e] of Object.entries(exp.tensors)) {
    const data = e.dtype === 'I64' ? BigInt64Array.from(e.values.map((v) => BigInt(v))) : Float32Array.from(e.values as number[]);
    tensors[name] = { dtype: e.dtype as NamedTensor['dtype'], shape: e.shape, data };
  }
  const ours = encodeSafetensors(tensors, exp.metadata);
  assert.deepEqual(ours, fileBytes);
  // The F32 tensors alone, in particular: their data bytes sit at the same place with the same bytes.
  const n = exp.header_length;
  const header = JSON.parse(Buffer.from(fileBytes.subarray(8, 8 + n)).toString('utf8')) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  for (const [name, info] of Object.entries(header)) {
    if (info.dtype !== 'F32') continue;
    const [b, e] = info.data_offsets;
    assert.deepEqual(new Uint8Array(tensors[name]!.data.buffer), fileBytes.subarray(8 + n + b, 8 + n + e), name);
  }
});

test("F16/BF16 encoding rounds exactly like torch's casts", () => {
  const { f32: values, f16_bits, bf16_bits } = expected().rounding;
  const asF32 = Float32Array.from(values);
  assert.deepEqual([...asF32].map(float32ToFloat16), f16_bits);
  assert.deepEqual([...asF32].map(float32ToBfloat16), bf16_bits);
});

// --- validation --------------------------------------------------------------------------------

test('truncated files are UserErrors naming the file and the tensor', () => {
  const good = encodeSafetensors({ 'w.weight': { dtype: 'F32', shape: [2, 2], data: f32(1, 2, 3, 4) } });
  assert.throws(() => decodeSafetensors(good.subarray(0, good.length - 2), 'model.safetensors'),
    isUserError(/^model\.safetensors: w\.weight: data_offsets \[0, 16\] run past the end of the data section \(14 bytes\)/));
  assert.throws(() => decodeSafetensors(good.subarray(0, 40), 'model.safetensors'), isUserError(/^model\.safetensors: header length \d+ runs past the end of the file \(40 bytes\)/));
  assert.throws(() => decodeSafetensors(good.subarray(0, 5), 'model.safetensors'), isUserError(/^model\.safetensors: file is 5 bytes/));
  // Trailing bytes after the last tensor are refused too (the reference reader does the same).
  assert.throws(() => decodeSafetensors(Uint8Array.from([...good, 0, 0, 0, 0]), 'm.st'), isUserError(/^m\.st: w\.weight: 4 bytes follow the last tensor/));
});

test('bad offsets, sizes, dtypes and headers are UserErrors naming the tensor', () => {
  const zeros = (n: number): number[] => new Array<number>(n).fill(0);
  const cases: Array<[string, number[], RegExp]> = [
    // overlap: b starts inside a
    ['{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', zeros(12),
      /f\.st: b: data_offsets \[4, 12\] overlaps the previous tensor \(tensor "a" ends at 8\)/],
    // gap between a and b
    ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', zeros(12),
      /f\.st: b: data_offsets \[8, 12\] leaves a gap of 4 bytes/],
    // first tensor not at 0
    ['{"a":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}}', zeros(8), /f\.st: a: .*leaves a gap of 4 bytes \(the data section starts at 0\)/],
    // span ≠ product(shape) × size
    ['{"a":{"dtype":"I32","shape":[2,2],"data_offsets":[0,4]}}', zeros(4), /f\.st: a: data_offsets \[0, 4\] span 4 bytes but shape \[2, 2\] of I32 needs 4 × 4 = 16/],
    ['{"a":{"dtype":"I64","shape":[1],"data_offsets":[8,0]}}', zeros(8), /f\.st: a: data_offsets \[8, 0\] end before they begin/],
    ['{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}', zeros(4), /f\.st: a: data_offsets must be \[begin, end\]/],
    ['{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', zeros(4), /f\.st: a: shape must be an array of non-negative integers/],
    ['{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', zeros(4), /f\.st: a: dtype "U8" is not supported; valid: F32, F16, BF16, I32, I64/],
    ['{"__metadata__":{"epoch":3}}', [], /f\.st: __metadata__\.epoch: metadata values must be strings/],
    ['{"a":', [], /f\.st: header is not valid UTF-8 JSON/],
    ['[1,2]', [], /f\.st: header must be a JSON object/],
  ];
  for (const [header, data, pattern] of cases) assert.throws(() => decodeSafetensors(rawFile(header, data), 'f.st'), isUserError(pattern), header);
  // Leading/trailing JSON whitespace in the header is fine, as in the reference reader.
  assert.deepEqual(decodeSafetensors(rawFile('\t\n{}\r ', [])).tensors, {});
  // A zero-size tensor is fine.
  assert.deepEqual(decodeSafetensors(rawFile('{"z":{"dtype":"I32","shape":[2,0],"data_offsets":[0,0]}}', [])).tensors.z!.shape, [2, 0]);
});

test('encoding rejects mismatched data, shapes and the reserved name', () => {
  assert.throws(() => encodeSafetensors({ a: { dtype: 'I64', shape: [1], data: f32(1) } }), isUserError(/a: dtype I64 needs data as BigInt64Array, got Float32Array/));
  assert.throws(() => encodeSafetensors({ a: { dtype: 'F32', shape: [2, 2], data: f32(1, 2, 3) } }), isUserError(/a: shape \[2, 2\] has 4 elements but data has 3/));
  assert.throws(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [1], data: f32(1) } }), isUserError(/__metadata__: is reserved/));
  assert.throws(() => encodeSafetensors({ a: { dtype: 'F64' as 'F32', shape: [1], data: f32(1) } }), isUserError(/dtype "F64" is not supported; valid: F32, F16, BF16, I32, I64/));
});

test('writeSafetensors is atomic-by-rename and readSafetensors reads it back; fs errors are UserErrors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'safetensors-test-'));
  try {
    const path = join(dir, 'model.safetensors');
    await writeFile(path, 'old contents');
    const tensors: Record<string, NamedTensor> = { w: { dtype: 'F32', shape: [2], data: f32(1.5, -3) }, step: { dtype: 'I64', shape: [], data: BigInt64Array.of(12n) } };
    await writeSafetensors(path, tensors, { format: 'pt' });
    assert.deepEqual(await readdir(dir), ['model.safetensors']); // temp file renamed away, nothing left
    assert.deepEqual(new Uint8Array(await readFile(path)), encodeSafetensors(tensors, { format: 'pt' }));
    const back = await readSafetensors(path);
    assert.deepEqual(back.tensors.w, tensors.w);
    assert.deepEqual(back.tensors.step, tensors.step);
    assert.deepEqual(back.metadata, { format: 'pt' });

    const missingDir = join(dir, 'nope', 'model.safetensors');
    await assert.rejects(writeSafetensors(missingDir, tensors), isUserError(/nope\/model\.safetensors: cannot write safetensors file: no such file or directory/));
    await assert.rejects(readSafetensors(join(dir, 'missing.safetensors')), isUserError(/missing\.safetensors: cannot read safetensors file: no such file or directory/));
    await assert.rejects(writeSafetensors(join(dir, 'bad.safetensors'), { a: { dtype: 'F32', shape: [3], data: f32(1) } }), isUserError(/bad\.safetensors: a: shape \[3\]/));
    assert.deepEqual((await readdir(dir)).sort(), ['model.safetensors']);
    await writeFile(join(dir, 'cut.safetensors'), (await readFile(path)).subarray(0, 50));
    await assert.rejects(readSafetensors(join(dir, 'cut.safetensors')), isUserError(/cut\.safetensors: /));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('openSafetensors reads the golden fixture one tensor (or slice) at a time, equal to reading it whole', async () => {
  const file = fixturePath('tiny.safetensors');
  const whole = await readSafetensors(file);
  const lazy = await openSafetensors(file);
  try {
    assert.deepEqual(lazy.metadata, whole.metadata);
    assert.deepEqual(lazy.specs.map((s) => s.name).sort(), Object.keys(whole.tensors).sort());
    for (const spec of lazy.specs) {
      const t = whole.tensors[spec.name]!;
      assert.deepEqual([spec.dtype, spec.shape], [t.dtype, t.shape], spec.name);
      assert.deepEqual(await lazy.read(spec.name), t, spec.name);
      const n = t.data.length;
      const parts: Array<number | bigint> = [];
      for (let start = 0; start < n; start += 2) parts.push(...(await lazy.readSlice(spec.name, start, Math.min(2, n - start))));
      assert.deepEqual(parts, [...t.data], `${spec.name} in slices of 2`);
    }
    assert.ok(lazy.has(lazy.specs[0].name) && !lazy.has('nope'));
    await assert.rejects(lazy.read('nope'), isUserError(/tiny\.safetensors: nope: no such tensor/));
    await assert.rejects(lazy.readSlice(lazy.specs[0].name, 0, 1e6), /outside the tensor/);
  } finally {
    await lazy.close();
  }
});

test('openSafetensors validates the header before any data is read: a truncated file is refused at open', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'contrastive-st-lazy-'));
  try {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [4], data: f32(1, 2, 3, 4) } });
    await writeFile(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 4));
    await assert.rejects(openSafetensors(join(dir, 'cut.safetensors')), isUserError(/cut\.safetensors: a: data_offsets \[0, 16\] run past the end/));
    await writeFile(join(dir, 'short.safetensors'), Uint8Array.from([1, 2, 3]));
    await assert.rejects(openSafetensors(join(dir, 'short.safetensors')), isUserError(/file is 3 bytes/));
    await assert.rejects(openSafetensors(join(dir, 'none.safetensors')), isUserError(/none\.safetensors: cannot read safetensors file: no such file/));
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('writeSafetensorsStream: whole tensors and slices give the bytes encodeSafetensors gives; a short slice stream writes nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'contrastive-st-stream-'));
  try {
    const tensors: Record<string, NamedTensor> = {
      'w.weight': { dtype: 'F32', shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i / 7 - 1) },
      half: { dtype: 'F16', shape: [5], data: f32(0.1, -2, 3.5, 65504, 1e-7) },
      ids: { dtype: 'I64', shape: [3], data: BigInt64Array.from([1n, -2n, 2n ** 60n]) },
      empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    };
    const specs = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
    async function* slices(t: NamedTensor): AsyncGenerator<TensorData> {
      for (let i = 0; i < t.data.length; i += 4) yield t.data.slice(i, i + 4);
    }
    const out = join(dir, 'stream.safetensors');
    await writeSafetensorsStream(out, specs, (name) => (name === 'ids' ? tensors[name]! : slices(tensors[name]!)), { format: 'pt' });
    assert.deepEqual(new Uint8Array(await readFile(out)), encodeSafetensors(tensors, { format: 'pt' }));

    const bad = join(dir, 'bad.safetensors');
    async function* short(): AsyncGenerator<TensorData> {
      yield new Float32Array(2);
    }
    await assert.rejects(writeSafetensorsStream(bad, [{ name: 'x', dtype: 'F32', shape: [3] }], () => short()), isUserError(/bad\.safetensors: x: slices held 2 values, the shape \[3\] needs 3/));
    async function* wrongType(): AsyncGenerator<TensorData> {
      yield new Int32Array(3);
    }
    await assert.rejects(writeSafetensorsStream(bad, [{ name: 'x', dtype: 'F32', shape: [3] }], () => wrongType()), isUserError(/x: a slice of F32 data came as Int32Array/));
    assert.deepEqual((await readdir(dir)).sort(), ['stream.safetensors'], 'no file or temp file left by the failed writes');
  } finally {
    await rm(dir, { recursive: true });
  }
});
