// Philox 4x32-10 streams: the CUDA twin of cpu/random.cpp (same counters, same transforms), so a
// (seed, offset) pair fills the same numbers on both devices.
#include <cmath>

#include "../core/philox.h"
#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

template <class T>
__global__ void fill_kernel(int kind, T* out, int64_t n, uint64_t seed, uint64_t offset, double p0, double p1) {
  const int64_t groups = (n + 3) / 4;
  for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += int64_t(blockDim.x) * gridDim.x) {
    double vals[4];
    ignis::philox::group_values<T>(kind, offset + uint64_t(g), seed, p0, p1, vals);
    for (int l = 0; l < 4; ++l) {
      int64_t i = g * 4 + l;
      if (i < n) out[i] = from_double<T>(vals[l]);
    }
  }
}

}  // namespace

void random_cuda(int dev, int kind, int dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double p0, double p1) {
  if (kind < 0 || kind > 3) fail("ValueError", "random: unknown distribution");
  if (kind == 2 && !(p1 > p0)) fail("ValueError", "randint: high must be greater than low");
  if (n == 0) return;
  IGNIS_CUDA_DISPATCH_ALL(dtype, T, "random", {
    fill_kernel<T><<<blocks_for((n + 3) / 4, 256), 256, 0, stream(dev)>>>(kind, static_cast<T*>(out), n, seed, offset, p0, p1);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "random");
  prof::launch(blocks_for((n + 3) / 4, 256), 256);
}

}  // namespace ignis_cuda
