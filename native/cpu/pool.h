// 2-D pooling on the CPU (PyTorch semantics): max (with PyTorch's flat h*W+w indices or a oneDNN
// workspace), average (count_include_pad, divisor_override, ceil mode through OH/OW), adaptive
// average and max. oneDNN for float32 where its semantics match, OpenMP loops otherwise.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

#include "../core/dtype.h"

namespace ignis {

struct PoolShape {
  DType dt = DType::f32;
  int64_t N = 0, C = 0, H = 0, W = 0, OH = 0, OW = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, pt = 0, pl = 0, dh = 1, dw = 1;
  bool max = true;
  bool count_include_pad = true;
  int64_t divisor = 0;  // avg: divisor_override (0 = none)
};

void pool_check(const PoolShape& s, const char* what);

// oneDNN path: returns false when it does not apply (dtype, semantics) or is not built in.
// ws_alloc(bytes) is called for the max-pool workspace when it is non-null (training).
bool pool2d_fwd_onednn(const PoolShape& s, const char* x, char* y, const std::function<char*(size_t)>& ws_alloc);
bool pool2d_bwd_onednn(const PoolShape& s, const char* dy, const char* ws, size_t ws_bytes, char* dx);

// Reference: ind (max only) may be null.
void pool2d_fwd_ref(const PoolShape& s, const char* x, char* y, int64_t* ind);
// max: needs ind (int64, may come from adaptive too); avg: ind unused.
void pool2d_bwd_ref(const PoolShape& s, const char* dy, const int64_t* ind, char* dx);

// Adaptive pooling; s.OH/OW are the output size; kernel/stride fields unused.
void adaptive_pool_fwd_cpu(const PoolShape& s, const char* x, char* y, int64_t* ind);
void adaptive_pool_bwd_cpu(const PoolShape& s, const char* dy, const int64_t* ind, char* dx);
// dx[plane][ind] += dy (max-pool backward from indices, any pooling)
void max_unpool_add_cpu(const PoolShape& s, const char* dy, const int64_t* ind, char* dx);

}  // namespace ignis
