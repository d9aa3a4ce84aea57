// gather / scatter along one dim (PyTorch semantics; indices are int64 and bounds-checked).
#pragma once
#include "../core/iter.h"

namespace ignis {

// it: op0 = out, op1 = input (stride along dim set to 0), op2 = index. Throws IndexError.
void gather_fwd_cpu(Iter& it, int64_t in_dim_stride_bytes, int64_t in_dim_size);
// it: op0 = self (stride along dim set to 0), op1 = index, op2 = src. reduce: 0 assign, 1 add.
void scatter_fwd_cpu(Iter& it, int64_t self_dim_stride_bytes, int64_t self_dim_size, int reduce);

}  // namespace ignis
