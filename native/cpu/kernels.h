// The CPU backend contract: every kernel the binding can call, as one table of function pointers.
// cpu/*.cpp kernels are compiled once per ISA (default x86-64, AVX2, AVX-512; see CMakeLists.txt)
// into namespaces isa_default/isa_avx2/isa_avx512, and cpu_kernels() picks the best the running
// machine supports. This is how the prebuilt binary stays portable without -march=native.
#pragma once
#include <cstdint>

#include "../core/iter.h"

namespace ignis {

struct ReduceArgs {
  Iter in;        // one operand: the input, dims ordered [kept..., reduced...]
  int nkeep = 0;  // number of leading kept dims
  char* out = nullptr;
  DType out_dtype = DType::f32;
};

// A compiled expression activation (src/activations/expr.ts): ninstr instructions of 5 doubles
// (opcode, dst, a, b, c; CONST keeps its value in a), registers 0 = x, 1 = upstream gradient.
struct ExprProgram {
  const double* code;
  int ninstr;
  int nregs;
  int out;
};

struct CpuKernels {
  const char* isa;
  // op0 = out, op1 = in. p0/p1 are op parameters (clamp bounds).
  void (*unary)(int op, Iter& it, double p0, double p1);
  // op0 = out, op1 = a, op2 = b (same dtype; out is bool for comparisons).
  void (*binary)(int op, Iter& it);
  // op0 = out, op1 = cond (bool), op2 = a, op3 = b.
  void (*where)(Iter& it);
  // op0 = out, op1 = in, any dtypes: strided copy with conversion.
  void (*copy)(Iter& it);
  void (*reduce)(int op, ReduceArgs& r);
  // Activations from ops/activations.def: op0 = out, op1 = x (forward);
  // op0 = grad_in, op1 = x, op2 = grad_out (backward). params: up to 4.
  void (*act_fwd)(int op, Iter& it, const double* params);
  void (*act_bwd)(int op, Iter& it, const double* params);
  // op0 = out, op1 = x[, op2 = grad_out]: runs an expression program elementwise.
  void (*expr)(const ExprProgram& p, Iter& it);
};

// The ISA whose compiled variants run here: 0 default x86-64, 1 AVX2, 2 AVX-512 (IGNIS_CPU_ISA=default|avx2|avx512
// forces one the machine supports). Every per-ISA entry point (cpu_kernels(), optim.h, softmax.h, gated.h) picks by it.
int cpu_isa();
const CpuKernels& cpu_kernels();

}  // namespace ignis
