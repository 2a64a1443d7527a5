#include "sgemm.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "thread_pool.h"

namespace cn {

#if defined(__x86_64__) || defined(_M_X64)
void ukr_avx512_12x32(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate);
void ukr_avx2_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate);
double fma_peak_x86(SimdPath path, double seconds);
void ukr_avx512_12x32_strided(int64_t kc, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c,
                              int64_t ldc, bool accumulate);
void ukr_avx2_6x16_strided(int64_t kc, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c,
                           int64_t ldc, bool accumulate);
#endif

// Portable 4 x 8 tile: plain loops the compiler may vectorise for the baseline ISA (SSE2, NEON).
static void ukr_scalar_4x8(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  float acc[4][8] = {};
  for (int64_t k = 0; k < kc; k++) {
    for (int r = 0; r < 4; r++) {
      const float x = a[r];
      for (int j = 0; j < 8; j++) acc[r][j] += x * b[j];
    }
    a += 4;
    b += 8;
  }
  for (int r = 0; r < 4; r++) {
    float* p = c + r * ldc;
    for (int j = 0; j < 8; j++) p[j] = accumulate ? p[j] + acc[r][j] : acc[r][j];
  }
}

MicroKernel micro_kernel(SimdPath path) {
#if defined(__x86_64__) || defined(_M_X64)
  if (path == SimdPath::kAvx512 && cpu_features().avx512f) return {12, 32, ukr_avx512_12x32};
  if (path != SimdPath::kScalar && cpu_features().avx2_fma) return {6, 16, ukr_avx2_6x16};
#endif
  (void)path;
  return {4, 8, ukr_scalar_4x8};
}

static void ukr_scalar_4x8_strided(int64_t kc, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c,
                                   int64_t ldc, bool accumulate) {
  float acc[4][8] = {};
  for (int64_t k = 0; k < kc; k++) {
    for (int r = 0; r < 4; r++) {
      const float x = a[r * ars + k * acs];
      for (int j = 0; j < 8; j++) acc[r][j] += x * b[j];
    }
    b += ldb;
  }
  for (int r = 0; r < 4; r++) {
    float* p = c + r * ldc;
    for (int j = 0; j < 8; j++) p[j] = accumulate ? p[j] + acc[r][j] : acc[r][j];
  }
}

StridedKernel strided_kernel(SimdPath path) {
#if defined(__x86_64__) || defined(_M_X64)
  if (path == SimdPath::kAvx512 && cpu_features().avx512f) return {12, 32, ukr_avx512_12x32_strided};
  if (path != SimdPath::kScalar && cpu_features().avx2_fma) return {6, 16, ukr_avx2_6x16_strided};
#endif
  (void)path;
  return {4, 8, ukr_scalar_4x8_strided};
}

double fma_peak_gflops(SimdPath path, double seconds) {
#if defined(__x86_64__) || defined(_M_X64)
  if (path == SimdPath::kAvx512 && cpu_features().avx512f) return fma_peak_x86(path, seconds);
  if (path != SimdPath::kScalar && cpu_features().avx2_fma) return fma_peak_x86(SimdPath::kAvx2, seconds);
#endif
  (void)path;
  (void)seconds;
  return 0;
}

namespace {

// Cache blocking: an A block of kMC x kKC (96 KB) stays in L2 while B micro-panels (kKC x nr)
// stream through L1. kMC is a multiple of every mr (12, 6, 4), kNC of every nr (32, 16, 8).
constexpr int64_t kKC = 256;
constexpr int64_t kMC = 96;
constexpr int64_t kNC = 512;

inline float act_apply(float v, Activation act, float alpha) {
  switch (act) {
    case Activation::kRelu: return v > 0 ? v : 0;
    case Activation::kRelu6: return std::min(std::max(v, 0.f), 6.f);
    case Activation::kElu: return v >= 0 ? v : std::expm1(v);
    case Activation::kLeakyRelu: return v >= 0 ? v : alpha * v;
    case Activation::kSigmoid: return 1.f / (1.f + std::exp(-v));
    default: return v;
  }
}

// Grow-only scratch for packed B; kernels are entered from the JS thread only.
std::vector<float>& packed_b_scratch() {
  static std::vector<float> v;
  return v;
}

}  // namespace

