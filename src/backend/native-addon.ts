/**
 * The optional C++ addon (native/, package `@contrastive/native`): loaded once, or the reason it is
 * not there. It is an optionalDependency built by node-gyp at install; where that cannot happen
 * (no C++ compiler) the install still succeeds and this says why, so `--backend auto` can fall
 * back and tell the user.
 */
import { createRequire } from 'node:module';

export type SimdPath = 'avx512' | 'avx2' | 'scalar';

/** Activation codes of the matmul epilogue (native/src/sgemm.h). */
export const ACTIVATIONS = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyrelu: 4, sigmoid: 5 } as const;

/** Op codes of native/src/elementwise.h and reduce.h. */
export const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6, copy: 7 } as const;
export const UNARY_OPS = { Exp: 0, Neg: 1, Erf: 2, Sqrt: 3, Square: 4, Rsqrt: 5, Tanh: 6, Log: 7, Abs: 8, Sigmoid: 9, Relu: 10, Reciprocal: 11 } as const;
export const REDUCE_OPS = { Sum: 0, Mean: 1, Max: 2, Min: 3 } as const;

export interface NativeAddon {
  info(): { path: SimdPath; bestPath: SimdPath; avx512: boolean; avx2fma: boolean; threads: number; hardwareThreads: number };
  setThreads(n: number): void;
  /** Forces a SIMD path (tests, bench); one the CPU lacks falls back to the best it has. Returns the path used. */
  setPath(path: SimdPath | 'auto'): SimdPath;
  /**
   * c[o] = act(op(a[ia[o]]) · op(b[ib[o]]) + bias) for each output entry o; a holds [M,K] entries
   * ([K,M] when ta), b [K,N] entries ([N,K] when tb), c [M,N] entries, bias [N] or null.
   */
  matmul(
    a: Float32Array, b: Float32Array, c: Float32Array, ia: Int32Array, ib: Int32Array,
    M: number, K: number, N: number, ta: boolean, tb: boolean,
    bias: Float32Array | null, act: number, alpha: number,
  ): void;
  /** out = op(a, b) over outShape; strides per output dim, 0 where an operand is broadcast. Codes: BINARY_OPS. */
  binary(op: number, a: Float32Array, aStrides: Int32Array, b: Float32Array, bStrides: Int32Array, out: Float32Array, outShape: Int32Array): void;
  /** out[i] = op(x[i]). Codes: UNARY_OPS. */
  unary(op: number, x: Float32Array, out: Float32Array): void;
  /** Reduces x (shape) over the axes where mask is 1 into out (the kept dims). Codes: REDUCE_OPS. */
  reduce(op: number, x: Float32Array, shape: Int32Array, mask: Int32Array, out: Float32Array): void;
  /** Row-wise softmax of [rows, n]. */
  softmax(x: Float32Array, out: Float32Array, rows: number, n: number): void;
  /** LayerNorm over rows of x [n, h]: y, and per row mean and 1/std for the gradient. */
  layerNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, eps: number, n: number, h: number, y: Float32Array, mean: Float32Array, rstd: Float32Array): void;
  layerNormGrad(dy: Float32Array, x: Float32Array, gamma: Float32Array, mean: Float32Array, rstd: Float32Array, n: number, h: number, dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array): void;
  /** Exact (erf) GELU and its gradient. */
  gelu(x: Float32Array, y: Float32Array): void;
  geluGrad(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /**
   * Fused attention per (batch, head): out = (softmax(q·kᵀ·scale + bias) ⊙ mult)·v with q [B,Sq,H,D],
   * k [B,Sk,H,D], v [B,Sk,H,Dv], bias [B,Sk] or null, mult [B,H,Sq,Sk] or null, out [B,Sq,H,Dv].
   */
  attention(q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null, mult: Float32Array | null, out: Float32Array,
    B: number, Sq: number, Sk: number, H: number, D: number, Dv: number, scale: number): void;
  /** Its gradient from dout: dq, dk, dv, and dbias [B, Sk] unless null. */
  attentionGrad(q: Float32Array, k: Float32Array, v: Float32Array, bias: Float32Array | null, mult: Float32Array | null, dout: Float32Array,
    dq: Float32Array, dk: Float32Array, dv: Float32Array, dbias: Float32Array | null,
    B: number, Sq: number, Sk: number, H: number, D: number, Dv: number, scale: number): void;
  /** One AdamW step: writes pOut, mOut, vOut; scalars = [b1, 1-b1, b2, 1-b2, √(1-b2ᵗ), eps, 1-lr·λ (1: none), lr/(1-b1ᵗ)]. */
  adamw(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, pOut: Float32Array, mOut: Float32Array, vOut: Float32Array, scalars: Float32Array): void;
  /** One thread's FMA throughput on a path, GFLOP/s (a simple FMA loop; 0 for scalar). */
  fmaPeak(path: SimdPath, seconds: number): number;
}

export const NATIVE_DISABLE_ENV = 'CONTRASTIVE_NATIVE';

let loaded: { addon: NativeAddon | null; error: string | null } | undefined;

/** The addon, or null and why not. `CONTRASTIVE_NATIVE=0` hides it (to exercise the fallback). */
export function loadNativeAddon(): { addon: NativeAddon | null; error: string | null } {
  if (process.env[NATIVE_DISABLE_ENV] === '0') return { addon: null, error: `disabled by ${NATIVE_DISABLE_ENV}=0` };
  if (loaded == null) {
    try {
      const req = createRequire(import.meta.url);
      loaded = req('@contrastive/native') as { addon: NativeAddon | null; error: string | null };
    } catch (e) {
      loaded = { addon: null, error: `@contrastive/native not installed (optional dependency built from native/ at npm install): ${(e as Error).message.split('\n')[0]}` };
    }
  }
  return loaded;
}
