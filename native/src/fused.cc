#include "fused.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "thread_pool.h"
#include "vmath.h"

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

}  // namespace

void layernorm_forward(const float* x, const float* gamma, const float* beta, float eps, int64_t n, int64_t h,
                       float* y, float* mean, float* rstd) {
  const SimdPath path = active_path();
  rows_parallel(n, h, [&](int64_t r) { vlayernorm_row(path, x + r * h, gamma, beta, eps, h, y + r * h, mean + r, rstd + r); });
}

void layernorm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                        int64_t n, int64_t h, float* dx, float* dgamma, float* dbeta) {
  const SimdPath path = active_path();
  rows_parallel(n, h, [&](int64_t r) { vlayernorm_grad_row(path, dy + r * h, x + r * h, gamma, mean[r], rstd[r], h, dx + r * h); });
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

// Chunks of kChunk elements over the pool: each element computed once, by one thread.
template <typename F>
void chunks_parallel(int64_t n, F f) {
  constexpr int64_t kChunk = 1 << 14;
  const int64_t tasks = (n + kChunk - 1) / kChunk;
  auto body = [&](int64_t t) {
    const int64_t i0 = t * kChunk;
    f(i0, std::min(n, i0 + kChunk) - i0);
  };
  if (tasks <= 1) {
    if (n > 0) body(0);
  } else {
    pool().run(tasks, body);
  }
}

void gelu_forward(const float* x, float* y, int64_t n) {
  const SimdPath path = active_path();
  chunks_parallel(n, [&](int64_t i0, int64_t len) { vgelu(path, x + i0, y + i0, len); });
}

void gelu_backward(const float* x, const float* dy, float* dx, int64_t n) {
  const SimdPath path = active_path();
  chunks_parallel(n, [&](int64_t i0, int64_t len) { vgelu_grad(path, x + i0, dy + i0, dx + i0, len); });
}

void adamw_update(const float* p, const float* m, const float* v, const float* g, int64_t n, const AdamWScalars& s,
                  float* p_out, float* m_out, float* v_out) {
  const SimdPath path = active_path();
  chunks_parallel(n, [&](int64_t i0, int64_t len) {
    vadamw(path, p + i0, m + i0, v + i0, g + i0, len, s, p_out + i0, m_out + i0, v_out + i0);
  });
}

}  // namespace cn
