// Batch normalization over x viewed as [N, C, S]: the CUDA twin of cpu/batchnorm.cpp's reference
// loops (PyTorch semantics: biased batch variance to normalize, unbiased for the running update,
// running statistics in eval mode; smean / svar hold the mean and biased variance for backward).
// One block per channel; sums accumulate in double as on the CPU.
#include <cmath>

#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

constexpr int kThreads = 256;

// Sum over the block in double; every thread gets the total.
__device__ double block_sum(double v, double* sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w >>= 1) {
    if (int(threadIdx.x) < w) sh[threadIdx.x] += sh[threadIdx.x + w];
    __syncthreads();
  }
  double r = sh[0];
  __syncthreads();
  return r;
}

template <class T>
__global__ void bn_fwd(IgnisCudaBn s, const T* x, const T* w, const T* b, T* rm, T* rv, T* y, T* smean, T* svar) {
  __shared__ double sh[kThreads];
  const int64_t M = s.N * s.S, CS = s.C * s.S;
  for (int64_t c = blockIdx.x; c < s.C; c += gridDim.x) {
    T mean, var;
    if (s.training) {
      double acc = 0;
      for (int64_t i = threadIdx.x; i < M; i += kThreads) acc += double(x[(i / s.S) * CS + c * s.S + i % s.S]);
      mean = T(block_sum(acc, sh) / double(M));
      double acc2 = 0;
      for (int64_t i = threadIdx.x; i < M; i += kThreads) {
        T d = x[(i / s.S) * CS + c * s.S + i % s.S] - mean;
        acc2 += double(d * d);
      }
      var = T(block_sum(acc2, sh) / double(M));
    } else {
      mean = rm[c];
      var = rv[c];
    }
    if (threadIdx.x == 0) {
      smean[c] = mean;
      svar[c] = var;
      if (s.training) {
        const double m = s.momentum;
        if (rm) rm[c] = T((1 - m) * double(rm[c]) + m * double(mean));
        if (rv) rv[c] = T((1 - m) * double(rv[c]) + m * double(var) * double(M) / double(M - 1));
      }
    }
    const T invstd = T(1) / sqrt(var + T(s.eps));
    const T scale = (w ? w[c] : T(1)) * invstd;
    const T shift = (b ? b[c] : T(0)) - mean * scale;
    for (int64_t i = threadIdx.x; i < M; i += kThreads) {
      const int64_t k = (i / s.S) * CS + c * s.S + i % s.S;
      y[k] = x[k] * scale + shift;
    }
  }
}

template <class T>
__global__ void bn_bwd(IgnisCudaBn s, const T* x, const T* dy, const T* w, const T* smean, const T* svar, T* dx, T* dw,
                       T* db) {
  __shared__ double sh[kThreads];
  const int64_t M = s.N * s.S, CS = s.C * s.S;
  for (int64_t c = blockIdx.x; c < s.C; c += gridDim.x) {
    const T mean = smean[c];
    const T invstd = T(1) / sqrt(svar[c] + T(s.eps));
    double a = 0, bb = 0;
    for (int64_t i = threadIdx.x; i < M; i += kThreads) {
      const int64_t k = (i / s.S) * CS + c * s.S + i % s.S;
      a += double(dy[k]);
      bb += double(dy[k] * (x[k] - mean));
    }
    const double sdy = block_sum(a, sh), sdyx = block_sum(bb, sh);
    const T wc = w ? w[c] : T(1);
    if (threadIdx.x == 0) {
      if (dw) dw[c] = T(sdyx) * invstd;
      if (db) db[c] = T(sdy);
    }
    const T sc = wc * invstd;
    const T k1 = s.training ? T(sdy / double(M)) : T(0);
    const T k2 = s.training ? T(sdyx / double(M)) * invstd * invstd : T(0);
    for (int64_t i = threadIdx.x; i < M; i += kThreads) {
      const int64_t k = (i / s.S) * CS + c * s.S + i % s.S;
      dx[k] = s.training ? (dy[k] - k1 - (x[k] - mean) * k2) * sc : dy[k] * sc;
    }
  }
}

unsigned grid(int64_t C) { return unsigned(C < 65535 ? C : 65535); }

}  // namespace

void bn_fwd_cuda(int dev, const IgnisCudaBn& s, const void* x, const void* w, const void* b, void* rm, void* rv, void* y,
                 void* smean, void* svar) {
  if (s.C <= 0) return;
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "batch_norm", {
    bn_fwd<T><<<grid(s.C), kThreads, 0, stream(dev)>>>(s, static_cast<const T*>(x), static_cast<const T*>(w),
                                                       static_cast<const T*>(b), static_cast<T*>(rm), static_cast<T*>(rv),
                                                       static_cast<T*>(y), static_cast<T*>(smean), static_cast<T*>(svar));
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "batch_norm");
  prof::launch(grid(s.C), kThreads);
}

void bn_bwd_cuda(int dev, const IgnisCudaBn& s, const void* x, const void* dy, const void* w, const void* smean,
                 const void* svar, void* dx, void* dw, void* db) {
  if (s.C <= 0) return;
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "batch_norm backward", {
    bn_bwd<T><<<grid(s.C), kThreads, 0, stream(dev)>>>(s, static_cast<const T*>(x), static_cast<const T*>(dy),
                                                       static_cast<const T*>(w), static_cast<const T*>(smean),
                                                       static_cast<const T*>(svar), static_cast<T*>(dx), static_cast<T*>(dw),
                                                       static_cast<T*>(db));
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "batch_norm backward");
  prof::launch(grid(s.C), kThreads);
}

}  // namespace ignis_cuda
