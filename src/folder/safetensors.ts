/**
 * safetensors read/write, pure TypeScript (no tfjs), compatible with Hugging Face's `safetensors`.
 *
 * File layout:
 *   [0, 8)        u64 little-endian N: header length in bytes
 *   [8, 8 + N)    UTF-8 JSON: { "__metadata__"?: { str: str }, "<name>": { "dtype", "shape", "data_offsets": [b, e] }, ... }
 *                 padded with spaces so that 8 + N is a multiple of 8
 *   [8 + N, end)  the tensors' raw little-endian bytes; data_offsets are relative to 8 + N
 *
 * Writing matches the reference serializer byte for byte:
 *   - tensors are laid out sorted by dtype size, largest first (I64, F32, I32, BF16, F16), then by name
 *     (UTF-8 byte order). This is the reference library's order: it keeps every tensor naturally aligned
 *     and makes the bytes independent of the insertion order of the `tensors` object;
 *   - compact JSON, "__metadata__" first (only when `metadata` is given; its keys in insertion order),
 *     then the tensors in layout order; each entry as {"dtype","shape","data_offsets"}.
 *
 * dtypes and in-memory data:
 *   F32  ↔ Float32Array
 *   F16, BF16 ↔ Float32Array: decoded to float32 (exact: every F16/BF16 value is a float32) and the
 *        tensor keeps reporting its file dtype ('F16'/'BF16'), so decode → encode reproduces the file.
 *        Encoding F16/BF16 rounds float32 → half to nearest even (overflow → ±Infinity, NaN kept).
 *   I32  ↔ Int32Array
 *   I64  ↔ BigInt64Array (exact for all 64-bit values; convert with Number(x) where you know it fits).
 *
 * Reading validates like the reference reader: header within the file, JSON object, known dtypes,
 * data_offsets in range, tensors contiguous from 0 with no gap or overlap (in offset order), each span
 * = product(shape) × dtype size, and no bytes after the last tensor. Every failure is a UserError
 * naming the file and the tensor.
 *
 * Files can also be read and written one tensor at a time (`openSafetensors`, `writeSafetensorsStream`):
 * the header is read or laid out first, then each tensor's bytes on demand, so a merge of N models holds
 * one tensor per model, never N models.
 */
import { open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { userError, UserError } from '../util/errors.js';
import { fsReason } from '../util/fs.js';

export type SafeDType = 'F32' | 'F16' | 'BF16' | 'I32' | 'I64';

export type TensorData = Float32Array | Int32Array | BigInt64Array;

export interface NamedTensor {
  dtype: SafeDType;
  shape: number[];
  data: TensorData;
}

/**
 * One tensor for `writeSafetensorsStream`: the whole tensor, or its data as consecutive row-major
 * slices in the header's dtype (so a tensor is never held whole; a merge computes it slice by slice).
 */
export type TensorPayload = NamedTensor | AsyncIterable<TensorData>;

export interface SafetensorsContents {
  tensors: Record<string, NamedTensor>;
  metadata: Record<string, string>;
}

/** Bytes per element. */
export const DTYPE_SIZE: Readonly<Record<SafeDType, number>> = { F32: 4, F16: 2, BF16: 2, I32: 4, I64: 8 };
const DTYPES = Object.keys(DTYPE_SIZE) as SafeDType[];
/** The reference library's dtype enum order (higher = laid out first). */
const DTYPE_RANK: Readonly<Record<SafeDType, number>> = { F16: 0, BF16: 1, I32: 2, F32: 3, I64: 4 };
/** The reference reader refuses larger headers. */
const MAX_HEADER = 100_000_000;
const METADATA_KEY = '__metadata__';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();

// ---------------------------------------------------------------------------------------------------
// half-precision conversions

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits → number (exact). */
export function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** number → IEEE binary16 bits, via float32, rounding to nearest even. */
export function float32ToFloat16(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // Inf / NaN (kept quiet)
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00; // overflow → ±Inf
  if (e <= 0) {
    // subnormal half: value = m × 2^-24, m = full >> shift
    const shift = 14 - e;
    if (shift > 24) return sign; // below half the smallest subnormal → ±0
    const full = mant | 0x800000;
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && m & 1)) m++; // may carry into the smallest normal: correct
    return sign | m;
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // carry may reach Inf: correct
  return h;
}

