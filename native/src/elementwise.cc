#include "elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "thread_pool.h"
#include "vmath.h"

namespace cn {
namespace {

constexpr int64_t kChunk = 1 << 15;  // elements per parallel task

template <BinaryOp OP>
inline float apply(float x, float y) {
  switch (OP) {
    case BinaryOp::kAdd: return x + y;
    case BinaryOp::kSub: return x - y;
    case BinaryOp::kMul: return x * y;
    case BinaryOp::kDiv: return x / y;
    case BinaryOp::kMax: return (x > y || std::isnan(x)) ? x : y;
    case BinaryOp::kMin: return (x < y || std::isnan(x)) ? x : y;
    case BinaryOp::kSquaredDiff: { const float d = x - y; return d * d; }
    case BinaryOp::kCopyA: return x;
  }
  return 0;
}

// One inner run of n elements; the common stride patterns get their own loops so they vectorise.
template <BinaryOp OP>
inline void run(const float* a, int64_t sa, const float* b, int64_t sb, float* o, int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; i++) o[i] = apply<OP>(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const float y = *b;
    for (int64_t i = 0; i < n; i++) o[i] = apply<OP>(a[i], y);
  } else if (sa == 0 && sb == 1) {
    const float x = *a;
    for (int64_t i = 0; i < n; i++) o[i] = apply<OP>(x, b[i]);
  } else {
    for (int64_t i = 0; i < n; i++) o[i] = apply<OP>(a[i * sa], b[i * sb]);
  }
}

struct Layout {
  std::vector<int64_t> shape, sa, sb;  // coalesced: adjacent dims merged where both operands allow
};

Layout coalesce(const int64_t* a_strides, const int64_t* b_strides, const int64_t* out_shape, int rank) {
  Layout l;
  for (int d = 0; d < rank; d++) {
    if (out_shape[d] == 1) continue;  // a size-1 dim moves no pointer
    if (!l.shape.empty()) {
      const size_t k = l.shape.size() - 1;
      if (l.sa[k] == a_strides[d] * out_shape[d] && l.sb[k] == b_strides[d] * out_shape[d]) {
        l.shape[k] *= out_shape[d];
        l.sa[k] = a_strides[d];
        l.sb[k] = b_strides[d];
        continue;
      }
    }
    l.shape.push_back(out_shape[d]);
    l.sa.push_back(a_strides[d]);
    l.sb.push_back(b_strides[d]);
  }
  if (l.shape.empty()) {
    l.shape.push_back(1);
    l.sa.push_back(0);
    l.sb.push_back(0);
  }
  return l;
}

template <BinaryOp OP>
void binary_t(const float* a, const float* b, float* out, const Layout& l) {
  const int r = static_cast<int>(l.shape.size());
  const int64_t inner = l.shape[r - 1];
  int64_t total = 1;
  for (int64_t s : l.shape) total *= s;
  const int64_t rows = total / inner;
  // Tasks cover whole inner runs: ~kChunk elements each.
  const int64_t rows_per_task = std::max<int64_t>(1, kChunk / std::max<int64_t>(inner, 1));
  const int64_t tasks = (rows + rows_per_task - 1) / rows_per_task;
  auto body = [&](int64_t t) {
    const int64_t r0 = t * rows_per_task, r1 = std::min(rows, r0 + rows_per_task);
    // Coordinates of row r0 in the outer dims.
    std::vector<int64_t> coord(r > 1 ? r - 1 : 1, 0);
    int64_t rem = r0, offa = 0, offb = 0;
    for (int d = r - 2; d >= 0; d--) {
      coord[d] = rem % l.shape[d];
      rem /= l.shape[d];
      offa += coord[d] * l.sa[d];
      offb += coord[d] * l.sb[d];
    }
    for (int64_t row = r0; row < r1; row++) {
      run<OP>(a + offa, l.sa[r - 1], b + offb, l.sb[r - 1], out + row * inner, inner);
      for (int d = r - 2; d >= 0; d--) {  // odometer step
        offa += l.sa[d];
        offb += l.sb[d];
        if (++coord[d] < l.shape[d]) break;
        offa -= l.sa[d] * l.shape[d];
        offb -= l.sb[d] * l.shape[d];
        coord[d] = 0;
      }
    }
  };
  if (tasks == 1) body(0);
  else pool().run(tasks, body);
}

template <UnaryOp OP>
inline float apply_u(float x) {
  switch (OP) {
    case UnaryOp::kExp: return std::exp(x);
    case UnaryOp::kNeg: return -x;
    case UnaryOp::kErf: return std::erf(x);
    case UnaryOp::kSqrt: return std::sqrt(x);
    case UnaryOp::kSquare: return x * x;
    case UnaryOp::kRsqrt: return 1.f / std::sqrt(x);
    case UnaryOp::kTanh: return std::tanh(x);
    case UnaryOp::kLog: return std::log(x);
    case UnaryOp::kAbs: return std::fabs(x);
    case UnaryOp::kSigmoid: return 1.f / (1.f + std::exp(-x));
    case UnaryOp::kRelu: return x > 0 ? x : (std::isnan(x) ? x : 0.f);
    case UnaryOp::kReciprocal: return 1.f / x;
  }
  return 0;
}

template <UnaryOp OP>
void unary_t(const float* x, float* out, int64_t n) {
  const int64_t tasks = (n + kChunk - 1) / kChunk;
  const SimdPath path = active_path();
  auto body = [&](int64_t t) {
    const int64_t i0 = t * kChunk, i1 = std::min(n, i0 + kChunk);
    if (OP == UnaryOp::kExp) {
      vexp(path, x + i0, out + i0, i1 - i0);
      return;
    }
    for (int64_t i = i0; i < i1; i++) out[i] = apply_u<OP>(x[i]);
  };
  if (tasks <= 1) body(0);
  else pool().run(tasks, body);
}

}  // namespace

