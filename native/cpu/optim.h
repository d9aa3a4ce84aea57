// Optimizer steps (src/optim/): one call updates every parameter of an optimizer (or of one param
// group and dtype), the way PyTorch's fused/foreach paths do, with PyTorch's exact update rules.
// The element loops are compiled once per ISA (optim.cpp is in IGNIS_KERNEL_SOURCES) and
// optim_step() picks the variant like cpu_kernels() does (IGNIS_CPU_ISA forces one).
#pragma once
#include <cstdint>

#include "../core/dtype.h"
#include "kernels.h"  // cpu_isa

namespace ignis {

enum class OptimKind : int { sgd = 0, adam = 1, rmsprop = 2, adagrad = 3 };
constexpr int kOptimKinds = 4;
constexpr int kOptimSlots = 3;   // state tensors per parameter
constexpr int kOptimHyper = 14;  // hyperparameters per call

// Hyperparameter layout (OptimArgs::hyper), per kind:
//   sgd:     lr, momentum, dampening, nesterov, weightDecay, maximize
//   adam:    lr, beta1, beta2, eps, weightDecay, amsgrad, maximize, decoupled (AdamW)
//   rmsprop: lr, alpha, eps, weightDecay, momentum, centered, maximize
//   adagrad: eps, weightDecay, maximize
// Per-parameter scalars (OptimItem::x):
//   sgd:     x0 = 1 on the first step with momentum (the buffer is initialised to the gradient)
//   adam:    x0 = lr / (1 - beta1^step), x1 = sqrt(1 - beta2^step)
//   adagrad: x0 = lr / (1 + (step - 1) * lrDecay)
// State slots: sgd [momentum_buffer]; adam [exp_avg, exp_avg_sq, max_exp_avg_sq];
//   rmsprop [square_avg, momentum_buffer, grad_avg]; adagrad [sum].
struct OptimItem {
  int64_t n;
  char* p;
  const char* g;
  char* s[kOptimSlots];
  double x[2];
};

struct OptimArgs {
  OptimKind kind;
  DType dtype;
  double hyper[kOptimHyper];
  const OptimItem* items;
  int64_t count;
};

namespace isa_default { void optim_step(const OptimArgs& a); }
namespace isa_avx2 { void optim_step(const OptimArgs& a); }
namespace isa_avx512 { void optim_step(const OptimArgs& a); }

inline void optim_step(const OptimArgs& a) {
  using Fn = void (*)(const OptimArgs&);
  static const Fn fn = cpu_isa() == 2 ? Fn(isa_avx512::optim_step) : cpu_isa() == 1 ? Fn(isa_avx2::optim_step) : Fn(isa_default::optim_step);
  fn(a);
}

}  // namespace ignis
