// 2-d convolution through cuDNN (NCHW, float32 / float64): forward, backward-data and
// backward-filter. Algorithms come from cuDNN's heuristics (the first whose workspace the
// allocator can give), or with ignis.backends.cudnn.benchmark = true from timing every algorithm
// once per shape (cudnnFind*), cached by shape. Workspaces come from the caching allocator.
// The graph API first: every convolution (forward, backward data, backward filter), fused with bias
// and the activations cuDNN's pointwise modes cover, goes to a cuDNN operation graph where an engine
// takes it and its first call times it faster than the unfused path (conv_graph.cpp). The unfused
// forward is the convolution (its own graph or the legacy call, whichever timed faster) and then one
// epilogue pass over the output (activations.cu: bias_act_cuda); with a bias and an activation, the
// convolution with its bias as a graph where that timed faster, then the activation's pass. With
// ignis.backends.cudnn.graphFusion = false only the legacy calls run: conv + bias + ReLU as cuDNN's
// fused call, anything else as the convolution and the epilogue. On an H200 (cuDNN 9.19) the legacy
// heuristics' pick ran up to 6 times slower than the graph's for plain float32 convolutions.
// The bias gradient is a per-channel sum over N, H, W (chansum.cuh), accumulated in double as on the CPU.
#include <cudnn.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common.h"
#include "conv_graph.h"
#include "kernels.h"
#include "profile.h"

