#include "reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "thread_pool.h"
#include "vmath.h"

namespace cn {
namespace {

struct Dims {
  std::vector<int64_t> size, in_stride, out_stride;  // out_stride 0 on reduced dims
  std::vector<bool> reduced;
};

// Drop size-1 dims and merge neighbours that are both kept or both reduced.
Dims coalesce(const int64_t* shape, const uint8_t* red, int rank) {
  Dims d;
  for (int i = 0; i < rank; i++) {
    if (shape[i] == 1) continue;
    const bool r = red[i] != 0;
    if (!d.size.empty() && d.reduced.back() == r) {
      d.size.back() *= shape[i];
    } else {
      d.size.push_back(shape[i]);
      d.reduced.push_back(r);
    }
  }
  if (d.size.empty()) {
    d.size.push_back(1);
    d.reduced.push_back(false);
  }
  const size_t n = d.size.size();
  d.in_stride.assign(n, 0);
  d.out_stride.assign(n, 0);
  int64_t si = 1, so = 1;
  for (size_t k = n; k-- > 0;) {
    d.in_stride[k] = si;
    si *= d.size[k];
    if (!d.reduced[k]) {
      d.out_stride[k] = so;
      so *= d.size[k];
    }
  }
  return d;
}

template <ReduceOp OP, typename T>
inline T combine(T acc, float x) {
  if (OP == ReduceOp::kMax) return (x > acc || std::isnan(x)) ? x : acc;
  if (OP == ReduceOp::kMin) return (x < acc || std::isnan(x)) ? x : acc;
  return acc + x;
}

// Walks dims [0, n-1) with dim 0 limited to [b0, e0), and runs the last dim over columns [c0, c1).
// Sums accumulate in double (T = double), as the cpu backend's JS loop does, so long reductions agree to 1e-5.
template <ReduceOp OP, typename T>
void walk(const float* x, T* out, const Dims& d, int64_t b0, int64_t e0, int64_t c0, int64_t c1) {
  const int n = static_cast<int>(d.size.size());
  const int64_t last_in = d.in_stride[n - 1], last_out = d.out_stride[n - 1];
  const bool last_reduced = d.reduced[n - 1];
  auto inner = [&](const float* xp, T* op) {
    if (last_reduced) {
      T acc = *op;
      for (int64_t j = c0; j < c1; j++) acc = combine<OP, T>(acc, xp[j * last_in]);
      *op = acc;
    } else {
      for (int64_t j = c0; j < c1; j++) op[j * last_out] = combine<OP, T>(op[j * last_out], xp[j * last_in]);
    }
  };
  if (n == 1) {
    inner(x, out);
    return;
  }
  std::vector<int64_t> coord(n - 1, 0);
  coord[0] = b0;
  int64_t xi = b0 * d.in_stride[0], oi = b0 * d.out_stride[0];
  for (;;) {
    inner(x + xi, out + oi);
    int k = n - 2;
    for (; k >= 0; k--) {
      xi += d.in_stride[k];
      oi += d.out_stride[k];
      if (++coord[k] < (k == 0 ? e0 : d.size[k])) break;
      if (k == 0) return;
      xi -= d.in_stride[k] * d.size[k];
      oi -= d.out_stride[k] * d.size[k];
      coord[k] = 0;
    }
  }
}

template <ReduceOp OP, typename T>
void reduce_t(const float* x, const Dims& d, T* out, int64_t out_size) {
  const T init = OP == ReduceOp::kMax ? -std::numeric_limits<T>::infinity()
               : OP == ReduceOp::kMin ? std::numeric_limits<T>::infinity() : T(0);
  std::fill(out, out + out_size, init);
  int64_t total = 1;
  for (int64_t s : d.size) total *= s;
  const int n = static_cast<int>(d.size.size());
  const int64_t last = d.size[n - 1];
  constexpr int64_t kWork = 1 << 15;
  if (total < 2 * kWork || pool().threads() == 1) {
    walk<OP, T>(x, out, d, 0, d.size[0], 0, last);
    return;
  }
  if (!d.reduced[0] && n > 1) {
    // Split the outermost (kept) dim: tasks write disjoint outputs.
    const int64_t per = std::max<int64_t>(1, kWork / (total / d.size[0]));
    const int64_t tasks = (d.size[0] + per - 1) / per;
    pool().run(tasks, [&](int64_t t) { walk<OP, T>(x, out, d, t * per, std::min(d.size[0], (t + 1) * per), 0, last); });
  } else if (!d.reduced[n - 1] && n > 1 && last >= 64) {
    // Split the innermost (kept) dim into column ranges.
    const int64_t tasks = std::min<int64_t>(pool().threads() * 4, last / 16);
    const int64_t per = (last + tasks - 1) / tasks;
    pool().run(tasks, [&](int64_t t) { walk<OP, T>(x, out, d, 0, d.size[0], t * per, std::min(last, (t + 1) * per)); });
  } else {
    walk<OP, T>(x, out, d, 0, d.size[0], 0, last);
  }
}

}  // namespace

void reduce(ReduceOp op, const float* x, const int64_t* shape, const uint8_t* reduce_axes, int rank, float* out) {
  int64_t out_size = 1, count = 1;
  for (int i = 0; i < rank; i++) {
    if (shape[i] == 0 && !reduce_axes[i]) return;  // empty output
    (reduce_axes[i] ? count : out_size) *= shape[i];
  }
  const Dims d = coalesce(shape, reduce_axes, rank);
  if (count == 0) {
    // Nothing to reduce: what the cpu backend gives (0 for a sum or mean, NaN for max/min).
    const float v = op == ReduceOp::kSum || op == ReduceOp::kMean ? 0.f : std::nanf("");
    std::fill(out, out + out_size, v);
    return;
  }
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kMean: {
      std::vector<double> acc(out_size);
      if (d.size.size() == 2 && d.reduced[0] && !d.reduced[1]) {
        // [R, C] over R (bias gradients): vectorised across columns, each column still summed in
        // row order in double, split by column ranges
        const int64_t R = d.size[0], C = d.size[1];
        const SimdPath path = active_path();
        const int64_t tasks = R * C < (1 << 16) || pool().threads() == 1 ? 1 : std::min<int64_t>(pool().threads() * 4, (C + 63) / 64);
        const int64_t per = (C + tasks - 1) / tasks;
        auto body = [&](int64_t t) {
          const int64_t c0 = t * per, c1 = std::min(C, c0 + per);
          if (c1 > c0) vcolsum_f64(path, x + c0, R, c1 - c0, C, acc.data() + c0);
        };
        if (tasks == 1) body(0);
        else pool().run(tasks, body);
      } else {
        reduce_t<ReduceOp::kSum, double>(x, d, acc.data(), out_size);
      }
      const double c = op == ReduceOp::kMean ? static_cast<double>(count) : 1.0;
      for (int64_t i = 0; i < out_size; i++) out[i] = static_cast<float>(acc[i] / c);
      return;
    }
    case ReduceOp::kMax: return reduce_t<ReduceOp::kMax, float>(x, d, out, out_size);
    case ReduceOp::kMin: return reduce_t<ReduceOp::kMin, float>(x, d, out, out_size);
  }
}

void softmax(const float* x, float* out, int64_t rows, int64_t n) {
  if (rows == 0 || n == 0) return;
  const SimdPath path = active_path();
  const int64_t per = std::max<int64_t>(1, (1 << 14) / n);
  const int64_t tasks = (rows + per - 1) / per;
  auto body = [&](int64_t t) {
    for (int64_t r = t * per; r < std::min(rows, (t + 1) * per); r++) vsoftmax_row(path, x + r * n, out + r * n, n);
  };
  if (tasks == 1) body(0);
  else pool().run(tasks, body);
}

}  // namespace cn
