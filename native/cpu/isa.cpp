// Picks the kernel table for the running CPU once. IGNIS_CPU_ISA=default|avx2|avx512 forces one
// (tests use it to check the portable build gives the same answers).
#include <cstdlib>
#include <cstring>

#include "kernels.h"

namespace ignis {
namespace isa_default { const CpuKernels* kernels(); }
namespace isa_avx2 { const CpuKernels* kernels(); }
namespace isa_avx512 { const CpuKernels* kernels(); }

static int detect_isa() {
  const char* force = std::getenv("IGNIS_CPU_ISA");
  __builtin_cpu_init();
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  if (force) {
    if (!std::strcmp(force, "default")) return 0;
    if (!std::strcmp(force, "avx2") && avx2) return 1;
    if (!std::strcmp(force, "avx512") && avx512) return 2;
  }
  return avx512 ? 2 : avx2 ? 1 : 0;
}

int cpu_isa() {
  static const int isa = detect_isa();
  return isa;
}

static const CpuKernels* pick() {
  switch (cpu_isa()) {
    case 2: return isa_avx512::kernels();
    case 1: return isa_avx2::kernels();
    default: return isa_default::kernels();
  }
}

const CpuKernels& cpu_kernels() {
  static const CpuKernels* k = pick();
  return *k;
}

}  // namespace ignis