namespace ignis_cuda {
namespace {

std::mutex g_mu;
std::vector<cudnnHandle_t> g_handles;
std::vector<cudaStream_t> g_streams;  // the stream each handle was last bound to

void check(cudnnStatus_t s, const std::string& what) {
  if (s == CUDNN_STATUS_SUCCESS) return;
  fail(cudnn_out_of_memory(s) ? "MemoryError" : "DeviceError", what + ": " + cudnnGetErrorString(s));
}

// The device's handle, bound to its stream when that differs from the one set last (once: a device
// keeps its stream), as blas.cpp's.
cudnnHandle_t handle(int dev) {
  cudaStream_t st = stream(dev);
  std::lock_guard<std::mutex> lk(g_mu);
  if (int(g_handles.size()) <= dev) {
    g_handles.resize(size_t(dev) + 1, nullptr);
    g_streams.resize(size_t(dev) + 1, nullptr);
  }
  if (!g_handles[size_t(dev)]) check(cudnnCreate(&g_handles[size_t(dev)]), "cudnnCreate");
  if (g_streams[size_t(dev)] != st) {
    check(cudnnSetStream(g_handles[size_t(dev)], st), "cudnnSetStream");
    g_streams[size_t(dev)] = st;
  }
  return g_handles[size_t(dev)];
}

std::string describe(const IgnisCudaConv& s) {
  auto v = [](int64_t a) { return std::to_string(a); };
  return "conv2d input [" + v(s.N) + ", " + v(s.C) + ", " + v(s.H) + ", " + v(s.W) + "] weight [" + v(s.O) + ", " +
         v(s.C / s.G) + ", " + v(s.kh) + ", " + v(s.kw) + "] " + dtype_name(s.dtype) + " on cuda";
}

// cuDNN's 4-d descriptors index with 32-bit ints. A batch whose input or output has more than
// 2^31 - 1 elements runs in batch chunks where both fit, as PyTorch's cuDNN convolution does
// (split_batch_dim_to_32bit_out); one sample over that limit is a ShapeError. Returns the chunk.
int64_t batch_chunk(const IgnisCudaConv& s, const char* op) {
  const int64_t lim = 2147483647LL;
  const int64_t per = std::max(s.C * s.H * s.W, s.O * s.OH * s.OW);
  if (per * s.N <= lim) return s.N;
  if (per > lim)
    fail("ShapeError", std::string(op) + " (" + describe(s) + "): one sample has " + std::to_string(per) +
                           " elements, more than the 2^31 - 1 cuDNN can index");
  return lim / per;
}
// Calls fn(chunk shape, byte offset of its first sample in the input, in the output) for each batch
// chunk of at most nb samples.
template <class Fn>
void each_chunk(const IgnisCudaConv& s, int64_t nb, Fn fn) {
  const int64_t es = int64_t(dtype_size(s.dtype)), xs = s.C * s.H * s.W * es, ys = s.O * s.OH * s.OW * es;
  for (int64_t n0 = 0; n0 < s.N; n0 += nb) {
    IgnisCudaConv c = s;
    c.N = std::min(nb, s.N - n0);
    fn(c, n0 * xs, n0 * ys);
  }
}

// RAII descriptors for one call
// cuDNN's alpha (1) and beta (0) scaling factors: float for float tensors, double for double.
const void* scale_one(int32_t dtype) {
  static const float f = 1;
  static const double d = 1;
  return dtype == 0 ? static_cast<const void*>(&f) : &d;
}
const void* scale_zero(int32_t dtype) {
  static const float f = 0;
  static const double d = 0;
  return dtype == 0 ? static_cast<const void*>(&f) : &d;
}

// The legacy API's descriptors for one call, made on first use (ensure()): the graph path, which
// most calls take, needs none of them, and creating and setting them cost ~7 µs of host time per
// call (cuDNN 9, measured on the build machine). The constructor checks what the legacy path checked
// (dtype, dims, symmetric padding) so both paths refuse the same inputs.
struct Desc {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, b = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnActivationDescriptor_t act = nullptr;
  cudnnDataType_t dt;
  std::string what;
  IgnisCudaConv s;
  bool built = false;
  Desc(const IgnisCudaConv& shape, const std::string& op) : s(shape) {
    what = op + " (" + describe(s) + ")";
    if (s.dtype != 0 && s.dtype != 1)
      fail("DTypeError", what + ": expected float32 or float64");
    const int64_t lim = 2147483647LL;
    for (int64_t d : {s.N, s.C, s.H, s.W, s.O, s.OH, s.OW})
      if (d > lim) fail("ShapeError", what + ": dims above 2^31 are not supported");
    dt = s.dtype == 0 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
    // cuDNN's output size for symmetric padding (cudnnGetConvolution2dForwardOutputDim's formula)
    const int64_t h = (s.H + 2 * s.pt - s.dh * (s.kh - 1) - 1) / s.sh + 1;
    const int64_t wd = (s.W + 2 * s.pl - s.dw * (s.kw - 1) - 1) / s.sw + 1;
    if (h != s.OH || wd != s.OW)
      fail("ValueError", what + ": cuDNN needs symmetric padding; the requested output is " + std::to_string(s.OH) + "x" +
                             std::to_string(s.OW) + " but symmetric padding gives " + std::to_string(h) + "x" +
                             std::to_string(wd) + " (pad the input explicitly)");
  }
  Desc& ensure() {
    if (built) return *this;
    hostt::Scope ts("conv: legacy descriptors");
    try {
      build();
    } catch (...) {
      destroy();
      throw;
    }
    built = true;
    return *this;
  }
  void build() {
    check(cudnnCreateTensorDescriptor(&x), what);
    check(cudnnCreateTensorDescriptor(&y), what);
    check(cudnnCreateTensorDescriptor(&b), what);
    check(cudnnCreateFilterDescriptor(&w), what);
    check(cudnnCreateConvolutionDescriptor(&conv), what);
    check(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, dt, int(s.N), int(s.C), int(s.H), int(s.W)), what);
    check(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, dt, int(s.N), int(s.O), int(s.OH), int(s.OW)), what);
    check(cudnnSetTensor4dDescriptor(b, CUDNN_TENSOR_NCHW, dt, 1, int(s.O), 1, 1), what);
    check(cudnnSetFilter4dDescriptor(w, dt, CUDNN_TENSOR_NCHW, int(s.O), int(s.C / s.G), int(s.kh), int(s.kw)), what);
    check(cudnnSetConvolution2dDescriptor(conv, int(s.pt), int(s.pl), int(s.sh), int(s.sw), int(s.dh), int(s.dw),
                                          CUDNN_CROSS_CORRELATION, dt),
          what);
    check(cudnnSetConvolutionGroupCount(conv, int(s.G)), what);
    // TF32 for float32 convolutions unless ignis.backends.cudnn.allowTf32 is false
    check(cudnnSetConvolutionMathType(conv, (s.dtype == 0 && !g_flags.tf32_conv) ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH),
          what);
  }
  ~Desc() { destroy(); }
  void destroy() {
    if (act) cudnnDestroyActivationDescriptor(act);
    if (conv) cudnnDestroyConvolutionDescriptor(conv);
    if (w) cudnnDestroyFilterDescriptor(w);
    if (b) cudnnDestroyTensorDescriptor(b);
    if (y) cudnnDestroyTensorDescriptor(y);
    if (x) cudnnDestroyTensorDescriptor(x);
    act = nullptr; conv = nullptr; w = nullptr; b = nullptr; y = nullptr; x = nullptr;
  }
  // The math type of the algorithm about to run (cuDNN's heuristics and Find list (algo, math type)
  // pairs, each with its own workspace), FMA whenever TF32 is off, as PyTorch does.
  void math(const IgnisCudaConv& s, cudnnMathType_t m) {
    check(cudnnSetConvolutionMathType(conv, (s.dtype == 0 && !g_flags.tf32_conv) ? CUDNN_FMA_MATH : m), what);
  }
};

