// Division by a divisor fixed at launch, for the index arithmetic of the kernels (ew.cuh, reduce.cu,
// chansum.cuh, the bias + activation epilogue).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "common.h"

namespace ignis_cuda {

// Division by a fixed d >= 1 for dividends below 2^31, as a multiply-high, an add and a shift
// (Granlund-Montgomery; PyTorch's IntDivider does the same). On the GPU a 64-bit division is a long
// software routine and a 32-bit one some twenty instructions; kernels that split a flat index into
// per-dim indices for every element would otherwise spend more on that than on their memory traffic.
struct FastDiv {
  uint32_t magic, shift;
};
inline FastDiv fast_div(uint32_t d) {
  if (d == 0 || d > (uint32_t(1) << 31)) fail("IgnisError", "fast_div: divisor " + std::to_string(d) + " out of range (an internal error)");
  uint32_t s = 0;
  while (s < 32 && (uint64_t(1) << s) < d) ++s;
  const uint64_t one = 1;
  return FastDiv{uint32_t(((one << 32) * ((one << s) - d)) / d + 1), s};
}
__device__ __forceinline__ uint32_t fast_quot(uint32_t n, FastDiv f) { return (__umulhi(n, f.magic) + n) >> f.shift; }

// The channel of flat index i of a [N, C, S] tensor: two fast_quot for uint32_t indices (dS, dC the
// divisors S and C), plain division for int64_t ones.
template <class I>
__device__ __forceinline__ I channel_of(I i, I C, I S, FastDiv dS, FastDiv dC) {
  if constexpr (std::is_same_v<I, uint32_t>) {
    const uint32_t q = fast_quot(i, dS);
    return q - fast_quot(q, dC) * C;
  } else {
    return (i / S) % C;
  }
}

// IGNIS_CUDA_FORCE_INDEX64=1 (a test switch, read once): every launch takes its 64-bit index path,
// which otherwise only tensors of 2^31 elements reach (scripts/cuda-emu.mjs test runs the op tests
// both ways). runtime.cpp.
bool force_index64();

// Whether every index of a launch stays below 2^31, the range fast_quot is exact in: callers pass the
// largest index plus one grid stride, the slack for the last increment of a grid-stride loop.
inline bool fits_fast_div(int64_t max_index) { return !force_index64() && max_index < (int64_t(1) << 31); }

}  // namespace ignis_cuda