void gemm_serial(SimdPath path, int64_t M, int64_t N, int64_t K, StridedMat a, StridedMat b, float* c, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) for (int64_t i = 0; i < M; i++) std::fill(c + i * ldc, c + i * ldc + N, 0.f);
    return;
  }
  const StridedKernel uk = strided_kernel(path);
  const int64_t MR = uk.mr, NR = uk.nr;
  const int64_t npanels = (N + NR - 1) / NR;
  thread_local std::vector<float> bbuf, aedge;
  alignas(64) float tmp[16 * 32];
  // B (small in attention: K x head size or head size x S) as NR-wide panels, zero past N: each
  // panel is K rows of NR at stride NR.
  if (bbuf.size() < static_cast<size_t>(npanels * K * NR)) bbuf.resize(npanels * K * NR);
  for (int64_t q = 0; q < npanels; q++) {
    float* d = bbuf.data() + q * K * NR;
    const int64_t j0 = q * NR, nv = std::min(NR, N - j0);
    if (b.cs == 1) {
      for (int64_t k = 0; k < K; k++) {
        const float* src = b.p + k * b.rs + j0;
        float* dk = d + k * NR;
        for (int64_t x = 0; x < nv; x++) dk[x] = src[x];
        for (int64_t x = nv; x < NR; x++) dk[x] = 0.f;
      }
    } else {
      if (nv < NR) std::fill(d, d + K * NR, 0.f);
      for (int64_t x = 0; x < nv; x++) {
        const float* src = b.p + (j0 + x) * b.cs;
        for (int64_t k = 0; k < K; k++) d[k * NR + x] = src[k * b.rs];
      }
    }
  }
  // A is read in place; only a last partial row panel is copied (zero rows past M) so no read leaves A.
  const int64_t full = M / MR, rest = M - full * MR;
  if (rest > 0) {
    if (aedge.size() < static_cast<size_t>(MR * K)) aedge.resize(MR * K);
    std::fill(aedge.begin(), aedge.begin() + MR * K, 0.f);
    for (int64_t r = 0; r < rest; r++) {
      const float* src = a.p + (full * MR + r) * a.rs;
      for (int64_t k = 0; k < K; k++) aedge[r * K + k] = src[k * a.cs];
    }
  }
  for (int64_t q = 0; q < npanels; q++) {
    const int64_t j = q * NR, nv = std::min(NR, N - j);
    const float* bp = bbuf.data() + q * K * NR;
    for (int64_t p = 0; p < full + (rest > 0); p++) {
      const bool edge = p == full;
      const float* ap = edge ? aedge.data() : a.p + p * MR * a.rs;
      const int64_t ars = edge ? K : a.rs, acs = edge ? 1 : a.cs;
      const int64_t mv = edge ? rest : MR;
      float* cij = c + p * MR * ldc + j;
      if (mv == MR && nv == NR) {
        uk.fn(K, ap, ars, acs, bp, NR, cij, ldc, accumulate);
      } else {
        if (accumulate) {
          for (int64_t r = 0; r < mv; r++) std::memcpy(tmp + r * NR, cij + r * ldc, sizeof(float) * nv);
        }
        uk.fn(K, ap, ars, acs, bp, NR, tmp, NR, accumulate);
        for (int64_t r = 0; r < mv; r++) std::memcpy(cij + r * ldc, tmp + r * NR, sizeof(float) * nv);
      }
    }
  }
}

