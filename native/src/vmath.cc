#include "vmath.h"

#include <cmath>
#include <cstring>

#include "fused.h"

namespace cn {

#if defined(__x86_64__) || defined(_M_X64)
void colsum_f64_avx512(const float* x, int64_t rows, int64_t cols, int64_t ld, double* acc);
void colsum_f64_avx2(const float* x, int64_t rows, int64_t cols, int64_t ld, double* acc);
namespace avx512 {
void vlayernorm_row_impl(const float* x, const float* gamma, const float* beta, float eps, int64_t h, float* y, float* mean,
                         float* rstd);
void vlayernorm_grad_row_impl(const float* dy, const float* x, const float* gamma, float m, float rs, int64_t h, float* dx);
void vscale_bias_softmax_row_impl(float* row, int64_t n, float scale, const float* bias);
void vsoftmax_grad_row_impl(const float* p, float* dp, int64_t n, float scale, float* bias_acc);
void vexp_impl(const float* x, float* y, int64_t n);
void vsoftmax_row_impl(const float* in, float* out, int64_t n);
void vgelu_impl(const float* x, float* y, int64_t n);
void vgelu_grad_impl(const float* x, const float* dy, float* dx, int64_t n);
void vadamw_impl(const float* p, const float* m, const float* v, const float* g, int64_t n, const AdamWScalars& s,
                 float* p_out, float* m_out, float* v_out);
}  // namespace avx512
namespace avx2 {
void vlayernorm_row_impl(const float* x, const float* gamma, const float* beta, float eps, int64_t h, float* y, float* mean,
                         float* rstd);
void vlayernorm_grad_row_impl(const float* dy, const float* x, const float* gamma, float m, float rs, int64_t h, float* dx);
void vscale_bias_softmax_row_impl(float* row, int64_t n, float scale, const float* bias);
void vsoftmax_grad_row_impl(const float* p, float* dp, int64_t n, float scale, float* bias_acc);
void vexp_impl(const float* x, float* y, int64_t n);
void vsoftmax_row_impl(const float* in, float* out, int64_t n);
void vgelu_impl(const float* x, float* y, int64_t n);
void vgelu_grad_impl(const float* x, const float* dy, float* dx, int64_t n);
void vadamw_impl(const float* p, const float* m, const float* v, const float* g, int64_t n, const AdamWScalars& s,
                 float* p_out, float* m_out, float* v_out);
}  // namespace avx2
#endif

// The portable path: the same algorithms on one lane (any 64-bit CPU; fma is a multiply and an add).
namespace portable {
struct V {
  static constexpr int W = 1;
  using M = bool;
  float v;
  static V load(const float* p) { return {*p}; }
  static void store(float* p, V a) { *p = a.v; }
  static V set1(float x) { return {x}; }
  static V add(V a, V b) { return {a.v + b.v}; }
  static V sub(V a, V b) { return {a.v - b.v}; }
  static V mul(V a, V b) { return {a.v * b.v}; }
  static V div(V a, V b) { return {a.v / b.v}; }
  static V fma(V a, V b, V c) { return {a.v * b.v + c.v}; }
  // a·b − c with one rounding, through double: exact for the z·z − hi it is used for (48-bit product)
  static V fms(V a, V b, V c) { return {static_cast<float>(static_cast<double>(a.v) * b.v - c.v)}; }
  static V min(V a, V b) { return {a.v < b.v ? a.v : b.v}; }  // as minps: the second operand on NaN
  static V max(V a, V b) { return {a.v > b.v ? a.v : b.v}; }
  static V sqrt(V a) { return {std::sqrt(a.v)}; }
  static V abs(V a) { return {std::fabs(a.v)}; }
  // exp_v only rounds and floors clamped values (|a| < 2^23), and takes 2^n of integers in [-75, 64]:
  // integer conversions and exponent bits instead of libm calls (nearbyint and ldexp are calls on
  // baseline x86-64 and ldexp on arm64)
  static V round(V a) { return {static_cast<float>(static_cast<int32_t>(a.v + (a.v >= 0.f ? 0.5f : -0.5f)))}; }
  static V floor(V a) {
    const float t = static_cast<float>(static_cast<int32_t>(a.v));
    return {t > a.v ? t - 1.f : t};
  }
  static V pow2n(V n) {
    const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n.v) + 127) << 23;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return {f};
  }
  static M isnan(V a) { return a.v != a.v; }
  static M lt(V a, V b) { return a.v < b.v; }
  static V select(M m, V a, V b) { return m ? a : b; }
  static float hsum(V a) { return a.v; }
  static float hmax(V a) { return a.v; }
};

