// Philox 4x32-10 (as cuRAND and PyTorch's CUDA generator use) and the four transforms of Ignis's
// random fills, shared by cpu/random.cpp and cuda/random.cu so that a (seed, offset) pair gives the
// same numbers on every device and thread count. One counter value gives one group of 4 outputs.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#ifdef __CUDACC__
#define IGNIS_PHILOX_FN __host__ __device__ __forceinline__
#else
#define IGNIS_PHILOX_FN inline
#endif

namespace ignis {
namespace philox {

struct U4 { uint32_t v[4]; };

IGNIS_PHILOX_FN U4 philox4x32_10(uint64_t counter, uint64_t seed) {
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

// (0, 1]: never 0, so log() in Box-Muller stays finite.
IGNIS_PHILOX_FN double u01_open(uint32_t x) { return (double(x) + 1.0) * (1.0 / 4294967296.0); }
// [0, 1)
IGNIS_PHILOX_FN double u01(uint32_t x) { return double(x) * (1.0 / 4294967296.0); }

// The 4 values of counter group `counter` for distribution `kind` (0 uniform [p0, p1), 1 normal
// (mean p0, std p1), 2 randint [p0, p1), 3 bernoulli(p0)), in double; T is the output dtype (a
// float uniform is kept below p1 after rounding to float).
template <class T>
IGNIS_PHILOX_FN void group_values(int kind, uint64_t counter, uint64_t seed, double p0, double p1, double vals[4]) {
  U4 r = philox4x32_10(counter, seed);
  if (kind == 0) {
    for (int l = 0; l < 4; ++l) {
      double v = p0 + (p1 - p0) * u01(r.v[l]);
      if constexpr (std::is_same_v<T, float>) {
        if (float(v) >= float(p1)) v = nextafterf(float(p1), float(p0));
      }
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
}

}  // namespace philox
}  // namespace ignis
