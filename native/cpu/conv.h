// 2-D convolution on the CPU: forward (with bias and an optional fused activation), backward data,
// backward weights (+ bias). oneDNN for float32 when the build has it and the caller allows it,
// im2col + the bmm kernel otherwise (and always for float64). Transposed convolution is built from
// the same three calls in src/ops/conv.ts. All tensors are contiguous NCHW / OIHW.
#pragma once
#include <cstdint>
#include <mutex>

#include "../core/dtype.h"

#ifdef IGNIS_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace ignis {

struct ConvShape {
  DType dt = DType::f32;
  int64_t N = 0, C = 0, H = 0, W = 0;  // input
  int64_t O = 0, kh = 0, kw = 0;       // weight [O, C / G, kh, kw]
  int64_t OH = 0, OW = 0;              // output
  int64_t sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0;              // top / left padding (bottom / right follow from OH, OW)
  int64_t G = 1;
};

// An activation from native/ops/activations.def applied to the convolution's output (op < 0: none).
struct ActSpec {
  int op = -1;
  double p[4] = {0, 0, 0, 0};
};

// Validates sizes (throws ShapeError / ValueError). Called by every entry.
void conv_check(const ConvShape& s, const char* what);

void conv2d_fwd_cpu(const ConvShape& s, const char* x, const char* w, const char* b, char* y, const ActSpec& act,
                    bool onednn);
void conv2d_bwd_data_cpu(const ConvShape& s, const char* dy, const char* w, char* dx, bool onednn);
// dw always written; db written when non-null.
void conv2d_bwd_weight_cpu(const ConvShape& s, const char* x, const char* dy, char* dw, char* db, bool onednn);

// Applies activation `act` over n contiguous elements, dst = act(src) (the CPU kernels of
// activations.def); dst == src works in place.
void apply_act(DType dt, const char* src, char* dst, int64_t n, const ActSpec& act);
inline void apply_act_inplace(DType dt, char* data, int64_t n, const ActSpec& act) { apply_act(dt, data, data, n, act); }

// The fused bias + activation pass over contiguous [N, C, S]: y[n, c, s] += b[c] (b may be null), then
// out = act(y) (act.op < 0: out = y; out == y: in place), so with out != y, y keeps the
// pre-activation. The output pass of a linear layer with an activation ([M, out] as [M, out, 1]).
// CUDA twin: cuda/activations.cu bias_act_cuda.
void bias_act_cpu(DType dt, const ActSpec& act, char* y, const char* b, int64_t N, int64_t C, int64_t S, char* out);

// The backward of bias + activation over contiguous [N, C, S]: dz = act'(z) dy (z: the
// pre-activation, or the output for the ACT_OUT rows, as the activation's backward kernel takes it)
// and db[c] = sum of dz over n and s when db is non-null. CUDA twin: cuda/activations.cu.
void bias_act_bwd_cpu(DType dt, const ActSpec& act, const char* z, const char* dy, int64_t N, int64_t C, int64_t S,
                      char* dz, char* db);

#ifdef IGNIS_HAVE_DNNL
// One engine and stream for the conv / pool / batchnorm primitives; `mu` guards the caches.
struct DnnlCtx {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  std::mutex mu;
};
DnnlCtx& dnnl_ctx();
#endif

}  // namespace ignis
