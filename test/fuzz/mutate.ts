/**
 * Seeded byte mutations for the reader fuzz test: bit flips, bytes set to values that matter to parsers
 * (quotes, brackets, separators, 0x00/0xFF, UTF-8 lead bytes), runs of digits (huge numbers and
 * offsets), truncation, inserted and deleted bytes, and chunks spliced in from elsewhere in the input
 * or from another seed, one to three edits per case; for a JSON input, half the cases instead change
 * one to three values of the parsed tree (odd types, ranges, deletions, copies) and re-serialize it, so the
 * validators behind the parser are exercised. Each case is a pure function of (seed, target, index).
 */
import { Rng, mixSeed } from '../../src/util/rng.js';

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0xc0, 0xe0, 0xf0, 0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x0a, 0x0d, 0x5c, 0x30, 0x39, 0x2d, 0x65, 0x09];

function nameHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h;
}

export function mutate(seeds: Buffer[], seed: number, target: string, index: number): { bytes: Buffer; description: string } {
  const rng = new Rng(mixSeed(seed, nameHash(target), index));
  const from = rng.int(seeds.length);
  let b = Buffer.from(seeds[from]);
  const edits: string[] = [`seed input ${from} (${b.length} bytes)`];
  // a JSON input (after an optional "name\0" prefix): half the cases change values, not bytes, so that
  // the validators behind the parser see well-formed JSON with wrong types, ranges and shapes
  const nul = b.indexOf(0);
  const prefix = nul >= 0 && nul < 64 ? b.subarray(0, nul + 1) : Buffer.alloc(0);
  const json = parseJson(b.subarray(prefix.length));
  if (json !== undefined && rng.int(2) === 0) {
    const changed = mutateJson(json, rng, edits);
    return { bytes: Buffer.concat([prefix, Buffer.from(JSON.stringify(changed, null, rng.int(2) ? 2 : undefined))]), description: edits.join('; ') };
  }
  const pos = (extra = 0) => rng.int(b.length + extra);
  const ops = 1 + rng.int(3);
  for (let k = 0; k < ops; k++) {
    const op = rng.int(8);
    if (b.length === 0 && op !== 4) continue;
    if (op === 0) {
      const p = pos();
      const bit = rng.int(8);
      b[p] ^= 1 << bit;
      edits.push(`flip bit ${bit} of byte ${p}`);
    } else if (op === 1) {
      const p = pos();
      const v = INTERESTING[rng.int(INTERESTING.length)];
      b[p] = v;
      edits.push(`byte ${p} = 0x${v.toString(16)}`);
    } else if (op === 2) {
      const p = pos(1);
      const digits = Buffer.from(String(rng.int(10) === 0 ? '-1' : '9'.repeat(1 + rng.int(12))));
      b = Buffer.concat([b.subarray(0, p), digits, b.subarray(p)]);
      edits.push(`insert "${digits}" at ${p}`);
    } else if (op === 3) {
      const len = pos();
      b = b.subarray(0, len);
      edits.push(`truncate to ${len}`);
    } else if (op === 4) {
      const p = pos(1);
      const n = 1 + rng.int(16);
      const ins = Buffer.from(Array.from({ length: n }, () => rng.int(256)));
      b = Buffer.concat([b.subarray(0, p), ins, b.subarray(p)]);
      edits.push(`insert ${n} random bytes ${ins.toString('hex')} at ${p}`);
    } else if (op === 5) {
      const p = pos();
      const n = 1 + rng.int(16);
      b = Buffer.concat([b.subarray(0, p), b.subarray(p + n)]);
      edits.push(`delete ${n} bytes at ${p}`);
    } else if (op === 6) {
      // overwrite with a chunk of this input or another seed (misplaced structure: a header where data was)
      const src = seeds[rng.int(seeds.length)];
      const a = rng.int(src.length);
      const n = 1 + rng.int(Math.min(64, src.length - a));
      const p = pos();
      const chunk = src.subarray(a, a + n);
      b = Buffer.concat([b.subarray(0, p), chunk, b.subarray(p + chunk.length)]);
      edits.push(`overwrite at ${p} with ${n} bytes from offset ${a} of a seed`);
    } else {
      // duplicate a chunk in place (repeated records, repeated headers)
      const a = pos();
      const n = 1 + rng.int(Math.min(256, b.length - a));
      b = Buffer.concat([b.subarray(0, a + n), b.subarray(a, a + n), b.subarray(a + n)]);
      edits.push(`duplicate ${n} bytes at ${a}`);
    }
  }
  return { bytes: b, description: edits.join('; ') };
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    const v = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return v !== null && typeof v === 'object' ? v : undefined;
  } catch {
    return undefined;
  }
}

const ODD_VALUES: unknown[] = [null, true, false, 0, -1, -0.5, 0.5, 1e9, -1e9, 1e308, 2 ** 53 + 2, '', 'x', '12', '1e3', 'NaN', [], [1], {}, { a: 1 }, ['a', 'b']];

/** Replace, delete or duplicate 1–3 values anywhere in the tree (paths are recorded in `edits`). */
function mutateJson(root: unknown, rng: Rng, edits: string[]): unknown {
  const copy = JSON.parse(JSON.stringify(root)) as unknown;
  const paths: Array<Array<string | number>> = [];
  const walk = (v: unknown, path: Array<string | number>) => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], [...path, k]);
  };
  walk(copy, []);
  const n = 1 + rng.int(3);
  for (let k = 0; k < n && paths.length > 1; k++) {
    const path = paths[1 + rng.int(paths.length - 1)];
    const parent = path.slice(0, -1).reduce<unknown>((o, key) => (o as Record<string | number, unknown>)?.[key], copy) as Record<string | number, unknown> | undefined;
    if (parent === null || typeof parent !== 'object') continue;
    const key = path[path.length - 1];
    const op = rng.int(4);
    if (op === 0 && !Array.isArray(parent)) {
      delete parent[key];
      edits.push(`json: delete ${path.join('.')}`);
    } else if (op === 1) {
      const other = paths[rng.int(paths.length)].reduce<unknown>((o, kk) => (o as Record<string | number, unknown>)?.[kk], copy);
      parent[key] = JSON.parse(JSON.stringify(other ?? null));
      edits.push(`json: ${path.join('.')} = a copy of another value`);
    } else {
      const v = ODD_VALUES[rng.int(ODD_VALUES.length)];
      parent[key] = JSON.parse(JSON.stringify(v));
      edits.push(`json: ${path.join('.')} = ${JSON.stringify(v)}`);
    }
  }
  return copy;
}
