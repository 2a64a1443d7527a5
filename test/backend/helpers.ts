/** Shared helpers for the backend tests: seeded data, a plain-JS matmul reference, closeness. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';

/** Deterministic values in [-1, 1) (LCG), independent of any backend. */
export function values(n: number, seed: number): Float32Array {
  const v = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (s / 2 ** 32) * 2 - 1;
  }
  return v;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** |got - want| <= tol * max(1, |want|) elementwise (relative for large values, absolute near 0). */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-4, what = ''): void {
  assert.equal(got.length, want.length, `${what}: length ${got.length} vs ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * Math.max(1, Math.abs(want[i])))) {
      assert.fail(`${what}: element ${i}: got ${got[i]}, want ${want[i]} (tol ${tol})`);
    }
  }
}

/**
 * Plain-JS batched matmul with numpy broadcasting of the batch dims: the independent reference
 * (the cpu backend only broadcasts a batch of 1 on one side).
 */
export function jsMatMul(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], ta: boolean, tb: boolean): { v: Float64Array; shape: number[] } {
  const ra = aShape.length;
  const rb = bShape.length;
  const M = ta ? aShape[ra - 1] : aShape[ra - 2];
  const K = ta ? aShape[ra - 2] : aShape[ra - 1];
  const N = tb ? bShape[rb - 2] : bShape[rb - 1];
  const da = aShape.slice(0, -2);
  const db = bShape.slice(0, -2);
  const rank = Math.max(da.length, db.length);
  const pa = [...new Array<number>(rank - da.length).fill(1), ...da];
  const pb = [...new Array<number>(rank - db.length).fill(1), ...db];
  const dout = pa.map((x, i) => Math.max(x, pb[i]));
  const outBatch = size(dout);
  const v = new Float64Array(outBatch * M * N);
  for (let o = 0; o < outBatch; o++) {
    let rem = o;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const c = rem % dout[d];
      rem = Math.floor(rem / dout[d]);
      if (pa[d] !== 1) ia += c * sa;
      if (pb[d] !== 1) ib += c * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = ta ? a[ia * M * K + k * M + i] : a[ia * M * K + i * K + k];
          const bv = tb ? b[ib * K * N + j * K + k] : b[ib * K * N + k * N + j];
          s += av * bv;
        }
        v[o * M * N + i * N + j] = s;
      }
    }
  }
  return { v, shape: [...dout, M, N] };
}

/** Runs `f` on `backendName` and returns plain arrays (no tensors survive). */
export async function on<T>(backendName: string, f: () => T): Promise<T> {
  const ok = await tf.setBackend(backendName);
  assert.ok(ok, `setBackend(${backendName})`);
  await tf.ready();
  return f();
}

/** Number of tensors alive inside the current backend (counts kernel intermediates too). */
export function backendDataIds(): number {
  return (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
}

/** One matmul case: stored shapes of a and b for its transpose flags; cpuOk = the cpu backend computes it right. */
export interface MatMulCase { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean; cpuOk: boolean }
export interface MatMulShape { name: string; ba: number[]; bb: number[]; M: number; K: number; N: number; cpuOk?: boolean }

/** [batch..., M, K] x [batch..., K, N] in the stored layout for each of the four transpose combos. */
export function matMulCases(shapes: MatMulShape[]): MatMulCase[] {
  return shapes.flatMap((s) =>
    [false, true].flatMap((ta) =>
      [false, true].map((tb) => ({
        name: `${s.name} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'}`,
        a: [...s.ba, ...(ta ? [s.K, s.M] : [s.M, s.K])],
        b: [...s.bb, ...(tb ? [s.N, s.K] : [s.K, s.N])],
        ta,
        tb,
        cpuOk: s.cpuOk ?? true,
      })),
    ),
  );
}

/** tf.matMul of case `c` on seeded values (seeds 2i+1, 2i+2), read back. */
export function computeMatMul(c: MatMulCase, i: number): { v: Float32Array; shape: number[] } {
  return tf.tidy(() => {
    const y = tf.matMul(tf.tensor(values(size(c.a), 2 * i + 1), c.a), tf.tensor(values(size(c.b), 2 * i + 2), c.b), c.ta, c.tb);
    return { v: y.dataSync() as Float32Array, shape: y.shape };
  });
}

