// vmath.h's algorithms compiled for AVX-512 and for AVX2+FMA: the whole region of each is under a
// target pragma (the file itself stays baseline x86-64), and the functions are only called after
// cpuid said the CPU has the instructions.
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <cstdint>

#include "fused.h"
#include "vmath.h"

// GCC 12 warns about the intentionally undefined operand of _mm512_undefined_ps inside its own headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx2,fma")
#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx2,fma"))), apply_to = function)
#endif
namespace cn {
namespace avx512 {

struct V {
  static constexpr int W = 16;
  using M = __mmask16;
  __m512 v;
  static V load(const float* p) { return {_mm512_loadu_ps(p)}; }
  static void store(float* p, V a) { _mm512_storeu_ps(p, a.v); }
  static V set1(float x) { return {_mm512_set1_ps(x)}; }
  static V add(V a, V b) { return {_mm512_add_ps(a.v, b.v)}; }
  static V sub(V a, V b) { return {_mm512_sub_ps(a.v, b.v)}; }
  static V mul(V a, V b) { return {_mm512_mul_ps(a.v, b.v)}; }
  static V div(V a, V b) { return {_mm512_div_ps(a.v, b.v)}; }
  static V fma(V a, V b, V c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
  static V fms(V a, V b, V c) { return {_mm512_fmsub_ps(a.v, b.v, c.v)}; }
  static V min(V a, V b) { return {_mm512_min_ps(a.v, b.v)}; }
  static V max(V a, V b) { return {_mm512_max_ps(a.v, b.v)}; }
  static V sqrt(V a) { return {_mm512_sqrt_ps(a.v)}; }
  static V abs(V a) { return {_mm512_abs_ps(a.v)}; }
  static V round(V a) { return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
  static V floor(V a) { return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)}; }
  static V pow2n(V n) {
    return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127)), 23))};
  }
  static M isnan(V a) { return _mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q); }
  static M lt(V a, V b) { return _mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ); }
  static V select(M m, V a, V b) { return {_mm512_mask_blend_ps(m, b.v, a.v)}; }
  static float hsum(V a) {
    alignas(64) float t[16];
    _mm512_store_ps(t, a.v);
    float s = 0;
    for (int i = 0; i < 16; i++) s += t[i];
    return s;
  }
  static float hmax(V a) { return _mm512_reduce_max_ps(a.v); }
};

#include "vmath_impl.inc"

}  // namespace avx512
}  // namespace cn
#ifdef __clang__
#pragma clang attribute pop
#endif
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")
#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#endif
namespace cn {
namespace avx2 {

struct V {
  static constexpr int W = 8;
  using M = __m256;
  __m256 v;
  static V load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static void store(float* p, V a) { _mm256_storeu_ps(p, a.v); }
  static V set1(float x) { return {_mm256_set1_ps(x)}; }
  static V add(V a, V b) { return {_mm256_add_ps(a.v, b.v)}; }
  static V sub(V a, V b) { return {_mm256_sub_ps(a.v, b.v)}; }
  static V mul(V a, V b) { return {_mm256_mul_ps(a.v, b.v)}; }
  static V div(V a, V b) { return {_mm256_div_ps(a.v, b.v)}; }
  static V fma(V a, V b, V c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  static V fms(V a, V b, V c) { return {_mm256_fmsub_ps(a.v, b.v, c.v)}; }
  static V min(V a, V b) { return {_mm256_min_ps(a.v, b.v)}; }
  static V max(V a, V b) { return {_mm256_max_ps(a.v, b.v)}; }
  static V sqrt(V a) { return {_mm256_sqrt_ps(a.v)}; }
  static V abs(V a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.f), a.v)}; }
  static V round(V a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
  static V floor(V a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC)}; }
  static V pow2n(V n) {
    return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127)), 23))};
  }
  static M isnan(V a) { return _mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q); }
  static M lt(V a, V b) { return _mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ); }
  static V select(M m, V a, V b) { return {_mm256_blendv_ps(b.v, a.v, m)}; }
  static float hsum(V a) {
    alignas(32) float t[8];
    _mm256_store_ps(t, a.v);
    float s = 0;
    for (int i = 0; i < 8; i++) s += t[i];
    return s;
  }
  static float hmax(V a) {
    alignas(32) float t[8];
    _mm256_store_ps(t, a.v);
    float m = t[0];
    for (int i = 1; i < 8; i++) m = t[i] > m ? t[i] : m;
    return m;
  }
};

#include "vmath_impl.inc"

}  // namespace avx2
}  // namespace cn
#ifdef __clang__
#pragma clang attribute pop
#endif
#pragma GCC pop_options

namespace cn {

// acc[c] += x[r·ld + c] for r in [0, rows), c in [0, cols): each column summed in row order in double
// (the order and precision of the scalar walk in reduce.cc, so the sums are bitwise the same).
__attribute__((target("avx512f,avx2,fma")))
void colsum_f64_avx512(const float* x, int64_t rows, int64_t cols, int64_t ld, double* acc) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * ld;
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) _mm512_storeu_pd(acc + c, _mm512_add_pd(_mm512_loadu_pd(acc + c), _mm512_cvtps_pd(_mm256_loadu_ps(xr + c))));
    for (; c < cols; c++) acc[c] += xr[c];
  }
}

__attribute__((target("avx2,fma")))
void colsum_f64_avx2(const float* x, int64_t rows, int64_t cols, int64_t ld, double* acc) {
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * ld;
    int64_t c = 0;
    for (; c + 4 <= cols; c += 4) _mm256_storeu_pd(acc + c, _mm256_add_pd(_mm256_loadu_pd(acc + c), _mm256_cvtps_pd(_mm_loadu_ps(xr + c))));
    for (; c < cols; c++) acc[c] += xr[c];
  }
}

}  // namespace cn
#endif
