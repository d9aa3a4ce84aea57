// Counter-based random numbers (Philox 4x32-10, as cuRAND and PyTorch's CUDA generator use), so a
// (seed, offset) pair gives the same stream whatever the thread count — and on CUDA later.
#pragma once
#include <cstdint>

#include "../core/dtype.h"

namespace ignis {

enum class RandomKind : int { uniform = 0, normal = 1, randint = 2, bernoulli = 3 };

// Fills n contiguous elements of `out` (dtype dt). Uses counters [offset, offset + ceil(n/4)).
void random_fill_cpu(RandomKind kind, DType dt, char* out, int64_t n, uint64_t seed, uint64_t offset, double p0, double p1);

}  // namespace ignis