void sgemm(const GemmArgs& g, SimdPath path) {
  const int64_t M = g.M, K = g.K, N = g.N;
  if (M == 0 || N == 0 || g.batch == 0) return;
  const MicroKernel uk = micro_kernel(path);
  const int64_t MR = uk.mr, NR = uk.nr;
  const int64_t panels = (N + NR - 1) / NR;
  const int64_t panel_size = K * NR;          // one packed B panel: K rows of NR
  const int64_t entry_size = panels * panel_size;
  ThreadPool& tp = pool();

  // 1. Pack every B entry into NR-wide column panels (zero-padded past N), in parallel.
  std::vector<float>& pb = packed_b_scratch();
  if (static_cast<int64_t>(pb.size()) < g.batch_b * entry_size) pb.resize(g.batch_b * entry_size);
  float* packed_b = pb.data();
  if (K > 0) {
    tp.run(g.batch_b * panels, [&](int64_t t) {
      const int64_t e = t / panels, q = t % panels;
      const float* src = g.b + e * K * N;
      float* dst = packed_b + e * entry_size + q * panel_size;
      const int64_t j0 = q * NR, nv = std::min(NR, N - j0);
      if (!g.tb) {
        for (int64_t k = 0; k < K; k++) {
          const float* row = src + k * N + j0;
          float* d = dst + k * NR;
          for (int64_t c = 0; c < nv; c++) d[c] = row[c];
          for (int64_t c = nv; c < NR; c++) d[c] = 0.f;
        }
      } else {
        if (nv < NR) std::memset(dst, 0, sizeof(float) * panel_size);
        for (int64_t c = 0; c < nv; c++) {
          const float* col = src + (j0 + c) * K;  // B^T row j = column j of B
          for (int64_t k = 0; k < K; k++) dst[k * NR + c] = col[k];
        }
      }
    });
  }

  // 2. Output tiles (entry, row block, column block), each owned by one thread. Fewer tiles than
  // two per thread (a weight gradient with 128 rows: 96 + 32) would leave a thread idle, so the row
  // block shrinks to give at least that many; an element's arithmetic does not depend on the blocks.
  const int64_t nblocks = (N + kNC - 1) / kNC;
  int64_t mcb = kMC;
  const int64_t want = 2 * tp.threads();
  if (tp.threads() > 1 && g.batch * ((M + kMC - 1) / kMC) * nblocks < want) {
    const int64_t per_entry = (want + g.batch * nblocks - 1) / (g.batch * nblocks);
    mcb = std::max<int64_t>(MR, ((M + per_entry - 1) / per_entry + MR - 1) / MR * MR);
  }
  const int64_t mblocks = (M + mcb - 1) / mcb;
  tp.run(g.batch * mblocks * nblocks, [&](int64_t t) {
    const int64_t o = t / (mblocks * nblocks);
    const int64_t it = (t / nblocks) % mblocks, jt = t % nblocks;
    const int64_t i0 = it * mcb, mc = std::min(mcb, M - i0);
    const int64_t j0 = jt * kNC, nc = std::min(kNC, N - j0);
    const float* A = g.a + static_cast<int64_t>(g.ia[o]) * M * K;
    const float* Bp = packed_b + static_cast<int64_t>(g.ib[o]) * entry_size;
    float* C = g.c + o * M * N;
    thread_local std::vector<float> abuf;
    if (abuf.size() < static_cast<size_t>(kMC * kKC)) abuf.resize(kMC * kKC);
    alignas(64) float tmp[16 * 32];
    const int64_t mpanels = (mc + MR - 1) / MR;

    for (int64_t k0 = 0; k0 < K; k0 += kKC) {
      const int64_t kc = std::min(kKC, K - k0);
      // Pack A[i0:i0+mc, k0:k0+kc] into MR-row panels: for each k, MR values (zero rows past mc).
      for (int64_t p = 0; p < mpanels; p++) {
        float* d = abuf.data() + p * kc * MR;
        const int64_t ib = i0 + p * MR, mv = std::min(MR, i0 + mc - ib);
        if (g.ta) {
          // A stored [K, M]: each k gives MR consecutive floats.
          for (int64_t k = 0; k < kc; k++) {
            const float* src = A + (k0 + k) * M + ib;
            float* dk = d + k * MR;
            for (int64_t r = 0; r < mv; r++) dk[r] = src[r];
            for (int64_t r = mv; r < MR; r++) dk[r] = 0.f;
          }
        } else {
          for (int64_t r = 0; r < MR; r++) {
            if (r >= mv) {
              for (int64_t k = 0; k < kc; k++) d[k * MR + r] = 0.f;
            } else {
              const float* row = A + (ib + r) * K + k0;
              for (int64_t k = 0; k < kc; k++) d[k * MR + r] = row[k];
            }
          }
        }
      }
      const bool acc = k0 > 0;
      for (int64_t j = j0; j < j0 + nc; j += NR) {
        const int64_t nv = std::min(NR, N - j);
        const float* bpanel = Bp + (j / NR) * panel_size + k0 * NR;
        for (int64_t p = 0; p < mpanels; p++) {
          const int64_t i = i0 + p * MR, mv = std::min(MR, i0 + mc - i);
          const float* apanel = abuf.data() + p * kc * MR;
          float* cij = C + i * N + j;
          if (mv == MR && nv == NR) {
            uk.fn(kc, apanel, bpanel, cij, N, acc);
          } else {
            if (acc) {
              for (int64_t r = 0; r < mv; r++) std::memcpy(tmp + r * NR, cij + r * N, sizeof(float) * nv);
            }
            uk.fn(kc, apanel, bpanel, tmp, NR, acc);
            for (int64_t r = 0; r < mv; r++) std::memcpy(cij + r * N, tmp + r * NR, sizeof(float) * nv);
          }
        }
      }
    }
    // Epilogue on the tile: zero for K == 0, then bias and activation.
    for (int64_t i = i0; i < i0 + mc; i++) {
      float* row = C + i * N;
      if (K == 0) std::fill(row + j0, row + j0 + nc, 0.f);
      if (g.bias != nullptr) {
        for (int64_t j = j0; j < j0 + nc; j++) row[j] += g.bias[j];
      }
      if (g.act != Activation::kLinear) {
        for (int64_t j = j0; j < j0 + nc; j++) row[j] = act_apply(row[j], g.act, g.alpha);
      }
    }
  });
}

}  // namespace cn
