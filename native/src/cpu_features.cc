#include "cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <cstdint>
#endif

namespace cn {

#if defined(__x86_64__) || defined(_M_X64)
static uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

static CpuFeatures detect() {
  CpuFeatures f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27), avx = c & (1u << 28), fma = c & (1u << 12);
  if (!osxsave || !avx) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_ok = (xcr0 & 0x6) == 0x6;     // SSE + AVX state
  const bool zmm_ok = (xcr0 & 0xE6) == 0xE6;   // + opmask, ZMM_Hi256, Hi16_ZMM
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  const bool avx2 = b & (1u << 5), avx512f = b & (1u << 16);
  f.avx2_fma = ymm_ok && avx2 && fma;
  f.avx512f = f.avx2_fma && zmm_ok && avx512f;
  return f;
}
#else
static CpuFeatures detect() { return CpuFeatures{}; }
#endif

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

SimdPath best_path() {
  const CpuFeatures& f = cpu_features();
  if (f.avx512f) return SimdPath::kAvx512;
  if (f.avx2_fma) return SimdPath::kAvx2;
  return SimdPath::kScalar;
}

static SimdPath g_active = best_path();

SimdPath active_path() { return g_active; }
void set_active_path(SimdPath p) { g_active = p; }

const char* path_name(SimdPath p) {
  switch (p) {
    case SimdPath::kAvx512: return "avx512";
    case SimdPath::kAvx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace cn
