// softmax / logSoftmax / softmin along one dim, forward and backward: the CUDA twin of
// cpu/softmax.cpp, with the same per-element math (ops/softmax_math.h) and so the same NaN / inf
// semantics (PyTorch's). Operands are contiguous, viewed as [outer, D, inner]; neg (softmin) reads
// -x through smx_in_ and negates the gradient, as on the CPU.
//   inner == 1 (last dim): a warp per row for D <= 1024 (8 rows per 256-thread block), a block per
//     row beyond; three passes over the row (max, sum of exp, write), warp-shuffle reductions.
//   inner > 1: a thread per (outer, column), looping over D: neighbouring threads read neighbouring
//     columns, so every pass is coalesced. With few columns and a long D (a leading dim, e.g. dim 0
//     of [50000, 4]) that would leave the GPU nearly idle on a few serial loops: a block per column,
//     its threads splitting D, block reductions as the block-per-row path.
#include <cmath>

#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

#define DI __device__ __forceinline__
template <class T> DI T exp_(T x) { return exp(x); }
template <class T> DI T sel_(bool c, T a, T b) { return c ? a : b; }
#define IGNIS_SMX_FN DI
#include "../ops/softmax_math.h"
#undef IGNIS_SMX_FN

constexpr int kThreads = 256;

struct MaxOp {
  template <class T> DI T operator()(T a, T b) const { return smx_max_(a, b); }
};
struct AddOp {
  template <class T> DI T operator()(T a, T b) const { return a + b; }
};

// Reduces v over the TPR threads of one row (TPR = 32: a warp; TPR = kThreads: the block); every
// thread of the row gets the result. All threads of the group must call it (uniform control flow).
template <int TPR, class T, class Op>
DI T row_reduce(T v, Op op, T* sh) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  if constexpr (TPR > 32) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();  // the previous reduction's readers are done with sh
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    v = sh[0];
    for (int w = 1; w < TPR / 32; ++w) v = op(v, sh[w]);
  }
  return v;
}

template <class T, int TPR>
__global__ void fwd_last(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t D, bool log, bool neg) {
  __shared__ T sh[kThreads / 32];
  constexpr int RPB = kThreads / TPR;
  const int lane = threadIdx.x % TPR;
  for (int64_t row0 = int64_t(blockIdx.x) * RPB; row0 < outer; row0 += int64_t(gridDim.x) * RPB) {
    const int64_t row = row0 + threadIdx.x / TPR;
    const bool live = row < outer;  // a warp past the end still joins the shuffles
    const T* xr = x + (live ? row : 0) * D;
    T* yr = y + row * D;
    T m = -INFINITY;
    if (live)
      for (int64_t i = lane; i < D; i += TPR) m = smx_max_(m, smx_in_(xr[i], neg));
    m = row_reduce<TPR>(m, MaxOp(), sh);
    T s = 0;
    if (live)
      for (int64_t i = lane; i < D; i += TPR) {
        T e = smx_exp_(smx_in_(xr[i], neg), m);
        if (!log) yr[i] = e;
        s += e;
      }
    s = row_reduce<TPR>(s, AddOp(), sh);
    if (!live) continue;
    if (log) {
      const T ls = ::log(s);
      for (int64_t i = lane; i < D; i += TPR) yr[i] = log_softmax_out_(smx_in_(xr[i], neg), m, ls);
    } else {
      const T inv = T(1) / s;
      for (int64_t i = lane; i < D; i += TPR) yr[i] = softmax_out_(yr[i], inv);
    }
  }
}

template <class T, int TPR>
__global__ void bwd_last(const T* __restrict__ y, const T* __restrict__ g, T* __restrict__ gx, int64_t outer, int64_t D,
                         bool log, bool neg) {
  __shared__ T sh[kThreads / 32];
  constexpr int RPB = kThreads / TPR;
  const int lane = threadIdx.x % TPR;
  for (int64_t row0 = int64_t(blockIdx.x) * RPB; row0 < outer; row0 += int64_t(gridDim.x) * RPB) {
    const int64_t row = row0 + threadIdx.x / TPR;
    const bool live = row < outer;
    const int64_t base = (live ? row : 0) * D;
    T acc = 0;
    if (live)
      for (int64_t i = lane; i < D; i += TPR) acc += log ? g[base + i] : g[base + i] * y[base + i];
    acc = row_reduce<TPR>(acc, AddOp(), sh);
    if (!live) continue;
    for (int64_t i = lane; i < D; i += TPR)
      gx[base + i] = log ? log_softmax_grad_(y[base + i], g[base + i], acc, neg) : softmax_grad_(y[base + i], g[base + i], acc, neg);
  }
}

