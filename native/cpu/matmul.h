// Batched matrix multiply: out[b] = a[b] @ b[b], out contiguous [B, M, N].
#pragma once
#include <cstdint>

#include "../core/dtype.h"

namespace ignis {

struct MatArg {
  const char* data;     // first element
  int64_t s[3];         // element strides: batch, row, col
};

void bmm_fwd_cpu(DType dt, int64_t B, int64_t M, int64_t K, int64_t N, const MatArg& a, const MatArg& b, char* out);
bool have_onednn();

}  // namespace ignis
