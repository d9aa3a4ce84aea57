// The CUDA emulator's stand-ins for the cuDNN and cuBLAS calls the library makes (conv.cpp,
// blas.cpp): plain reference loops over host memory with cuDNN's and cuBLAS's argument conventions
// (descriptors, algorithms with workspaces, alpha / beta, column-major GEMM with transposes), so
// Ignis's own code around them (packing, leading dimensions, batch chunks, algorithm fallbacks,
// the fused ReLU call, the bias + activation epilogue) runs as it would on the GPU. The graph
// (backend) API keeps its descriptors and runs the graphs Ignis builds (below: which ones an engine
// takes, IGNIS_CUDA_EMU_GRAPH).
#include <cublas_v2.h>
#include <cudnn.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "emu_state.h"  // emu::skip_kernels: IGNIS_CUDA_EMU_SKIP_KERNELS skips the arithmetic below too

struct cudnnContext {
  cudaStream_t stream = nullptr;
};
struct cudnnTensorStruct {
  cudnnDataType_t dt = CUDNN_DATA_FLOAT;
  int n = 0, c = 0, h = 0, w = 0;
};
struct cudnnFilterStruct {
  cudnnDataType_t dt = CUDNN_DATA_FLOAT;
  int k = 0, c = 0, h = 0, w = 0;
};
struct cudnnConvolutionStruct {
  int ph = 0, pw = 0, sh = 1, sw = 1, dh = 1, dw = 1, groups = 1;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
};
struct cudnnActivationStruct {
  cudnnActivationMode_t mode = CUDNN_ACTIVATION_IDENTITY;
  double coef = 0;
};
struct cublasContext {
  cudaStream_t stream = nullptr;
};

namespace {

double load(cudnnDataType_t dt, const void* p, size_t i) {
  return dt == CUDNN_DATA_DOUBLE ? static_cast<const double*>(p)[i] : double(static_cast<const float*>(p)[i]);
}
void store(cudnnDataType_t dt, void* p, size_t i, double v) {
  if (dt == CUDNN_DATA_DOUBLE) static_cast<double*>(p)[i] = v;
  else static_cast<float*>(p)[i] = float(v);
}
double scale(cudnnDataType_t dt, const void* a) {
  return dt == CUDNN_DATA_DOUBLE ? *static_cast<const double*>(a) : double(*static_cast<const float*>(a));
}

int out_dim(int in, int pad, int k, int stride, int dil) { return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1; }

bool valid(const cudnnTensorStruct* x, const cudnnFilterStruct* w, const cudnnConvolutionStruct* c,
           const cudnnTensorStruct* y) {
  if (!x || !w || !c || !y || c->groups < 1 || x->c != w->c * c->groups || w->k % c->groups) return false;
  if (y->n != x->n || y->c != w->k) return false;
  return y->h == out_dim(x->h, c->ph, w->h, c->sh, c->dh) && y->w == out_dim(x->w, c->pw, w->w, c->sw, c->dw);
}

// visits every (y index, x index, w index) term of the convolution
template <class F>
void each_term(const cudnnTensorStruct* x, const cudnnFilterStruct* w, const cudnnConvolutionStruct* c,
               const cudnnTensorStruct* y, F f) {
  const int G = c->groups, Cg = w->c, Og = w->k / G;
  for (int n = 0; n < y->n; ++n)
    for (int o = 0; o < y->c; ++o) {
      const int g = o / Og;
      for (int oh = 0; oh < y->h; ++oh)
        for (int ow = 0; ow < y->w; ++ow) {
          const size_t yi = ((size_t(n) * y->c + o) * y->h + oh) * y->w + ow;
          for (int ci = 0; ci < Cg; ++ci)
            for (int kh = 0; kh < w->h; ++kh) {
              const int ih = oh * c->sh - c->ph + kh * c->dh;
              if (ih < 0 || ih >= x->h) continue;
              for (int kw = 0; kw < w->w; ++kw) {
                const int iw = ow * c->sw - c->pw + kw * c->dw;
                if (iw < 0 || iw >= x->w) continue;
                const size_t xi = ((size_t(n) * x->c + g * Cg + ci) * x->h + ih) * x->w + iw;
                const size_t wi = ((size_t(o) * Cg + ci) * w->h + kh) * w->w + kw;
                f(yi, xi, wi);
              }
            }
        }
    }
}

size_t numel(const cudnnTensorStruct* t) { return size_t(t->n) * t->c * t->h * t->w; }
size_t numel(const cudnnFilterStruct* t) { return size_t(t->k) * t->c * t->h * t->w; }

// two algorithms: 0 without a workspace, 1 with 1 MiB (so the workspace path runs too).
// IGNIS_CUDA_EMU_FIND_FAIL=1 makes cudnnFind* fail as out of device memory (benchmark mode's fallback).
template <class Perf, class Algo>
cudnnStatus_t perfs(const cudnnConvolutionStruct* c, int requested, int* got, Perf* out, bool find = false) {
  if (find) {
    const char* f = std::getenv("IGNIS_CUDA_EMU_FIND_FAIL");
    if (f && *f && std::strcmp(f, "0") != 0) return CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED;
  }
  if (!c || !got || !out || requested < 1) return CUDNN_STATUS_BAD_PARAM;
  const int n = requested < 2 ? requested : 2;
  for (int i = 0; i < n; ++i) {
    std::memset(&out[i], 0, sizeof(Perf));
    out[i].algo = Algo(1 - i);  // the heuristics' first choice needs the workspace
    out[i].status = CUDNN_STATUS_SUCCESS;
    out[i].time = float(i + 1);
    out[i].memory = i == 0 ? size_t(1) << 20 : 0;
    out[i].determinism = CUDNN_DETERMINISTIC;
    out[i].mathType = c->math;
  }
  *got = n;
  return CUDNN_STATUS_SUCCESS;
}

void gemm(bool dbl, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, double alpha, const void* A,
          int lda, long long sa, const void* B, int ldb, long long sb, double beta, void* C, int ldc, long long sc,
          int batch) {
  auto ld = [&](const void* p, long long i) {
    return dbl ? static_cast<const double*>(p)[i] : double(static_cast<const float*>(p)[i]);
  };
  for (int b = 0; b < batch; ++b)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) {
        double acc = 0;
        for (int p = 0; p < k; ++p) {
          const long long ai = b * sa + (ta == CUBLAS_OP_N ? i + (long long)p * lda : p + (long long)i * lda);
          const long long bi = b * sb + (tb == CUBLAS_OP_N ? p + (long long)j * ldb : j + (long long)p * ldb);
          acc += ld(A, ai) * ld(B, bi);
        }
        const long long ci = b * sc + i + (long long)j * ldc;
        const double v = alpha * acc + (beta != 0 ? beta * ld(C, ci) : 0);
        if (dbl) static_cast<double*>(C)[ci] = v;
        else static_cast<float*>(C)[ci] = float(v);
      }
}

}  // namespace

