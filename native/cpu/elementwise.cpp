// Elementwise kernels (unary, binary, where, copy) for every dtype. Compiled once per ISA.
// Contiguous inner runs get a plain counted loop the compiler vectorises; broadcast (stride 0)
// operands keep a scalar in a register. Everything else walks strides.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "kernels.h"
#include "math.h"
#include "stream.h"
#include "vmath.h"

namespace ignis {
namespace IGNIS_ISA_NS {

namespace {

// the per-element lambdas must inline into map1's `omp simd` loop: a call per element is neither
// vectorised nor cheap (exp ran at 10 ns/element when GCC kept vm::exp's lambda out of line)
#define IGNIS_ALWAYS_INLINE __attribute__((always_inline))

// the transcendental helpers of ops/unary.def: vectorisable (GCC does not vectorise libm calls)
using namespace vm::defs;

enum UnaryOp {
#define UNARY(name, int_ok, expr) U_##name,
#include "../ops/unary.def"
#undef UNARY
};

enum BinaryOp {
#define BINARY(name, expr) B_##name,
#define COMPARE(name, expr) B_##name,
#include "../ops/binary.def"
#undef BINARY
#undef COMPARE
};

template <class O, class T, class F>
inline void map1(Iter& it, int64_t cost, F f) {
  iter_for_each(it, cost, [&](char** p, const int64_t* s, int64_t n) {
    if (s[0] == sizeof(O) && s[1] == sizeof(T)) {
      O* __restrict o = reinterpret_cast<O*>(p[0]);
      const T* __restrict a = reinterpret_cast<const T*>(p[1]);
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<O*>(p[0] + i * s[0]) = f(*reinterpret_cast<const T*>(p[1] + i * s[1]));
    }
  });
}

template <class O, class T, class F>
inline void map2(Iter& it, int64_t cost, F f) {
  // float results of stream::kStreamBytes and more: streaming stores (stream.h) on the all-contiguous path
  const bool big = std::is_floating_point_v<O> && it.numel() * int64_t(sizeof(O)) >= stream::kStreamBytes;
  iter_for_each(it, cost, [&](char** p, const int64_t* s, int64_t n) {
    O* __restrict o = reinterpret_cast<O*>(p[0]);
    const T* __restrict a = reinterpret_cast<const T*>(p[1]);
    const T* __restrict b = reinterpret_cast<const T*>(p[2]);
    if (s[0] == sizeof(O) && s[1] == sizeof(T) && s[2] == sizeof(T)) {
      // not in place (a.add_(b)): there the output line was just read, so a streaming store saves
      // no read-for-ownership and only evicts the line, which another pass may find in L3
      if (big && static_cast<const void*>(o) != a && static_cast<const void*>(o) != b) {
        stream::out(o, n, [&](int64_t i) IGNIS_ALWAYS_INLINE { return f(a[i], b[i]); });
        return;
      }
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
    } else if (s[0] == sizeof(O) && s[1] == sizeof(T) && s[2] == 0) {
      const T bv = *b;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
    } else if (s[0] == sizeof(O) && s[1] == 0 && s[2] == sizeof(T)) {
      const T av = *a;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<O*>(p[0] + i * s[0]) =
            f(*reinterpret_cast<const T*>(p[1] + i * s[1]), *reinterpret_cast<const T*>(p[2] + i * s[2]));
    }
  });
}

// Per-element cost relative to a copy, for the thread split (parallel.h, kElementwiseGrain).
constexpr int64_t unary_cost(int op) {
  switch (op) {
    case U_neg: case U_abs: case U_sign: case U_floor: case U_ceil: case U_round: case U_reciprocal:
    case U_square: case U_clamp: case U_logical_not:
      return 1;
    case U_sqrt: case U_rsqrt:
      return 2;
    case U_sin: case U_cos:  // libm, scalar: ~27 copies an element
      return 24;
    default:  // exp, log, tanh, erf, sigmoid (vectorised, 2-5 copies an element): two threads won from ~40K elements
      return 3;
  }
}

template <class T>
void unary_t(int op, Iter& it, double p0, double p1) {
  (void)p0; (void)p1;
  switch (op) {
#define UNARY(name, int_ok, expr)                                                      \
  case U_##name:                                                                       \
    if constexpr (int_ok || std::is_floating_point_v<T>) {                             \
      map1<T, T>(it, std::is_floating_point_v<T> ? unary_cost(U_##name) : 1, [=](T x) IGNIS_ALWAYS_INLINE -> T { return expr; }); \
      return;                                                                          \
    }                                                                                  \
    break;
#include "../ops/unary.def"
#undef UNARY
  }
  throw Error("DTypeError", std::string("unary op not supported for dtype ") + dtype_name(it.op[1].dtype));
}

void unary(int op, Iter& it, double p0, double p1) {
  switch (it.op[1].dtype) {
    case DType::f32: return unary_t<float>(op, it, p0, p1);
    case DType::f64: return unary_t<double>(op, it, p0, p1);
    case DType::i32: return unary_t<int32_t>(op, it, p0, p1);
    case DType::i64: return unary_t<int64_t>(op, it, p0, p1);
    case DType::b8:
      if (op == U_logical_not) return map1<uint8_t, uint8_t>(it, 1, [](uint8_t x) -> uint8_t { return x == 0; });
      if (op == U_abs || op == U_clamp) return map1<uint8_t, uint8_t>(it, 1, [](uint8_t x) -> uint8_t { return x; });
      break;
  }
  throw Error("DTypeError", std::string("unary op not supported for dtype ") + dtype_name(it.op[1].dtype));
}

// x ** e for a float tensor and one scalar exponent, as PyTorch's pow_tensor_scalar: the common
// exponents become multiplications, sqrt or a reciprocal (one vectorised pass; std::pow per element
// ran at ~9 ns), any other e goes through std::pow. Returns false when b is not one scalar.
template <class T>
bool pow_scalar(Iter& it) {
  bool scalar = true;
  for (int d = 0; d < it.ndim; ++d)
    if (it.op[2].strides[d] != 0 && it.shape[d] != 1) scalar = false;
  if (!scalar) return false;
  const T e = *reinterpret_cast<const T*>(it.op[2].data);
  // the exponents below with a closed form stream like a copy; std::pow costs ~20 copies an element
  const bool closed = e == T(2) || e == T(3) || e == T(1) || e == T(0.5) || e == T(-0.5) || e == T(-1) || e == T(-2);
  iter_for_each(it, closed ? 1 : 16, [&](char** p, const int64_t* s, int64_t n) {
    T* o = reinterpret_cast<T*>(p[0]);
    const T* a = reinterpret_cast<const T*>(p[1]);
    auto run = [&](auto f) IGNIS_ALWAYS_INLINE {
      if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
      } else {
        for (int64_t i = 0; i < n; ++i)
          *reinterpret_cast<T*>(p[0] + i * s[0]) = f(*reinterpret_cast<const T*>(p[1] + i * s[1]));
      }
    };
    if (e == T(2)) run([](T x) IGNIS_ALWAYS_INLINE { return x * x; });
    else if (e == T(3)) run([](T x) IGNIS_ALWAYS_INLINE { return x * x * x; });
    else if (e == T(1)) run([](T x) IGNIS_ALWAYS_INLINE { return x; });
    else if (e == T(0.5)) run([](T x) IGNIS_ALWAYS_INLINE { return std::sqrt(x); });
    else if (e == T(-0.5)) run([](T x) IGNIS_ALWAYS_INLINE { return T(1) / std::sqrt(x); });
    else if (e == T(-1)) run([](T x) IGNIS_ALWAYS_INLINE { return T(1) / x; });
    else if (e == T(-2)) run([](T x) IGNIS_ALWAYS_INLINE { return T(1) / (x * x); });
    else run([e](T x) { return std::pow(x, e); });
  });
  return true;
}

// Per-element cost relative to a copy (parallel.h, kElementwiseGrain), from single-thread timings
// on the dev VM: float pow through std::pow ~22 copies an element, fmod ~80; the rest ~1.
constexpr int64_t binary_cost(int op, bool floating) {
  return !floating ? 1 : op == B_pow ? 16 : op == B_fmod ? 64 : 1;
}

template <class T>
void binary_t(int op, Iter& it) {
  // bool arithmetic follows PyTorch: add = or, mul = and (results normalised to 0/1).
  constexpr bool is_bool = std::is_same_v<T, uint8_t>;
  if constexpr (std::is_floating_point_v<T>)
    if (op == B_pow && pow_scalar<T>(it)) return;
  switch (op) {
#define BINARY(name, expr)                                                                   \
  case B_##name:                                                                             \
    map2<T, T>(it, binary_cost(B_##name, std::is_floating_point_v<T>), [](T a, T b) -> T {  \
      if constexpr (is_bool) return T((expr) != 0);                                          \
      else return expr;                                                                      \
    });                                                                                      \
    return;
#define COMPARE(name, expr) \
  case B_##name:            \
    map2<uint8_t, T>(it, 1, [](T a, T b) -> uint8_t { return (expr) ? 1 : 0; }); \
    return;
#include "../ops/binary.def"
#undef BINARY
#undef COMPARE
  }
  throw Error("ValueError", "unknown binary op");
}

void binary(int op, Iter& it) {
  IGNIS_DISPATCH_ALL(it.op[1].dtype, T, binary_t<T>(op, it));
}

void where(Iter& it) {
  IGNIS_DISPATCH_ALL(it.op[0].dtype, T, {
    iter_for_each(it, 1, [&](char** p, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        bool c = *reinterpret_cast<const uint8_t*>(p[1] + i * s[1]) != 0;
        *reinterpret_cast<T*>(p[0] + i * s[0]) = *reinterpret_cast<const T*>((c ? p[2] + i * s[2] : p[3] + i * s[3]));
      }
    });
  });
}

template <class O, class T>
inline O convert(T v) {
  if constexpr (std::is_same_v<O, uint8_t>) return v != T(0);
  else if constexpr (std::is_integral_v<O> && std::is_floating_point_v<T>) {
    // float -> int of NaN/inf/out-of-range is UB in C++; saturate like a checked cast would.
    if (!(v == v)) return O(0);
    if (v >= T(std::numeric_limits<O>::max())) return std::numeric_limits<O>::max();
    if (v <= T(std::numeric_limits<O>::min())) return std::numeric_limits<O>::min();
    return O(v);
  } else return O(v);
}

template <class O>
void copy_to(Iter& it) {
  IGNIS_DISPATCH_ALL(it.op[1].dtype, T, map1<O, T>(it, 1, [](T v) -> O { return convert<O, T>(v); }));
}

void copy(Iter& it) {
  IGNIS_DISPATCH_ALL(it.op[0].dtype, O, copy_to<O>(it));
}

}  // namespace

void reduce(int op, ReduceArgs& r);
void act_fwd(int op, Iter& it, const double* params);
void act_bwd(int op, Iter& it, const double* params);
void expr(const ExprProgram& p, Iter& it);

const CpuKernels* kernels() {
  static const CpuKernels k = {IGNIS_ISA_NAME, unary, binary, where, copy, reduce, act_fwd, act_bwd, expr};
  return &k;
}

}  // namespace IGNIS_ISA_NS
}  // namespace ignis
