// Batch normalization over x viewed as [N, C, S]: the CUDA twin of cpu/batchnorm.cpp's reference
// loops (PyTorch semantics: biased batch variance to normalize, unbiased for the running update,
// running statistics in eval mode; smean / svar hold the mean and biased variance for backward).
// Sums accumulate in double as on the CPU. Small problems: one block per channel, one kernel. Larger
// ones spread over the GPU: the per-channel sums are chansum.cuh sweeps (a C x K grid of slices,
// partial sums in order), a per-channel kernel turns them into the statistics and the coefficients,
// and an elementwise pass applies them (one block per channel kept a few dozen blocks busy on a GPU
// that holds thousands, each thread with one load in flight and a 64-bit division per element).
#include <cmath>

#include "chansum.cuh"
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

// Up to 64K elements (N * C * S), or none per channel, the one-kernel path: fewer launches, enough
// work per block.
bool one_kernel(const IgnisCudaBn& s) { return s.N * s.S == 0 || s.N * s.C * s.S <= (int64_t(1) << 16); }

// Per channel c, from the sweep's partial sums (K per channel, added in order): the batch mean
// (training: sums of x), or the biased variance and everything after it (training: sums of
// (x - mean)^2; eval: the running statistics), as bn_fwd's thread 0 does.
template <class T>
__global__ void bn_mean(const double* part, int64_t C, int64_t K, int64_t M, T* smean) {
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < C; c += int64_t(gridDim.x) * blockDim.x) {
    double t = 0;
    for (int64_t k = 0; k < K; ++k) t += part[c * K + k];
    smean[c] = T(t / double(M));
  }
}

template <class T>
__global__ void bn_stats(IgnisCudaBn s, const double* part, int64_t K, const T* w, const T* b, T* rm, T* rv, T* smean,
                         T* svar, T* scale, T* shift) {
  const int64_t M = s.N * s.S;
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < s.C; c += int64_t(gridDim.x) * blockDim.x) {
    T mean, var;
    if (s.training) {
      double t = 0;
      for (int64_t k = 0; k < K; ++k) t += part[c * K + k];
      mean = smean[c];
      var = T(t / double(M));
      const double m = s.momentum;
      if (rm) rm[c] = T((1 - m) * double(rm[c]) + m * double(mean));
      if (rv) rv[c] = T((1 - m) * double(rv[c]) + m * double(var) * double(M) / double(M - 1));
    } else {
      mean = rm[c];
      var = rv[c];
      smean[c] = mean;
    }
    svar[c] = var;
    const T invstd = T(1) / sqrt(var + T(s.eps));
    scale[c] = (w ? w[c] : T(1)) * invstd;
    shift[c] = (b ? b[c] : T(0)) - mean * scale[c];
  }
}

// The backward's per-channel coefficients from the sums of dy and of dy (x - mean), as bn_bwd.
template <class T>
__global__ void bn_bwd_coef(IgnisCudaBn s, const chansum::Sum2* part, int64_t K, const T* w, const T* svar, T* dw,
                            T* db, T* coef) {
  const int64_t M = s.N * s.S;
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < s.C; c += int64_t(gridDim.x) * blockDim.x) {
    double sdy = 0, sdyx = 0;
    for (int64_t k = 0; k < K; ++k) {
      sdy += part[c * K + k].a;
      sdyx += part[c * K + k].b;
    }
    const T invstd = T(1) / sqrt(svar[c] + T(s.eps));
    if (dw) dw[c] = T(sdyx) * invstd;
    if (db) db[c] = T(sdy);
    coef[c] = (w ? w[c] : T(1)) * invstd;                                  // sc
    coef[s.C + c] = s.training ? T(sdy / double(M)) : T(0);               // k1
    coef[2 * s.C + c] = s.training ? T(sdyx / double(M)) * invstd * invstd : T(0);  // k2
  }
}

// out[k] = f(k, c) over the N * C * S elements, c the channel of flat index k (32-bit indices with
// fast_quot where they fit); grid-stride.
template <class I, class F>
__global__ void bn_apply(I total, I C, I S, FastDiv dS, FastDiv dC, F f) {
  const I stride = I(blockDim.x) * gridDim.x;
  for (I k = I(blockIdx.x) * blockDim.x + threadIdx.x; k < total; k += stride)
    f(int64_t(k), int64_t(channel_of(k, C, S, dS, dC)));
}

template <class F>
void bn_apply_launch(cudaStream_t st, int64_t total, int64_t C, int64_t S, F f) {
  const unsigned blocks = blocks_for(total, 256, 4);
  if (fits_fast_div(total + int64_t(blocks) * 256))
    bn_apply<uint32_t><<<blocks, 256, 0, st>>>(uint32_t(total), uint32_t(C), uint32_t(S), fast_div(uint32_t(S)),
                                               fast_div(uint32_t(C)), f);
  else
    bn_apply<int64_t><<<blocks, 256, 0, st>>>(total, C, S, FastDiv{1, 0}, FastDiv{1, 0}, f);
}