std::string key(const IgnisCudaConv& s, int kind) {
  std::string k = std::to_string(kind) + ":" + std::to_string(s.dtype) + ":" + std::to_string(g_flags.tf32_conv) +
                  std::to_string(g_flags.cudnn_deterministic);
  for (int64_t v : {s.N, s.C, s.H, s.W, s.O, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, s.G}) k += "," + std::to_string(v);
  return k;
}

struct Choice {
  int algo;
  size_t ws;
  cudnnMathType_t math;
  bool bench = false;  // picked by timing (cudnnFind*), else by the heuristics
};

// cuDNN's algorithm enums by value (kind: 0 forward, 1 backward data, 2 backward filter), for the profiler
std::string algo_name(int kind, const Choice& c) {
  static const char* const fwd[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                    "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char* const data[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char* const filt[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED", "FFT_TILING"};
  const char* const* t = kind == 0 ? fwd : kind == 1 ? data : filt;
  const int n = kind == 0 ? 8 : kind == 1 ? 6 : 7;
  std::string s = c.algo >= 0 && c.algo < n ? t[c.algo] : "algo " + std::to_string(c.algo);
  return s + (c.bench ? ", benchmark" : ", heuristics");
}
std::map<std::string, Choice> g_bench;  // benchmark-mode picks, per shape (guarded by g_mu)
// shapes whose cudnnFind* failed (out of memory even after the cache was released, or otherwise),
// with cache_releases() then: they use the heuristics until memory has come free since
std::map<std::string, uint64_t> g_find_failed;  // guarded by g_mu
// cuDNN's heuristic candidates per shape (key()), guarded by g_mu
std::map<std::string, std::vector<Choice>> g_heur;

// With ignis.backends.cudnn.deterministic, only the algorithms cuDNN marks deterministic (the
// backward ones that sum with atomics are not), as PyTorch.
template <class Perf>
bool usable(const Perf& p) {
  return !g_flags.cudnn_deterministic || p.determinism == CUDNN_DETERMINISTIC;
}

