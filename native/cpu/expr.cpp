// Interpreter for expression activations: a register program run over blocks of 256 elements,
// so each instruction is a tight (vectorisable) loop and one pass over memory does the whole
// expression — forward and backward alike. Compiled once per ISA.
#include <cmath>
#include <vector>

#include "kernels.h"
#include "math.h"

namespace ignis {
namespace IGNIS_ISA_NS {

namespace {

enum ExprOp {
#define EXPR(name, arity) E_##name,
#include "../ops/expr.def"
#undef EXPR
};

constexpr int64_t kBlock = 256;

template <class T>
void run_block(const ExprProgram& p, std::vector<T>& regs, int64_t n) {
  for (int i = 0; i < p.ninstr; ++i) {
    const double* ins = p.code + 5 * i;
    int op = int(ins[0]);
    T* d = regs.data() + int64_t(ins[1]) * kBlock;
    if (op == E_const) {
      T v = T(ins[2]);
      for (int64_t j = 0; j < n; ++j) d[j] = v;
      continue;
    }
    const T* a = regs.data() + int64_t(ins[2]) * kBlock;
    const T* b = regs.data() + int64_t(ins[3]) * kBlock;
    const T* c = regs.data() + int64_t(ins[4]) * kBlock;
    switch (op) {
#define L1(expr) _Pragma("omp simd") for (int64_t j = 0; j < n; ++j) { T x = a[j]; d[j] = expr; } break;
#define L2(expr) _Pragma("omp simd") for (int64_t j = 0; j < n; ++j) { T x = a[j], y = b[j]; d[j] = expr; } break;
      case E_add: L2(x + y)
      case E_sub: L2(x - y)
      case E_mul: L2(x * y)
      case E_div: L2(x / y)
      case E_neg: L1(-x)
      case E_pow: L2(std::pow(x, y))
      case E_exp: L1(std::exp(x))
      case E_log: L1(std::log(x))
      case E_tanh: L1(std::tanh(x))
      case E_sigmoid: L1(T(1) / (T(1) + std::exp(-x)))
      case E_erf: L1(std::erf(x))
      case E_softplus: L1((x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x))))
      case E_abs: L1(std::abs(x))
      case E_sign: L1(T((T(0) < x) - (x < T(0))))
      case E_min: L2(min_(x, y))
      case E_max: L2(max_(x, y))
      case E_sqrt: L1(std::sqrt(x))
      case E_log1p: L1(std::log1p(x))
      case E_expm1: L1(std::expm1(x))
      case E_lt: L2(T(x < y))
      case E_le: L2(T(x <= y))
      case E_gt: L2(T(x > y))
      case E_ge: L2(T(x >= y))
      case E_eq: L2(T(x == y))
      case E_ne: L2(T(x != y))
      case E_select:
        for (int64_t j = 0; j < n; ++j) d[j] = a[j] != T(0) ? b[j] : c[j];
        break;
#undef L1
#undef L2
    }
  }
}

template <class T>
void expr_t(const ExprProgram& p, Iter& it) {
  const bool has_g = it.nops == 3;
  parallel_for(it.numel(), 16, [&](int64_t b0, int64_t e0) {
    std::vector<T> regs(size_t(p.nregs) * kBlock);
    iter_range(it, b0, e0, [&](char** ptr, const int64_t* s, int64_t n) {
      for (int64_t off = 0; off < n; off += kBlock) {
        int64_t m = std::min(kBlock, n - off);
        T* r0 = regs.data();
        for (int64_t j = 0; j < m; ++j) r0[j] = *reinterpret_cast<const T*>(ptr[1] + (off + j) * s[1]);
        if (has_g) {
          T* r1 = regs.data() + kBlock;
          for (int64_t j = 0; j < m; ++j) r1[j] = *reinterpret_cast<const T*>(ptr[2] + (off + j) * s[2]);
        }
        run_block<T>(p, regs, m);
        const T* res = regs.data() + int64_t(p.out) * kBlock;
        for (int64_t j = 0; j < m; ++j) *reinterpret_cast<T*>(ptr[0] + (off + j) * s[0]) = res[j];
      }
    });
  });
}

}  // namespace

void expr(const ExprProgram& p, Iter& it) {
  IGNIS_DISPATCH_FLOAT(it.op[1].dtype, T, "expression activation", expr_t<T>(p, it));
}

}  // namespace IGNIS_ISA_NS
}  // namespace ignis