template <class T>
__global__ void fwd_strided(const T* __restrict__ x, T* __restrict__ y, int64_t outer, int64_t D, int64_t inner, bool log,
                            bool neg) {
  const int64_t n = outer * inner;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = k / inner, j = k % inner;
    const T* xc = x + o * D * inner + j;
    T* yc = y + o * D * inner + j;
    T m = -INFINITY;
    for (int64_t d = 0; d < D; ++d) m = smx_max_(m, smx_in_(xc[d * inner], neg));
    T s = 0;
    for (int64_t d = 0; d < D; ++d) {
      T e = smx_exp_(smx_in_(xc[d * inner], neg), m);
      if (!log) yc[d * inner] = e;
      s += e;
    }
    if (log) {
      const T ls = ::log(s);
      for (int64_t d = 0; d < D; ++d) yc[d * inner] = log_softmax_out_(smx_in_(xc[d * inner], neg), m, ls);
    } else {
      const T inv = T(1) / s;
      for (int64_t d = 0; d < D; ++d) yc[d * inner] = softmax_out_(yc[d * inner], inv);
    }
  }
}

template <class T>
__global__ void bwd_strided(const T* __restrict__ y, const T* __restrict__ g, T* __restrict__ gx, int64_t outer, int64_t D,
                            int64_t inner, bool log, bool neg) {
  const int64_t n = outer * inner;
  for (int64_t k = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; k < n; k += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = k / inner, j = k % inner, base = o * D * inner + j;
    T acc = 0;
    for (int64_t d = 0; d < D; ++d) acc += log ? g[base + d * inner] : g[base + d * inner] * y[base + d * inner];
    for (int64_t d = 0; d < D; ++d) {
      const int64_t i = base + d * inner;
      gx[i] = log ? log_softmax_grad_(y[i], g[i], acc, neg) : softmax_grad_(y[i], g[i], acc, neg);
    }
  }
}

// A block per column (o, j) of [outer, D, inner]; `cols` = outer * inner (at most kColsMax).
template <class T>
__global__ void fwd_cols(const T* __restrict__ x, T* __restrict__ y, int64_t D, int64_t inner, bool log, bool neg) {
  __shared__ T sh[kThreads / 32];
  const int64_t k = blockIdx.x, o = k / inner, j = k % inner;
  const T* xc = x + o * D * inner + j;
  T* yc = y + o * D * inner + j;
  T m = -INFINITY;
  for (int64_t d = threadIdx.x; d < D; d += kThreads) m = smx_max_(m, smx_in_(xc[d * inner], neg));
  m = row_reduce<kThreads>(m, MaxOp(), sh);
  T s = 0;
  for (int64_t d = threadIdx.x; d < D; d += kThreads) {
    T e = smx_exp_(smx_in_(xc[d * inner], neg), m);
    if (!log) yc[d * inner] = e;
    s += e;
  }
  s = row_reduce<kThreads>(s, AddOp(), sh);
  if (log) {
    const T ls = ::log(s);
    for (int64_t d = threadIdx.x; d < D; d += kThreads) yc[d * inner] = log_softmax_out_(smx_in_(xc[d * inner], neg), m, ls);
  } else {
    const T inv = T(1) / s;
    for (int64_t d = threadIdx.x; d < D; d += kThreads) yc[d * inner] = softmax_out_(yc[d * inner], inv);
  }
}

