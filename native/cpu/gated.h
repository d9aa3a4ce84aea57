// The activations with a second operand or a split input: PReLU (one learnable slope per channel)
// and GLU (the input's two halves along one dim), forward and backward. src/activations/gated.ts
// calls them through addon.cpp's PreluFwd / PreluBwd / GluFwd / GluBwd; the loops are compiled once
// per ISA (gated.cpp is in IGNIS_KERNEL_SOURCES) and picked by cpu_isa(). CUDA twins:
// cuda/gated.cu.
//
// PReLU: x viewed as [outer, C, inner] (C = the slope count; C = 1 views the whole tensor as one
// channel), y = x > 0 ? x : w[c] x; backward gx = x > 0 ? g : w[c] g, gw[c] = sum of x g where x <= 0
// (accumulated in double). GLU: x viewed as [outer, 2, M] (M = half the split dim times the dims
// after it), y[o, m] = a sigmoid(b) with a = x[o, 0, m], b = x[o, 1, m]; backward
// ga = g sigmoid(b), gb = g a sigmoid(b) (1 - sigmoid(b)).
#pragma once
#include <cstdint>

#include "../core/dtype.h"
#include "kernels.h"  // cpu_isa

namespace ignis {

struct PreluShape {
  DType dt = DType::f32;
  int64_t outer = 0, C = 0, inner = 0;
};

struct GluShape {
  DType dt = DType::f32;
  int64_t outer = 0, M = 0;
};

#define IGNIS_GATED_DECLS                                                                        \
  void prelu_fwd_cpu(const PreluShape& s, const char* x, const char* w, char* y);               \
  void prelu_bwd_cpu(const PreluShape& s, const char* x, const char* w, const char* g, char* gx, \
                     char* gw);                                                                  \
  void glu_fwd_cpu(const GluShape& s, const char* x, char* y);                                  \
  void glu_bwd_cpu(const GluShape& s, const char* x, const char* g, char* gx);
namespace isa_default { IGNIS_GATED_DECLS }
namespace isa_avx2 { IGNIS_GATED_DECLS }
namespace isa_avx512 { IGNIS_GATED_DECLS }
#undef IGNIS_GATED_DECLS

// gx or gw may be null (that gradient is not wanted)
#define IGNIS_GATED_PICK(fn, ...)                                  \
  switch (cpu_isa()) {                                 \
    case 2: return isa_avx512::fn(__VA_ARGS__);                    \
    case 1: return isa_avx2::fn(__VA_ARGS__);                      \
    default: return isa_default::fn(__VA_ARGS__);                  \
  }
inline void prelu_fwd_cpu(const PreluShape& s, const char* x, const char* w, char* y) { IGNIS_GATED_PICK(prelu_fwd_cpu, s, x, w, y) }
inline void prelu_bwd_cpu(const PreluShape& s, const char* x, const char* w, const char* g, char* gx, char* gw) {
  IGNIS_GATED_PICK(prelu_bwd_cpu, s, x, w, g, gx, gw)
}
inline void glu_fwd_cpu(const GluShape& s, const char* x, char* y) { IGNIS_GATED_PICK(glu_fwd_cpu, s, x, y) }
inline void glu_bwd_cpu(const GluShape& s, const char* x, const char* g, char* gx) { IGNIS_GATED_PICK(glu_bwd_cpu, s, x, g, gx) }
#undef IGNIS_GATED_PICK

}  // namespace ignis
