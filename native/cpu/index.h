// gather / scatter along one dim (PyTorch semantics; indices are int64 and bounds-checked).
#pragma once
#include "../core/dtype.h"
#include "../core/iter.h"

namespace ignis {

// it: op0 = out, op1 = input (stride along dim set to 0), op2 = index. Throws IndexError.
void gather_fwd_cpu(Iter& it, int64_t in_dim_stride_bytes, int64_t in_dim_size);
// it: op0 = self (stride along dim set to 0), op1 = index, op2 = src. reduce: 0 assign, 1 add.
void scatter_fwd_cpu(Iter& it, int64_t self_dim_stride_bytes, int64_t self_dim_size, int reduce);

// Cross entropy with class-index targets (src/nn/loss.ts), over log-probabilities logp [M, C]
// (contiguous, dt) and int64 targets t [M]; CUDA twins in cuda/index.cu.
struct NllShape {
  DType dt = DType::f32;
  int64_t M = 0, C = 0, ignore = -100;
  int reduce = 0;  // nll_fwd: 0 'none', 1 'sum', 2 'mean'
};
// wi[m] = w[t] (w = 1 when w is null) and the row's loss -w[t]·logp[m, t], both 0 where t[m] is the
// ignore index or outside [0, C) (the caller checked the range: the guard only keeps reads inside).
// reduce 0: loss[m] per row; 1: loss[0] = their sum; 2: loss[0] = that sum / the sum of the weights
// (NaN when every row is ignored, as PyTorch); with a reduction denom[0] = the sum of the weights.
// The reductions accumulate in double, in row order (CUDA: in a fixed tree order).
void nll_fwd_cpu(const NllShape& s, const char* logp, const int64_t* t, const char* w, char* loss, char* wi,
                 char* denom);
// gx[m, c] = k·(exp(logp[m, c]) - [c == t[m]]) with k = wi[m]·(g[m·g_step] / (denom ? denom[0] : 1)),
// k = 0 where t[m] is the ignore index (also when every row is: the mean's 0 / 0 stays out): the
// gradient of the loss through log_softmax for 'none' (g_step 1), 'sum' and 'mean' (g_step 0;
// denom the mean's sum of weights)
void ce_bwd_cpu(const NllShape& s, const char* logp, const int64_t* t, const char* wi, const char* g, int64_t g_step,
                const char* denom, char* gx);

}  // namespace ignis
