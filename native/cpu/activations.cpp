// Activation kernels generated from ops/activations.def. Compiled once per ISA.
//
// The formulas call the vectorisable elementary functions of vmath.h (exp_, expm1_, log1p_, tanh_,
// erf_, sigmoid_), not std::exp & co: GCC does not vectorise libm calls, so with them every
// transcendental activation ran one element at a time. With vmath.h each `#pragma omp simd` loop
// below compiles to 16-lane (AVX-512) / 8-lane (AVX2) float code; check with
//   g++ -O3 -fno-math-errno -ffp-contract=off -fopenmp -mavx512f -mavx512dq -mavx512vl
//       -mavx512bw -mfma -mprefer-vector-width=512 -fopt-info-vec-missed -c activations.cpp
// (the contiguous loops must not appear as "couldn't vectorize loop").
#include <cmath>
#include <type_traits>

#include "../ops/activation_consts.h"
#include "kernels.h"
#include "math.h"
#include "vmath.h"
#include "vmath_fast.h"

namespace ignis {
namespace IGNIS_ISA_NS {

namespace {

using namespace vm::defs;  // exp_, expm1_, log1p_, tanh_, erf_, sigmoid_
template <class T> IGNIS_VM_INLINE T silu_(T x) { return vm::silu(x); }
template <class T> IGNIS_VM_INLINE T sel_(bool c, T a, T b) { return vm::sel(c, a, b); }
// log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)): the log1p argument is in (0, 1], where
// vm::log1p_01 needs no range reduction or special cases (a third of vm::log1p's work).
// Also what logsigmoid needs: logsigmoid(x) = min(x, 0) - log1p(exp(-|x|)). nan propagates.
template <class T> IGNIS_VM_INLINE T log1p_exp_neg_abs_(T z) { return vm::log1p_01(exp_(-std::abs(z))); }

#define IGNIS_ACT_FN IGNIS_VM_INLINE
#include "../ops/activation_math.h"
#undef IGNIS_ACT_FN

// Every input element is read through `ld_(p, z)`: p's bits OR z, where z is a zero that GCC cannot
// see through (read from a volatile once per call). Otherwise GCC folds the selects of rows such as
// `c ? 0 : g` or `c ? g * e : g` into zero-masked AVX-512 loads of g (`vmulps (mem), a, b{k}{z}`),
// and AMD Zen's hardware prefetcher does not follow a stream read only by masked loads: at
// DRAM-resident sizes those rows ran at half speed (4M float32, 1 thread: celu backward 1.0
// ns/element against elu's 0.4, hardswish backward 0.77 against relu's 0.43) while in-cache sizes
// were equal. The OR is one register operation per vector and makes every load a plain one.
// In the backward rows that only select g or zero (relu, relu6, hardtanh, threshold, the shrinks)
// GCC folds that OR under the mask as well (`vpord (mem), z, r{k}{z}`), so the backward loop also
// writes keep_(r, g, z2) = r's bits OR (g's bits AND z2), a second opaque zero (with z itself GCC
// simplifies (g | z) & z to z): g then has one unmasked use and is loaded in full once. In a
// 2-thread probe (4M float32, same run) relu6 backward went from 36 to 53 GB/s, relu backward from
// 44 to 55; rows that use g in both arms (leaky_relu) are unchanged.
volatile uint64_t opaque_zero = 0, opaque_zero2 = 0;
template <class T> using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
template <class T> IGNIS_VM_INLINE T ld_(const T* p, Bits<T> z) {
  return vm::detail::bits<T>(Bits<T>(vm::detail::bits<Bits<T>>(*p) | z));
}
template <class T> IGNIS_VM_INLINE T keep_(T r, T v, Bits<T> z) {
  return vm::detail::bits<T>(Bits<T>(vm::detail::bits<Bits<T>>(r) | (vm::detail::bits<Bits<T>>(v) & z)));
}

// GELU: x Phi(x). PyTorch's formula, Phi(x) = (1 + erf(x / sqrt 2)) / 2, cancels in float32's left
// tail (x < -sqrt 2: erf's absolute error becomes Phi's relative error, ~1% at x = -4.5; PyTorch's own
// kernel is ~0.3% off there), so float32 computes GELU from erfc(|x| / sqrt 2) = t R(t) e^(-x^2/2)
// (vm::gelu: relu(x) minus the tail term; relative error < 4.5e-7 down to x = -13; the backward's
// Phi from vm::normal_cdf, same form). double keeps the formula: its cancellation stays below the
// tolerance's absolute floor.
template <class T> IGNIS_VM_INLINE T gelu_(T x) {
  if constexpr (std::is_same_v<T, float>) return vm::gelu(x);
  else return T(0.5) * x * (T(1) + erf_(x * T(M_SQRT1_2)));
}
// d/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi) (x^2 split exactly: vm::gauss)
template <class T> IGNIS_VM_INLINE T gelu_grad(T x) {
  T g = vm::gauss(x);
  T phi = g * T(0.5 * M_2_SQRTPI * M_SQRT1_2);
  if constexpr (std::is_same_v<T, float>) return vm::normal_cdf(x, g) + x * phi;
  else return T(0.5) * (T(1) + erf_(x * T(M_SQRT1_2))) + x * phi;
}

enum ActOp {
#define ACT(name, np, fwd, bwd) A_##name,
#include "../ops/activations.def"
#undef ACT
};

// Per-element cost relative to a copy, for the thread split (parallel.h, kElementwiseGrain; set
// from where two threads began to win on the dev VM): the piecewise-linear ones stream like a copy;
// the rest evaluate exp/erf/log/tanh (gelu and mish more). Backward reads one more operand.
int64_t act_cost(int op, bool backward) {
  switch (op) {
    case A_relu: case A_relu6: case A_leaky_relu: case A_hardtanh: case A_hardsigmoid: case A_hardswish:
    case A_softshrink: case A_hardshrink: case A_threshold: case A_softsign:
      return 1;
    case A_gelu: case A_gelu_tanh: case A_mish:
      return backward ? 6 : 5;
    default:
      return backward ? 4 : 3;
  }
}

// One forward case of a switch over the table rows (fwd_t, fast_fwd_f32): a contiguous `omp simd`
// loop reading through ld_, or a strided loop; x, o, xs, p, s, n, Z in scope.
#define IGNIS_ACT_FWD_LOOP(fwd)                                                 \
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {                               \
      _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) { T x = ld_(xs + i, Z); o[i] = fwd; } \
    } else {                                                                    \
      for (int64_t i = 0; i < n; ++i) {                                         \
        T x = *reinterpret_cast<const T*>(p[1] + i * s[1]);                     \
        *reinterpret_cast<T*>(p[0] + i * s[0]) = fwd;                           \
      }                                                                         \
    }                                                                           \
    break;

template <class T>
void fwd_t(int op, Iter& it, const double* params) {
  const T P0 = T(params[0]), P1 = T(params[1]), P2 = T(params[2]);
  (void)P0; (void)P1; (void)P2;
  // P0..P2 by value: captured by reference, `x < P0 ? P0 : x` becomes a load through a pointer
  // that may alias the output, and GCC leaves the loop scalar (hardtanh, threshold ran at 2 GB/s).
  iter_for_each(it, act_cost(op, false), [&, P0c = P0, P1c = P1, P2c = P2](char** p, const int64_t* s, int64_t n) {
    // locals, not closure members: GCC then treats them (and 1 / P0 in celu) as loop invariants
    const T P0 = P0c, P1 = P1c, P2 = P2c;
    (void)P0; (void)P1; (void)P2;
    const Bits<T> Z = Bits<T>(opaque_zero);
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const T* __restrict xs = reinterpret_cast<const T*>(p[1]);
    switch (op) {
#define ACT(name, np, fwd, bwd) \
  case A_##name:                \
    IGNIS_ACT_FWD_LOOP(fwd)
#include "../ops/activations.def"
#undef ACT
    }
  });
}

template <class T>
void bwd_t(int op, Iter& it, const double* params) {
  const T P0 = T(params[0]), P1 = T(params[1]), P2 = T(params[2]);
  (void)P0; (void)P1; (void)P2;
  // P0..P2 by value: captured by reference, `x < P0 ? P0 : x` becomes a load through a pointer
  // that may alias the output, and GCC leaves the loop scalar (hardtanh, threshold ran at 2 GB/s).
  iter_for_each(it, act_cost(op, true), [&, P0c = P0, P1c = P1, P2c = P2](char** p, const int64_t* s, int64_t n) {
    // locals, not closure members: GCC then treats them (and 1 / P0 in celu) as loop invariants
    const T P0 = P0c, P1 = P1c, P2 = P2c;
    (void)P0; (void)P1; (void)P2;
    const Bits<T> Z = Bits<T>(opaque_zero), Z2 = Bits<T>(opaque_zero2);
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const T* __restrict xs = reinterpret_cast<const T*>(p[1]);
    const T* __restrict gs = reinterpret_cast<const T*>(p[2]);
    switch (op) {
#define ACT(name, np, fwd, bwd)                                                           \
  case A_##name:                                                                          \
    if (s[0] == sizeof(T) && s[1] == sizeof(T) && s[2] == sizeof(T)) {                    \
      _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) {                              \
        T x = ld_(xs + i, Z);                                                             \
        T g = ld_(gs + i, Z);                                                             \
        o[i] = keep_(bwd, g, Z2);                                                         \
      }                                                                                   \
    } else {                                                                              \
      for (int64_t i = 0; i < n; ++i) {                                                   \
        T x = *reinterpret_cast<const T*>(p[1] + i * s[1]);                               \
        T g = *reinterpret_cast<const T*>(p[2] + i * s[2]);                               \
        *reinterpret_cast<T*>(p[0] + i * s[0]) = bwd;                                     \
      }                                                                                   \
    }                                                                                     \
    break;
#include "../ops/activations.def"
#undef ACT
    }
  });
}

// ---- fast approximations: the ACT_FAST rows of activations.def (`approx: 'fast'`) ----------------
// Op codes past the ACT rows: kActRows + i is the i-th ACT_FAST row. Only float32 is approximated
// (vmath_fast.h); float64 runs the exact row (kFastRow), as does CUDA (native/binding/addon.cpp).
constexpr int kActRows = 0
#define ACT(name, np, fwd, bwd) +1
#include "../ops/activations.def"
#undef ACT
    ;
enum ActFastOp {
#define ACT(name, np, fwd, bwd)
#define ACT_FAST(name, fwd) AF_##name,
#include "../ops/activations.def"
#undef ACT_FAST
#undef ACT
};
constexpr int kFastRow[] = {
#define ACT(name, np, fwd, bwd)
#define ACT_FAST(name, fwd) A_##name,
#include "../ops/activations.def"
#undef ACT_FAST
#undef ACT
};
IGNIS_VM_INLINE float tanh_fast_(float x) { return vm::fast::tanh(x); }
IGNIS_VM_INLINE float sigmoid_fast_(float x) { return vm::fast::sigmoid(x); }
IGNIS_VM_INLINE float mul_sigmoid_fast_(float x, float z) { return vm::fast::mul_sigmoid(x, z); }
IGNIS_VM_INLINE float gelu_fast_(float x) { return vm::fast::gelu(x); }
IGNIS_VM_INLINE float gelu_tanh_fast_(float x) { return vm::fast::gelu_tanh(x); }
IGNIS_VM_INLINE float mish_fast_(float x) { return vm::fast::mish(x); }
IGNIS_VM_INLINE float expm1_fast_(float x) { return vm::fast::expm1(x); }
IGNIS_VM_INLINE float softplus_fast_(float x) { return vm::fast::softplus(x); }

// The loop of fwd_t for T = float over the ACT_FAST formulas (same operand layout and ld_ reads).
void fast_fwd_f32(int fop, Iter& it, const double* params) {
  using T = float;
  const T P0 = T(params[0]), P1 = T(params[1]), P2 = T(params[2]);
  iter_for_each(it, 3, [&, P0c = P0, P1c = P1, P2c = P2](char** p, const int64_t* s, int64_t n) {
    const T P0 = P0c, P1 = P1c, P2 = P2c;
    (void)P0; (void)P1; (void)P2;
    const Bits<T> Z = Bits<T>(opaque_zero);
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const T* __restrict xs = reinterpret_cast<const T*>(p[1]);
    switch (fop) {
#define ACT(name, np, fwd, bwd)
#define ACT_FAST(name, fwd) \
  case AF_##name:           \
    IGNIS_ACT_FWD_LOOP(fwd)
#include "../ops/activations.def"
#undef ACT_FAST
#undef ACT
    }
  });
}

}  // namespace

void act_fwd(int op, Iter& it, const double* params) {
  if (op >= kActRows) {  // an ACT_FAST row
    if (it.op[1].dtype == DType::f32) return fast_fwd_f32(op - kActRows, it, params);
    op = kFastRow[op - kActRows];
  }
  IGNIS_DISPATCH_FLOAT(it.op[1].dtype, T, "activation", fwd_t<T>(op, it, params));
}

void act_bwd(int op, Iter& it, const double* params) {
  IGNIS_DISPATCH_FLOAT(it.op[1].dtype, T, "activation backward", bwd_t<T>(op, it, params));
}

}  // namespace IGNIS_ISA_NS
}  // namespace ignis
