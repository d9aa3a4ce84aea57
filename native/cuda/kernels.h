// The CUDA library's internal kernel entry points (one file per op family, as native/cpu/). They
// throw CudaError; runtime.cpp wraps each in guard() for the C table of api.h.
#pragma once
#include "common.h"

namespace ignis_cuda {

void unary_cuda(int dev, int op, const IgnisCudaIter& it, double p0, double p1);
void binary_cuda(int dev, int op, const IgnisCudaIter& it);
void where_cuda(int dev, const IgnisCudaIter& it);
void copy_cuda(int dev, const IgnisCudaIter& it);
void act_fwd_cuda(int dev, int op, const IgnisCudaIter& it, const double* params);
void act_bwd_cuda(int dev, int op, const IgnisCudaIter& it, const double* params);
// y[n, c, s] = act(y + b[c]) in place; with `out`, y = y + b (the pre-activation, kept) and out = act(y + b)
void bias_act_cuda(int dev, int dtype, void* y, const void* b, int64_t N, int64_t C, int64_t S, int act_op,
                   const double* params, void* out = nullptr);
// dz = act'(z) dy over [N, C, S] and db[c] = sum of dz (db may be NULL): cpu/conv.h bias_act_bwd_cpu's twin
void bias_act_bwd_cuda(int dev, int dtype, const void* z, const void* dy, void* dz, void* db, int64_t N, int64_t C,
                       int64_t S, int act_op, const double* params);
void reduce_cuda(int dev, int op, const IgnisCudaIter& in, int nkeep, void* out, int out_dtype);
// the largest |a - b| over n float32 / float64 elements (0 where both are NaN or equal, +inf where
// one is NaN) and the largest |b|, read back (waits for the stream): a cuDNN graph's first-call check
void max_abs_diff_cuda(int dev, int dtype, const void* a, const void* b, int64_t n, double* diff, double* mag);
// out[c] = sum over n, s of x[n, c, s] (x contiguous [N, C, S], float32 / float64, summed in double)
void channel_sum_cuda(int dev, int dtype, const void* x, void* out, int64_t N, int64_t C, int64_t S);
void bmm_cuda(int dev, int dtype, int64_t B, int64_t M, int64_t K, int64_t N, const void* a, const int64_t* sa,
              const void* b, const int64_t* sb, void* c);
// y = act(conv(x, w) + b); z non-null: also keeps conv(x, w) + b there (api.h conv_fwd)
void conv2d_fwd_cuda(int dev, const IgnisCudaConv& s, const void* x, const void* w, const void* b, void* y, void* z,
                     int act_op, const double* act_params);
void conv2d_bwd_data_cuda(int dev, const IgnisCudaConv& s, const void* dy, const void* w, void* dx);
void conv2d_bwd_filter_cuda(int dev, const IgnisCudaConv& s, const void* x, const void* dy, void* dw, void* db);
void gather_cuda(int dev, const IgnisCudaIter& it, int64_t stride_bytes, int64_t size, bool check);
void scatter_cuda(int dev, const IgnisCudaIter& it, int64_t stride_bytes, int64_t size, int reduce, bool check);
void nll_fwd_cuda(int dev, const IgnisCudaNll& s, const void* logp, const int64_t* t, const void* w, void* loss, void* wi,
                  void* denom);
void ce_bwd_cuda(int dev, const IgnisCudaNll& s, const void* logp, const int64_t* t, const void* wi, const void* g,
                 int64_t g_step, const void* denom, void* gx);
void pool_fwd_cuda(int dev, const IgnisCudaPool& s, const void* x, void* y, int64_t* ind);
void pool_bwd_cuda(int dev, const IgnisCudaPool& s, const void* dy, const int64_t* ind, void* dx);
void bn_fwd_cuda(int dev, const IgnisCudaBn& s, const void* x, const void* w, const void* b, void* rm, void* rv, void* y,
                 void* smean, void* svar);
void bn_bwd_cuda(int dev, const IgnisCudaBn& s, const void* x, const void* dy, const void* w, const void* smean,
                 const void* svar, void* dx, void* dw, void* db);
void softmax_fwd_cuda(int dev, const IgnisCudaSoftmax& s, const void* x, void* y);
void softmax_bwd_cuda(int dev, const IgnisCudaSoftmax& s, const void* y, const void* g, void* gx);
void optim_step_cuda(int dev, int kind, int dtype, const double* hyper, const IgnisCudaOptimItem* items, int64_t count);
void random_cuda(int dev, int kind, int dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double p0, double p1);
void prelu_fwd_cuda(int dev, const IgnisCudaGated& s, const void* x, const void* w, void* y);
void prelu_bwd_cuda(int dev, const IgnisCudaGated& s, const void* x, const void* w, const void* g, void* gx, void* gw);
void glu_fwd_cuda(int dev, const IgnisCudaGated& s, const void* x, void* y);
void glu_bwd_cuda(int dev, const IgnisCudaGated& s, const void* x, const void* g, void* gx);
// run-time compiled kernels (rtc.cpp)
void rtc_load_cuda(int dev, const void* image, size_t nbytes, int nkernels, const char* const* names, void** kernels);
void rtc_launch_cuda(int dev, void* kernel, int64_t n, int per_thread, void** args);
// versions / handles (blas.cpp, conv.cpp)
size_t cublas_version();
size_t cudnn_version();
size_t cudnn_cudart_version();  // the CUDA runtime the loaded cuDNN was built for (e.g. 13000)
// number of act ops in activations.def (checked against op codes)
extern const int kActCount;

}  // namespace ignis_cuda
