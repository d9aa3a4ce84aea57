// Philox 4x32-10 streams: the CUDA twin of cpu/random.cpp (same counters, same transforms), so a
// (seed, offset) pair fills the same numbers on both devices.
#include <cmath>

#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

struct U4 { uint32_t v[4]; };

__device__ __forceinline__ U4 philox(uint64_t counter, uint64_t seed) {
  uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    uint64_t p0 = uint64_t(0xD2511F53u) * c0, p1 = uint64_t(0xCD9E8D57u) * c2;
    uint32_t n0 = uint32_t(p1 >> 32) ^ c1 ^ k0, n1 = uint32_t(p1), n2 = uint32_t(p0 >> 32) ^ c3 ^ k1, n3 = uint32_t(p0);
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
  }
  return U4{{c0, c1, c2, c3}};
}
__device__ __forceinline__ double u01_open(uint32_t x) { return (double(x) + 1.0) * (1.0 / 4294967296.0); }
__device__ __forceinline__ double u01(uint32_t x) { return double(x) * (1.0 / 4294967296.0); }

template <class T>
__global__ void fill_kernel(int kind, T* out, int64_t n, uint64_t seed, uint64_t offset, double p0, double p1) {
  const int64_t groups = (n + 3) / 4;
  for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < groups; g += int64_t(blockDim.x) * gridDim.x) {
    U4 r = philox(offset + uint64_t(g), seed);
    double vals[4] = {0, 0, 0, 0};
    if (kind == 0) {
      for (int l = 0; l < 4; ++l) {
        double v = p0 + (p1 - p0) * u01(r.v[l]);
        if constexpr (std::is_same_v<T, float>) { if (float(v) >= float(p1)) v = nextafterf(float(p1), float(p0)); }
        vals[l] = v;
      }
    } else if (kind == 1) {
      for (int l = 0; l < 4; l += 2) {
        double rad = sqrt(-2.0 * log(u01_open(r.v[l])));
        double th = 2.0 * M_PI * u01(r.v[l + 1]);
        vals[l] = p0 + p1 * rad * cos(th);
        vals[l + 1] = p0 + p1 * rad * sin(th);
      }
    } else if (kind == 2) {
      uint64_t range = uint64_t(int64_t(p1) - int64_t(p0));
      uint64_t a = (uint64_t(r.v[0]) << 32) | r.v[1], b = (uint64_t(r.v[2]) << 32) | r.v[3];
      uint64_t c = a ^ (b * 0x9E3779B97F4A7C15ull), d = b ^ (a * 0xC2B2AE3D27D4EB4Full);
      vals[0] = double(int64_t(p0) + int64_t(a % range));
      vals[1] = double(int64_t(p0) + int64_t(b % range));
      vals[2] = double(int64_t(p0) + int64_t(c % range));
      vals[3] = double(int64_t(p0) + int64_t(d % range));
    } else {
      for (int l = 0; l < 4; ++l) vals[l] = u01(r.v[l]) < p0 ? 1.0 : 0.0;
    }
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
}

}  // namespace ignis_cuda