template <class T>
__global__ void bwd_cols(const T* __restrict__ y, const T* __restrict__ g, T* __restrict__ gx, int64_t D, int64_t inner,
                         bool log, bool neg) {
  __shared__ T sh[kThreads / 32];
  const int64_t k = blockIdx.x, o = k / inner, j = k % inner, base = o * D * inner + j;
  T acc = 0;
  for (int64_t d = threadIdx.x; d < D; d += kThreads) {
    const int64_t i = base + d * inner;
    acc += log ? g[i] : g[i] * y[i];
  }
  acc = row_reduce<kThreads>(acc, AddOp(), sh);
  for (int64_t d = threadIdx.x; d < D; d += kThreads) {
    const int64_t i = base + d * inner;
    gx[i] = log ? log_softmax_grad_(y[i], g[i], acc, neg) : softmax_grad_(y[i], g[i], acc, neg);
  }
}

// The block-per-column path: up to ~4 columns per SM (132 on an H100), when D is long enough for a
// block to have work.
constexpr int64_t kColsMax = 512;
bool use_cols(const IgnisCudaSoftmax& s) { return s.outer * s.inner <= kColsMax && s.D >= 2 * kThreads; }

unsigned row_blocks(int64_t rows, int rows_per_block) {
  int64_t b = (rows + rows_per_block - 1) / rows_per_block;
  return unsigned(b < 1 ? 1 : (b > (1LL << 30) ? (1LL << 30) : b));
}

}  // namespace

void softmax_fwd_cuda(int dev, const IgnisCudaSoftmax& s, const void* x, void* y) {
  const char* what = s.neg ? (s.log ? "logSoftmin" : "softmin") : (s.log ? "logSoftmax" : "softmax");
  if (s.outer <= 0 || s.D <= 0 || s.inner <= 0) return;
  cudaStream_t st = stream(dev);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, what, {
    const T* xp = static_cast<const T*>(x);
    T* yp = static_cast<T*>(y);
    if (s.inner == 1) {
      if (s.D <= 1024) fwd_last<T, 32><<<row_blocks(s.outer, kThreads / 32), kThreads, 0, st>>>(xp, yp, s.outer, s.D, s.log != 0, s.neg != 0);
      else fwd_last<T, kThreads><<<row_blocks(s.outer, 1), kThreads, 0, st>>>(xp, yp, s.outer, s.D, s.log != 0, s.neg != 0);
    } else if (use_cols(s)) {
      fwd_cols<T><<<unsigned(s.outer * s.inner), kThreads, 0, st>>>(xp, yp, s.D, s.inner, s.log != 0, s.neg != 0);
    } else {
      fwd_strided<T><<<blocks_for(s.outer * s.inner, kThreads), kThreads, 0, st>>>(xp, yp, s.outer, s.D, s.inner, s.log != 0, s.neg != 0);
    }
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), what);
}

void softmax_bwd_cuda(int dev, const IgnisCudaSoftmax& s, const void* y, const void* g, void* gx) {
  const char* what = s.neg ? (s.log ? "logSoftmin backward" : "softmin backward") : (s.log ? "logSoftmax backward" : "softmax backward");
  if (s.outer <= 0 || s.D <= 0 || s.inner <= 0) return;
  cudaStream_t st = stream(dev);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, what, {
    const T* yp = static_cast<const T*>(y);
    const T* gp = static_cast<const T*>(g);
    T* op = static_cast<T*>(gx);
    if (s.inner == 1) {
      if (s.D <= 1024) bwd_last<T, 32><<<row_blocks(s.outer, kThreads / 32), kThreads, 0, st>>>(yp, gp, op, s.outer, s.D, s.log != 0, s.neg != 0);
      else bwd_last<T, kThreads><<<row_blocks(s.outer, 1), kThreads, 0, st>>>(yp, gp, op, s.outer, s.D, s.log != 0, s.neg != 0);
    } else if (use_cols(s)) {
      bwd_cols<T><<<unsigned(s.outer * s.inner), kThreads, 0, st>>>(yp, gp, op, s.D, s.inner, s.log != 0, s.neg != 0);
    } else {
      bwd_strided<T><<<blocks_for(s.outer * s.inner, kThreads), kThreads, 0, st>>>(yp, gp, op, s.outer, s.D, s.inner, s.log != 0, s.neg != 0);
    }
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), what);
}

}  // namespace ignis_cuda
