// PReLU and GLU forward / backward: the CUDA twins of cpu/gated.cpp, the same formulas (so the same
// NaN / inf results: y = x * (x > 0 ? 1 : w[c]), the slope gradient sums x g where !(x > 0)).
//   prelu: grid-stride over the elements; the slope gradient takes a second kernel, one block per
//          channel summing its outer x inner elements in double (deterministic, no atomics).
//   glu:   grid-stride over the output elements [outer, M]; a = x[o, 0, m], b = x[o, 1, m].
#include <cmath>

#include "common.h"
#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

constexpr int kThreads = 256;

template <class T> __device__ __forceinline__ T sigmoid_(T v) { return T(1) / (T(1) + exp(-v)); }

template <class T>
__global__ void prelu_fwd_k(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y, int64_t n, int64_t C,
                            int64_t inner) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const T v = x[i];
    y[i] = v * (v > T(0) ? T(1) : w[(i / inner) % C]);
  }
}

template <class T>
__global__ void prelu_bwd_x_k(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ g, T* __restrict__ gx,
                              int64_t n, int64_t C, int64_t inner) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    gx[i] = g[i] * (x[i] > T(0) ? T(1) : w[(i / inner) % C]);
}

// block c: gw[c] = sum over o < outer, j < inner of (x > 0 ? 0 : x g) at [o, c, j]
template <class T>
__global__ void prelu_bwd_w_k(const T* __restrict__ x, const T* __restrict__ g, T* __restrict__ gw, int64_t outer, int64_t C,
                              int64_t inner) {
  __shared__ double sh[kThreads / 32];
  const int64_t c = blockIdx.x;
  const int64_t per = outer * inner;
  double acc = 0;
  for (int64_t k = threadIdx.x; k < per; k += blockDim.x) {
    const int64_t o = k / inner, j = k - o * inner;
    const int64_t i = (o * C + c) * inner + j;
    const T v = x[i];
    acc += v > T(0) ? 0.0 : double(v * g[i]);
  }
  for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, off);
  if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    double t = 0;
    for (int k = 0; k < kThreads / 32; ++k) t += sh[k];
    gw[c] = T(t);
  }
}

template <class T>
__global__ void glu_fwd_k(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t M) {
  const int64_t n = outer * M;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = i / M, m = i - o * M;
    const T* a = x + o * 2 * M + m;
    y[i] = a[0] * sigmoid_(a[M]);
  }
}

template <class T>
__global__ void glu_bwd_k(const T* __restrict__ x, const T* __restrict__ g, T* __restrict__ gx, int64_t outer, int64_t M) {
  const int64_t n = outer * M;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = i / M, m = i - o * M;
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
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "prelu", {
    prelu_fwd_k<T><<<blocks_for(n, kThreads, 4), kThreads, 0, st>>>(static_cast<const T*>(x), static_cast<const T*>(w),
                                                                    static_cast<T*>(y), n, s.C, s.inner);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "prelu");
}

void prelu_bwd_cuda(int dev, const IgnisCudaGated& s, const void* x, const void* w, const void* g, void* gx, void* gw) {
  const char* what = "prelu backward";
  const int64_t n = s.outer * s.C * s.inner;
  cudaStream_t st = stream(dev);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, what, {
    const T* xp = static_cast<const T*>(x);
    const T* gp = static_cast<const T*>(g);
    if (gx && n > 0)
      prelu_bwd_x_k<T><<<blocks_for(n, kThreads, 4), kThreads, 0, st>>>(xp, static_cast<const T*>(w), gp, static_cast<T*>(gx), n,
                                                                        s.C, s.inner);
    // every channel's block writes its sum (0 when the tensor is empty)
    if (gw) prelu_bwd_w_k<T><<<unsigned(s.C), kThreads, 0, st>>>(xp, gp, static_cast<T*>(gw), s.outer, s.C, s.inner);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), what);
}

void glu_fwd_cuda(int dev, const IgnisCudaGated& s, const void* x, void* y) {
  const int64_t n = s.outer * s.inner;
  if (n <= 0) return;
  cudaStream_t st = stream(dev);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "glu", {
    glu_fwd_k<T><<<blocks_for(n, kThreads, 4), kThreads, 0, st>>>(static_cast<const T*>(x), static_cast<T*>(y), s.outer, s.inner);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "glu");
}

void glu_bwd_cuda(int dev, const IgnisCudaGated& s, const void* x, const void* g, void* gx) {
  const int64_t n = s.outer * s.inner;
  if (n <= 0) return;
  cudaStream_t st = stream(dev);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "glu backward", {
    glu_bwd_k<T><<<blocks_for(n, kThreads, 4), kThreads, 0, st>>>(static_cast<const T*>(x), static_cast<const T*>(g),
                                                                  static_cast<T*>(gx), s.outer, s.inner);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "glu backward");
}

}  // namespace ignis_cuda