#include "vmath_impl.inc"
}  // namespace portable

#if defined(__x86_64__) || defined(_M_X64)
#define CN_DISPATCH(fn, ...)                                                       \
  do {                                                                             \
    if (path == SimdPath::kAvx512 && cpu_features().avx512f) return avx512::fn(__VA_ARGS__); \
    if (path != SimdPath::kScalar && cpu_features().avx2_fma) return avx2::fn(__VA_ARGS__);  \
    return portable::fn(__VA_ARGS__);                                              \
  } while (0)
#else
#define CN_DISPATCH(fn, ...) return portable::fn(__VA_ARGS__)
#endif

void vexp(SimdPath path, const float* x, float* y, int64_t n) { CN_DISPATCH(vexp_impl, x, y, n); }
void vsoftmax_row(SimdPath path, const float* in, float* out, int64_t n) { CN_DISPATCH(vsoftmax_row_impl, in, out, n); }
void vgelu(SimdPath path, const float* x, float* y, int64_t n) { CN_DISPATCH(vgelu_impl, x, y, n); }
void vgelu_grad(SimdPath path, const float* x, const float* dy, float* dx, int64_t n) { CN_DISPATCH(vgelu_grad_impl, x, dy, dx, n); }
void vscale_bias_softmax_row(SimdPath path, float* row, int64_t n, float scale, const float* bias) {
  CN_DISPATCH(vscale_bias_softmax_row_impl, row, n, scale, bias);
}
void vsoftmax_grad_row(SimdPath path, const float* p, float* dp, int64_t n, float scale, float* bias_acc) {
  CN_DISPATCH(vsoftmax_grad_row_impl, p, dp, n, scale, bias_acc);
}
void vlayernorm_row(SimdPath path, const float* x, const float* gamma, const float* beta, float eps, int64_t h, float* y,
                    float* mean, float* rstd) {
  CN_DISPATCH(vlayernorm_row_impl, x, gamma, beta, eps, h, y, mean, rstd);
}
void vlayernorm_grad_row(SimdPath path, const float* dy, const float* x, const float* gamma, float mean, float rstd, int64_t h,
                         float* dx) {
  CN_DISPATCH(vlayernorm_grad_row_impl, dy, x, gamma, mean, rstd, h, dx);
}
void vcolsum_f64(SimdPath path, const float* x, int64_t rows, int64_t cols, int64_t ld, double* acc) {
#if defined(__x86_64__) || defined(_M_X64)
  if (path == SimdPath::kAvx512 && cpu_features().avx512f) return colsum_f64_avx512(x, rows, cols, ld, acc);
  if (path != SimdPath::kScalar && cpu_features().avx2_fma) return colsum_f64_avx2(x, rows, cols, ld, acc);
#endif
  for (int64_t r = 0; r < rows; r++) {
    for (int64_t c = 0; c < cols; c++) acc[c] += x[r * ld + c];
  }
}
void vadamw(SimdPath path, const float* p, const float* m, const float* v, const float* g, int64_t n, const AdamWScalars& s,
            float* p_out, float* m_out, float* v_out) {
  CN_DISPATCH(vadamw_impl, p, m, v, g, n, s, p_out, m_out, v_out);
}

}  // namespace cn
