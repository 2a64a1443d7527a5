// Which SIMD paths this CPU (and its OS) can run, found at run time with cpuid/xgetbv.
// The build never uses -march=native: the binary may run on another machine than the one that built it.
#pragma once

namespace cn {

enum class SimdPath { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 + FMA3, with the OS saving ymm state
  bool avx512f = false;   // AVX-512F, with the OS saving zmm/opmask state
};

const CpuFeatures& cpu_features();
// The best path the CPU supports.
SimdPath best_path();
const char* path_name(SimdPath p);
// The path every kernel uses (best_path() unless a test or the bench forced another with setPath).
SimdPath active_path();
void set_active_path(SimdPath p);

}  // namespace cn