// Candidates in preference order: the cached benchmark pick, else cuDNN's heuristic list.
template <class Perf, class GetV7, class Find>
std::vector<Choice> candidates(int dev, const IgnisCudaConv& s, int kind, GetV7 get, Find find, const std::string& what) {
  hostt::Scope ts("conv: legacy algorithm lookup");
  const std::string k = std::to_string(dev) + "@" + key(s, kind);  // picks are per device (cards differ)
  if (g_flags.cudnn_benchmark) {
    {
      std::lock_guard<std::mutex> lk(g_mu);
      auto it = g_bench.find(k);
      if (it != g_bench.end()) return {it->second};
    }
    // cudnnFind* allocates its own buffers with cudaMalloc: when that fails (memory held by the
    // cache, say), the cache is released and Find runs once more, as PyTorch empties its cache
    // around benchmarking. Failing again, failing otherwise, or with no algorithm that ran, the
    // heuristics below choose, and this shape is timed again only once memory has come free for
    // another reason (cache_releases(), which this path's own release does not count).
    bool skip;
    {
      std::lock_guard<std::mutex> lk(g_mu);
      auto it = g_find_failed.find(k);
      skip = it != g_find_failed.end() && it->second == cache_releases();
    }
    for (int attempt = 0; !skip && attempt < 2; ++attempt) {
      Perf perf[16];
      int got = 0;
      const cudnnStatus_t st = find(perf, 16, &got);
      if (st == CUDNN_STATUS_SUCCESS) {
        for (int i = 0; i < got; ++i)
          if (perf[i].status == CUDNN_STATUS_SUCCESS && usable(perf[i])) {
            Choice c{int(perf[i].algo), perf[i].memory, perf[i].mathType, true};
            std::lock_guard<std::mutex> lk(g_mu);
            g_bench[k] = c;
            g_find_failed.erase(k);
            return {c};
          }
        break;  // it ran, but no algorithm did: more memory would not change that
      }
      cudaGetLastError();
      if (attempt > 0 || !cudnn_out_of_memory(st) || !release_cache(dev)) break;
    }
    if (!skip) {
      std::lock_guard<std::mutex> lk(g_mu);
      g_find_failed[k] = cache_releases();
    }
  }
  // cuDNN 9's heuristics query costs tens to hundreds of microseconds of host time, more than many
  // convolutions take on the device: its list is cached per shape, as PyTorch caches its pick
  {
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_heur.find(k);
    if (it != g_heur.end()) return it->second;
  }
  Perf perf[16];
  int got = 0;
  check(get(perf, 16, &got), what + " (heuristics)");
  std::vector<Choice> out;
  for (int i = 0; i < got; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS && usable(perf[i]))
      out.push_back({int(perf[i].algo), perf[i].memory, perf[i].mathType});
  if (out.empty())
    fail("DeviceError", what + ": cuDNN offers no " + (g_flags.cudnn_deterministic ? "deterministic " : "") +
                            "algorithm for this configuration" +
                            (g_flags.cudnn_deterministic ? " (ignis.backends.cudnn.deterministic is true)" : ""));
  std::lock_guard<std::mutex> lk(g_mu);
  g_heur[k] = out;
  return out;
}

// Runs `run(choice, workspace)` with the first candidate whose workspace can be allocated.
template <class Run>
void with_workspace(int dev, const std::vector<Choice>& cands, const std::string& what, Run run) {
  for (size_t i = 0; i < cands.size(); ++i) {
    void* ws = nullptr;
    if (cands[i].ws) {
      try {
        ws = dev_malloc(dev, cands[i].ws);
      } catch (const CudaError& e) {
        if (e.kind == "MemoryError" && i + 1 < cands.size()) continue;  // try an algorithm needing less
        throw;
      }
    }
    try {
      run(cands[i], ws);
    } catch (...) {
      dev_free(dev, ws, cands[i].ws);
      throw;
    }
    dev_free(dev, ws, cands[i].ws);
    return;
  }
  fail("MemoryError", what + ": no algorithm's workspace fits in memory");
}

// A backward convolution (kind 1 data, 2 filter; conv_graph.h: conv2d_graph_bwd) through its graph
// where that took it and timed faster, else `legacy`.
void graph_or_legacy(int dev, cudnnHandle_t h, const IgnisCudaConv& s, int kind, void* x, void* w, const void* dy,
                     const std::string& what, const std::function<void()>& legacy) {
  GraphRun ran;
  if (g_flags.cudnn_graph && conv2d_graph_bwd(dev, h, s, kind, x, w, const_cast<void*>(dy), what, legacy, ran)) {
    if (prof::on()) prof::library("cudnnBackendExecute", ran.engine.c_str(), ran.workspace, -1);
    return;
  }
  legacy();
}

}  // namespace

size_t cudnn_version() { return cudnnGetVersion(); }
size_t cudnn_cudart_version() { return cudnnGetCudartVersion(); }

