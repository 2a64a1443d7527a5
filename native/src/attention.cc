#include "attention.h"

#include <algorithm>
#include <vector>

#include "sgemm.h"
#include "thread_pool.h"
#include "vmath.h"

namespace cn {
namespace {

// One (batch, head)'s operands as strided matrices ([rows, cols] with row stride H·D).
struct Head {
  StridedMat q, k, v;  // [Sq, D], [Sk, D], [Sk, Dv]
  const float* bias;   // [Sk] or null
  const float* mult;   // [Sq, Sk] or null
};

Head head_of(const AttentionDims& d, const float* q, const float* k, const float* v, const float* bias, const float* mult,
             int64_t b, int64_t h) {
  Head x;
  x.q = {q + (b * d.Sq * d.H + h) * d.D, d.H * d.D, 1};
  x.k = {k + (b * d.Sk * d.H + h) * d.D, d.H * d.D, 1};
  x.v = {v + (b * d.Sk * d.H + h) * d.Dv, d.H * d.Dv, 1};
  x.bias = bias != nullptr ? bias + b * d.Sk : nullptr;
  x.mult = mult != nullptr ? mult + (b * d.H + h) * d.Sq * d.Sk : nullptr;
  return x;
}

// P [Sq, Sk] = softmax(Q·Kᵀ·scale + bias), row by row (the composite ops' order: product, scale, bias).
void probabilities(const AttentionDims& d, const Head& x, float* p, SimdPath path) {
  gemm_serial(path, d.Sq, d.Sk, d.D, x.q, {x.k.p, x.k.cs, x.k.rs}, p, d.Sk, false);
  for (int64_t i = 0; i < d.Sq; i++) vscale_bias_softmax_row(path, p + i * d.Sk, d.Sk, d.scale, x.bias);
}

std::vector<float>& scratch(int which) {
  thread_local std::vector<float> s[3];
  return s[which];
}

float* scratch_of(int which, int64_t n) {
  std::vector<float>& s = scratch(which);
  if (static_cast<int64_t>(s.size()) < n) s.resize(n);
  return s.data();
}

}  // namespace

void attention_forward(const AttentionDims& d, const float* q, const float* k, const float* v, const float* bias,
                       const float* mult, float* out, SimdPath path) {
  if (d.B == 0 || d.H == 0 || d.Sq == 0 || d.Dv == 0) return;
  pool().run(d.B * d.H, [&](int64_t t) {
    const int64_t b = t / d.H, h = t % d.H;
    const Head x = head_of(d, q, k, v, bias, mult, b, h);
    float* o = out + (b * d.Sq * d.H + h) * d.Dv;
    if (d.Sk == 0) {
      for (int64_t i = 0; i < d.Sq; i++) std::fill(o + i * d.H * d.Dv, o + i * d.H * d.Dv + d.Dv, 0.f);
      return;
    }
    float* p = scratch_of(0, d.Sq * d.Sk);
    probabilities(d, x, p, path);
    if (x.mult != nullptr) {
      for (int64_t e = 0; e < d.Sq * d.Sk; e++) p[e] *= x.mult[e];
    }
    gemm_serial(path, d.Sq, d.Dv, d.Sk, {p, d.Sk, 1}, x.v, o, d.H * d.Dv, false);  // [Sq, Sk]·[Sk, Dv]
  });
}

void attention_backward(const AttentionDims& d, const float* q, const float* k, const float* v, const float* bias,
                        const float* mult, const float* dout, float* dq, float* dk, float* dv, float* dbias, SimdPath path) {
  if (d.B == 0 || d.H == 0) return;
  // Per (batch, head) partial bias gradients, summed over heads in order afterwards.
  std::vector<float> dbias_parts(dbias != nullptr ? d.B * d.H * d.Sk : 0);
  pool().run(d.B * d.H, [&](int64_t t) {
    const int64_t b = t / d.H, h = t % d.H;
    const Head x = head_of(d, q, k, v, bias, mult, b, h);
    const int64_t qoff = (b * d.Sq * d.H + h) * d.D, koff = (b * d.Sk * d.H + h) * d.D;
    const int64_t voff = (b * d.Sk * d.H + h) * d.Dv, ooff = (b * d.Sq * d.H + h) * d.Dv;
    const StridedMat g = {dout + ooff, d.H * d.Dv, 1};  // dOut [Sq, Dv]
    float* dqh = dq + qoff;
    float* dkh = dk + koff;
    float* dvh = dv + voff;
    if (d.Sq == 0 || d.Sk == 0) {
      // no scores: every gradient is zero
      for (int64_t i = 0; i < d.Sq; i++) std::fill(dqh + i * d.H * d.D, dqh + i * d.H * d.D + d.D, 0.f);
      for (int64_t j = 0; j < d.Sk; j++) {
        std::fill(dkh + j * d.H * d.D, dkh + j * d.H * d.D + d.D, 0.f);
        std::fill(dvh + j * d.H * d.Dv, dvh + j * d.H * d.Dv + d.Dv, 0.f);
      }
      if (dbias != nullptr) std::fill(dbias_parts.begin() + t * d.Sk, dbias_parts.begin() + (t + 1) * d.Sk, 0.f);
      return;
    }
    const int64_t n = d.Sq * d.Sk;
    float* p = scratch_of(0, n);   // P
    float* dp = scratch_of(1, n);  // dP, then dScores
    probabilities(d, x, p, path);
    // dP' = dOut·Vᵀ: the gradient of the (dropped-out) probabilities
    gemm_serial(path, d.Sq, d.Sk, d.Dv, g, {x.v.p, x.v.cs, x.v.rs}, dp, d.Sk, false);
    const float* pd = p;  // what multiplied V in the forward
    if (x.mult != nullptr) {
      float* pm = scratch_of(2, n);
      for (int64_t e = 0; e < n; e++) {
        pm[e] = p[e] * x.mult[e];
        dp[e] *= x.mult[e];
      }
      pd = pm;
    }
    // dV = P'ᵀ·dOut: [Sk, Sq]·[Sq, Dv]
    gemm_serial(path, d.Sk, d.Dv, d.Sq, {pd, 1, d.Sk}, g, dvh, d.H * d.Dv, false);
    // softmax: dS = P ⊙ (dP − Σ_j P·dP) per row; the bias gets dS, the product dS·scale
    float* part = dbias != nullptr ? dbias_parts.data() + t * d.Sk : nullptr;
    if (part != nullptr) std::fill(part, part + d.Sk, 0.f);
    for (int64_t i = 0; i < d.Sq; i++) vsoftmax_grad_row(path, p + i * d.Sk, dp + i * d.Sk, d.Sk, d.scale, part);
    // dQ = dS·K: [Sq, Sk]·[Sk, D];  dK = dSᵀ·Q: [Sk, Sq]·[Sq, D]
    gemm_serial(path, d.Sq, d.D, d.Sk, {dp, d.Sk, 1}, x.k, dqh, d.H * d.D, false);
    gemm_serial(path, d.Sk, d.D, d.Sq, {dp, 1, d.Sk}, x.q, dkh, d.H * d.D, false);
  });
  if (dbias != nullptr) {
    for (int64_t b = 0; b < d.B; b++) {
      float* o = dbias + b * d.Sk;
      std::fill(o, o + d.Sk, 0.f);
      for (int64_t h = 0; h < d.H; h++) {
        const float* part = dbias_parts.data() + (b * d.H + h) * d.Sk;
        for (int64_t j = 0; j < d.Sk; j++) o[j] += part[j];
      }
    }
  }
}

}  // namespace cn
