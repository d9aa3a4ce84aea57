// Per-channel sums over a [N, C, S] tensor in two deterministic passes (no atomics): a C x K grid
// of blocks where block (c, k) takes the k-th slice of channel c's N * S elements and leaves its
// sum (double) in part[c * K + k], then `finish` adds each channel's K partials in order. Used by
// the bias gradient of bias + activation (activations.cu) and PReLU's slope gradient (gated.cu),
// each fused with the elementwise gradient that the same sweep writes.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

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

// Whether every index of a C x K sweep over [N, C, S] (plus one block of slack) fits in 32 bits:
// the kernels then index with uint32_t, whose division is a few instructions where int64_t's is a
// long sequence.
inline bool fits32(int64_t C, int64_t per_channel, int64_t slice) {
  return C * per_channel + slice + kThreads < (int64_t(1) << 32);
}

}  // namespace chansum
}  // namespace ignis_cuda