void conv2d_fwd_cuda(int dev, const IgnisCudaConv& s, const void* x, const void* w, const void* b, void* y, void* z,
                     int act_op, const double* act_params) {
  hostt::Scope ts("conv2d forward (whole call)");
  if (s.N == 0) return;  // an empty batch: nothing to compute (cuDNN refuses N = 0), as on the CPU
  if (const int64_t nb = batch_chunk(s, "conv2d"); nb < s.N) {
    each_chunk(s, nb, [&](const IgnisCudaConv& c, int64_t xo, int64_t yo) {
      conv2d_fwd_cuda(dev, c, static_cast<const char*>(x) + xo, w, b, static_cast<char*>(y) + yo,
                      z ? static_cast<char*>(z) + yo : nullptr, act_op, act_params);
    });
    return;
  }
  Desc d(s, "conv2d");
  if (z && act_op < 0) fail("ValueError", d.what + ": keeping the pre-activation needs an activation");
  cudnnHandle_t h = handle(dev);
  // the convolution's own output: z when the pre-activation is kept (the epilogue then writes y)
  void* conv_out = z ? z : y;
  const bool epilogue = b || act_op >= 0;
  // cuDNN's legacy calls: the convolution into conv_out, or (allow_fused: graph fusion off) conv +
  // bias + ReLU as its fused call. True when that fused call ran.
  auto legacy = [&](bool allow_fused) {
    d.ensure();
    auto cands = candidates<cudnnConvolutionFwdAlgoPerf_t>(
        dev, s, 0,
        [&](cudnnConvolutionFwdAlgoPerf_t* p, int n, int* got) {
          return cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, n, got, p);
        },
        [&](cudnnConvolutionFwdAlgoPerf_t* p, int n, int* got) {
          return cudnnFindConvolutionForwardAlgorithm(h, d.x, d.w, d.conv, d.y, n, got, p);
        },
        d.what);
    const void* one = scale_one(s.dtype);
    const void* zero = scale_zero(s.dtype);
    bool fused = false;
    with_workspace(dev, cands, d.what, [&](const Choice& c, void* ws) {
      d.math(s, c.math);
      if (allow_fused && b && act_op == A_relu && !z) {
        // cuDNN's fused conv + bias + ReLU: y = relu(conv(x) + 0 * z + b), its z operand aliased to y
        if (!d.act) {
          check(cudnnCreateActivationDescriptor(&d.act), d.what);
          check(cudnnSetActivationDescriptor(d.act, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0), d.what);
        }
        cudnnStatus_t st = cudnnConvolutionBiasActivationForward(
            h, one, d.x, x, d.w, w, d.conv, cudnnConvolutionFwdAlgo_t(c.algo), ws, c.ws, zero, d.y, y, d.b, b, d.act, d.y, y);
        if (st == CUDNN_STATUS_SUCCESS) {
          fused = true;
          if (prof::on())
            prof::library("cudnnConvolutionBiasActivationForward", algo_name(0, c).c_str(), int64_t(c.ws), 1);
          return;
        }
        // cuDNN 9 reports detailed codes (NOT_SUPPORTED_SHAPE, BAD_PARAM_...): their category decides
        const int cat = CUDNN_STATUS_CATEGORY(int(st));
        if (cat != CUDNN_STATUS_NOT_SUPPORTED && cat != CUDNN_STATUS_BAD_PARAM) check(st, d.what + " (fused bias + relu)");
      }
      hostt::Scope tc("cudnnConvolutionForward");
      check(cudnnConvolutionForward(h, one, d.x, x, d.w, w, d.conv, cudnnConvolutionFwdAlgo_t(c.algo), ws, c.ws, zero,
                                    d.y, conv_out),
            d.what);
      // fused 0: conv, then Ignis's bias + activation epilogue (one more kernel, in the record's launches)
      if (prof::on()) prof::library("cudnnConvolutionForward", algo_name(0, c).c_str(), int64_t(c.ws), epilogue ? 0 : -1);
    });
    return fused;
  };
  static const double none[4] = {0, 0, 0, 0};
  const double* params = act_params ? act_params : none;
  // the convolution alone into conv_out: through its own graph where that timed faster than the
  // legacy call
  auto conv_alone = [&] {
    GraphRun plain;
    if (conv2d_graph_fwd(dev, h, s, x, w, nullptr, conv_out, nullptr, -1, nullptr, d.what, [&] { legacy(false); },
                         plain)) {
      if (prof::on()) prof::library("cudnnBackendExecute", plain.engine.c_str(), plain.workspace, 0);
    } else {
      legacy(false);
    }
  };
  // The two-step path: the convolution, then the epilogue (on an H200 the fused graph of some
  // activations ran slower than the plain graph and Ignis's epilogue together). With a bias and an
  // activation whose fused graph cuDNN declined, the convolution with its bias as a graph comes
  // first where that timed faster than the convolution and a bias pass, then the activation alone:
  // on an H100, float32 with TF32 off, the [N, 256, 14, 14] 3x3 shape's conv + bias graph took
  // 0.258 ms and its convolution alone 0.287 (legacy call and plain graph alike), so its GELU, SiLU,
  // mish, leaky ReLU and ELU rows ran at 0.91-0.99x PyTorch's time. With graph fusion off: the
  // legacy calls.
  auto unfused = [&] {
    bool fused = false;
    if (g_flags.cudnn_graph && b && act_op >= 0) {
      GraphRun biased;
      if (conv2d_graph_fwd(dev, h, s, x, w, b, conv_out, nullptr, -1, nullptr, d.what,
                           [&] {
                             conv_alone();
                             bias_act_cuda(dev, s.dtype, conv_out, b, s.N, s.O, s.OH * s.OW, -1, none, nullptr);
                           },
                           biased)) {
        if (prof::on()) prof::library("cudnnBackendExecute", biased.engine.c_str(), biased.workspace, 0);
        // conv_out holds conv + bias (z, when kept): the activation alone into y
        bias_act_cuda(dev, s.dtype, conv_out, nullptr, s.N, s.O, s.OH * s.OW, act_op, params, z ? y : nullptr);
        return;
      }
    }
    if (g_flags.cudnn_graph && epilogue) conv_alone();
    else fused = legacy(!g_flags.cudnn_graph);
    if (!fused && epilogue) bias_act_cuda(dev, s.dtype, conv_out, b, s.N, s.O, s.OH * s.OW, act_op, params, z ? y : nullptr);
  };
  // the graph API first (its heuristics know engines the legacy ones do not pick; fused with the
  // bias and the activation where cuDNN can), kept per shape only where it timed faster than the
  // two-step path on its first call
  if (g_flags.cudnn_graph) {
    GraphRun ran;
    if (conv2d_graph_fwd(dev, h, s, x, w, b, y, z, act_op, act_params, d.what, unfused, ran)) {
      if (prof::on()) prof::library("cudnnBackendExecute", ran.engine.c_str(), ran.workspace, epilogue ? 1 : -1);
      return;
    }
  }
  unfused();
}

