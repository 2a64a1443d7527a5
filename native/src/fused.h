// Fused row kernels the model uses through generic ops (tf.customGrad in src/model): LayerNorm over
// the last axis and exact (erf) GELU, with their gradients. Rows are split over the pool; the
// parameter gradients (column sums) are split by columns, each summed over rows in order, so results
// do not depend on the thread count.
#pragma once

#include <cstdint>

namespace cn {

// y = (x - mean) * rstd * gamma + beta over rows of [n, h]; also returns mean[n], rstd[n].
void layernorm_forward(const float* x, const float* gamma, const float* beta, float eps, int64_t n, int64_t h,
                       float* y, float* mean, float* rstd);
void layernorm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                        int64_t n, int64_t h, float* dx, float* dgamma, float* dbeta);

// y = 0.5 x (1 + erf(x / sqrt 2)); dx = dy * (0.5 (1 + erf(x / sqrt 2)) + x exp(-x^2 / 2) / sqrt(2 pi)).
void gelu_forward(const float* x, float* y, int64_t n);
void gelu_backward(const float* x, const float* dy, float* dx, int64_t n);

// One AdamW step over a parameter, the composite ops' arithmetic in their order (float32 scalars):
//   m' = m·b1 + g·(1−b1)   v' = v·b2 + g²·(1−b2)   p' = p·decay − (m' / (√v' / bc2 + eps))·step
// (decay == 1: no weight decay, p not multiplied).
struct AdamWScalars {
  float b1, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, decay, step;
};
void adamw_update(const float* p, const float* m, const float* v, const float* g, int64_t n, const AdamWScalars& s,
                  float* p_out, float* m_out, float* v_out);

}  // namespace cn
