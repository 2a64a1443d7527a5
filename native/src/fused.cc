#include "fused.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "thread_pool.h"

namespace cn {
namespace {

template <typename F>
void rows_parallel(int64_t n, int64_t h, F f) {
  const int64_t per = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(h, 1));
  const int64_t tasks = (n + per - 1) / per;
  auto body = [&](int64_t t) {
    for (int64_t r = t * per; r < std::min(n, (t + 1) * per); r++) f(r);
  };
  if (tasks <= 1) {
    if (n > 0) body(0);
  } else {
    pool().run(tasks, body);
  }
}

template <typename F>
void elems_parallel(int64_t n, F f) {
  constexpr int64_t kChunk = 1 << 15;
  const int64_t tasks = (n + kChunk - 1) / kChunk;
  auto body = [&](int64_t t) {
    for (int64_t i = t * kChunk; i < std::min(n, (t + 1) * kChunk); i++) f(i);
  };
  if (tasks <= 1) {
    if (n > 0) body(0);
  } else {
    pool().run(tasks, body);
  }
}

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, the formula tfjs's own Erf kernel uses):
// one expf and a rational term, several times cheaper than libm's erff.
inline float erf_as(float x) {
  const float ax = std::fabs(x);
  const float t = 1.f / (1.f + 0.3275911f * ax);
  const float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float y = 1.f - poly * std::exp(-ax * ax);
  return x < 0 ? -y : y;
}

}  // namespace

void layernorm_forward(const float* x, const float* gamma, const float* beta, float eps, int64_t n, int64_t h,
                       float* y, float* mean, float* rstd) {
  rows_parallel(n, h, [&](int64_t r) {
    const float* xr = x + r * h;
    double s = 0;
    for (int64_t j = 0; j < h; j++) s += xr[j];
    const float m = static_cast<float>(s / h);
    double v = 0;
    for (int64_t j = 0; j < h; j++) {
      const double d = xr[j] - m;
      v += d * d;
    }
    const float rs = 1.f / std::sqrt(static_cast<float>(v / h) + eps);
    mean[r] = m;
    rstd[r] = rs;
    float* yr = y + r * h;
    for (int64_t j = 0; j < h; j++) yr[j] = (xr[j] - m) * rs * gamma[j] + beta[j];
  });
}

void layernorm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                        int64_t n, int64_t h, float* dx, float* dgamma, float* dbeta) {
  rows_parallel(n, h, [&](int64_t r) {
    const float* dyr = dy + r * h;
    const float* xr = x + r * h;
    const float m = mean[r], rs = rstd[r];
    double s1 = 0, s2 = 0;  // mean of dxhat and of dxhat * xhat
    for (int64_t j = 0; j < h; j++) {
      const float xhat = (xr[j] - m) * rs;
      const float g = dyr[j] * gamma[j];
      s1 += g;
      s2 += static_cast<double>(g) * xhat;
    }
    const float a = static_cast<float>(s1 / h), b = static_cast<float>(s2 / h);
    float* dxr = dx + r * h;
    for (int64_t j = 0; j < h; j++) {
      const float xhat = (xr[j] - m) * rs;
      dxr[j] = rs * (dyr[j] * gamma[j] - a - xhat * b);
    }
  });
  // Column sums over rows in row order, split by column ranges.
  const int64_t chunk = 16;
  const int64_t tasks = (h + chunk - 1) / chunk;
  auto cols = [&](int64_t t) {
    const int64_t j0 = t * chunk, j1 = std::min(h, j0 + chunk);
    double g[16] = {0}, bsum[16] = {0};
    for (int64_t r = 0; r < n; r++) {
      const float* dyr = dy + r * h;
      const float* xr = x + r * h;
      const float m = mean[r], rs = rstd[r];
      for (int64_t j = j0; j < j1; j++) {
        g[j - j0] += static_cast<double>(dyr[j]) * ((xr[j] - m) * rs);
        bsum[j - j0] += dyr[j];
      }
    }
    for (int64_t j = j0; j < j1; j++) {
      dgamma[j] = static_cast<float>(g[j - j0]);
      dbeta[j] = static_cast<float>(bsum[j - j0]);
    }
  };
  if (tasks <= 1 || n * h < (1 << 15)) {
    for (int64_t t = 0; t < tasks; t++) cols(t);
  } else {
    pool().run(tasks, cols);
  }
}

void gelu_forward(const float* x, float* y, int64_t n) {
  elems_parallel(n, [&](int64_t i) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.f + erf_as(v * 0.70710678118654752f));
  });
}

void gelu_backward(const float* x, const float* dy, float* dx, int64_t n) {
  elems_parallel(n, [&](int64_t i) {
    const float v = x[i];
    const float cdf = 0.5f * (1.f + erf_as(v * 0.70710678118654752f));
    const float pdf = std::exp(-0.5f * v * v) * 0.39894228040143268f;
    dx[i] = dy[i] * (cdf + v * pdf);
  });
}

void adamw_update(const float* p, const float* m, const float* v, const float* g, int64_t n, const AdamWScalars& s,
                  float* p_out, float* m_out, float* v_out) {
  const bool decay = s.decay != 1.f;
  elems_parallel(n, [&](int64_t i) {
    const float gi = g[i];
    const float mi = m[i] * s.b1 + gi * s.one_minus_b1;
    const float vi = v[i] * s.b2 + (gi * gi) * s.one_minus_b2;
    const float denom = std::sqrt(vi) / s.bc2_sqrt + s.eps;
    const float pd = decay ? p[i] * s.decay : p[i];
    p_out[i] = pd - (mi / denom) * s.step;
    m_out[i] = mi;
    v_out[i] = vi;
  });
}

}  // namespace cn
