// Per-channel sums over a [N, C, S] tensor in two deterministic passes (no atomics): `sweep` runs a
// C x K grid of blocks where block (c, k) takes the k-th slice of channel c's N * S elements and
// leaves its sum (double) in part[c * K + k], then `finish` adds each channel's K partials in order.
// Short planes (S < kColumnS, a linear layer's [M, out] or batch norm over [N, C] as S = 1) would
// make a block's warp read S-element runs far apart; there the tensor is swept as [N, C * S]
// columns instead, a warp reading 32 consecutive columns of a row, and a channel's K partials are its
// S columns' row-slice sums (slices() gives that K, so finish and the callers do not change).
// Used by the bias gradient of bias + activation (activations.cu) and PReLU's slope gradient
// (gated.cu), each fused with the elementwise gradient that the same sweep writes, and by the
// convolution's bias gradient (channel_sum, reduce.cu: channel_sum_cuda).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "common.h"
#include "ew.cuh"
#include "fastdiv.cuh"

namespace ignis_cuda {
namespace chansum {

constexpr int kThreads = 256;

// Planes shorter than this many units are swept by columns (col_sweep_kernel).
constexpr int64_t kColumnS = 32;
// The column sweep's block: 32 columns (one warp across a row) x kColY rows.
constexpr int kColY = 8;

// Row slices of the column sweep over [N, W]: about 4 blocks per SM over all, each slice at least
// 64 rows, at most gridDim.y's limit.
inline int64_t row_slices(int64_t W, int64_t N) {
  const int64_t bx = (W + 31) / 32;
  const int64_t K = std::max<int64_t>(1, std::min<int64_t>((132 * 4 + bx - 1) / bx, N / 64));
  return std::min<int64_t>(K, 65535);
}

// Partials per channel of a sweep over [N, C, S] (per_channel = N * S > 0): the plane sweep's slices,
// about 4 blocks per SM over all channels (132 SMs on an H100), each slice at least 4096 elements, at
// most gridDim.y's limit; for short planes, S columns times the column sweep's row slices.
inline int64_t slices(int64_t C, int64_t S, int64_t per_channel) {
  if (S < kColumnS) return S * row_slices(C * S, per_channel / S);
  const int64_t K = std::max<int64_t>(1, std::min<int64_t>((132 * 4 + C - 1) / C, per_channel / 4096));
  return std::min<int64_t>(K, 65535);
}

// Two sums in one sweep (batch norm's backward: of dy and of dy (x - mean))
struct Sum2 {
  double a, b;
};
__device__ __forceinline__ Sum2& operator+=(Sum2& x, const Sum2& y) {
  x.a += y.a;
  x.b += y.b;
  return x;
}
__device__ __forceinline__ double shfl_xor(double v, int o) { return __shfl_xor_sync(0xffffffffu, v, o); }
__device__ __forceinline__ Sum2 shfl_xor(const Sum2& v, int o) { return Sum2{shfl_xor(v.a, o), shfl_xor(v.b, o)}; }

// The end of a block of the C x K grid: adds the threads' `acc` (double or Sum2) and stores
// part[c * K + k].
template <class A>
__device__ __forceinline__ void block_store(A acc, A* __restrict__ part) {
  __shared__ A sh[kThreads / 32];
  for (int o = 16; o > 0; o >>= 1) {
    const A t = shfl_xor(acc, o);
    acc += t;
  }
  if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    A t = sh[0];
    for (int w = 1; w < int(blockDim.x >> 5); ++w) t += sh[w];
    part[int64_t(blockIdx.x) * gridDim.y + blockIdx.y] = t;
  }
}

// out[c] = sum over k < K of part[c * K + k]
template <class T>
__global__ void finish(const double* __restrict__ part, T* __restrict__ out, int64_t C, int64_t K) {
  for (int64_t c = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; c < C; c += int64_t(gridDim.x) * blockDim.x) {
    double t = 0;
    for (int64_t k = 0; k < K; ++k) t += part[c * K + k];
    out[c] = T(t);
  }
}

// Each thread keeps kUnroll elements' loads in flight (accumulate): with one 4-byte load per thread
// outstanding a sweep read at a fraction of the memory bandwidth.
constexpr int kUnroll = 4;

// acc += apply(load(i), i, c) at i = index(j) for j = j0, j0 + step, ... below j1, each thread with
// kUnroll loads in flight (all loaded, then all worked on, in the order one at a time would take).
template <class J, class A, class Index, class Load, class Apply>
__device__ __forceinline__ void accumulate(A& acc, J j, J j1, J step, int64_t c, Index index, Load load, Apply apply) {
  for (; j + (kUnroll - 1) * step < j1; j += kUnroll * step) {
    int64_t i[kUnroll];
    decltype(load(int64_t(0))) v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      i[u] = index(j + u * step);
      v[u] = load(i[u]);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) acc += apply(v[u], i[u], c);
  }
  for (; j < j1; j += step) {
    const int64_t i = index(j);
    acc += apply(load(i), i, c);
  }
}

// Block (c, k) of the C x K grid: for each flat index i of the k-th slice of channel c's N * S
// units (laid out [N, C, S]), acc += apply(load(i), i, c); then part[c * K + k] = acc where part is
// given. A unit is an element, or a pack of elements (channel_sum below). load(i) only reads;
// apply does the elementwise work at i (its gradient writes) and returns what the channel sums. I
// is the index type: uint32_t where every index stays below 2^31 (n then comes from fast_quot,
// fastdiv.cuh), else int64_t.
template <class I, class A, class Load, class Apply>
__global__ void sweep_kernel(I C, I S, I per_channel, I slice, FastDiv dS, A* __restrict__ part, Load load,
                             Apply apply) {
  const I c = blockIdx.x, k = blockIdx.y;
  const I j0 = k * slice, j1 = min(per_channel, j0 + slice);
  const I step = I(blockDim.x);
  auto flat = [&](I j) -> int64_t {
    I n;
    if constexpr (std::is_same_v<I, uint32_t>) n = fast_quot(j, dS);
    else n = j / S;
    return int64_t((n * C + c) * S + (j - n * S));
  };
  A acc{};
  accumulate(acc, I(j0 + threadIdx.x), j1, step, int64_t(c), flat, load, apply);
  if (part) block_store(acc, part);
}

