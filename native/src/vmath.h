// Vectorised math for the element-wise and fused kernels: exp (a Cephes-style polynomial with
// range reduction), softmax rows, exact GELU and its gradient (erfc by a rational Chebyshev fit,
// fractional error < 1.2e-7 in exact arithmetic), and the AdamW update. One algorithm, written once
// (vmath_impl.inc) over a small vector type, compiled for AVX-512, AVX2+FMA (function-level target
// pragmas, vmath_x86.cc) and a portable one-lane type (vmath.cc); `path` picks one at run time.
// Single-threaded: callers split the work over the pool.
#pragma once

#include <cstdint>

#include "cpu_features.h"

namespace cn {

// y[i] = exp(x[i]); relative error within a few ulp over the normal range, 0 below -104, inf above 88.72, NaN kept.
void vexp(SimdPath path, const float* x, float* y, int64_t n);
// out = softmax(in) over one row of n (out may alias in).
void vsoftmax_row(SimdPath path, const float* in, float* out, int64_t n);
// y = x·Φ(x) (exact GELU) and dx = dy·(Φ(x) + x·φ(x)).
void vgelu(SimdPath path, const float* x, float* y, int64_t n);
void vgelu_grad(SimdPath path, const float* x, const float* dy, float* dx, int64_t n);

// Attention rows: row = softmax(row·scale + bias) (bias null: none), and the softmax gradient
// dp = scale·p ⊙ (dp − Σ p·dp), adding p ⊙ (dp − Σ p·dp) into bias_acc unless it is null.
void vscale_bias_softmax_row(SimdPath path, float* row, int64_t n, float scale, const float* bias);
void vsoftmax_grad_row(SimdPath path, const float* p, float* dp, int64_t n, float scale, float* bias_acc);

// LayerNorm rows (fused.h): y, mean and rstd of one row of h; the input gradient of one row.
void vlayernorm_row(SimdPath path, const float* x, const float* gamma, const float* beta, float eps, int64_t h, float* y,
                    float* mean, float* rstd);
void vlayernorm_grad_row(SimdPath path, const float* dy, const float* x, const float* gamma, float mean, float rstd, int64_t h,
                         float* dx);

// acc[c] += x[r·ld + c] over rows r in order, in double (a column sum: bias gradients).
void vcolsum_f64(SimdPath path, const float* x, int64_t rows, int64_t cols, int64_t ld, double* acc);

struct AdamWScalars;
// The AdamW update (fused.h), element order and float32 arithmetic identical on every path (no FMA).
void vadamw(SimdPath path, const float* p, const float* m, const float* v, const float* g, int64_t n, const AdamWScalars& s,
            float* p_out, float* m_out, float* v_out);

}  // namespace cn