extern "C" {

// ---- cuDNN: versions, handles, errors --------------------------------------------------------
size_t cudnnGetVersion(void) { return CUDNN_VERSION; }
size_t cudnnGetCudartVersion(void) { return CUDART_VERSION; }
const char* cudnnGetErrorString(cudnnStatus_t s) {
  switch (s) {
    case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    default: return "CUDNN_STATUS (emulator)";
  }
}
cudnnStatus_t cudnnCreate(cudnnHandle_t* h) {
  *h = new cudnnContext;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetStream(cudnnHandle_t h, cudaStream_t s) {
  h->stream = s;
  return CUDNN_STATUS_SUCCESS;
}

// ---- descriptors ------------------------------------------------------------------------------
cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* d) {
  *d = new cudnnTensorStruct;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetTensor4dDescriptor(cudnnTensorDescriptor_t d, cudnnTensorFormat_t f, cudnnDataType_t dt, int n,
                                         int c, int h, int w) {
  // as cuDNN: every dim at least 1 (an empty batch is BAD_PARAM), NCHW only here
  if (f != CUDNN_TENSOR_NCHW || n < 1 || c < 1 || h < 1 || w < 1) return CUDNN_STATUS_BAD_PARAM;
  if ((long long)n * c * h * w > 2147483647LL) return CUDNN_STATUS_BAD_PARAM;
  *d = {dt, n, c, h, w};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* d) {
  *d = new cudnnFilterStruct;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetFilter4dDescriptor(cudnnFilterDescriptor_t d, cudnnDataType_t dt, cudnnTensorFormat_t f, int k,
                                         int c, int h, int w) {
  if (f != CUDNN_TENSOR_NCHW || k < 1 || c < 1 || h < 1 || w < 1) return CUDNN_STATUS_BAD_PARAM;
  *d = {dt, k, c, h, w};
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* d) {
  *d = new cudnnConvolutionStruct;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolution2dDescriptor(cudnnConvolutionDescriptor_t d, int ph, int pw, int u, int v, int dh,
                                              int dw, cudnnConvolutionMode_t mode, cudnnDataType_t) {
  if (ph < 0 || pw < 0 || u < 1 || v < 1 || dh < 1 || dw < 1 || mode != CUDNN_CROSS_CORRELATION)
    return CUDNN_STATUS_BAD_PARAM;
  d->ph = ph; d->pw = pw; d->sh = u; d->sw = v; d->dh = dh; d->dw = dw;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t d, int g) {
  if (g < 1) return CUDNN_STATUS_BAD_PARAM;
  d->groups = g;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t d, cudnnMathType_t m) {
  d->math = m;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnGetConvolution2dForwardOutputDim(const cudnnConvolutionDescriptor_t c, const cudnnTensorDescriptor_t x,
                                                    const cudnnFilterDescriptor_t w, int* n, int* ch, int* h, int* wd) {
  if (x->c != w->c * c->groups) return CUDNN_STATUS_BAD_PARAM;
  *n = x->n;
  *ch = w->k;
  *h = out_dim(x->h, c->ph, w->h, c->sh, c->dh);
  *wd = out_dim(x->w, c->pw, w->w, c->sw, c->dw);
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnCreateActivationDescriptor(cudnnActivationDescriptor_t* d) {
  *d = new cudnnActivationStruct;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnDestroyActivationDescriptor(cudnnActivationDescriptor_t d) {
  delete d;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnSetActivationDescriptor(cudnnActivationDescriptor_t d, cudnnActivationMode_t m, cudnnNanPropagation_t,
                                           double coef) {
  d->mode = m;
  d->coef = coef;
  return CUDNN_STATUS_SUCCESS;
}

// ---- algorithms ---------------------------------------------------------------------------------
cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(cudnnHandle_t, const cudnnTensorDescriptor_t,
                                                     const cudnnFilterDescriptor_t, const cudnnConvolutionDescriptor_t c,
                                                     const cudnnTensorDescriptor_t, const int req, int* got,
                                                     cudnnConvolutionFwdAlgoPerf_t* p) {
  return perfs<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(c, req, got, p);
}
cudnnStatus_t cudnnFindConvolutionForwardAlgorithm(cudnnHandle_t, const cudnnTensorDescriptor_t,
                                                   const cudnnFilterDescriptor_t, const cudnnConvolutionDescriptor_t c,
                                                   const cudnnTensorDescriptor_t, const int req, int* got,
                                                   cudnnConvolutionFwdAlgoPerf_t* p) {
  return perfs<cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionFwdAlgo_t>(c, req, got, p, true);
}
cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(cudnnHandle_t, const cudnnFilterDescriptor_t,
                                                          const cudnnTensorDescriptor_t,
                                                          const cudnnConvolutionDescriptor_t c,
                                                          const cudnnTensorDescriptor_t, const int req, int* got,
                                                          cudnnConvolutionBwdDataAlgoPerf_t* p) {
  return perfs<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(c, req, got, p);
}
cudnnStatus_t cudnnFindConvolutionBackwardDataAlgorithm(cudnnHandle_t, const cudnnFilterDescriptor_t,
                                                        const cudnnTensorDescriptor_t, const cudnnConvolutionDescriptor_t c,
                                                        const cudnnTensorDescriptor_t, const int req, int* got,
                                                        cudnnConvolutionBwdDataAlgoPerf_t* p) {
  return perfs<cudnnConvolutionBwdDataAlgoPerf_t, cudnnConvolutionBwdDataAlgo_t>(c, req, got, p, true);
}
cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(cudnnHandle_t, const cudnnTensorDescriptor_t,
                                                            const cudnnTensorDescriptor_t,
                                                            const cudnnConvolutionDescriptor_t c,
                                                            const cudnnFilterDescriptor_t, const int req, int* got,
                                                            cudnnConvolutionBwdFilterAlgoPerf_t* p) {
  return perfs<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(c, req, got, p);
}
cudnnStatus_t cudnnFindConvolutionBackwardFilterAlgorithm(cudnnHandle_t, const cudnnTensorDescriptor_t,
                                                          const cudnnTensorDescriptor_t,
                                                          const cudnnConvolutionDescriptor_t c,
                                                          const cudnnFilterDescriptor_t, const int req, int* got,
                                                          cudnnConvolutionBwdFilterAlgoPerf_t* p) {
  return perfs<cudnnConvolutionBwdFilterAlgoPerf_t, cudnnConvolutionBwdFilterAlgo_t>(c, req, got, p, true);
}

// ---- convolutions -------------------------------------------------------------------------------
// a workspace the chosen algorithm needs must be there, as on the device
static bool ws_ok(int algo, const void* ws, size_t bytes) { return algo != 1 || (ws && bytes >= (size_t(1) << 20)); }

cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t, const void* alpha, const cudnnTensorDescriptor_t xd, const void* x,
                                      const cudnnFilterDescriptor_t wd, const void* w,
                                      const cudnnConvolutionDescriptor_t cd, cudnnConvolutionFwdAlgo_t algo, void* ws,
                                      size_t wsb, const void* beta, const cudnnTensorDescriptor_t yd, void* y) {
  if (!valid(xd, wd, cd, yd) || !ws_ok(int(algo), ws, wsb)) return CUDNN_STATUS_BAD_PARAM;
  if (emu::skip_kernels()) return CUDNN_STATUS_SUCCESS;
  const cudnnDataType_t dt = xd->dt;
  std::vector<double> acc(numel(yd), 0.0);
  each_term(xd, wd, cd, yd, [&](size_t yi, size_t xi, size_t wi) { acc[yi] += load(dt, x, xi) * load(dt, w, wi); });
  const double a = scale(dt, alpha), b = scale(dt, beta);
  for (size_t i = 0; i < acc.size(); ++i) store(dt, y, i, a * acc[i] + (b != 0 ? b * load(dt, y, i) : 0));
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBiasActivationForward(
    cudnnHandle_t, const void* alpha1, const cudnnTensorDescriptor_t xd, const void* x, const cudnnFilterDescriptor_t wd,
    const void* w, const cudnnConvolutionDescriptor_t cd, cudnnConvolutionFwdAlgo_t algo, void* ws, size_t wsb,
    const void* alpha2, const cudnnTensorDescriptor_t zd, const void* z, const cudnnTensorDescriptor_t bd,
    const void* bias, const cudnnActivationDescriptor_t ad, const cudnnTensorDescriptor_t yd, void* y) {
  if (!valid(xd, wd, cd, yd) || !ws_ok(int(algo), ws, wsb) || !zd || !bd || !ad || bd->c != yd->c)
    return CUDNN_STATUS_BAD_PARAM;
  if (ad->mode != CUDNN_ACTIVATION_RELU && ad->mode != CUDNN_ACTIVATION_IDENTITY) return CUDNN_STATUS_NOT_SUPPORTED;
  if (emu::skip_kernels()) return CUDNN_STATUS_SUCCESS;
  const cudnnDataType_t dt = xd->dt;
  std::vector<double> acc(numel(yd), 0.0);
  each_term(xd, wd, cd, yd, [&](size_t yi, size_t xi, size_t wi) { acc[yi] += load(dt, x, xi) * load(dt, w, wi); });
  const double a1 = scale(dt, alpha1), a2 = scale(dt, alpha2);
  const size_t S = size_t(yd->h) * yd->w;
  for (size_t i = 0; i < acc.size(); ++i) {
    // z may alias y: read before writing
    double v = a1 * acc[i] + (a2 != 0 ? a2 * load(dt, z, i) : 0) + load(dt, bias, (i / S) % size_t(yd->c));
    if (ad->mode == CUDNN_ACTIVATION_RELU) v = v > 0 ? v : (std::isnan(v) ? v : 0);
    store(dt, y, i, v);
  }
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t, const void* alpha, const cudnnFilterDescriptor_t wd,
                                           const void* w, const cudnnTensorDescriptor_t dyd, const void* dy,
                                           const cudnnConvolutionDescriptor_t cd, cudnnConvolutionBwdDataAlgo_t algo,
                                           void* ws, size_t wsb, const void* beta, const cudnnTensorDescriptor_t dxd,
                                           void* dx) {
  if (!valid(dxd, wd, cd, dyd) || !ws_ok(int(algo), ws, wsb)) return CUDNN_STATUS_BAD_PARAM;
  if (emu::skip_kernels()) return CUDNN_STATUS_SUCCESS;
  const cudnnDataType_t dt = dxd->dt;
  std::vector<double> acc(numel(dxd), 0.0);
  each_term(dxd, wd, cd, dyd, [&](size_t yi, size_t xi, size_t wi) { acc[xi] += load(dt, dy, yi) * load(dt, w, wi); });
  const double a = scale(dt, alpha), b = scale(dt, beta);
  for (size_t i = 0; i < acc.size(); ++i) store(dt, dx, i, a * acc[i] + (b != 0 ? b * load(dt, dx, i) : 0));
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t, const void* alpha, const cudnnTensorDescriptor_t xd,
                                             const void* x, const cudnnTensorDescriptor_t dyd, const void* dy,
                                             const cudnnConvolutionDescriptor_t cd,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* ws, size_t wsb,
                                             const void* beta, const cudnnFilterDescriptor_t dwd, void* dw) {
  if (!valid(xd, dwd, cd, dyd) || !ws_ok(int(algo), ws, wsb)) return CUDNN_STATUS_BAD_PARAM;
  if (emu::skip_kernels()) return CUDNN_STATUS_SUCCESS;
  const cudnnDataType_t dt = xd->dt;
  std::vector<double> acc(numel(dwd), 0.0);
  each_term(xd, dwd, cd, dyd, [&](size_t yi, size_t xi, size_t wi) { acc[wi] += load(dt, dy, yi) * load(dt, x, xi); });
  const double a = scale(dt, alpha), b = scale(dt, beta);
  for (size_t i = 0; i < acc.size(); ++i) store(dt, dw, i, a * acc[i] + (b != 0 ? b * load(dt, dw, i) : 0));
  return CUDNN_STATUS_SUCCESS;
}

// ---- the graph API ------------------------------------------------------------------------------
// Descriptors that keep their attributes, operation graphs of the nodes Ignis builds (a forward
// convolution with a bias ADD and an activation's pointwise nodes after it, a composed activation's
// constants by value in host memory; the backward data and filter convolutions) executed by the
// reference loops above, in double. Which graphs an engine takes follows what cuDNN 9.19 did on the
// H100 / H200 runs, so the emulator walks the paths the device walks: IGNIS_CUDA_EMU_GRAPH = "relu" (the default: convolutions, conv + bias, and conv (+ bias) +
// ReLU without clips; for other activations the heuristics list no engine), "all" (every graph
// Ignis describes, each pointwise mode computed here), "none" (every graph declines at its first
// descriptor, as before this emulation).
}  // extern "C": the helpers are C++

namespace {

enum class GraphMode { none, relu, all };
GraphMode graph_mode() {
  static const GraphMode m = [] {
    const char* v = std::getenv("IGNIS_CUDA_EMU_GRAPH");
    if (v && std::strcmp(v, "none") == 0) return GraphMode::none;
    if (v && std::strcmp(v, "all") == 0) return GraphMode::all;
    return GraphMode::relu;
  }();
  return m;
}

struct Bd {
  cudnnBackendDescriptorType_t type;
  std::map<int, std::vector<unsigned char>> raw;  // attribute -> its elements' bytes
  std::map<int, std::vector<Bd*>> desc;          // attribute -> descriptors
  std::vector<std::unique_ptr<Bd>> owned;          // descriptors made here for this one (an engine)
  bool finalized = false;
};

size_t elem_size(cudnnBackendAttributeType_t t) {
  switch (t) {
    case CUDNN_TYPE_INT64: case CUDNN_TYPE_DOUBLE: case CUDNN_TYPE_VOID_PTR: case CUDNN_TYPE_HANDLE:
      return 8;
    case CUDNN_TYPE_BOOLEAN: return sizeof(bool);
    case CUDNN_TYPE_FLOAT: return 4;
    default: return 4;  // the enums
  }
}

template <class T>
T attr(const Bd* d, int a, T fallback = T{}, size_t i = 0) {
  auto it = d->raw.find(a);
  if (it == d->raw.end() || it->second.size() < (i + 1) * sizeof(T)) return fallback;
  T v;
  std::memcpy(&v, it->second.data() + i * sizeof(T), sizeof(T));
  return v;
}
Bd* child(const Bd* d, int a, size_t i = 0) {
  auto it = d->desc.find(a);
  return it == d->desc.end() || it->second.size() <= i ? nullptr : it->second[i];
}
std::vector<int64_t> ints(const Bd* d, int a) {
  std::vector<int64_t> v;
  auto it = d->raw.find(a);
  if (it != d->raw.end()) {
    v.resize(it->second.size() / 8);
    std::memcpy(v.data(), it->second.data(), v.size() * 8);
  }
  return v;
}

// a convolution node's kind (0 forward: y from x and w; 1 backward data: dx from dy and w; 2 backward
// filter: dw from dy and x) and its x-, w-, y-shaped tensors' and convolution's attributes; -1: not one
int conv_kind(const Bd* op, int* attrs) {
  static const int kAttrs[3][4] = {
      {CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W,
       CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC},
      {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W,
       CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC},
      {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW,
       CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC}};
  const int kind = op->type == CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR         ? 0
                   : op->type == CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR   ? 1
                   : op->type == CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR ? 2
                                                                                                : -1;
  if (kind >= 0) std::memcpy(attrs, kAttrs[kind], sizeof kAttrs[kind]);
  return kind;
}

// whether an engine takes the operation graph (the mode above)
bool engine_takes(const Bd* graph) {
  if (graph_mode() == GraphMode::all) return true;
  auto it = graph->desc.find(CUDNN_ATTR_OPERATIONGRAPH_OPS);
  if (it == graph->desc.end()) return false;
  for (const Bd* op : it->second) {
    if (op->type != CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR) continue;
    const Bd* pw = child(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR);
    const auto mode = attr<cudnnPointwiseMode_t>(pw, CUDNN_ATTR_POINTWISE_MODE);
    if (mode == CUDNN_POINTWISE_ADD) continue;
    const bool plain_relu = mode == CUDNN_POINTWISE_RELU_FWD && attr<double>(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP) == 0 &&
                            attr<double>(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE) == 0 &&
                            !pw->raw.count(CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP);
    if (!plain_relu) return false;
  }
  return true;
}

// the tensor descriptor as the legacy structs each_term reads
cudnnTensorStruct as_tensor(const Bd* t) {
  const auto d = ints(t, CUDNN_ATTR_TENSOR_DIMENSIONS);
  cudnnTensorStruct s;
  s.dt = attr<cudnnDataType_t>(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_DATA_FLOAT);
  if (d.size() == 4) { s.n = int(d[0]); s.c = int(d[1]); s.h = int(d[2]); s.w = int(d[3]); }
  return s;
}
size_t count(const Bd* t) {
  size_t n = 1;
  for (int64_t v : ints(t, CUDNN_ATTR_TENSOR_DIMENSIONS)) n *= size_t(v);
  return n;
}

double pointwise(const Bd* pw, double x, double b, double t) {
  const auto mode = attr<cudnnPointwiseMode_t>(pw, CUDNN_ATTR_POINTWISE_MODE);
  switch (mode) {
    case CUDNN_POINTWISE_ADD: return x + b;
    case CUDNN_POINTWISE_RELU_FWD: {
      if (std::isnan(x)) return x;
      const double lo = attr<double>(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP);
      const double slope = attr<double>(pw, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE);
      double v = x < lo ? lo + slope * (x - lo) : x;
      if (pw->raw.count(CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP)) v = std::min(v, attr<double>(pw, CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP));
      return v;
    }
    case CUDNN_POINTWISE_GELU_FWD: return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case CUDNN_POINTWISE_GELU_APPROX_TANH_FWD:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case CUDNN_POINTWISE_SWISH_FWD: return x / (1 + std::exp(-attr<double>(pw, CUDNN_ATTR_POINTWISE_SWISH_BETA, 1.0) * x));
    case CUDNN_POINTWISE_SIGMOID_FWD: return 1 / (1 + std::exp(-x));
    case CUDNN_POINTWISE_TANH_FWD: return std::tanh(x);
    case CUDNN_POINTWISE_SOFTPLUS_FWD: {
      const double beta = attr<double>(pw, CUDNN_ATTR_POINTWISE_SOFTPLUS_BETA, 1.0);
      return std::log1p(std::exp(beta * x)) / beta;
    }
    // the modes Ignis composes the other activations of
    case CUDNN_POINTWISE_MUL: return x * b;
    case CUDNN_POINTWISE_SUB: return x - b;
    case CUDNN_POINTWISE_DIV: return x / b;
    case CUDNN_POINTWISE_EXP: return std::exp(x);
    case CUDNN_POINTWISE_LOG: return std::log(x);
    case CUDNN_POINTWISE_ABS: return std::fabs(x);
    case CUDNN_POINTWISE_NEG: return -x;
    case CUDNN_POINTWISE_CMP_LE: return x <= b ? 1 : 0;  // a boolean mask
    case CUDNN_POINTWISE_LOGICAL_NOT: return x != 0 ? 0 : 1;
    case CUDNN_POINTWISE_BINARY_SELECT: return t != 0 ? x : b;
    default: return std::nan("");
  }
}

// runs the graph of `plan` on the tensors of `pack`, in double, virtual tensors in host buffers
cudnnStatus_t run_graph(const Bd* plan, const Bd* pack) {
  const Bd* cfg = child(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG);
  const Bd* eng = cfg ? child(cfg, CUDNN_ATTR_ENGINECFG_ENGINE) : nullptr;
  const Bd* graph = eng ? child(eng, CUDNN_ATTR_ENGINE_OPERATION_GRAPH) : nullptr;
  if (!graph) return CUDNN_STATUS_BAD_PARAM;
  const auto uids = ints(pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS);
  std::map<int64_t, void*> ptr;
  for (size_t i = 0; i < uids.size(); ++i) ptr[uids[i]] = attr<void*>(pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, nullptr, i);
  std::map<int64_t, std::vector<double>> val;  // every tensor's values, by uid
  auto uid_of = [](const Bd* t) { return attr<int64_t>(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, -1); };
  auto in = [&](const Bd* t) -> const std::vector<double>* {
    const int64_t u = uid_of(t);
    auto it = val.find(u);
    if (it != val.end()) return &it->second;
    if (attr<bool>(t, CUDNN_ATTR_TENSOR_IS_VIRTUAL) || !ptr.count(u) || !ptr[u]) return nullptr;
    std::vector<double>& v = val[u];
    const cudnnDataType_t dt = attr<cudnnDataType_t>(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_DATA_FLOAT);
    // a by-value scalar's pointer is to host memory (here all memory is)
    v.resize(attr<bool>(t, CUDNN_ATTR_TENSOR_IS_BY_VALUE) ? 1 : count(t));
    for (size_t i = 0; i < v.size(); ++i) v[i] = load(dt, ptr[u], i);
    return &v;
  };
  // IGNIS_CUDA_EMU_GRAPH_WRONG set (read at each execution): the graphs write wrong outputs, 1.5 x + 1
  // (a faulty engine, for the first-call comparison's tests)
  const bool wrong = std::getenv("IGNIS_CUDA_EMU_GRAPH_WRONG") != nullptr;
  auto out = [&](const Bd* t, std::vector<double> v) -> bool {
    const int64_t u = uid_of(t);
    if (!attr<bool>(t, CUDNN_ATTR_TENSOR_IS_VIRTUAL)) {
      if (!ptr.count(u) || !ptr[u]) return false;
      const cudnnDataType_t dt = attr<cudnnDataType_t>(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_DATA_FLOAT);
      for (size_t i = 0; i < v.size(); ++i) store(dt, ptr[u], i, wrong ? 1.5 * v[i] + 1 : v[i]);
    }
    val[u] = std::move(v);
    return true;
  };
  for (const Bd* op : graph->desc.at(CUDNN_ATTR_OPERATIONGRAPH_OPS)) {
    int at[4];
    if (const int kind = conv_kind(op, at); kind >= 0) {
      const Bd *tx = child(op, at[0]), *tw = child(op, at[1]), *ty = child(op, at[2]), *cd = child(op, at[3]);
      if (!tx || !tw || !ty || !cd) return CUDNN_STATUS_BAD_PARAM;
      cudnnTensorStruct xs = as_tensor(tx), ys = as_tensor(ty), wt = as_tensor(tw);
      cudnnFilterStruct ws;
      ws.dt = wt.dt; ws.k = wt.n; ws.c = wt.c; ws.h = wt.h; ws.w = wt.w;
      cudnnConvolutionStruct cs;
      const auto pad = ints(cd, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS), str = ints(cd, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES),
                 dil = ints(cd, CUDNN_ATTR_CONVOLUTION_DILATIONS);
      if (pad.size() != 2 || str.size() != 2 || dil.size() != 2 || ws.c == 0) return CUDNN_STATUS_BAD_PARAM;
      cs.ph = int(pad[0]); cs.pw = int(pad[1]); cs.sh = int(str[0]); cs.sw = int(str[1]); cs.dh = int(dil[0]); cs.dw = int(dil[1]);
      cs.groups = xs.c / ws.c;
      if (!valid(&xs, &ws, &cs, &ys)) return CUDNN_STATUS_BAD_PARAM;
      const Bd* to = kind == 0 ? ty : kind == 1 ? tx : tw;
      const auto *u = in(kind == 0 ? tx : ty), *v = in(kind == 2 ? tx : tw);
      if (!u || !v) return CUDNN_STATUS_BAD_PARAM;
      std::vector<double> acc(count(to), 0.0);
      each_term(&xs, &ws, &cs, &ys, [&](size_t yi, size_t xi, size_t wi) {
        if (kind == 0) acc[yi] += (*u)[xi] * (*v)[wi];
        else if (kind == 1) acc[xi] += (*u)[yi] * (*v)[wi];
        else acc[wi] += (*u)[yi] * (*v)[xi];
      });
      if (!out(to, std::move(acc))) return CUDNN_STATUS_BAD_PARAM;
    } else if (op->type == CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR) {
      const Bd *pw = child(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR), *tx = child(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC),
               *tb = child(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC), *tt = child(op, CUDNN_ATTR_OPERATION_POINTWISE_TDESC),
               *ty = child(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC);
      if (!pw || !tx || !ty) return CUDNN_STATUS_BAD_PARAM;
      const auto* x = in(tx);
      const auto* b = tb ? in(tb) : nullptr;
      const auto* t = tt ? in(tt) : nullptr;
      if (!x || (tb && !b) || (tt && !t)) return CUDNN_STATUS_BAD_PARAM;
      // the B operand broadcasts over [1, C, 1, 1] (the bias) or is a scalar; the mask T is whole
      const cudnnTensorStruct ys = as_tensor(ty);
      const size_t S = size_t(ys.h) * ys.w, C = size_t(ys.c);
      std::vector<double> r(x->size());
      if (t && t->size() != r.size()) return CUDNN_STATUS_BAD_PARAM;
      auto at = [&](size_t i) { return b->size() == r.size() ? i : b->size() == 1 ? 0 : (i / S) % C; };
      for (size_t i = 0; i < r.size(); ++i) r[i] = pointwise(pw, (*x)[i], b ? (*b)[at(i)] : 0.0, t ? (*t)[i] : 0.0);
      if (!out(ty, std::move(r))) return CUDNN_STATUS_BAD_PARAM;
    } else {
      return CUDNN_STATUS_NOT_SUPPORTED;
    }
  }
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

extern "C" {

cudnnStatus_t cudnnBackendCreateDescriptor(cudnnBackendDescriptorType_t t, cudnnBackendDescriptor_t* d) {
  if (!d) return CUDNN_STATUS_BAD_PARAM;
  *d = nullptr;
  if (graph_mode() == GraphMode::none) return CUDNN_STATUS_NOT_SUPPORTED;
  Bd* b = new Bd;
  b->type = t;
  *d = b;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnBackendDestroyDescriptor(cudnnBackendDescriptor_t d) {
  delete static_cast<Bd*>(d);
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnBackendSetAttribute(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t a,
                                       cudnnBackendAttributeType_t t, int64_t n, const void* v) {
  Bd* b = static_cast<Bd*>(d);
  if (!b || b->finalized || n < 0 || (n > 0 && !v)) return CUDNN_STATUS_BAD_PARAM;
  if (t == CUDNN_TYPE_BACKEND_DESCRIPTOR) {
    const auto* ds = static_cast<const cudnnBackendDescriptor_t*>(v);
    std::vector<Bd*>& list = b->desc[int(a)];
    list.clear();
    for (int64_t i = 0; i < n; ++i) list.push_back(static_cast<Bd*>(ds[i]));
  } else {
    const auto* bytes = static_cast<const unsigned char*>(v);
    b->raw[int(a)].assign(bytes, bytes + size_t(n) * elem_size(t));
  }
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnBackendGetAttribute(cudnnBackendDescriptor_t const d, cudnnBackendAttributeName_t a,
                                       cudnnBackendAttributeType_t, int64_t requested, int64_t* n, void* v) {
  const Bd* b = static_cast<const Bd*>(d);
  if (!b || !b->finalized) return CUDNN_STATUS_BAD_PARAM;
  // with no array: how many there are
  auto give = [&](int64_t have) { if (n) *n = !v || requested > have ? have : requested; };
  switch (a) {
    case CUDNN_ATTR_ENGINEHEUR_RESULTS: {
      // two engine configurations (engines 0 and 1, which compute alike) where an engine takes the
      // graph, so that cudnn.benchmark has a choice; none where not
      const Bd* graph = child(b, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH);
      const int64_t have = graph && engine_takes(graph) ? 2 : 0;
      give(have);
      for (int64_t i = 0; v && i < std::min(requested, have); ++i) {
        Bd* cfg = static_cast<Bd*>(static_cast<cudnnBackendDescriptor_t*>(v)[i]);
        cfg->owned.push_back(std::make_unique<Bd>());
        Bd* eng = cfg->owned.back().get();
        eng->type = CUDNN_BACKEND_ENGINE_DESCRIPTOR;
        eng->desc[CUDNN_ATTR_ENGINE_OPERATION_GRAPH] = {const_cast<Bd*>(graph)};
        const auto* index = reinterpret_cast<const unsigned char*>(&i);
        eng->raw[CUDNN_ATTR_ENGINE_GLOBAL_INDEX].assign(index, index + sizeof i);
        eng->finalized = true;
        cfg->desc[CUDNN_ATTR_ENGINECFG_ENGINE] = {eng};
        cfg->finalized = true;
      }
      return CUDNN_STATUS_SUCCESS;
    }
    case CUDNN_ATTR_ENGINECFG_ENGINE: {
      const Bd* eng = child(b, CUDNN_ATTR_ENGINECFG_ENGINE);
      give(eng ? 1 : 0);
      if (eng && v && requested > 0) {
        Bd* to = static_cast<Bd*>(static_cast<cudnnBackendDescriptor_t*>(v)[0]);
        to->desc = eng->desc;
        to->raw = eng->raw;
        to->finalized = true;
      }
      return CUDNN_STATUS_SUCCESS;
    }
    case CUDNN_ATTR_ENGINE_NUMERICAL_NOTE:
    case CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE: give(0); return CUDNN_STATUS_SUCCESS;
    case CUDNN_ATTR_ENGINE_GLOBAL_INDEX:
      give(1);
      if (v && requested > 0) *static_cast<int64_t*>(v) = attr<int64_t>(b, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, 0);
      return CUDNN_STATUS_SUCCESS;
    case CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE:
      give(1);
      if (v && requested > 0) *static_cast<int64_t*>(v) = int64_t(1) << 20;  // the workspace path runs too
      return CUDNN_STATUS_SUCCESS;
    default: return CUDNN_STATUS_NOT_SUPPORTED;
  }
}
cudnnStatus_t cudnnBackendFinalize(cudnnBackendDescriptor_t d) {
  Bd* b = static_cast<Bd*>(d);
  if (!b || b->finalized) return CUDNN_STATUS_BAD_PARAM;
  b->finalized = true;
  return CUDNN_STATUS_SUCCESS;
}
cudnnStatus_t cudnnBackendExecute(cudnnHandle_t, cudnnBackendDescriptor_t plan, cudnnBackendDescriptor_t pack) {
  const Bd *p = static_cast<const Bd*>(plan), *vp = static_cast<const Bd*>(pack);
  if (!p || !vp || !p->finalized || !vp->finalized) return CUDNN_STATUS_BAD_PARAM;
  if (!attr<void*>(vp, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, nullptr)) return CUDNN_STATUS_BAD_PARAM;  // 1 MiB was asked
  if (emu::skip_kernels()) return CUDNN_STATUS_SUCCESS;
  return run_graph(p, vp);
}

// ---- cuBLAS ---------------------------------------------------------------------------------------
cublasStatus_t cublasCreate_v2(cublasHandle_t* h) {
  *h = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream_v2(cublasHandle_t h, cudaStream_t s) {
  h->stream = s;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t) { return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasGetProperty(libraryPropertyType t, int* v) {
  *v = t == MAJOR_VERSION ? CUBLAS_VER_MAJOR : t == MINOR_VERSION ? CUBLAS_VER_MINOR : CUBLAS_VER_PATCH;
  return CUBLAS_STATUS_SUCCESS;
}
// cuBLAS's checks: leading dimensions at least the rows of the stored (column-major) operand
static bool gemm_ok(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k, int lda, int ldb, int ldc) {
  if (m < 0 || n < 0 || k < 0) return false;
  if (lda < std::max(1, ta == CUBLAS_OP_N ? m : k)) return false;
  if (ldb < std::max(1, tb == CUBLAS_OP_N ? k : n)) return false;
  return ldc >= std::max(1, m);
}
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                         const float* alpha, const float* A, int lda, long long sa, const float* B,
                                         int ldb, long long sb, const float* beta, float* C, int ldc, long long sc,
                                         int batch) {
  if (!gemm_ok(ta, tb, m, n, k, lda, ldb, ldc) || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  if (!emu::skip_kernels()) gemm(false, ta, tb, m, n, k, *alpha, A, lda, sa, B, ldb, sb, *beta, C, ldc, sc, batch);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSgemm_v2(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                              const float* alpha, const float* A, int lda, const float* B, int ldb, const float* beta,
                              float* C, int ldc) {
  if (!gemm_ok(ta, tb, m, n, k, lda, ldb, ldc)) return CUBLAS_STATUS_INVALID_VALUE;
  if (!emu::skip_kernels()) gemm(false, ta, tb, m, n, k, *alpha, A, lda, 0, B, ldb, 0, *beta, C, ldc, 0, 1);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDgemm_v2(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                              const double* alpha, const double* A, int lda, const double* B, int ldb,
                              const double* beta, double* C, int ldc) {
  if (!gemm_ok(ta, tb, m, n, k, lda, ldb, ldc)) return CUBLAS_STATUS_INVALID_VALUE;
  if (!emu::skip_kernels()) gemm(true, ta, tb, m, n, k, *alpha, A, lda, 0, B, ldb, 0, *beta, C, ldc, 0, 1);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                         const double* alpha, const double* A, int lda, long long sa, const double* B,
                                         int ldb, long long sb, const double* beta, double* C, int ldc, long long sc,
                                         int batch) {
  if (!gemm_ok(ta, tb, m, n, k, lda, ldb, ldc) || batch < 0) return CUBLAS_STATUS_INVALID_VALUE;
  if (!emu::skip_kernels()) gemm(true, ta, tb, m, n, k, *alpha, A, lda, sa, B, ldb, sb, *beta, C, ldc, sc, batch);
  return CUBLAS_STATUS_SUCCESS;
}

}  // extern "C"
