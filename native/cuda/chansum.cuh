// Per-channel sums over a [N, C, S] tensor in two deterministic passes (no atomics): `sweep` runs a
// C x K grid of blocks where block (c, k) takes the k-th slice of channel c's N * S elements and
// leaves its sum (double) in part[c * K + k], then `finish` adds each channel's K partials in order.
// Used by the bias gradient of bias + activation (activations.cu) and PReLU's slope gradient
// (gated.cu), each fused with the elementwise gradient that the same sweep writes.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "common.h"
#include "fastdiv.cuh"

namespace ignis_cuda {
namespace chansum {

constexpr int kThreads = 256;

// Slices per channel: about 4 blocks per SM over all channels (132 SMs on an H100), each slice at
// least 4096 elements, at most gridDim.y's limit.
inline int64_t slices(int64_t C, int64_t per_channel) {
  const int64_t K = std::max<int64_t>(1, std::min<int64_t>((132 * 4 + C - 1) / C, per_channel / 4096));
  return std::min<int64_t>(K, 65535);
}

// The end of a block of the C x K grid: adds the threads' `acc` and stores part[c * K + k].
__device__ __forceinline__ void block_store(double acc, double* __restrict__ part) {
  __shared__ double sh[kThreads / 32];
  for (int o = 16; o > 0; o >>= 1) acc += __shfl_xor_sync(0xffffffffu, acc, o);
  if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = acc;
  __syncthreads();
  if (threadIdx.x == 0) {
    double t = 0;
    for (int w = 0; w < int(blockDim.x >> 5); ++w) t += sh[w];
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

// Block (c, k) of the C x K grid: for each flat index i of the k-th slice of channel c's N * S
// elements (laid out [N, C, S]), acc += f(i, c); then part[c * K + k] = acc where part is given.
// f does the elementwise work at i (its gradient writes) and returns what the channel sums. I is the
// index type: uint32_t where every index stays below 2^31 (n then comes from fast_quot,
// fastdiv.cuh), else int64_t.
template <class I, class F>
__global__ void sweep_kernel(I C, I S, I per_channel, I slice, FastDiv dS, double* __restrict__ part, F f) {
  const I c = blockIdx.x, k = blockIdx.y;
  const I j0 = k * slice, j1 = min(per_channel, j0 + slice);
  double acc = 0;
  for (I j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
    I n;
    if constexpr (std::is_same_v<I, uint32_t>) n = fast_quot(j, dS);
    else n = j / S;
    acc += f(int64_t((n * C + c) * S + (j - n * S)), int64_t(c));
  }
  if (part) block_store(acc, part);
}

// The sweep over [N, C, S] (per_channel = N * S > 0) with f(int64_t i, int64_t c) -> double, on
// stream st; the channel sums go to part (C * slices(C, per_channel) doubles, or nullptr: none).
// Then finish(part, out, C, K) adds them per channel.
template <class F>
void sweep(cudaStream_t st, int64_t C, int64_t S, int64_t per_channel, double* part, F f) {
  const int64_t K = slices(C, per_channel);
  const int64_t slice = (per_channel + K - 1) / K;
  const dim3 grid{unsigned(C), unsigned(K), 1u};
  if (fits_fast_div(C * per_channel + slice + kThreads))
    sweep_kernel<uint32_t><<<grid, kThreads, 0, st>>>(uint32_t(C), uint32_t(S), uint32_t(per_channel),
                                                      uint32_t(slice), fast_div(uint32_t(S)), part, f);
  else
    sweep_kernel<int64_t><<<grid, kThreads, 0, st>>>(C, S, per_channel, slice, FastDiv{1, 0}, part, f);
}

}  // namespace chansum
}  // namespace ignis_cuda
