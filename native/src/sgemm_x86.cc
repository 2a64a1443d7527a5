// AVX2+FMA and AVX-512 register-tile kernels. Compiled with function-level target attributes (the
// translation unit itself stays baseline x86-64) and only called after cpuid says the CPU has them.
#include "sgemm.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <chrono>

namespace cn {

// 12 x 32: 24 zmm accumulators, 2 for B, 1 broadcast (of 32 registers).
__attribute__((target("avx512f,avx2,fma")))
void ukr_avx512_12x32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps(), c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();
  __m512 cA0 = _mm512_setzero_ps(), cA1 = _mm512_setzero_ps(), cB0 = _mm512_setzero_ps(), cB1 = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    __m512 x;
#define CN_ROW(r, acc0, acc1)         \
  x = _mm512_set1_ps(a[r]);           \
  acc0 = _mm512_fmadd_ps(x, b0, acc0); \
  acc1 = _mm512_fmadd_ps(x, b1, acc1);
    CN_ROW(0, c00, c01) CN_ROW(1, c10, c11) CN_ROW(2, c20, c21) CN_ROW(3, c30, c31)
    CN_ROW(4, c40, c41) CN_ROW(5, c50, c51) CN_ROW(6, c60, c61) CN_ROW(7, c70, c71)
    CN_ROW(8, c80, c81) CN_ROW(9, c90, c91) CN_ROW(10, cA0, cA1) CN_ROW(11, cB0, cB1)
#undef CN_ROW
    a += 12;
    b += 32;
  }
#define CN_STORE(r, acc0, acc1)                                                        \
  {                                                                                    \
    float* p = c + (r) * ldc;                                                          \
    if (accumulate) {                                                                  \
      acc0 = _mm512_add_ps(_mm512_loadu_ps(p), acc0);                                  \
      acc1 = _mm512_add_ps(_mm512_loadu_ps(p + 16), acc1);                             \
    }                                                                                  \
    _mm512_storeu_ps(p, acc0);                                                         \
    _mm512_storeu_ps(p + 16, acc1);                                                    \
  }
  CN_STORE(0, c00, c01) CN_STORE(1, c10, c11) CN_STORE(2, c20, c21) CN_STORE(3, c30, c31)
  CN_STORE(4, c40, c41) CN_STORE(5, c50, c51) CN_STORE(6, c60, c61) CN_STORE(7, c70, c71)
  CN_STORE(8, c80, c81) CN_STORE(9, c90, c91) CN_STORE(10, cA0, cA1) CN_STORE(11, cB0, cB1)
#undef CN_STORE
}

// The same tile reading A in place through strides, A(r, k) = a[r·ars + k·acs], and B as rows of 32
// at stride ldb: for the small per-head products of attention, where packing the [S, S] operand
// would cost as much as the product.
__attribute__((target("avx512f,avx2,fma")))
void ukr_avx512_12x32_strided(int64_t kc, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c,
                              int64_t ldc, bool accumulate) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps(), c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();
  __m512 cA0 = _mm512_setzero_ps(), cA1 = _mm512_setzero_ps(), cB0 = _mm512_setzero_ps(), cB1 = _mm512_setzero_ps();
  // four row groups of three: rows g·3 + {0, 1, 2} at p_g + {0, 1, 2}·ars
  const float* p0 = a;
  const float* p1 = a + 3 * ars;
  const float* p2 = a + 6 * ars;
  const float* p3 = a + 9 * ars;
  const int64_t s2 = 2 * ars;
  for (int64_t k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
    __m512 x;
#define CN_ROW(src, acc0, acc1)          \
  x = _mm512_set1_ps(src);               \
  acc0 = _mm512_fmadd_ps(x, b0, acc0);   \
  acc1 = _mm512_fmadd_ps(x, b1, acc1);
    CN_ROW(p0[0], c00, c01) CN_ROW(p0[ars], c10, c11) CN_ROW(p0[s2], c20, c21)
    CN_ROW(p1[0], c30, c31) CN_ROW(p1[ars], c40, c41) CN_ROW(p1[s2], c50, c51)
    CN_ROW(p2[0], c60, c61) CN_ROW(p2[ars], c70, c71) CN_ROW(p2[s2], c80, c81)
    CN_ROW(p3[0], c90, c91) CN_ROW(p3[ars], cA0, cA1) CN_ROW(p3[s2], cB0, cB1)
#undef CN_ROW
    p0 += acs;
    p1 += acs;
    p2 += acs;
    p3 += acs;
    b += ldb;
  }
#define CN_STORE(r, acc0, acc1)                                                        \
  {                                                                                    \
    float* p = c + (r) * ldc;                                                          \
    if (accumulate) {                                                                  \
      acc0 = _mm512_add_ps(_mm512_loadu_ps(p), acc0);                                  \
      acc1 = _mm512_add_ps(_mm512_loadu_ps(p + 16), acc1);                             \
    }                                                                                  \
    _mm512_storeu_ps(p, acc0);                                                         \
    _mm512_storeu_ps(p + 16, acc1);                                                    \
  }
  CN_STORE(0, c00, c01) CN_STORE(1, c10, c11) CN_STORE(2, c20, c21) CN_STORE(3, c30, c31)
  CN_STORE(4, c40, c41) CN_STORE(5, c50, c51) CN_STORE(6, c60, c61) CN_STORE(7, c70, c71)
  CN_STORE(8, c80, c81) CN_STORE(9, c90, c91) CN_STORE(10, cA0, cA1) CN_STORE(11, cB0, cB1)
#undef CN_STORE
}

