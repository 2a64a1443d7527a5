// Scaled dot-product attention with an additive key bias, and its gradient, fused per
// (batch, head): scores = Q·Kᵀ·scale + bias, P = softmax over keys, optional dropout multiplier M,
// out = (P ⊙ M)·V. Nothing of the [Sq, Sk] matrices is kept between forward and backward: the
// backward recomputes P with the forward's exact code (bitwise the same P), so memory per call is
// the inputs plus one [Sq, Sk] scratch per thread.
//
// Layouts are "heads inside" (the dense layers' [B·S, H·D] outputs, no transposes):
//   q [B, Sq, H, D], k [B, Sk, H, D], v [B, Sk, H, Dv], out [B, Sq, H, Dv],
//   bias [B, Sk] (added to every head and query row; null: none),
//   mult [B, H, Sq, Sk] (the dropout multiplier, 0 or 1/keep; null: none).
// Work is split over the pool by (batch, head); every output element is written by one task with a
// fixed order of arithmetic, and the bias gradient sums the heads in order afterwards, so results do
// not depend on the thread count.
#pragma once

#include <cstdint>

#include "cpu_features.h"

namespace cn {

struct AttentionDims {
  int64_t B, Sq, Sk, H, D, Dv;
  float scale;
};

void attention_forward(const AttentionDims& d, const float* q, const float* k, const float* v, const float* bias,
                       const float* mult, float* out, SimdPath path);

// dq, dk, dv like q, k, v; dbias [B, Sk] (may be null when bias is null or its gradient is not wanted).
void attention_backward(const AttentionDims& d, const float* q, const float* k, const float* v, const float* bias,
                        const float* mult, const float* dout, float* dq, float* dk, float* dv, float* dbias, SimdPath path);

}  // namespace cn