/** bfloat16 bits → number (exact). */
export function bfloat16ToFloat32(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

/** number → bfloat16 bits, via float32, rounding to nearest even. */
export function float32ToBfloat16(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40; // NaN stays NaN
  return Math.floor((x + 0x7fff + ((x >>> 16) & 1)) / 0x10000) & 0xffff;
}

// ---------------------------------------------------------------------------------------------------
// encode

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function dataMatches(dtype: SafeDType, data: unknown): boolean {
  return (dtype === 'I32' && data instanceof Int32Array) || (dtype === 'I64' && data instanceof BigInt64Array) || (dtype !== 'I32' && dtype !== 'I64' && data instanceof Float32Array);
}

function expectedArray(dtype: SafeDType): string {
  return dtype === 'I32' ? 'Int32Array' : dtype === 'I64' ? 'BigInt64Array' : 'Float32Array';
}

function checkTensor(where: string, name: string, t: NamedTensor): void {
  checkSpec(where, { name, dtype: t.dtype, shape: t.shape });
  if (!dataMatches(t.dtype, t.data)) throw userError(where, name, `dtype ${t.dtype} needs data as ${expectedArray(t.dtype)}, got ${t.data?.constructor?.name ?? typeof t.data}`);
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) throw userError(where, name, `shape [${t.shape.join(', ')}] has ${count} elements but data has ${t.data.length}`);
}

/** Little-endian bytes of one tensor's data in its file dtype. */
function tensorBytes(t: NamedTensor): Uint8Array {
  const n = t.data.length;
  if (t.dtype === 'F16' || t.dtype === 'BF16') {
    const conv = t.dtype === 'F16' ? float32ToFloat16 : float32ToBfloat16;
    const out = new Uint8Array(n * 2);
    const src = t.data as Float32Array;
    for (let i = 0; i < n; i++) {
      const h = conv(src[i]!);
      out[2 * i] = h & 0xff;
      out[2 * i + 1] = h >>> 8;
    }
    return out;
  }
  const src = t.data as Float32Array | Int32Array | BigInt64Array;
  if (LITTLE_ENDIAN) return new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
  const out = new Uint8Array(src.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    if (t.dtype === 'F32') view.setFloat32(4 * i, src[i] as number, true);
    else if (t.dtype === 'I32') view.setInt32(4 * i, src[i] as number, true);
    else view.setBigInt64(8 * i, src[i] as bigint, true);
  }
  return out;
}

/** A tensor's name, dtype and shape: what the header says about it. */
export interface TensorSpec {
  name: string;
  dtype: SafeDType;
  shape: number[];
}

interface Layout {
  /** Tensor names in file order. */
  order: string[];
  /** The 8-byte length prefix, the JSON header and its space padding. */
  head: Uint8Array;
  /** Bytes of the data section. */
  dataBytes: number;
}

function checkSpec(where: string, t: TensorSpec): void {
  if (t.name === METADATA_KEY) throw userError(where, t.name, 'is reserved for the metadata block; rename the tensor');
  if (!DTYPES.includes(t.dtype)) throw userError(where, t.name, `dtype ${JSON.stringify(t.dtype)} is not supported; valid: ${DTYPES.join(', ')}`);
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw userError(where, t.name, `shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`);
  }
}