void conv2d_bwd_data_cuda(int dev, const IgnisCudaConv& s, const void* dy, const void* w, void* dx) {
  hostt::Scope ts("conv2d backward data (whole call)");
  if (s.N == 0) return;
  if (const int64_t nb = batch_chunk(s, "conv2d backward (data)"); nb < s.N) {
    each_chunk(s, nb, [&](const IgnisCudaConv& c, int64_t xo, int64_t yo) {
      conv2d_bwd_data_cuda(dev, c, static_cast<const char*>(dy) + yo, w, static_cast<char*>(dx) + xo);
    });
    return;
  }
  Desc d(s, "conv2d backward (data)");
  cudnnHandle_t h = handle(dev);
  const void* one = scale_one(s.dtype);
  const void* zero = scale_zero(s.dtype);
  auto legacy = [&] {
    d.ensure();
    auto cands = candidates<cudnnConvolutionBwdDataAlgoPerf_t>(
        dev, s, 1,
        [&](cudnnConvolutionBwdDataAlgoPerf_t* p, int n, int* got) {
          return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, n, got, p);
        },
        [&](cudnnConvolutionBwdDataAlgoPerf_t* p, int n, int* got) {
          return cudnnFindConvolutionBackwardDataAlgorithm(h, d.w, d.y, d.conv, d.x, n, got, p);
        },
        d.what);
    with_workspace(dev, cands, d.what, [&](const Choice& c, void* ws) {
      d.math(s, c.math);
      hostt::Scope tc("cudnnConvolutionBackwardData");
      check(cudnnConvolutionBackwardData(h, one, d.w, w, d.y, dy, d.conv, cudnnConvolutionBwdDataAlgo_t(c.algo), ws,
                                         c.ws, zero, d.x, dx),
            d.what);
      if (prof::on()) prof::library("cudnnConvolutionBackwardData", algo_name(1, c).c_str(), int64_t(c.ws), -1);
    });
  };
  graph_or_legacy(dev, h, s, 1, dx, const_cast<void*>(w), dy, d.what, legacy);
}

