// softmax / logSoftmax along one dim (src/ops/softmax.ts), forward and backward. The tensor is
// viewed as [outer, D, inner] (contiguous) and reduced along D; inner == 1 (the last dim) is the
// fast path, a row of D contiguous elements. The loops are compiled once per ISA (softmax.cpp is in
// IGNIS_KERNEL_SOURCES) and softmax_fwd_cpu/_bwd_cpu pick the variant as cpu_kernels() does. The
// per-element math is ops/softmax_math.h, shared with the CUDA twin (cuda/softmax.cu).
#pragma once
#include <cstdint>

#include "../core/dtype.h"
#include "kernels.h"  // cpu_isa

namespace ignis {

struct SoftmaxShape {
  DType dt = DType::f32;
  int64_t outer = 0, D = 0, inner = 0;
  bool log = false;  // logSoftmax
  bool neg = false;  // of -x: softmin (log: logSoftmax(-x)), without materialising -x
};

// softmax_fwd_cpu: y = softmax(x) (or logSoftmax) along D; neg: of -x (softmin).
// softmax_bwd_cpu: gx from the forward's output y and the upstream gradient g: softmax
// y (g - sum(g y)), logSoftmax g - exp(y) sum(g); neg: the same negated (the chain rule through -x).
// CUDA twins: cuda/softmax.cu.
namespace isa_default { void softmax_fwd_cpu(const SoftmaxShape& s, const char* x, char* y); void softmax_bwd_cpu(const SoftmaxShape& s, const char* y, const char* g, char* gx); }
namespace isa_avx2 { void softmax_fwd_cpu(const SoftmaxShape& s, const char* x, char* y); void softmax_bwd_cpu(const SoftmaxShape& s, const char* y, const char* g, char* gx); }
namespace isa_avx512 { void softmax_fwd_cpu(const SoftmaxShape& s, const char* x, char* y); void softmax_bwd_cpu(const SoftmaxShape& s, const char* y, const char* g, char* gx); }


inline void softmax_fwd_cpu(const SoftmaxShape& s, const char* x, char* y) {
  switch (cpu_isa()) {
    case 2: return isa_avx512::softmax_fwd_cpu(s, x, y);
    case 1: return isa_avx2::softmax_fwd_cpu(s, x, y);
    default: return isa_default::softmax_fwd_cpu(s, x, y);
  }
}
inline void softmax_bwd_cpu(const SoftmaxShape& s, const char* y, const char* g, char* gx) {
  switch (cpu_isa()) {
    case 2: return isa_avx512::softmax_bwd_cpu(s, y, g, gx);
    case 1: return isa_avx2::softmax_bwd_cpu(s, y, g, gx);
    default: return isa_default::softmax_bwd_cpu(s, y, g, gx);
  }
}

}  // namespace ignis