/** The reference layout (larger dtype first, then name) and the header bytes for `specs`. */
function layout(where: string, specs: TensorSpec[], metadata?: Record<string, string>): Layout {
  for (const spec of specs) checkSpec(where, spec);
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw userError(where, `${METADATA_KEY}.${k}`, `metadata values must be strings, got ${typeof v}`);
    }
  }
  const byName = new Map(specs.map((t) => [t.name, t]));
  const order = [...byName.keys()].sort((a, b) => DTYPE_RANK[byName.get(b)!.dtype] - DTYPE_RANK[byName.get(a)!.dtype] || compareUtf8(a, b));

  // The JSON is assembled by hand so entry order is exactly as laid out (a JS object would move
  // integer-like names such as "0" to the front).
  const entries: string[] = [];
  if (metadata !== undefined) {
    const kv = Object.entries(metadata).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    entries.push(`${JSON.stringify(METADATA_KEY)}:{${kv.join(',')}}`);
  }
  let offset = 0;
  for (const name of order) {
    const t = byName.get(name)!;
    const size = t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[t.dtype];
    entries.push(`${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + size}]}`);
    offset += size;
  }
  const json = utf8.encode(`{${entries.join(',')}}`);
  const n = Math.ceil(json.length / 8) * 8; // 8 + n is then a multiple of 8
  if (n > MAX_HEADER) throw userError(where, undefined, `header is ${n} bytes, over the ${MAX_HEADER}-byte limit readers accept`);
  const head = new Uint8Array(8 + n);
  new DataView(head.buffer).setBigUint64(0, BigInt(n), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length, 8 + n); // space padding
  return { order, head, dataBytes: offset };
}

/** The bytes of `t`, checked against the spec the header was laid out with. */
function checkedBytes(where: string, name: string, spec: TensorSpec, t: NamedTensor): Uint8Array {
  checkTensor(where, name, t);
  if (t.dtype !== spec.dtype || t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i])) {
    throw userError(where, name, `is ${t.dtype} [${t.shape}] but the header was laid out for ${spec.dtype} [${spec.shape}]`);
  }
  return tensorBytes(t);
}

function encodeAt(where: string, tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors);
  for (const name of names) checkTensor(where, name, tensors[name]!);
  const { order, head, dataBytes } = layout(where, names.map((name) => ({ name, dtype: tensors[name]!.dtype, shape: tensors[name]!.shape })), metadata);
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head, 0);
  let at = head.length;
  for (const name of order) {
    const bytes = tensorBytes(tensors[name]!);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** Serialize tensors (+ optional string metadata) to safetensors bytes. See the file comment for layout. */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): Uint8Array {
  return encodeAt('safetensors', tensors, metadata);
}

// ---------------------------------------------------------------------------------------------------
// decode