__attribute__((target("avx2,fma")))
void ukr_avx2_6x16_strided(int64_t kc, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c,
                           int64_t ldc, bool accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  const float* p0 = a;
  const float* p1 = a + 3 * ars;
  const int64_t s2 = 2 * ars;
  for (int64_t k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 x;
#define CN_ROW(src, acc0, acc1)          \
  x = _mm256_broadcast_ss(&(src));       \
  acc0 = _mm256_fmadd_ps(x, b0, acc0);   \
  acc1 = _mm256_fmadd_ps(x, b1, acc1);
    CN_ROW(p0[0], c00, c01) CN_ROW(p0[ars], c10, c11) CN_ROW(p0[s2], c20, c21)
    CN_ROW(p1[0], c30, c31) CN_ROW(p1[ars], c40, c41) CN_ROW(p1[s2], c50, c51)
#undef CN_ROW
    p0 += acs;
    p1 += acs;
    b += ldb;
  }
#define CN_STORE(r, acc0, acc1)                                \
  {                                                            \
    float* p = c + (r) * ldc;                                  \
    if (accumulate) {                                          \
      acc0 = _mm256_add_ps(_mm256_loadu_ps(p), acc0);          \
      acc1 = _mm256_add_ps(_mm256_loadu_ps(p + 8), acc1);      \
    }                                                          \
    _mm256_storeu_ps(p, acc0);                                 \
    _mm256_storeu_ps(p + 8, acc1);                             \
  }
  CN_STORE(0, c00, c01) CN_STORE(1, c10, c11) CN_STORE(2, c20, c21)
  CN_STORE(3, c30, c31) CN_STORE(4, c40, c41) CN_STORE(5, c50, c51)
#undef CN_STORE
}

// 6 x 16: 12 ymm accumulators, 2 for B, 1 broadcast (of 16 registers), the shape that keeps both
// FMA ports busy without spilling.
__attribute__((target("avx2,fma")))
void ukr_avx2_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 x;
#define CN_ROW(r, acc0, acc1)          \
  x = _mm256_broadcast_ss(a + r);      \
  acc0 = _mm256_fmadd_ps(x, b0, acc0); \
  acc1 = _mm256_fmadd_ps(x, b1, acc1);
    CN_ROW(0, c00, c01) CN_ROW(1, c10, c11) CN_ROW(2, c20, c21)
    CN_ROW(3, c30, c31) CN_ROW(4, c40, c41) CN_ROW(5, c50, c51)
#undef CN_ROW
    a += 6;
    b += 16;
  }
#define CN_STORE(r, acc0, acc1)                                \
  {                                                            \
    float* p = c + (r) * ldc;                                  \
    if (accumulate) {                                          \
      acc0 = _mm256_add_ps(_mm256_loadu_ps(p), acc0);          \
      acc1 = _mm256_add_ps(_mm256_loadu_ps(p + 8), acc1);      \
    }                                                          \
    _mm256_storeu_ps(p, acc0);                                 \
    _mm256_storeu_ps(p + 8, acc1);                             \
  }
  CN_STORE(0, c00, c01) CN_STORE(1, c10, c11) CN_STORE(2, c20, c21)
  CN_STORE(3, c30, c31) CN_STORE(4, c40, c41) CN_STORE(5, c50, c51)
#undef CN_STORE
}

// Peak probes: independent FMA chains in named registers (an array of vectors may live on the
// stack at -O2, and then the loop measures store forwarding, not the FMA units): 12 chains cover
// 4-cycle latency x 2 ports with room to spare.
#define CN_PEAK_BODY(VEC, SET1, FMADD, ADD, STORE, LANES)                                          \
  VEC a0 = SET1(0.f), a1 = SET1(1.f), a2 = SET1(2.f), a3 = SET1(3.f), a4 = SET1(4.f), a5 = SET1(5.f); \
  VEC a6 = SET1(6.f), a7 = SET1(7.f), a8 = SET1(8.f), a9 = SET1(9.f), a10 = SET1(10.f), a11 = SET1(11.f); \
  const VEC m = SET1(0.999999f), d = SET1(1e-7f);                                                  \
  const auto t0 = std::chrono::steady_clock::now();                                                \
  int64_t iters = 0;                                                                               \
  double dt = 0;                                                                                   \
  do {                                                                                             \
    for (int r = 0; r < 4096; r++) {                                                               \
      a0 = FMADD(a0, m, d); a1 = FMADD(a1, m, d); a2 = FMADD(a2, m, d); a3 = FMADD(a3, m, d);      \
      a4 = FMADD(a4, m, d); a5 = FMADD(a5, m, d); a6 = FMADD(a6, m, d); a7 = FMADD(a7, m, d);      \
      a8 = FMADD(a8, m, d); a9 = FMADD(a9, m, d); a10 = FMADD(a10, m, d); a11 = FMADD(a11, m, d);  \
    }                                                                                              \
    iters += 4096;                                                                                 \
    dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();             \
  } while (dt < seconds);                                                                          \
  VEC s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));                       \
  s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));                                                     \
  float out[LANES];                                                                                \
  STORE(out, s);                                                                                   \
  volatile float sink = out[0];                                                                    \
  (void)sink;                                                                                      \
  return iters * 12.0 * LANES * 2 / dt / 1e9;

__attribute__((target("avx512f,avx2,fma")))
static double peak_avx512(double seconds) {
  CN_PEAK_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps, 16)
}

__attribute__((target("avx2,fma")))
static double peak_avx2(double seconds) {
  CN_PEAK_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps, 8)
}
#undef CN_PEAK_BODY

double fma_peak_x86(SimdPath path, double seconds) {
  return path == SimdPath::kAvx512 ? peak_avx512(seconds) : peak_avx2(seconds);
}

}  // namespace cn
#endif