template <class T>
void bn_fwd_t(int dev, const IgnisCudaBn& s, const T* x, const T* w, const T* b, T* rm, T* rv, T* y, T* smean, T* svar) {
  cudaStream_t st = stream(dev);
  if (one_kernel(s)) {
    bn_fwd<T><<<grid(s.C), kThreads, 0, st>>>(s, x, w, b, rm, rv, y, smean, svar);
    prof::launch(grid(s.C), kThreads);
    return;
  }
  const int64_t M = s.N * s.S, total = s.C * M, K = chansum::slices(s.C, s.S, M);
  Scratch part(dev, s.training ? size_t(s.C * K) * sizeof(double) : 0);
  Scratch coef(dev, size_t(2 * s.C) * sizeof(T));
  double* pp = static_cast<double*>(part.p);
  T* scale = static_cast<T*>(coef.p);
  T* shift = scale + s.C;
  if (s.training) {
    chansum::sweep(st, s.C, s.S, M, pp, [=] __device__(int64_t i) { return x[i]; },
                   [] __device__(T v, int64_t, int64_t) { return double(v); });
    bn_mean<T><<<blocks_for(s.C, 256), 256, 0, st>>>(pp, s.C, K, M, smean);
    chansum::sweep(st, s.C, s.S, M, pp, [=] __device__(int64_t i) { return x[i]; },
                   [=] __device__(T v, int64_t, int64_t c) {
                     const T d = v - smean[c];
                     return double(d * d);
                   });
  }
  bn_stats<T><<<blocks_for(s.C, 256), 256, 0, st>>>(s, pp, K, w, b, rm, rv, smean, svar, scale, shift);
  bn_apply_launch(st, total, s.C, s.S, [=] __device__(int64_t k, int64_t c) { y[k] = x[k] * scale[c] + shift[c]; });
  prof::launch(blocks_for(total, 256, 4), 256);  // noted last: the record shows the elementwise pass
}

template <class T>
void bn_bwd_t(int dev, const IgnisCudaBn& s, const T* x, const T* dy, const T* w, const T* smean, const T* svar, T* dx,
              T* dw, T* db) {
  cudaStream_t st = stream(dev);
  if (one_kernel(s)) {
    bn_bwd<T><<<grid(s.C), kThreads, 0, st>>>(s, x, dy, w, smean, svar, dx, dw, db);
    prof::launch(grid(s.C), kThreads);
    return;
  }
  const int64_t M = s.N * s.S, total = s.C * M, K = chansum::slices(s.C, s.S, M);
  Scratch part(dev, size_t(s.C * K) * sizeof(chansum::Sum2));
  Scratch coef(dev, size_t(3 * s.C) * sizeof(T));
  auto* pp = static_cast<chansum::Sum2*>(part.p);
  T* cf = static_cast<T*>(coef.p);
  const int64_t C = s.C;
  chansum::sweep(st, s.C, s.S, M, pp, [=] __device__(int64_t i) { return Pack<T, 2>{{x[i], dy[i]}}; },
                 [=] __device__(const Pack<T, 2>& v, int64_t, int64_t c) {
                   const T g = v.v[1];
                   return chansum::Sum2{double(g), double(g * (v.v[0] - smean[c]))};
                 });
  bn_bwd_coef<T><<<blocks_for(s.C, 256), 256, 0, st>>>(s, pp, K, w, svar, dw, db, cf);
  if (dx) {
    const bool training = s.training != 0;
    bn_apply_launch(st, total, s.C, s.S, [=] __device__(int64_t k, int64_t c) {
      const T sc = cf[c], k1 = cf[C + c], k2 = cf[2 * C + c];
      dx[k] = training ? (dy[k] - k1 - (x[k] - smean[c]) * k2) * sc : dy[k] * sc;
    });
  }
  prof::launch(blocks_for(total, 256, 4), 256);
}

}  // namespace

void bn_fwd_cuda(int dev, const IgnisCudaBn& s, const void* x, const void* w, const void* b, void* rm, void* rv, void* y,
                 void* smean, void* svar) {
  if (s.C <= 0) return;
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "batch_norm", {
    bn_fwd_t<T>(dev, s, static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(b), static_cast<T*>(rm),
                static_cast<T*>(rv), static_cast<T*>(y), static_cast<T*>(smean), static_cast<T*>(svar));
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "batch_norm");
}

void bn_bwd_cuda(int dev, const IgnisCudaBn& s, const void* x, const void* dy, const void* w, const void* smean,
                 const void* svar, void* dx, void* dw, void* db) {
  if (s.C <= 0) return;
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "batch_norm backward", {
    bn_bwd_t<T>(dev, s, static_cast<const T*>(x), static_cast<const T*>(dy), static_cast<const T*>(w),
                static_cast<const T*>(smean), static_cast<const T*>(svar), static_cast<T*>(dx), static_cast<T*>(dw),
                static_cast<T*>(db));
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "batch_norm backward");
}

}  // namespace ignis_cuda