void binary(BinaryOp op, const float* a, const int64_t* a_strides, const float* b, const int64_t* b_strides,
            float* out, const int64_t* out_shape, int rank) {
  for (int d = 0; d < rank; d++) if (out_shape[d] == 0) return;
  const Layout l = coalesce(a_strides, b_strides, out_shape, rank);
  switch (op) {
    case BinaryOp::kAdd: return binary_t<BinaryOp::kAdd>(a, b, out, l);
    case BinaryOp::kSub: return binary_t<BinaryOp::kSub>(a, b, out, l);
    case BinaryOp::kMul: return binary_t<BinaryOp::kMul>(a, b, out, l);
    case BinaryOp::kDiv: return binary_t<BinaryOp::kDiv>(a, b, out, l);
    case BinaryOp::kMax: return binary_t<BinaryOp::kMax>(a, b, out, l);
    case BinaryOp::kMin: return binary_t<BinaryOp::kMin>(a, b, out, l);
    case BinaryOp::kSquaredDiff: return binary_t<BinaryOp::kSquaredDiff>(a, b, out, l);
    case BinaryOp::kCopyA: return binary_t<BinaryOp::kCopyA>(a, b, out, l);
  }
}

void unary(UnaryOp op, const float* x, float* out, int64_t n) {
  if (n <= 0) return;
  switch (op) {
    case UnaryOp::kExp: return unary_t<UnaryOp::kExp>(x, out, n);
    case UnaryOp::kNeg: return unary_t<UnaryOp::kNeg>(x, out, n);
    case UnaryOp::kErf: return unary_t<UnaryOp::kErf>(x, out, n);
    case UnaryOp::kSqrt: return unary_t<UnaryOp::kSqrt>(x, out, n);
    case UnaryOp::kSquare: return unary_t<UnaryOp::kSquare>(x, out, n);
    case UnaryOp::kRsqrt: return unary_t<UnaryOp::kRsqrt>(x, out, n);
    case UnaryOp::kTanh: return unary_t<UnaryOp::kTanh>(x, out, n);
    case UnaryOp::kLog: return unary_t<UnaryOp::kLog>(x, out, n);
    case UnaryOp::kAbs: return unary_t<UnaryOp::kAbs>(x, out, n);
    case UnaryOp::kSigmoid: return unary_t<UnaryOp::kSigmoid>(x, out, n);
    case UnaryOp::kRelu: return unary_t<UnaryOp::kRelu>(x, out, n);
    case UnaryOp::kReciprocal: return unary_t<UnaryOp::kReciprocal>(x, out, n);
  }
}

}  // namespace cn
