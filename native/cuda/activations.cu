// Activation kernels generated from ops/activations.def (forward and backward, parameterised rows
// included) and the fused bias + activation epilogue used after cuDNN convolutions. The CPU twins
// are in cpu/activations.cpp; the elementary helpers below are the device versions of the ones it
// defines over vmath.h, and the compound ones (mish, gelu_tanh's derivative, ...) are shared with it
// through ops/activation_math.h.
#include <algorithm>
#include <cmath>

#include "../cpu/math.h"
#include "../ops/activation_consts.h"
#include "chansum.cuh"
#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
using namespace ignis;  // min_, max_ of cpu/math.h

namespace {

#define DI __device__ __forceinline__
template <class T> DI T exp_(T x) { return exp(x); }
template <class T> DI T expm1_(T x) { return expm1(x); }
template <class T> DI T log1p_(T x) { return log1p(x); }
template <class T> DI T tanh_(T x) { return tanh(x); }
template <class T> DI T erf_(T x) { return erf(x); }
// 1 / (1 + e^-x) overflows harmlessly to 0 for x << 0
template <class T> DI T sigmoid_(T x) { return T(1) / (T(1) + exp(-x)); }
// x / (1 + e^-x), one rounding, as vm::silu and PyTorch (x * sigmoid rounds twice)
template <class T> DI T silu_(T x) { return x / (T(1) + exp(-x)); }
template <class T> DI T sel_(bool c, T a, T b) { return c ? a : b; }
template <class T> DI T log1p_exp_neg_abs_(T z) { return log1p(exp(-fabs(z))); }
#define IGNIS_ACT_FN DI
#include "../ops/activation_math.h"
#undef IGNIS_ACT_FN
// float32 Phi(x) from erfc(|x| / sqrt 2) = t exp(-x^2 / 2 + P(t)), t = 1 / (1 + |x| / (2 sqrt 2)),
// P of degree 9 fitted to erfc in double (its exponent within 4.5e-8 for |x| / sqrt 2 in [0, 10]);
// Phi = erfc / 2 left of 0 (no cancellation in the left tail), 1 - erfc / 2 right of it. x^2 is
// taken with its rounding error (fmaf), so the tail keeps its relative accuracy: GELU within
// 7.8e-7 relative on [-5, 5] and 4.1e-6 down to -14, where erfcf(-x / sqrt 2) gave 1.5e-6 and
// 1.1e-5 (x / sqrt 2 rounds), at about half of erfcf's instructions: GELU's forward was
// compute-bound at 64M elements on an H200 (0.87x PyTorch's GB/s).
DI float normal_cdf_f32(float x) {
  const float ax = fabsf(x) < 16.0f ? fabsf(x) : 16.0f;  // erfc(16 / sqrt 2) is 0 in float32
  // the approximate division (an ulp off) moves the result by under 1e-7 relative
  const float t = __fdividef(1.0f, fmaf(0.35355339059327373f, ax, 1.0f));
  float p = 1.421982752e-01f;
  p = fmaf(p, t, -6.660849572e-01f);
  p = fmaf(p, t, 1.122452201e+00f);
  p = fmaf(p, t, -6.513161359e-01f);
  p = fmaf(p, t, -1.167321836e-01f);
  p = fmaf(p, t, 2.016705623e-02f);
  p = fmaf(p, t, 2.836673235e-02f);
  p = fmaf(p, t, 3.878977692e-01f);
  p = fmaf(p, t, 9.984927366e-01f);
  p = fmaf(p, t, -1.265441448e+00f);
  const float sq = ax * ax;
  const float lo = fmaf(ax, ax, -sq);  // the square's rounding error, exactly
  const float half = 0.5f * t * expf((p - 0.5f * lo) - 0.5f * sq);  // erfc(|x| / sqrt 2) / 2
  return x < 0.0f ? half : 1.0f - half;
}
// float64: PyTorch's (1 + erf(x / sqrt 2)) / 2, as the CPU (cpu/activations.cpp: gelu_, gelu_grad)
template <class T> DI T normal_cdf_(T x) {
  if constexpr (std::is_same_v<T, double>) return T(0.5) * (T(1) + erf(x * T(M_SQRT1_2)));
  else return normal_cdf_f32(x);
}
template <class T> DI T gelu_(T x) { return x * normal_cdf_(x); }
template <class T> DI T gelu_grad(T x) {
  T phi = exp(T(-0.5) * x * x) * T(0.5 * M_2_SQRTPI * M_SQRT1_2);
  return normal_cdf_(x) + x * phi;
}
enum ActOp {
#define ACT(name, np, fwd, bwd) A_##name,
#include "../ops/activations.def"
#undef ACT
  kActs
};

template <class T>
void fwd_t(int dev, int op, const IgnisCudaIter& it, const double* params) {
  const T P0 = T(params[0]), P1 = T(params[1]), P2 = T(params[2]);
  switch (op) {
#define ACT(name, np, fwd, bwd)                                                                             \
  case A_##name:                                                                                            \
    launch_ew<T, T, 1>(dev, it, [P0, P1, P2] __device__(T x) -> T { (void)P0; (void)P1; (void)P2; return fwd; }, #name); \
    break;
#include "../ops/activations.def"
#undef ACT
    default: fail("ValueError", "activation: unknown op code");
  }
}

template <class T>
void bwd_t(int dev, int op, const IgnisCudaIter& it, const double* params) {
  const T P0 = T(params[0]), P1 = T(params[1]), P2 = T(params[2]);
  switch (op) {
#define ACT(name, np, fwd, bwd)                                                                                   \
  case A_##name:                                                                                                  \
    launch_ew<T, T, 2>(dev, it, [P0, P1, P2] __device__(T x, T g) -> T { (void)P0; (void)P1; (void)P2; return bwd; }, \
                       #name " backward");                                                                        \
    break;
#include "../ops/activations.def"
#undef ACT
    default: fail("ValueError", "activation backward: unknown op code");
  }
}

// y[(n c) s] = act(y + b[c]) in place, or with `out`: y = y + b[c] and out = act(y + b[c]) (the
// training forward keeps the pre-activation); grid-stride; c from the flat index. I is the index
// type: uint32_t where every index stays below 2^31 (then c comes from two fast_quot, fastdiv.cuh),
// else int64_t. With `vec` (uint32_t only: S a multiple of the pack and y, out 16-byte aligned) each
// thread moves 16-byte packs whose elements share one channel, as the activation kernels do (ew.cuh);
// with `rows` (S == 1, C a multiple of the pack, b 16-byte aligned: a linear layer's [M, out] output)
// a pack's elements are consecutive channels and the bias is read as a pack too.
template <class I, class T, class F>
__global__ void bias_act_kernel(T* y, const T* b, T* out, I total, I C, I S, FastDiv dS, FastDiv dC, bool vec, bool rows,
                                F f) {
  const I stride = I(blockDim.x) * gridDim.x;
  if constexpr (std::is_same_v<I, uint32_t>) {
    auto channel = [&](uint32_t i) { return channel_of(i, C, S, dS, dC); };
    if (vec) {
      constexpr int V = 16 / sizeof(T);
      using P = Pack<T, V>;
      auto work = [&](uint32_t p, P v) {
        if (b && rows) {
          const P bp = reinterpret_cast<const P*>(b)[channel(p * V) / V];
#pragma unroll
          for (int j = 0; j < V; ++j) v.v[j] += bp.v[j];
        } else if (b) {
          const T bc = b[channel(p * V)];
#pragma unroll
          for (int j = 0; j < V; ++j) v.v[j] += bc;
        }
        P r;
#pragma unroll
        for (int j = 0; j < V; ++j) r.v[j] = f(v.v[j]);
        if (out) {
          if (b) reinterpret_cast<P*>(y)[p] = v;
          reinterpret_cast<P*>(out)[p] = r;
        } else {
          reinterpret_cast<P*>(y)[p] = r;
        }
      };
      // tiles of kEwUnroll packs per thread, loaded before any is worked on (ew.cuh's vec mode)
      const uint32_t np = total / V, tile = blockDim.x * kEwUnroll;
      for (uint32_t base = blockIdx.x * tile; base < np; base += gridDim.x * tile) {
        const uint32_t p0 = base + threadIdx.x;
        if (base + tile <= np) {
          P v[kEwUnroll];
#pragma unroll
          for (int u = 0; u < kEwUnroll; ++u) v[u] = reinterpret_cast<const P*>(y)[p0 + u * blockDim.x];
#pragma unroll
          for (int u = 0; u < kEwUnroll; ++u) work(p0 + u * blockDim.x, v[u]);
        } else {
          for (uint32_t p = p0; p < np; p += blockDim.x) work(p, reinterpret_cast<const P*>(y)[p]);
        }
      }
      return;
    }
    for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
      T v = y[i];
      if (b) v += b[channel(i)];
      if (out) {
        if (b) y[i] = v;
        out[i] = f(v);
      } else {
        y[i] = f(v);
      }
    }
  } else {
    for (I i = I(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
      T v = y[i];
      if (b) v += b[channel_of(i, C, S, dS, dC)];
      if (out) {
        if (b) y[i] = v;
        out[i] = f(v);
      } else {
        y[i] = f(v);
      }
    }
  }
}

// Launches bias_act_kernel with the narrowest index type that holds N * C * S (+ one grid stride),
// packed where the layout allows.
template <class T, class F>
void bias_act_launch(cudaStream_t st, T* y, const T* b, T* out, int64_t total, int64_t C, int64_t S, F f) {
  constexpr int64_t V = 16 / sizeof(T);
  const bool aligned = (reinterpret_cast<uintptr_t>(y) & 15) == 0 && (reinterpret_cast<uintptr_t>(out) & 15) == 0;
  const bool rows = S == 1 && C % V == 0 && (reinterpret_cast<uintptr_t>(b) & 15) == 0;
  const bool vec = aligned && (S % V == 0 || rows);
  const unsigned blocks = blocks_for(total, 256, vec ? kEwUnroll * V : 4);
  if (fits_fast_div(total + int64_t(blocks) * 256))
    bias_act_kernel<uint32_t><<<blocks, 256, 0, st>>>(y, b, out, uint32_t(total), uint32_t(C), uint32_t(S),
                                                      fast_div(uint32_t(S)), fast_div(uint32_t(C)), vec, vec && rows, f);
  else
    bias_act_kernel<int64_t><<<blocks, 256, 0, st>>>(y, b, out, total, C, S, FastDiv{1, 0}, FastDiv{1, 0}, false, false, f);
  prof::launch(blocks, 256);
}

template <class T>
void bias_act_t(int dev, T* y, const T* b, T* out, int64_t N, int64_t C, int64_t S, int op, const double* params) {
  const int64_t total = N * C * S;
  if (total == 0) return;
  const T P0 = T(params[0]), P1 = T(params[1]), P2 = T(params[2]);
  cudaStream_t st = stream(dev);
  if (op < 0) {
    bias_act_launch(st, y, b, out, total, C, S, [] __device__(T x) -> T { return x; });
  } else {
    switch (op) {
#define ACT(name, np, fwd, bwd)                                                                   \
  case A_##name:                                                                                  \
    bias_act_launch(st, y, b, out, total, C, S, [P0, P1, P2] __device__(T x) -> T {               \
      (void)P0; (void)P1; (void)P2; return fwd; });                                               \
    break;
#include "../ops/activations.def"
#undef ACT
      default: fail("ValueError", "bias + activation: unknown activation code");
    }
  }
  IGNIS_CUDA_CHECK(cudaGetLastError(), "bias + activation");
}

// The backward of bias + activation: dz = f(z, dy) over [N, C, S] and the bias gradient's per-channel
// sums of dz in the same sweep (chansum.cuh).
template <class T>
void bias_act_bwd_t(int dev, const T* z, const T* dy, T* dz, T* db, int64_t N, int64_t C, int64_t S, int op,
                    const double* params) {
  const int64_t per_channel = N * S;
  if (C <= 0) return;
  if (per_channel == 0) {
    if (db) IGNIS_CUDA_CHECK(cudaMemsetAsync(db, 0, size_t(C) * sizeof(T), stream(dev)), "bias + activation backward");
    return;
  }
  const T P0 = T(params[0]), P1 = T(params[1]), P2 = T(params[2]);
  const int64_t K = chansum::slices(C, S, per_channel);
  Scratch part(dev, db ? size_t(C * K) * sizeof(double) : 0);
  double* pp = static_cast<double*>(part.p);
  cudaStream_t st = stream(dev);
  dim3 grid;
  switch (op) {
#define ACT(name, np, fwd, bwd)                                                                  \
  case A_##name:                                                                                 \
    grid = chansum::sweep(                                                                       \
        st, C, S, per_channel, pp, [=] __device__(int64_t i) { return Pack<T, 2>{{z[i], dy[i]}}; }, \
        [=] __device__(const Pack<T, 2>& v, int64_t i, int64_t) -> double {                     \
          (void)P0; (void)P1; (void)P2;                                                          \
          const T x = v.v[0], g = v.v[1];                                                        \
          const T d = bwd;                                                                       \
          dz[i] = d;                                                                             \
          return double(d);                                                                      \
        });                                                                                      \
    break;
#include "../ops/activations.def"
#undef ACT
    default: fail("ValueError", "bias + activation backward: unknown activation code");
  }
  IGNIS_CUDA_CHECK(cudaGetLastError(), "bias + activation backward");
  prof::launch(grid, dim3(chansum::kThreads));
  if (db) {
    chansum::finish<T><<<blocks_for(C, 256), 256, 0, st>>>(pp, db, C, K);
    IGNIS_CUDA_CHECK(cudaGetLastError(), "bias + activation backward");
  }
}

}  // namespace

const int kActCount = kActs;

void act_fwd_cuda(int dev, int op, const IgnisCudaIter& it, const double* params) {
  IGNIS_CUDA_DISPATCH_FLOAT(it.op[1].dtype, T, "activation", fwd_t<T>(dev, op, it, params));
}

void act_bwd_cuda(int dev, int op, const IgnisCudaIter& it, const double* params) {
  IGNIS_CUDA_DISPATCH_FLOAT(it.op[1].dtype, T, "activation backward", bwd_t<T>(dev, op, it, params));
}

void bias_act_cuda(int dev, int dtype, void* y, const void* b, int64_t N, int64_t C, int64_t S, int op,
                   const double* params, void* out) {
  IGNIS_CUDA_DISPATCH_FLOAT(dtype, T, "bias + activation",
                            bias_act_t<T>(dev, static_cast<T*>(y), static_cast<const T*>(b), static_cast<T*>(out), N, C,
                                          S, op, params));
}

void bias_act_bwd_cuda(int dev, int dtype, const void* z, const void* dy, void* dz, void* db, int64_t N, int64_t C,
                       int64_t S, int op, const double* params) {
  IGNIS_CUDA_DISPATCH_FLOAT(dtype, T, "bias + activation backward",
                            bias_act_bwd_t<T>(dev, static_cast<const T*>(z), static_cast<const T*>(dy), static_cast<T*>(dz),
                                              static_cast<T*>(db), N, C, S, op, params));
}

}  // namespace ignis_cuda