namespace {
// dw = (accumulate ? dw : 0) + the weight gradient of this batch
void bwd_filter_weights(int dev, const IgnisCudaConv& s, const void* x, const void* dy, void* dw, bool accumulate) {
  Desc d(s, "conv2d backward (filter)");
  cudnnHandle_t h = handle(dev);
  const void* one = scale_one(s.dtype);
  const void* beta = accumulate ? one : scale_zero(s.dtype);
  auto legacy = [&] {
    d.ensure();
    auto cands = candidates<cudnnConvolutionBwdFilterAlgoPerf_t>(
        dev, s, 2,
        [&](cudnnConvolutionBwdFilterAlgoPerf_t* p, int n, int* got) {
          return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, n, got, p);
        },
        [&](cudnnConvolutionBwdFilterAlgoPerf_t* p, int n, int* got) {
          return cudnnFindConvolutionBackwardFilterAlgorithm(h, d.x, d.y, d.conv, d.w, n, got, p);
        },
        d.what);
    with_workspace(dev, cands, d.what, [&](const Choice& c, void* ws) {
      d.math(s, c.math);
      hostt::Scope tc("cudnnConvolutionBackwardFilter");
      check(cudnnConvolutionBackwardFilter(h, one, d.x, x, d.y, dy, d.conv, cudnnConvolutionBwdFilterAlgo_t(c.algo), ws,
                                           c.ws, beta, d.w, dw),
            d.what);
      if (prof::on()) prof::library("cudnnConvolutionBackwardFilter", algo_name(2, c).c_str(), int64_t(c.ws), -1);
    });
  };
  if (accumulate) legacy();  // a later batch chunk adds into dw: the legacy call's beta = 1
  else graph_or_legacy(dev, h, s, 2, const_cast<void*>(x), dw, dy, d.what, legacy);
}
}  // namespace

void conv2d_bwd_filter_cuda(int dev, const IgnisCudaConv& s, const void* x, const void* dy, void* dw, void* db) {
  hostt::Scope ts("conv2d backward filter + bias (whole call)");
  if (s.N == 0) {  // an empty batch: zero gradients, as on the CPU
    const size_t es = dtype_size(s.dtype);
    cudaStream_t st = stream(dev);
    IGNIS_CUDA_CHECK(cudaMemsetAsync(dw, 0, size_t(s.O * (s.C / s.G) * s.kh * s.kw) * es, st), "conv2d backward (filter)");
    if (db) IGNIS_CUDA_CHECK(cudaMemsetAsync(db, 0, size_t(s.O) * es, st), "conv2d backward (filter)");
    return;
  }
  // over 2^31 - 1 elements: batch chunks, each adding its gradient into dw (cuDNN's beta = 1)
  each_chunk(s, batch_chunk(s, "conv2d backward (filter)"), [&](const IgnisCudaConv& c, int64_t xo, int64_t yo) {
    bwd_filter_weights(dev, c, static_cast<const char*>(x) + xo, static_cast<const char*>(dy) + yo, dw, xo + yo > 0);
  });
  // db[o] = sum over n, h, w of dy[n, o, h, w]
  if (db) channel_sum_cuda(dev, s.dtype, dy, db, s.N, s.O, s.OH * s.OW);
}

}  // namespace ignis_cuda
