// Activation kernels generated from ops/activations.def. Compiled once per ISA.
#include <cmath>

#include "kernels.h"
#include "math.h"

namespace ignis {
namespace IGNIS_ISA_NS {

namespace {

constexpr double SELU_ALPHA = 1.6732632423543772848170429916717;
constexpr double SELU_SCALE = 1.0507009873554804934193349852946;
constexpr double GELU_BETA = 0.7978845608028654;  // sqrt(2 / pi)

template <class T> inline T sigmoid_(T x) { return T(1) / (T(1) + std::exp(-x)); }

template <class T> inline T gelu_tanh_grad(T x) {
  const T kBeta = T(GELU_BETA), kKappa = T(0.044715);
  T x_sq = x * x;
  T inner = kBeta * (x + kKappa * x_sq * x);
  T t = std::tanh(inner);
  T left = T(0.5) * x, right = T(1) + t;
  return T(0.5) * right + left * (T(1) - t * t) * kBeta * (T(1) + T(3) * kKappa * x_sq);
}

template <class T> inline T mish_grad(T x) {
  T s = sigmoid_(x);
  T ts = std::tanh(std::log1p(std::exp(x)));
  return ts + x * s * (T(1) - ts * ts);
}

// PyTorch: max_deriv - sign * z / (1 + z) with z = exp(-|x|).
template <class T> inline T logsigmoid_grad(T x) {
  T z = std::exp(-std::abs(x));
  return x < T(0) ? T(1) - z / (T(1) + z) : z / (T(1) + z);
}

enum ActOp {
#define ACT(name, np, fwd, bwd) A_##name,
#include "../ops/activations.def"
#undef ACT
};

template <class T>
void fwd_t(int op, Iter& it, const double* params) {
  const T P0 = T(params[0]), P1 = T(params[1]), P2 = T(params[2]);
  (void)P0; (void)P1; (void)P2;
  iter_for_each(it, 8, [&](char** p, const int64_t* s, int64_t n) {
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const T* __restrict xs = reinterpret_cast<const T*>(p[1]);
    switch (op) {
#define ACT(name, np, fwd, bwd)                                                 \
  case A_##name:                                                                \
    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {                               \
      _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) { T x = xs[i]; o[i] = fwd; } \
    } else {                                                                    \
      for (int64_t i = 0; i < n; ++i) {                                         \
        T x = *reinterpret_cast<const T*>(p[1] + i * s[1]);                     \
        *reinterpret_cast<T*>(p[0] + i * s[0]) = fwd;                           \
      }                                                                         \
    }                                                                           \
    break;
#include "../ops/activations.def"
#undef ACT
    }
  });
}

template <class T>
void bwd_t(int op, Iter& it, const double* params) {
  const T P0 = T(params[0]), P1 = T(params[1]), P2 = T(params[2]);
  (void)P0; (void)P1; (void)P2;
  iter_for_each(it, 8, [&](char** p, const int64_t* s, int64_t n) {
    T* __restrict o = reinterpret_cast<T*>(p[0]);
    const T* __restrict xs = reinterpret_cast<const T*>(p[1]);
    const T* __restrict gs = reinterpret_cast<const T*>(p[2]);
    switch (op) {
#define ACT(name, np, fwd, bwd)                                                           \
  case A_##name:                                                                          \
    if (s[0] == sizeof(T) && s[1] == sizeof(T) && s[2] == sizeof(T)) {                    \
      _Pragma("omp simd") for (int64_t i = 0; i < n; ++i) { T x = xs[i]; T g = gs[i]; o[i] = bwd; } \
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

}  // namespace

void act_fwd(int op, Iter& it, const double* params) {
  IGNIS_DISPATCH_FLOAT(it.op[1].dtype, T, "activation", fwd_t<T>(op, it, params));
}

void act_bwd(int op, Iter& it, const double* params) {
  IGNIS_DISPATCH_FLOAT(it.op[1].dtype, T, "activation backward", bwd_t<T>(op, it, params));
}

}  // namespace IGNIS_ISA_NS
}  // namespace ignis
