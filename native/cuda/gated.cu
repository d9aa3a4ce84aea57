// PReLU and GLU forward / backward: the CUDA twins of cpu/gated.cpp, the same formulas (so the same
// NaN / inf results: y = x * (x > 0 ? 1 : w[c]), the slope gradient sums x g where !(x > 0)).
//   prelu: grid-stride over the elements forward; backward is one sweep of a channel x slice grid
//          that writes gx and the slope gradient's partial sums (double), then chansum::finish adds
//          them per channel (deterministic, no atomics; a single slope still uses the whole GPU).
//   glu:   grid-stride over the output elements [outer, M]; a = x[o, 0, m], b = x[o, 1, m].
#include <cmath>

#include "chansum.cuh"
#include "common.h"
#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

constexpr int kThreads = chansum::kThreads;

template <class T> __device__ __forceinline__ T sigmoid_(T v) { return T(1) / (T(1) + exp(-v)); }

// I: the index type, uint32_t where every index stays below 2^31 (divisions by fast_quot,
// fastdiv.cuh), else int64_t.
template <class I, class T>
__global__ void prelu_fwd_k(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y, I n, I C, I inner,
                            FastDiv dI, FastDiv dC) {
  for (I i = I(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += I(gridDim.x) * blockDim.x) {
    const T v = x[i];
    y[i] = v * (v > T(0) ? T(1) : w[channel_of(i, C, inner, dI, dC)]);
  }
}

// the row o and column m of flat output index i (rows of M)
__device__ __forceinline__ void glu_split(int64_t i, int64_t M, FastDiv dM, bool fast, int64_t& o, int64_t& m) {
  o = fast ? int64_t(fast_quot(uint32_t(i), dM)) : i / M;
  m = i - o * M;
}

template <class T>
__global__ void glu_fwd_k(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t M, FastDiv dM, bool fast) {
  const int64_t n = outer * M;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t o, m;
    glu_split(i, M, dM, fast, o, m);
    const T* a = x + o * 2 * M + m;
    y[i] = a[0] * sigmoid_(a[M]);
  }
}

template <class T>
__global__ void glu_bwd_k(const T* __restrict__ x, const T* __restrict__ g, T* __restrict__ gx, int64_t outer, int64_t M,
                          FastDiv dM, bool fast) {
  const int64_t n = outer * M;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t o, m;
    glu_split(i, M, dM, fast, o, m);
    const int64_t ia = o * 2 * M + m;
    const T a = x[ia], s = sigmoid_(x[ia + M]), gv = g[i];
    gx[ia] = s * gv;
    gx[ia + M] = (T(1) - s) * s * gv * a;
  }
}

}  // namespace

void prelu_fwd_cuda(int dev, const IgnisCudaGated& s, const void* x, const void* w, void* y) {
  const int64_t n = s.outer * s.C * s.inner;
  if (n <= 0) return;
  cudaStream_t st = stream(dev);
  const unsigned blocks = blocks_for(n, kThreads, 4);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "prelu", {
    const T* xp = static_cast<const T*>(x);
    const T* wp = static_cast<const T*>(w);
    T* yp = static_cast<T*>(y);
    if (fits_fast_div(n + int64_t(blocks) * kThreads))
      prelu_fwd_k<uint32_t, T><<<blocks, kThreads, 0, st>>>(xp, wp, yp, uint32_t(n), uint32_t(s.C), uint32_t(s.inner),
                                                            fast_div(uint32_t(s.inner)), fast_div(uint32_t(s.C)));
    else
      prelu_fwd_k<int64_t, T><<<blocks, kThreads, 0, st>>>(xp, wp, yp, n, s.C, s.inner, FastDiv{1, 0}, FastDiv{1, 0});
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "prelu");
}

void prelu_bwd_cuda(int dev, const IgnisCudaGated& s, const void* x, const void* w, const void* g, void* gx, void* gw) {
  const char* what = "prelu backward";
  const int64_t per_channel = s.outer * s.inner;
  if (s.C <= 0 || (!gx && !gw)) return;
  cudaStream_t st = stream(dev);
  if (per_channel == 0) {  // empty input: the slope gradient is 0
    if (gw) IGNIS_CUDA_CHECK(cudaMemsetAsync(gw, 0, size_t(s.C) * dtype_size(s.dtype), st), what);
    return;
  }
  const int64_t K = chansum::slices(s.C, s.inner, per_channel);
  Scratch part(dev, gw ? size_t(s.C * K) * sizeof(double) : 0);
  double* pp = static_cast<double*>(part.p);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, what, {
    const T* xp = static_cast<const T*>(x);
    const T* wp = static_cast<const T*>(w);
    const T* gp = static_cast<const T*>(g);
    T* gxp = static_cast<T*>(gx);
    // one sweep: gx = g * (x > 0 ? 1 : w[c]) where wanted, and the slope gradient's sums of
    // (x > 0 ? 0 : x g) per channel
    chansum::sweep(
        st, s.C, s.inner, per_channel, pp, [=] __device__(int64_t i) { return Pack<T, 2>{{xp[i], gp[i]}}; },
        [=] __device__(const Pack<T, 2>& p, int64_t i, int64_t c) -> double {
          const T v = p.v[0], gv = p.v[1];
          if (gxp) gxp[i] = gv * (v > T(0) ? T(1) : wp[c]);
          return v > T(0) ? 0.0 : double(v * gv);
        });
    IGNIS_CUDA_CHECK(cudaGetLastError(), what);
    if (gw) chansum::finish<T><<<blocks_for(s.C, 256), 256, 0, st>>>(pp, static_cast<T*>(gw), s.C, K);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), what);
}

void glu_fwd_cuda(int dev, const IgnisCudaGated& s, const void* x, void* y) {
  const int64_t n = s.outer * s.inner;
  if (n <= 0) return;
  cudaStream_t st = stream(dev);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "glu", {
    glu_fwd_k<T><<<blocks_for(n, kThreads, 4), kThreads, 0, st>>>(static_cast<const T*>(x), static_cast<T*>(y), s.outer, s.inner,
                                                                  fast_div(uint32_t(fits_fast_div(n) ? s.inner : 1)),
                                                                  fits_fast_div(n));
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "glu");
}

void glu_bwd_cuda(int dev, const IgnisCudaGated& s, const void* x, const void* g, void* gx) {
  const int64_t n = s.outer * s.inner;
  if (n <= 0) return;
  cudaStream_t st = stream(dev);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "glu backward", {
    glu_bwd_k<T><<<blocks_for(n, kThreads, 4), kThreads, 0, st>>>(static_cast<const T*>(x), static_cast<const T*>(g),
                                                                  static_cast<T*>(gx), s.outer, s.inner,
                                                                  fast_div(uint32_t(fits_fast_div(n) ? s.inner : 1)),
                                                                  fits_fast_div(n));
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "glu backward");
}

}  // namespace ignis_cuda
