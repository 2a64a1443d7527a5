// Single-precision matrix products for MatMul/BatchMatMul/_FusedMatMul:
//   C[o] = act(op(A[ia[o]]) · op(B[ib[o]]) + bias)   for each output batch entry o,
// row-major, op = optional transpose, bias [N] broadcast over rows. Blocked (packed panels) and
// split over the thread pool by output tiles: every element of C is summed by one thread in a fixed
// order, so results do not depend on the thread count.
#pragma once

#include <cstdint>

#include "cpu_features.h"

namespace cn {

enum class Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kLeakyRelu = 4, kSigmoid = 5 };

struct GemmArgs {
  const float* a = nullptr;  // batchA entries of [M, K] (or [K, M] when ta)
  const float* b = nullptr;  // batchB entries of [K, N] (or [N, K] when tb)
  float* c = nullptr;        // batch entries of [M, N]
  int64_t M = 0, K = 0, N = 0;
  bool ta = false, tb = false;
  int64_t batch = 1;              // output entries
  int64_t batch_b = 1;            // entries of B
  const int32_t* ia = nullptr;    // [batch]: which A entry each output uses
  const int32_t* ib = nullptr;    // [batch]: which B entry each output uses
  const float* bias = nullptr;    // [N] or null
  Activation act = Activation::kLinear;
  float alpha = 0.f;              // leaky-relu slope
};

void sgemm(const GemmArgs& g, SimdPath path);

// A register-tile kernel: C[mr x nr] (+)= Apacked[kc x mr]^T-ish panels · Bpacked[kc x nr].
// A panel: for each k, mr values; B panel: for each k, nr values; C row stride ldc.
using MicroKernelFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate);
struct MicroKernel {
  int mr;
  int nr;
  MicroKernelFn fn;
};
MicroKernel micro_kernel(SimdPath path);
// The same tile shape reading A in place: A(r, k) = a[r·ars + k·acs]; B rows of nr at stride ldb.
using StridedKernelFn = void (*)(int64_t kc, const float* a, int64_t ars, int64_t acs, const float* b, int64_t ldb, float* c,
                                 int64_t ldc, bool accumulate);
struct StridedKernel {
  int mr;
  int nr;
  StridedKernelFn fn;
};
StridedKernel strided_kernel(SimdPath path);

// One product on the calling thread (no pool), for kernels that already run inside a pool task:
//   C[i, j] (+)= sum_k A(i, k) · B(k, j),  A(i, k) = a[i·a_rs + k·a_cs],  B(k, j) = b[k·b_rs + j·b_cs],
// C row-major with row stride ldc (only the M x N block is written). Any strides, so transposed and
// head-strided operands need no copies beyond the packing every product does.
struct StridedMat {
  const float* p;
  int64_t rs, cs;
};
void gemm_serial(SimdPath path, int64_t M, int64_t N, int64_t K, StridedMat a, StridedMat b, float* c, int64_t ldc, bool accumulate);

// Measured FMA throughput of one thread on a path (GFLOP/s), for the bench's "% of peak".
double fma_peak_gflops(SimdPath path, double seconds);

}  // namespace cn