interface Entry {
  name: string;
  dtype: SafeDType;
  shape: number[];
  begin: number;
  end: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseEntry(where: string, name: string, info: unknown, dataLen: number): Entry {
  if (!isPlainObject(info)) throw userError(where, name, 'header entry must be an object with dtype, shape, data_offsets');
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string' || !DTYPES.includes(dtype as SafeDType)) {
    throw userError(where, name, `dtype ${JSON.stringify(dtype)} is not supported; valid: ${DTYPES.join(', ')}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw userError(where, name, `shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw userError(where, name, `data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw userError(where, name, `data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLen) {
    throw userError(where, name, `data_offsets [${begin}, ${end}] run past the end of the data section (${dataLen} bytes); the file is truncated or corrupt`);
  }
  const size = DTYPE_SIZE[dtype as SafeDType];
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (end - begin !== count * size) {
    throw userError(where, name, `data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${shape.join(', ')}] of ${dtype} needs ${count} × ${size} = ${count * size}`);
  }
  return { name, dtype: dtype as SafeDType, shape: [...(shape as number[])], begin, end };
}

/** `owned`: `bytes` is a fresh buffer of its own (offset 0), so little-endian data can be viewed in place. */
function decodeData(dtype: SafeDType, bytes: Uint8Array, owned = false): TensorData {
  const size = DTYPE_SIZE[dtype];
  const n = bytes.length / size;
  if (dtype === 'F16' || dtype === 'BF16') {
    const conv = dtype === 'F16' ? float16ToFloat32 : bfloat16ToFloat32;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = conv(bytes[2 * i]! | (bytes[2 * i + 1]! << 8));
    return out;
  }
  // Copy into a fresh, aligned buffer (the source may sit at any offset, e.g. after an F16 tensor).
  const copy = owned && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
  if (LITTLE_ENDIAN) {
    if (dtype === 'F32') return new Float32Array(copy.buffer);
    if (dtype === 'I32') return new Int32Array(copy.buffer);
    return new BigInt64Array(copy.buffer);
  }
  const view = new DataView(copy.buffer);
  if (dtype === 'F32') return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
  if (dtype === 'I32') return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
  return BigInt64Array.from({ length: n }, (_, i) => view.getBigInt64(8 * i, true));
}

interface ParsedHeader {
  entries: Entry[];
  metadata: Record<string, string>;
  /** File offset of the data section (8 + header length). */
  dataStart: number;
}

/** Read the 8-byte length prefix; `fileLen` bounds it. */
function headerLength(prefix: Uint8Array, fileLen: number, where: string): number {
  if (fileLen < 8) throw userError(where, undefined, `file is ${fileLen} bytes; a safetensors file starts with an 8-byte header length`);
  const n64 = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(fileLen - 8)) {
    throw userError(where, undefined, `header length ${n64} runs past the end of the file (${fileLen} bytes); the file is truncated or not safetensors`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER) throw userError(where, undefined, `header length ${n} is over the ${MAX_HEADER}-byte limit`);
  return n;
}

/** Validate the JSON header against a file of `fileLen` bytes; entries come back in offset order. */
function parseHeader(json: Uint8Array, fileLen: number, where: string): ParsedHeader {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (e) {
    throw userError(where, undefined, `header is not valid UTF-8 JSON (${(e as Error).message}); the file is corrupt or not safetensors`);
  }
  if (!isPlainObject(header)) throw userError(where, undefined, 'header must be a JSON object of tensor entries');

  const dataStart = 8 + json.length;
  const dataLen = fileLen - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (info === null) continue;
      if (!isPlainObject(info)) throw userError(where, METADATA_KEY, 'must be an object of string values');
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw userError(where, `${METADATA_KEY}.${k}`, `metadata values must be strings, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(where, name, info, dataLen));
  }

  // Contiguity in offset order: each tensor starts where the previous one ended, the first at 0.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let prev: Entry | undefined;
  for (const e of entries) {
    if (e.begin !== expected) {
      const after = prev ? `tensor "${prev.name}" ends at ${expected}` : 'the data section starts at 0';
      const what = e.begin < expected ? 'overlaps the previous tensor' : `leaves a gap of ${e.begin - expected} bytes`;
      throw userError(where, e.name, `data_offsets [${e.begin}, ${e.end}] ${what} (${after}); tensors must be contiguous`);
    }
    expected = e.end;
    prev = e;
  }
  if (expected !== dataLen) {
    throw userError(where, prev?.name, `${dataLen - expected} bytes follow the last tensor's data (data section is ${dataLen} bytes, tensors cover ${expected}); the file is corrupt`);
  }
  return { entries, metadata, dataStart };
}

/**
 * Parse safetensors bytes. `where` names the source in error messages (a file path).
 * Tensors come back in file (offset) order; F16/BF16 data as Float32Array, I64 as BigInt64Array.
 */
export function decodeSafetensors(bytes: Uint8Array, where = 'safetensors'): SafetensorsContents {
  const n = headerLength(bytes.subarray(0, 8), bytes.length, where);
  const { entries, metadata, dataStart } = parseHeader(bytes.subarray(8, 8 + n), bytes.length, where);
  const tensors: Record<string, NamedTensor> = {};
  for (const e of entries) {
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data: decodeData(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end)) };
  }
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------------------------
// files

function fsMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file or directory';
  if (err.code === 'EISDIR') return 'is a directory, expected a .safetensors file';
  return err.code ? fsReason(err) : (err.message ?? String(e));
}

/** fsync the folder holding `path` so a rename into it survives a crash (best effort: not every platform can). */
async function syncDir(path: string): Promise<void> {
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    /* ignore */
  }
}

/**
 * Write a safetensors file one tensor at a time: the header is laid out from `specs`, then `tensor(name)`
 * is awaited for each tensor in file order and its bytes appended, so only one tensor's data is held at
 * once. Atomic: a temp file in the same folder, fsync, rename over `path`. Bytes equal `encodeSafetensors`.
 */
