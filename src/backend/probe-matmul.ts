/**
 * Timing probe for wasm matmul, stock kernel vs the overrides (not a test; not run by `npm test`).
 *   node dist/src/backend/probe-matmul.js [--quick] [--only=stock|override] [--cases=sweep] [--loop-min-macs=N]
 * Prints GFLOP/s (2·M·K·N·batch / time) per case. Each case runs for ~0.4 s after one warm-up call,
 * so the whole probe takes well under a minute on a shared 2-core machine.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmOverrides } from './wasm-overrides.js';
import { matmulTuning } from './wasm-matmul.js';

interface Case {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

function mmCase(name: string, batch: number[], M: number, K: number, N: number, ta: boolean, tb: boolean, bBatch = batch): Case {
  return {
    name,
    a: [...batch, ...(ta ? [K, M] : [M, K])],
    b: [...bBatch, ...(tb ? [N, K] : [K, N])],
    transposeA: ta,
    transposeB: tb,
  };
}

export const HEADLINE_CASES: Case[] = [
  mmCase('512x512x512 NN', [], 512, 512, 512, false, false),
  mmCase('512x512x512 TN', [], 512, 512, 512, true, false),
  mmCase('512x512x512 NT', [], 512, 512, 512, false, true),
  mmCase('512x512x512 TT', [], 512, 512, 512, true, true),
  mmCase('[64,64,32]x[64,32,64]', [64], 64, 32, 64, false, false),
];

/** Per-entry size sweep for batched products, to place the loop/stock threshold (LOOP_MIN_MACS). */
export const SWEEP_CASES: Case[] = [
  mmCase('[128,8,8]x[128,8,8]', [128], 8, 8, 8, false, false),
  mmCase('[128,16,8]x[128,8,16]', [128], 16, 8, 16, false, false),
  mmCase('[128,16,16]x[128,16,16]', [128], 16, 16, 16, false, false),
  mmCase('[128,32,16]x[128,16,32]', [128], 32, 16, 32, false, false),
  mmCase('[128,64,32]x[128,32,64] (scores, NT)', [128], 64, 32, 64, false, true),
  mmCase('[128,64,64]x[128,64,32] (context)', [128], 64, 64, 32, false, false),
  mmCase('[128,64,64]x[128,64,32] (dV, TN)', [128], 64, 64, 32, true, false),
  mmCase('[2048,128]x[128,128] (dense NT)', [], 2048, 128, 128, false, true),
  mmCase('[128,2048]x[2048,128] (dW, TN)', [], 128, 2048, 128, true, false),
];

function fill(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((x, y) => x * y, 1);
  const v = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = s / 2 ** 32 - 0.5;
  }
  return tf.tensor(v, shape);
}

/** GFLOP/s of one case on the current backend. */
export function timeCase(c: Case, budgetMs = 400): number {
  const a = fill(c.a, 1);
  const b = fill(c.b, 2);
  const run = () => {
    const y = tf.matMul(a, b, c.transposeA, c.transposeB);
    y.dataSync();
    return y;
  };
  const warm = run();
  const macs = warm.size * (c.transposeA ? c.a[c.a.length - 2] : c.a[c.a.length - 1]);
  warm.dispose();
  let reps = 0;
  const t0 = performance.now();
  let t = t0;
  while (reps < 2 || t - t0 < budgetMs) {
    run().dispose();
    reps++;
    t = performance.now();
  }
  a.dispose();
  b.dispose();
  return (2 * macs * reps) / ((t - t0) / 1000) / 1e9;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args.find((x) => x.startsWith('--only='))?.slice(7);
  const cases = args.includes('--cases=sweep') ? SWEEP_CASES : HEADLINE_CASES;
  const budget = quick ? 150 : 400;
  const loopMin = args.find((x) => x.startsWith('--loop-min-macs='))?.slice(16);
  if (loopMin != null) matmulTuning.loopMinMacs = Number(loopMin);
  await tf.setBackend('wasm');
  await tf.ready();
  timeCase(HEADLINE_CASES[0], 200); // warm the heap and the JIT so the first measured case is fair
  const stock: number[] = [];
  if (only !== 'override') for (const c of cases) stock.push(timeCase(c, budget));
  registerWasmOverrides();
  const after: number[] = [];
  if (only !== 'stock') for (const c of cases) after.push(timeCase(c, budget));
  console.log('case'.padEnd(40), 'stock GFLOP/s'.padStart(14), 'override GFLOP/s'.padStart(17));
  cases.forEach((c, i) => {
    const s = stock[i] != null ? stock[i].toFixed(2) : '-';
    const o = after[i] != null ? after[i].toFixed(2) : '-';
    console.log(c.name.padEnd(40), s.padStart(14), o.padStart(17));
  });
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
