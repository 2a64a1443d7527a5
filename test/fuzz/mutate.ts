/**
 * Seeded byte mutations for the reader fuzz test: bit flips, bytes set to values that matter to parsers
 * (quotes, brackets, separators, 0x00/0xFF, UTF-8 lead bytes), runs of digits (huge numbers and
 * offsets), truncation, inserted and deleted bytes, and chunks spliced in from elsewhere in the input
 * or from another seed. One to three edits per case; each case is a pure function of (seed, target, index).
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