export async function writeSafetensorsStream(
  path: string,
  specs: TensorSpec[],
  tensor: (name: string) => TensorPayload | Promise<TensorPayload>,
  metadata?: Record<string, string>,
): Promise<void> {
  const { order, head } = layout(path, specs, metadata);
  const byName = new Map(specs.map((t) => [t.name, t]));
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'wx');
    try {
      await fh.write(head);
      for (const name of order) {
        const spec = byName.get(name)!;
        const payload = await tensor(name);
        if (!(Symbol.asyncIterator in payload)) {
          await fh.write(checkedBytes(path, name, spec, payload));
          continue;
        }
        let written = 0;
        for await (const data of payload) {
          if (!dataMatches(spec.dtype, data)) throw userError(path, name, `a slice of ${spec.dtype} data came as ${data?.constructor?.name}, expected ${expectedArray(spec.dtype)}`);
          written += data.length;
          await fh.write(tensorBytes({ dtype: spec.dtype, shape: [data.length], data }));
        }
        const count = spec.shape.reduce((a, b) => a * b, 1);
        if (written !== count) throw userError(path, name, `slices held ${written} values, the shape [${spec.shape}] needs ${count}`);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    if (e instanceof UserError) throw e;
    throw userError(path, undefined, `cannot write safetensors file: ${fsMessage(e)}`);
  }
  await syncDir(path);
}

/** Write atomically: a temp file in the same directory, fsync, then rename over `path`. */
export async function writeSafetensors(path: string, tensors: Record<string, NamedTensor>, metadata?: Record<string, string>): Promise<void> {
  for (const [name, t] of Object.entries(tensors)) checkTensor(path, name, t);
  const specs = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  await writeSafetensorsStream(path, specs, (name) => tensors[name]!, metadata);
}

/** Read and validate a .safetensors file (the whole file is read into memory). */
export async function readSafetensors(path: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw userError(path, undefined, `cannot read safetensors file: ${fsMessage(e)}`);
  }
  return decodeSafetensors(bytes, path);
}

/** An open safetensors file: the validated header, and each tensor read from disk when asked for. */
export interface SafetensorsFile {
  path: string;
  metadata: Record<string, string>;
  /** Every tensor's name, dtype and shape, in file order. */
  specs: TensorSpec[];
  has(name: string): boolean;
  /** One tensor's data, read from the file now (F16/BF16 decoded to Float32Array). */
  read(name: string): Promise<NamedTensor>;
  /** Elements [start, start + count) of a tensor's row-major data, read from the file now. */
  readSlice(name: string, start: number, count: number): Promise<TensorData>;
  close(): Promise<void>;
}

/** Open a .safetensors file and validate its header without reading any tensor data. Close it when done. */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw userError(path, undefined, `cannot read safetensors file: ${fsMessage(e)}`);
  }
  try {
    const size = (await fh.stat()).size;
    const readAt = async (position: number, length: number): Promise<Uint8Array> => {
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, position + done);
        if (bytesRead === 0) throw userError(path, undefined, `file ended at byte ${position + done} (expected ${size} bytes); it changed while being read`);
        done += bytesRead;
      }
      return buf;
    };
    const n = headerLength(await readAt(0, Math.min(8, size)), size, path);
    const { entries, metadata, dataStart } = parseHeader(await readAt(8, n), size, path);
    const byName = new Map(entries.map((e) => [e.name, e]));
    return {
      path,
      metadata,
      specs: entries.map(({ name, dtype, shape }) => ({ name, dtype, shape })),
      has: (name) => byName.has(name),
      async read(name) {
        const e = byName.get(name);
        if (!e) throw userError(path, name, 'no such tensor in the file');
        const bytes = await readAt(dataStart + e.begin, e.end - e.begin);
        return { dtype: e.dtype, shape: [...e.shape], data: decodeData(e.dtype, bytes, true) };
      },
      async readSlice(name, start, count) {
        const e = byName.get(name);
        if (!e) throw userError(path, name, 'no such tensor in the file');
        const size = DTYPE_SIZE[e.dtype];
        if (!(Number.isSafeInteger(start) && Number.isSafeInteger(count) && start >= 0 && count >= 0 && e.begin + (start + count) * size <= e.end)) {
          throw new RangeError(`${path}: ${name}: slice [${start}, ${start + count}) is outside the tensor's ${(e.end - e.begin) / size} values`);
        }
        return decodeData(e.dtype, await readAt(dataStart + e.begin + start * size, count * size), true);
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