// The sweep of short planes: [N, C, S] as [N, W = C * S] row-major. Block (x, y) of the grid takes
// columns x * 32 + threadIdx.x (a warp reads 32 consecutive units of a row) over the y-th slice of
// `rows` rows, threadIdx.y striding the rows, kUnroll loads in flight per thread; the block's column
// sums (added over threadIdx.y in order) go to part[col * gridDim.y + y], which for col = c * S + s is
// part[c * (S * gridDim.y) + s * gridDim.y + y]: channel c's S * gridDim.y partials, in order.
template <class A, class Load, class Apply>
__global__ void col_sweep_kernel(int64_t N, int64_t W, int64_t S, int64_t rows, A* __restrict__ part, Load load,
                                 Apply apply) {
  const int64_t col = int64_t(blockIdx.x) * 32 + threadIdx.x;
  const int64_t r0 = int64_t(blockIdx.y) * rows, r1 = min(N, r0 + rows);
  A acc{};
  if (col < W)
    accumulate(acc, r0 + threadIdx.y, r1, int64_t(kColY), col / S, [=](int64_t r) { return r * W + col; }, load, apply);
  if (!part) return;
  __shared__ A sh[kColY][33];
  sh[threadIdx.y][threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.y == 0 && col < W) {
    A t = sh[0][threadIdx.x];
    for (int y = 1; y < kColY; ++y) t += sh[y][threadIdx.x];
    part[col * gridDim.y + blockIdx.y] = t;
  }
}

// The sweep over [N, C, S] (per_channel = N * S > 0) with load(int64_t i) -> L and
// apply(L, int64_t i, int64_t c) -> A (double, or Sum2), on stream st; the channel sums go to part
// (C * slices(C, S, per_channel) of A, or nullptr: none). Then finish(part, out, C, K) adds them per
// channel (double). Returns the launch's grid (for the profiler's record).
template <class A, class Load, class Apply>
dim3 sweep(cudaStream_t st, int64_t C, int64_t S, int64_t per_channel, A* part, Load load, Apply apply) {
  if (S < kColumnS) {
    const int64_t N = per_channel / S, W = C * S, Kr = row_slices(W, N);
    const dim3 grid{unsigned((W + 31) / 32), unsigned(Kr), 1u};
    col_sweep_kernel<A><<<grid, dim3(32, kColY, 1), 0, st>>>(N, W, S, (N + Kr - 1) / Kr, part, load, apply);
    return grid;
  }
  const int64_t K = slices(C, S, per_channel);
  const int64_t slice = (per_channel + K - 1) / K;
  const dim3 grid{unsigned(C), unsigned(K), 1u};
  if (fits_fast_div(C * per_channel + slice + kUnroll * kThreads))
    sweep_kernel<uint32_t, A><<<grid, kThreads, 0, st>>>(uint32_t(C), uint32_t(S), uint32_t(per_channel),
                                                         uint32_t(slice), fast_div(uint32_t(S)), part, load, apply);
  else
    sweep_kernel<int64_t, A><<<grid, kThreads, 0, st>>>(C, S, per_channel, slice, FastDiv{1, 0}, part, load, apply);
  return grid;
}

// out[c] = sum over n, s of x[n, c, s] (x contiguous [N, C, S], N * S > 0): the bias gradient of a
// convolution. 16-byte packs when S is a multiple of the pack and x is 16-byte aligned. The sums
// run in double; `part` holds C * slices(C, S / V, N * S / V) doubles (part_count).
inline int pack_of(const void* x, int64_t S, size_t es) {
  const int V = int(16 / es);
  return (S % V == 0 && (reinterpret_cast<uintptr_t>(x) & 15) == 0) ? V : 1;
}
inline int64_t part_count(const void* x, int64_t N, int64_t C, int64_t S, size_t es) {
  const int V = pack_of(x, S, es);
  return C * slices(C, S / V, N * S / V);
}
template <class T>
dim3 channel_sum(cudaStream_t st, const T* x, T* out, int64_t N, int64_t C, int64_t S, double* part) {
  constexpr int V = int(16 / sizeof(T));
  dim3 grid;
  if (pack_of(x, S, sizeof(T)) == V) {
    using P = Pack<T, V>;  // ew.cuh
    const P* xp = reinterpret_cast<const P*>(x);
    grid = sweep(st, C, S / V, N * S / V, part, [=] __device__(int64_t i) { return xp[i]; },
          [] __device__(const P& p, int64_t, int64_t) {
            double t = 0;
#pragma unroll
            for (int e = 0; e < V; ++e) t += double(p.v[e]);
            return t;
          });
    finish<T><<<blocks_for(C, 256), 256, 0, st>>>(part, out, C, slices(C, S / V, N * S / V));
  } else {
    grid = sweep(st, C, S, N * S, part, [=] __device__(int64_t i) { return x[i]; },
                 [] __device__(T v, int64_t, int64_t) { return double(v); });
    finish<T><<<blocks_for(C, 256), 256, 0, st>>>(part, out, C, slices(C, S, N * S));
  }
  return grid;
}

}  // namespace chansum
}  // namespace ignis_cuda
