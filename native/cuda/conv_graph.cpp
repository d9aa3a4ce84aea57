// Convolutions as cuDNN operation graphs (cuDNN 9's backend C API): the plain forward, backward-data
// and backward-filter convolutions, one node each, and conv + bias + activation as ONE graph: a
// ConvolutionFwd node, a pointwise ADD of the bias [1, O, 1, 1] and the activation's pointwise
// nodes, the intermediates virtual (never written to memory) unless the training forward keeps the
// pre-activation z (then a second output). One cuDNN pointwise mode each covers relu with its clips
// and lower slope (relu, relu6, hardtanh, leaky_relu), gelu, gelu_tanh, silu / swish(beta),
// softplus(beta), sigmoid and tanh; elu, celu, selu, mish, hardsigmoid, hardswish, softsign,
// logsigmoid, tanhshrink, softshrink, hardshrink and threshold are compositions of cuDNN's
// arithmetic, comparison and select modes (their constants by-value scalars).
// Plans are cached per device, shape, activation, parameters, pointer alignment, kept z, TF32 and
// deterministic settings; a graph that no engine takes is cached as declined, so it costs one try,
// and a fused graph for which the heuristics list no engine at all declines its activation's other
// shapes too (g_no_engine; on an H200 each such decline took 60-75 ms of a shape's first call). Engines with
// Tensor Cores (TF32 for float32) are skipped when ignis.backends.cudnn.allowTf32 is false. The first
// call per plan times the graph against the caller's unfused path (the legacy call, or the
// convolution and Ignis's epilogue), on the device and on the host clock, and keeps the one whose
// slower side is faster for that plan: engines vary widely (on an
// H200, cuDNN 9.19, from 6 times faster than the legacy call to 20 times slower than conv + epilogue).
// IGNIS_CUDNN_GRAPH_LOG=1 prints to stderr each plan built (the engine's global index, "rtc" when
// cuDNN compiles it with NVRTC, "tc" when it uses Tensor Cores; its workspace and build time) or
// declined (the step and cuDNN's status), and each first-call timing verdict;
// IGNIS_CUDNN_GRAPH_VERDICT=graph or unfused skips that timing and keeps the one named. The first
// call also compares the two paths' outputs and keeps a graph only where they agree (a wrong engine
// or composition is reported on stderr and not used again).
#include "conv_graph.h"

#include "../ops/activation_consts.h"
#include "kernels.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

// the HANDLE and NAN_PROPAGATION attributes are deprecated in cuDNN 9.24 but are what 9.19 (the
// device's) takes
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace ignis_cuda {
namespace {

// cuDNN declined at `step` with `st`: the caller falls back to conv + epilogue
struct Decline {
  cudnnStatus_t st;
  const char* step;
};
void ok(cudnnStatus_t st, const char* step) {
  if (st != CUDNN_STATUS_SUCCESS) throw Decline{st, step};
}

struct Bd {  // one backend descriptor, destroyed with its owner
  cudnnBackendDescriptor_t d = nullptr;
  Bd() = default;
  ~Bd() {
    if (d) cudnnBackendDestroyDescriptor(d);
  }
  Bd(const Bd&) = delete;
  Bd& operator=(const Bd&) = delete;
};

// A finalized plan and every descriptor it was built from (kept alive as long as the plan).
struct Plan {
  std::vector<std::unique_ptr<Bd>> keep;
  cudnnBackendDescriptor_t plan = nullptr;  // null: declined
  int64_t workspace = 0;
  std::string engine;
  int verdict = 0;  // the first call's verdict: 0 not decided yet, 1 the graph, 2 the unfused path
  // under cudnn.benchmark, every configuration of the heuristics' list that finalized into a plan
  // (`plan` is the first, `workspace` the largest): the first call times each and keeps the fastest
  struct Candidate {
    cudnnBackendDescriptor_t plan;
    int64_t workspace;
    std::string engine;
  };
  std::vector<Candidate> candidates;
  // the by-value scalar tensors of a composed activation: their uids and values (in const_f for a
  // float32 graph, const_d for float64), which every execution's variant pack points to
  std::vector<int64_t> const_uids;
  std::vector<float> const_f;
  std::vector<double> const_d;

  cudnnBackendDescriptor_t make(cudnnBackendDescriptorType_t t, const char* step) {
    keep.push_back(std::make_unique<Bd>());
    ok(cudnnBackendCreateDescriptor(t, &keep.back()->d), step);
    return keep.back()->d;
  }
};

void set(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t a, cudnnBackendAttributeType_t t, int64_t n,
         const void* v, const char* step) {
  ok(cudnnBackendSetAttribute(d, a, t, n, v), step);
}
void set_desc(cudnnBackendDescriptor_t d, cudnnBackendAttributeName_t a, cudnnBackendDescriptor_t v, const char* step) {
  set(d, a, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &v, step);
}

// A packed NCHW tensor [d0, d1, d2, d3]; virtual ones live only inside the fused kernel, by-value
// ones ([1, 1, 1, 1]) are scalars the variant pack points to in host memory.
enum class Kind { io, virt, by_value };
cudnnBackendDescriptor_t tensor(Plan& p, int64_t uid, cudnnDataType_t dt, int64_t align, const int64_t* dims,
                                Kind kind) {
  const char* step = "tensor descriptor";
  cudnnBackendDescriptor_t d = p.make(CUDNN_BACKEND_TENSOR_DESCRIPTOR, step);
  const int64_t strides[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
  set(d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid, step);
  set(d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt, step);
  set(d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &align, step);
  set(d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims, step);
  set(d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides, step);
  if (kind != Kind::io) {
    const bool v = true;
    set(d, kind == Kind::virt ? CUDNN_ATTR_TENSOR_IS_VIRTUAL : CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &v,
        step);
  }
  ok(cudnnBackendFinalize(d), step);
  return d;
}

// The activation as a cuDNN pointwise mode: relu's clips (lo, hi) and lower slope, or the one
// parameter of elu / softplus / swish. false: no mode computes this activation as Ignis does.
struct Pw {
  cudnnPointwiseMode_t mode;
  bool has_param = false;  // elu's alpha, softplus's and swish's beta
  cudnnBackendAttributeName_t param = CUDNN_ATTR_POINTWISE_MODE;
  double value = 0;
  bool relu = false;  // relu's clips and lower slope
  double lo = 0, slope = 0, hi = 0;
  bool has_hi = false;
};
Pw plain(cudnnPointwiseMode_t m) { return Pw{m}; }
Pw with(cudnnPointwiseMode_t m, cudnnBackendAttributeName_t a, double v) {
  Pw pw{m};
  pw.has_param = true;
  pw.param = a;
  pw.value = v;
  return pw;
}
Pw clipped(double lo, double slope, bool has_hi = false, double hi = 0) {
  Pw pw{CUDNN_POINTWISE_RELU_FWD};
  pw.relu = true;
  pw.lo = lo;
  pw.slope = slope;
  pw.has_hi = has_hi;
  pw.hi = hi;
  return pw;
}
// An activation as cuDNN pointwise nodes: one mode where cuDNN has it, else a composition of its
// arithmetic modes (the "others by composition"). Node i computes pw over operands x, b and
// t (BINARY_SELECT's mask), each kIn (the pre-activation), an earlier node's result (its index) or a
// constant (kConst + its index in `consts`, a by-value scalar tensor); the last node's result is the
// activation's output. Comparisons and LOGICAL_NOT give boolean masks.
constexpr int kIn = -1, kNoOperand = -2, kConst = 1000;
struct PwNode {
  Pw pw;
  int x = kIn, b = kNoOperand, t = kNoOperand;
  bool mask() const {
    return pw.mode == CUDNN_POINTWISE_CMP_LE || pw.mode == CUDNN_POINTWISE_LOGICAL_NOT;
  }
};
struct Act {
  std::vector<PwNode> nodes;
  std::vector<double> consts;
  int node(const Pw& pw, int x, int b = kNoOperand, int t = kNoOperand) {
    nodes.push_back(PwNode{pw, x, b, t});
    return int(nodes.size()) - 1;
  }
  int constant(double v) {
    consts.push_back(v);
    return kConst + int(consts.size()) - 1;
  }
  // alpha * expm1(scale * min(x, 0)) + relu_scale * max(x, 0): elu, celu and selu (x > 0: the
  // first term is 0 exactly; x <= 0: the second is). exp(t) - 1 for t near 0 differs from
  // expm1(t) by float32's resolution of 1 (1.2e-7 times alpha), within the fused-path tolerance.
  void elu_like(double alpha, double scale, double relu_scale) {
    int m = node(clipped(0, 1, true, 0), kIn);  // min(x, 0), NaN passed on
    if (scale != 1) m = node(plain(CUDNN_POINTWISE_MUL), m, constant(scale));
    const int em1 = node(plain(CUDNN_POINTWISE_SUB), node(plain(CUDNN_POINTWISE_EXP), m), constant(1));
    const int neg = node(plain(CUDNN_POINTWISE_MUL), em1, constant(alpha));
    int pos = node(clipped(0, 0), kIn);
    if (relu_scale != 1) pos = node(plain(CUDNN_POINTWISE_MUL), pos, constant(relu_scale));
    node(plain(CUDNN_POINTWISE_ADD), pos, neg);
  }
};

// The activation `act` with parameters p as cuDNN pointwise nodes, in the order of operations of
// native/ops/activations.def's formula; false: neither one mode nor a composition computes it as
// Ignis does (parameters out of an activation's range among them).
bool pointwise_for(int act, const double* p, int dtype, Act& a) {
  a = Act{};
  Pw pw{};
  switch (act) {
    case A_relu: pw = clipped(0, 0); break;
    case A_relu6: pw = clipped(0, 0, true, 6); break;
    case A_hardtanh:
      if (!(p[0] <= p[1])) return false;
      pw = clipped(p[0], 0, true, p[1]);
      break;
    case A_leaky_relu: pw = clipped(0, p[0]); break;  // x < 0: 0 + slope * (x - 0)
    case A_gelu: pw = plain(CUDNN_POINTWISE_GELU_FWD); break;
    case A_gelu_tanh: pw = plain(CUDNN_POINTWISE_GELU_APPROX_TANH_FWD); break;
    case A_silu: pw = with(CUDNN_POINTWISE_SWISH_FWD, CUDNN_ATTR_POINTWISE_SWISH_BETA, 1.0); break;
    case A_swish: pw = with(CUDNN_POINTWISE_SWISH_FWD, CUDNN_ATTR_POINTWISE_SWISH_BETA, p[0]); break;
    case A_sigmoid: pw = plain(CUDNN_POINTWISE_SIGMOID_FWD); break;
    case A_tanh: pw = plain(CUDNN_POINTWISE_TANH_FWD); break;
    case A_softplus:
      // cuDNN's softplus has no threshold; above PyTorch's (beta x > threshold returns x) the two
      // differ by e^-threshold / beta, below float32's resolution from threshold 20 (the default) on
      if (!(dtype == 0 && p[1] >= 20 && p[0] > 0)) return false;
      pw = with(CUDNN_POINTWISE_SOFTPLUS_FWD, CUDNN_ATTR_POINTWISE_SOFTPLUS_BETA, p[0]);
      break;
    // compositions. ELU has a mode of its own, but cuDNN 9.19's engine for conv + bias + ELU_FWD ran
    // 8-10 ms on an H200 where the convolution and Ignis's epilogue take 0.5 (64x64x56x56, 3x3 and
    // 1x1), so ELU is composed like CELU and SELU.
    case A_elu: a.elu_like(p[0], 1, 1); return true;
    case A_celu:
      if (p[0] == 0) return false;
      a.elu_like(p[0], 1 / p[0], 1);
      return true;
    case A_selu: a.elu_like(SELU_SCALE * SELU_ALPHA, 1, SELU_SCALE); return true;
    case A_mish: {  // x tanh(softplus(x)); softplus's missing threshold is harmless here (tanh -> 1)
      const int sp = a.node(with(CUDNN_POINTWISE_SOFTPLUS_FWD, CUDNN_ATTR_POINTWISE_SOFTPLUS_BETA, 1.0), kIn);
      a.node(plain(CUDNN_POINTWISE_MUL), kIn, a.node(plain(CUDNN_POINTWISE_TANH_FWD), sp));
      return true;
    }
    case A_hardsigmoid:
    case A_hardswish: {  // clamp06(x + 3) / 6, times x for hardswish
      int c = a.node(clipped(0, 0, true, 6), a.node(plain(CUDNN_POINTWISE_ADD), kIn, a.constant(3)));
      if (act == A_hardswish) c = a.node(plain(CUDNN_POINTWISE_MUL), kIn, c);
      a.node(plain(CUDNN_POINTWISE_MUL), c, a.constant(1.0 / 6.0));
      return true;
    }
    case A_softsign: {  // x / (|x| + 1)
      const int d = a.node(plain(CUDNN_POINTWISE_ADD), a.node(plain(CUDNN_POINTWISE_ABS), kIn), a.constant(1));
      a.node(plain(CUDNN_POINTWISE_DIV), kIn, d);
      return true;
    }
    case A_logsigmoid: {  // min(x, 0) - log(1 + e^-|x|) (log1p's digits below 6e-8 lost: absolute)
      const int m = a.node(clipped(0, 1, true, 0), kIn);
      const int e = a.node(plain(CUDNN_POINTWISE_EXP), a.node(plain(CUDNN_POINTWISE_NEG), a.node(plain(CUDNN_POINTWISE_ABS), kIn)));
      const int l = a.node(plain(CUDNN_POINTWISE_LOG), a.node(plain(CUDNN_POINTWISE_ADD), e, a.constant(1)));
      a.node(plain(CUDNN_POINTWISE_SUB), m, l);
      return true;
    }
    case A_tanhshrink: a.node(plain(CUDNN_POINTWISE_SUB), kIn, a.node(plain(CUDNN_POINTWISE_TANH_FWD), kIn)); return true;
    case A_softshrink:  // x - clamp(x, -lambda, lambda)
      if (!(p[0] >= 0)) return false;
      a.node(plain(CUDNN_POINTWISE_SUB), kIn, a.node(clipped(-p[0], 0, true, p[0]), kIn));
      return true;
    case A_hardshrink:  // x where not |x| <= lambda (NaN kept, as the kernel), else 0
    case A_threshold: {  // x where not x <= threshold, else value
      const int le = act == A_hardshrink ? a.node(plain(CUDNN_POINTWISE_CMP_LE), a.node(plain(CUDNN_POINTWISE_ABS), kIn), a.constant(p[0]))
                                         : a.node(plain(CUDNN_POINTWISE_CMP_LE), kIn, a.constant(p[0]));
      const int keep = a.node(plain(CUDNN_POINTWISE_LOGICAL_NOT), le);
      a.node(plain(CUDNN_POINTWISE_BINARY_SELECT), kIn, a.constant(act == A_hardshrink ? 0 : p[1]), keep);
      return true;
    }
    default: return false;
  }
  a.node(pw, kIn);
  return true;
}

cudnnBackendDescriptor_t pointwise_op(Plan& p, cudnnDataType_t prec, const Pw& pw, cudnnBackendDescriptor_t x,
                                      cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t y,
                                      cudnnBackendDescriptor_t t = nullptr) {
  const char* step = "pointwise descriptor";
  cudnnBackendDescriptor_t d = p.make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, step);
  set(d, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &pw.mode, step);
  set(d, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &prec, step);
  if (pw.relu) {
    const cudnnNanPropagation_t nan = CUDNN_PROPAGATE_NAN;  // relu(NaN) = NaN, as PyTorch
    set(d, CUDNN_ATTR_POINTWISE_NAN_PROPAGATION, CUDNN_TYPE_NAN_PROPOGATION, 1, &nan, step);
    set(d, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP, CUDNN_TYPE_DOUBLE, 1, &pw.lo, step);
    set(d, CUDNN_ATTR_POINTWISE_RELU_LOWER_CLIP_SLOPE, CUDNN_TYPE_DOUBLE, 1, &pw.slope, step);
    if (pw.has_hi) set(d, CUDNN_ATTR_POINTWISE_RELU_UPPER_CLIP, CUDNN_TYPE_DOUBLE, 1, &pw.hi, step);
  } else if (pw.has_param) {
    set(d, pw.param, CUDNN_TYPE_DOUBLE, 1, &pw.value, step);
  }
  ok(cudnnBackendFinalize(d), step);
  step = "pointwise operation";
  cudnnBackendDescriptor_t op = p.make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, step);
  set_desc(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, d, step);
  set_desc(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x, step);
  if (b) set_desc(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, b, step);
  if (t) set_desc(op, CUDNN_ATTR_OPERATION_POINTWISE_TDESC, t, step);
  set_desc(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y, step);
  ok(cudnnBackendFinalize(op), step);
  return op;
}

// the graphs' tensors; a composed activation's intermediates are UID_NODE + node, its constants
// UID_CONST + constant
enum : int64_t { UID_X = 1, UID_W, UID_B, UID_Y, UID_CONV, UID_BIASED, UID_NODE = 100, UID_CONST = 200 };

void choose_engine(Plan& p, cudnnHandle_t h, cudnnBackendDescriptor_t graph, const IgnisCudaConv& s);
// the step of a graph for which cuDNN's heuristics listed no engine configuration at all
constexpr const char* kNoEngine = "engine heuristics (no engine configuration)";

// The convolution's own descriptor (mode, padding, strides, dilation, compute type).
cudnnBackendDescriptor_t conv_desc(Plan& p, const IgnisCudaConv& s, cudnnDataType_t dt) {
  const char* step = "convolution descriptor";
  cudnnBackendDescriptor_t cd = p.make(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, step);
  const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
  const int64_t dims = 2, dil[2] = {s.dh, s.dw}, str[2] = {s.sh, s.sw}, pad[2] = {s.pt, s.pl};
  set(cd, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &dt, step);
  set(cd, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode, step);
  set(cd, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &dims, step);
  set(cd, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dil, step);
  set(cd, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, str, step);
  set(cd, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pad, step);
  set(cd, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, pad, step);  // symmetric (checked by the caller)
  ok(cudnnBackendFinalize(cd), step);
  return cd;
}

// An operation graph of `ops` on the handle.
cudnnBackendDescriptor_t op_graph(Plan& p, cudnnHandle_t h, const std::vector<cudnnBackendDescriptor_t>& ops) {
  const char* step = "operation graph";
  cudnnBackendDescriptor_t graph = p.make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, step);
  set(graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &h, step);
  set(graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, int64_t(ops.size()), ops.data(), step);
  ok(cudnnBackendFinalize(graph), step);
  return graph;
}

// Builds the forward graph and its plan (choose_engine); throws Decline when no engine takes it.
// align: of x, w, b, y and z; keep_z: the pre-activation (the conv's output, or the bias ADD's) is
// a real output, UID_CONV or UID_BIASED. Neither bias nor activation: the convolution alone, into y.
void build(Plan& p, cudnnHandle_t h, const IgnisCudaConv& s, bool bias, const Act* act, const int64_t* align,
           bool keep_z) {
  const cudnnDataType_t dt = s.dtype == 0 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
  const int64_t xd[4] = {s.N, s.C, s.H, s.W}, wd[4] = {s.O, s.C / s.G, s.kh, s.kw}, yd[4] = {s.N, s.O, s.OH, s.OW},
                bd[4] = {1, s.O, 1, 1};
  cudnnBackendDescriptor_t tx = tensor(p, UID_X, dt, align[0], xd, Kind::io);
  cudnnBackendDescriptor_t tw = tensor(p, UID_W, dt, align[1], wd, Kind::io);
  cudnnBackendDescriptor_t tb = bias ? tensor(p, UID_B, dt, align[2], bd, Kind::io) : nullptr;
  cudnnBackendDescriptor_t ty = tensor(p, UID_Y, dt, align[3], yd, Kind::io);
  const bool z_is_conv = keep_z && !bias;
  cudnnBackendDescriptor_t tc =
      !bias && !act ? ty : tensor(p, UID_CONV, dt, z_is_conv ? align[4] : 16, yd, z_is_conv ? Kind::io : Kind::virt);
  cudnnBackendDescriptor_t tz =
      bias && act ? tensor(p, UID_BIASED, dt, keep_z ? align[4] : 16, yd, keep_z ? Kind::io : Kind::virt) : nullptr;
  cudnnBackendDescriptor_t cd = conv_desc(p, s, dt);

  const char* step = "convolution operation";
  cudnnBackendDescriptor_t conv = p.make(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, step);
  const float f1 = 1, f0 = 0;
  const double d1 = 1, d0 = 0;
  const cudnnBackendAttributeType_t st = s.dtype == 0 ? CUDNN_TYPE_FLOAT : CUDNN_TYPE_DOUBLE;
  set(conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, st, 1, s.dtype == 0 ? static_cast<const void*>(&f1) : &d1, step);
  set(conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, st, 1, s.dtype == 0 ? static_cast<const void*>(&f0) : &d0, step);
  set_desc(conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, cd, step);
  set_desc(conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, tx, step);
  set_desc(conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, tw, step);
  set_desc(conv, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, tc, step);
  ok(cudnnBackendFinalize(conv), step);

  std::vector<cudnnBackendDescriptor_t> ops{conv};
  if (bias) ops.push_back(pointwise_op(p, dt, plain(CUDNN_POINTWISE_ADD), tc, tb, act ? tz : ty));
  if (act) {
    // the activation's nodes over the pre-activation, the last one into y; its constants by value
    const cudnnBackendDescriptor_t in = bias ? tz : tc;
    const int64_t one[4] = {1, 1, 1, 1};
    std::vector<cudnnBackendDescriptor_t> consts, outs;
    for (size_t i = 0; i < act->consts.size(); ++i) {
      const int64_t uid = UID_CONST + int64_t(i);
      consts.push_back(tensor(p, uid, dt, dtype_size(s.dtype), one, Kind::by_value));
      p.const_uids.push_back(uid);
      if (s.dtype == 0) p.const_f.push_back(float(act->consts[i]));
      else p.const_d.push_back(act->consts[i]);
    }
    auto operand = [&](int o) -> cudnnBackendDescriptor_t {
      return o == kNoOperand ? nullptr : o == kIn ? in : o >= kConst ? consts[size_t(o - kConst)] : outs[size_t(o)];
    };
    for (size_t i = 0; i < act->nodes.size(); ++i) {
      const PwNode& n = act->nodes[i];
      const bool last = i + 1 == act->nodes.size();
      outs.push_back(last ? ty : tensor(p, UID_NODE + int64_t(i), n.mask() ? CUDNN_DATA_BOOLEAN : dt, 16, yd, Kind::virt));
      ops.push_back(pointwise_op(p, dt, n.pw, operand(n.x), operand(n.b), outs.back(), operand(n.t)));
    }
  }
  choose_engine(p, h, op_graph(p, h, ops), s);
}

// The backward graphs, one node each: kind 1 backward data (dx from dy and w: dx is UID_X), kind 2
// backward filter (dw from x and dy: dw is UID_W); dy is UID_Y. align: of the UID_X, UID_W and
// UID_Y tensors.
void build_bwd(Plan& p, cudnnHandle_t h, const IgnisCudaConv& s, int kind, const int64_t* align) {
  const cudnnDataType_t dt = s.dtype == 0 ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
  const int64_t xd[4] = {s.N, s.C, s.H, s.W}, wd[4] = {s.O, s.C / s.G, s.kh, s.kw}, yd[4] = {s.N, s.O, s.OH, s.OW};
  cudnnBackendDescriptor_t tx = tensor(p, UID_X, dt, align[0], xd, Kind::io);
  cudnnBackendDescriptor_t tw = tensor(p, UID_W, dt, align[1], wd, Kind::io);
  cudnnBackendDescriptor_t ty = tensor(p, UID_Y, dt, align[2], yd, Kind::io);
  cudnnBackendDescriptor_t cd = conv_desc(p, s, dt);
  const char* step = kind == 1 ? "backward data operation" : "backward filter operation";
  const float f1 = 1, f0 = 0;
  const double d1 = 1, d0 = 0;
  const cudnnBackendAttributeType_t st = s.dtype == 0 ? CUDNN_TYPE_FLOAT : CUDNN_TYPE_DOUBLE;
  // the node's attributes: alpha, beta, the convolution, then its x-, w- and dy-shaped tensors
  struct Attrs {
    cudnnBackendDescriptorType_t type;
    cudnnBackendAttributeName_t alpha, beta, conv, x, w, dy;
  };
  const Attrs a = kind == 1 ? Attrs{CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY}
                            : Attrs{CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW,
                                    CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY};
  cudnnBackendDescriptor_t op = p.make(a.type, step);
  set(op, a.alpha, st, 1, s.dtype == 0 ? static_cast<const void*>(&f1) : &d1, step);
  set(op, a.beta, st, 1, s.dtype == 0 ? static_cast<const void*>(&f0) : &d0, step);
  set_desc(op, a.conv, cd, step);
  set_desc(op, a.x, tx, step);
  set_desc(op, a.w, tw, step);
  set_desc(op, a.dy, ty, step);
  ok(cudnnBackendFinalize(op), step);
  choose_engine(p, h, op_graph(p, h, {op}), s);
}

// The first engine configuration of cuDNN's heuristics (mode A) for `graph` that finalizes into a
// plan, skipping Tensor Core engines when TF32 is off for float32, and engines cuDNN marks
// nondeterministic under ignis.backends.cudnn.deterministic; throws Decline when none does. Under
// ignis.backends.cudnn.benchmark, every configuration that finalizes (up to kMaxCandidates), for the
// first call to time (PyTorch's benchmark mode autotunes its cuDNN graphs' engines the same way).
constexpr size_t kMaxCandidates = 8;
void choose_engine(Plan& p, cudnnHandle_t h, cudnnBackendDescriptor_t graph, const IgnisCudaConv& s) {
  const char* step;
  const bool no_tensor_cores = s.dtype == 0 && !g_flags.tf32_conv;
  Decline last{CUDNN_STATUS_NOT_SUPPORTED, kNoEngine};
  // heuristics mode A only: the fallback list's engines carry no speed guarantee, and conv + the
  // epilogue is the known alternative
  const cudnnBackendHeurMode_t hm = CUDNN_HEUR_MODE_A;
  step = "engine heuristics";
  cudnnBackendDescriptor_t heur = p.make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, step);
  set_desc(heur, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph, step);
  set(heur, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &hm, step);
  ok(cudnnBackendFinalize(heur), step);
  int64_t n = 0;
  ok(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &n, nullptr), step);
  std::vector<cudnnBackendDescriptor_t> cfgs(size_t(n > 0 ? n : 0));
  for (auto& c : cfgs) c = p.make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, step);
  int64_t got = 0;
  if (n > 0)
    ok(cudnnBackendGetAttribute(heur, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, n, &got, cfgs.data()),
       step);
  for (int64_t i = 0; i < got && i < n; ++i) {
    try {
      step = "engine of a configuration";
      cudnnBackendDescriptor_t eng = p.make(CUDNN_BACKEND_ENGINE_DESCRIPTOR, step);
      int64_t k = 0;
      ok(cudnnBackendGetAttribute(cfgs[size_t(i)], CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &k,
                                  &eng),
         step);
      cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
      int64_t nn = 0;
      ok(cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                  CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &nn, notes),
         step);
      bool tensor_cores = false, nondeterministic = false;
      for (int64_t j = 0; j < nn; ++j) {
        tensor_cores |= notes[j] == CUDNN_NUMERICAL_NOTE_TENSOR_CORE || notes[j] == CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS;
        nondeterministic |= notes[j] == CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC;
      }
      if (no_tensor_cores && tensor_cores) {
        last = {CUDNN_STATUS_NOT_SUPPORTED, "engine choice (a Tensor Core engine, and allowTf32 is false)"};
        continue;
      }
      if (g_flags.cudnn_deterministic && nondeterministic) {
        last = {CUDNN_STATUS_NOT_SUPPORTED, "engine choice (nondeterministic, and cudnn.deterministic is true)"};
        continue;
      }
      cudnnBackendBehaviorNote_t beh[CUDNN_BEHAVIOR_NOTE_TYPE_COUNT];
      int64_t nb = 0;
      bool rtc = false;
      if (cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_BEHAVIOR_NOTE, CUDNN_TYPE_BEHAVIOR_NOTE,
                                   CUDNN_BEHAVIOR_NOTE_TYPE_COUNT, &nb, beh) == CUDNN_STATUS_SUCCESS)
        for (int64_t j = 0; j < nb; ++j) rtc |= beh[j] == CUDNN_BEHAVIOR_NOTE_RUNTIME_COMPILATION;
      int64_t index = -1;
      cudnnBackendGetAttribute(eng, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &k, &index);

      step = "execution plan";
      cudnnBackendDescriptor_t plan = p.make(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, step);
      set(plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &h, step);
      set_desc(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, cfgs[size_t(i)], step);
      ok(cudnnBackendFinalize(plan), step);
      int64_t workspace = 0;
      ok(cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &k,
                                  &workspace),
         step);
      // fits the profiler record's 48 characters: "graph engine 12, rtc, tc, heuristics A"
      std::string engine = "graph engine " + std::to_string(index) + (rtc ? ", rtc" : "") + (tensor_cores ? ", tc" : "") +
                           (g_flags.cudnn_benchmark ? ", benchmark" : ", heuristics A");
      if (!g_flags.cudnn_benchmark) {
        p.plan = plan;
        p.workspace = workspace;
        p.engine = std::move(engine);
        return;
      }
      p.candidates.push_back(Plan::Candidate{plan, workspace, std::move(engine)});
      if (p.candidates.size() == kMaxCandidates) break;
    } catch (const Decline& d) {
      last = d;  // the next configuration
    }
  }
  if (p.candidates.empty()) throw last;
  p.plan = p.candidates[0].plan;
  p.engine = p.candidates[0].engine;
  for (const auto& c : p.candidates) p.workspace = std::max(p.workspace, c.workspace);
  if (p.candidates.size() == 1) p.candidates.clear();  // nothing to choose between
}

std::string key_of(int dev, const IgnisCudaConv& s, bool bias, int act, const double* p, const int64_t* align,
                   bool keep_z) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%d:%d:%d%d%d:%d:%d:%d:%a,%a,%a,%a:%lld,%lld,%lld,%lld,%lld", dev, s.dtype,
                int(g_flags.tf32_conv), int(g_flags.cudnn_deterministic), int(g_flags.cudnn_benchmark), int(bias), act,
                int(keep_z), p[0], p[1], p[2], p[3], (long long)align[0],
                (long long)align[1], (long long)align[2], (long long)align[3], (long long)align[4]);
  std::string k = buf;
  for (int64_t v : {s.N, s.C, s.H, s.W, s.O, s.kh, s.kw, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, s.G}) k += "," + std::to_string(v);
  return k;
}

// the largest of 16, 8, 4 (down to the element size) that divides the address
int64_t alignment(const void* ptr, int64_t es) {
  int64_t a = 16;
  while (a > es && (reinterpret_cast<uintptr_t>(ptr) % uint64_t(a)) != 0) a /= 2;
  return a;
}

std::mutex g_mu;
std::map<std::string, std::shared_ptr<Plan>> g_plans;  // declined graphs have plan == nullptr
// Fused graphs (an activation node) for which cuDNN's heuristics listed no engine, by everything but
// the shape (run_graph's `family`): on an H200 with cuDNN 9.19 every NCHW float32 graph with GELU,
// SiLU or leaky ReLU was declined that way on every shape tried, and each decline cost 60-75 ms of
// the shape's first call. Later shapes of the family go to conv + epilogue without asking.
std::set<std::string> g_no_engine;

// ms per call of f: one untimed call, then `reps` of them, timed on dev's stream between two events
// (device) and on the host clock while queueing them (host: the library's own host time per call,
// which a training step whose host sets the pace pays in full)
struct CallTime {
  float device_ms, host_ms;
  // what one call costs in a stream of work: the slower of the two sides
  float cost() const { return device_ms > host_ms ? device_ms : host_ms; }
};
CallTime time_calls(int dev, const std::function<void()>& f, int reps) {
  struct Events {
    cudaEvent_t a = nullptr, b = nullptr;
    ~Events() {
      if (a) cudaEventDestroy(a);
      if (b) cudaEventDestroy(b);
    }
  } ev;
  IGNIS_CUDA_CHECK(cudaEventCreate(&ev.a), "cudaEventCreate");
  IGNIS_CUDA_CHECK(cudaEventCreate(&ev.b), "cudaEventCreate");
  cudaStream_t st = stream(dev);
  f();
  IGNIS_CUDA_CHECK(cudaEventRecord(ev.a, st), "cudaEventRecord");
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) f();
  const double host_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  IGNIS_CUDA_CHECK(cudaEventRecord(ev.b, st), "cudaEventRecord");
  IGNIS_CUDA_CHECK(cudaEventSynchronize(ev.b), "cudaEventSynchronize");
  float ms = 0;
  IGNIS_CUDA_CHECK(cudaEventElapsedTime(&ms, ev.a, ev.b), "cudaEventElapsedTime");
  return {ms / float(reps), float(host_ms / reps)};
}

bool logging() {
  static const bool on = env_flag("IGNIS_CUDNN_GRAPH_LOG");
  return on;
}

// IGNIS_CUDNN_GRAPH_VERDICT=graph (or unfused): every plan keeps the graph (or the unfused path)
// without the first call's timing, so that tests compare a graph's own output every time
int forced_verdict() {
  static const int v = [] {
    const char* e = std::getenv("IGNIS_CUDNN_GRAPH_VERDICT");
    return !e ? 0 : std::strcmp(e, "graph") == 0 ? 1 : std::strcmp(e, "unfused") == 0 ? 2 : 0;
  }();
  return v;
}

const double kNone[4] = {0, 0, 0, 0};

// The tensor a graph and its unfused path both write (y, dx or dw): the first call compares them.
struct Output {
  void* p = nullptr;
  int64_t n = 0;
  int dtype = 0;
};
// The first call keeps a graph only where its output agrees with the unfused path's on the same
// inputs: the largest difference within 5 % of the largest magnitude, loose enough for TF32 against
// full float32 and for summation orders, tight enough for a wrong engine or composition.
constexpr double kAgree = 0.05;

// The plan cached under `key` (built with `build_fn` on first use; a graph that no engine takes is
// cached as declined), run with the tensors `uids` / `ptrs`: the shared part of the forward and
// backward graphs. `label` completes `what` in IGNIS_CUDNN_GRAPH_LOG's lines. `family` (empty: none)
// names the graph without its shape: once the heuristics list no engine for one graph of a family,
// the others are declined without a build (g_no_engine). `out`: the output both paths write.
bool run_graph(int dev, cudnnHandle_t h, const std::string& key, const std::function<void(Plan&)>& build_fn,
               const int64_t* uids, void* const* ptrs, int64_t n, const std::string& what, const std::string& label,
               const std::function<void()>& unfused, GraphRun& ran, const std::string& family, const Output& out) {
  std::shared_ptr<Plan> plan;
  bool known_no_engine = false;
  {
    hostt::Scope tl("conv graph: plan lookup");
    std::lock_guard<std::mutex> lk(g_mu);
    auto it = g_plans.find(key);
    if (it != g_plans.end()) plan = it->second;
    else known_no_engine = !family.empty() && g_no_engine.count(family) != 0;
  }
  if (!plan) {
    plan = std::make_shared<Plan>();
    const auto t0 = std::chrono::steady_clock::now();
    const char* instead = key[0] == 'b' ? "the legacy call" : "conv + epilogue";
    if (known_no_engine) {
      if (logging())
        std::fprintf(stderr, "ignis: cuDNN graph for %s%s: not tried (no engine for this activation's graphs on an earlier shape); %s instead\n",
                     what.c_str(), label.c_str(), instead);
    } else {
      try {
        build_fn(*plan);
      } catch (const Decline& d) {
        if (logging())
          std::fprintf(stderr, "ignis: cuDNN graph for %s%s: declined at %s (%s); %s instead\n", what.c_str(),
                       label.c_str(), d.step, cudnnGetErrorString(d.st), instead);
        plan->keep.clear();
        plan->plan = nullptr;
        if (!family.empty() && std::strcmp(d.step, kNoEngine) == 0) {
          std::lock_guard<std::mutex> lk(g_mu);
          g_no_engine.insert(family);
        }
      }
    }
    if (plan->plan && logging()) {
      const std::string engines = plan->candidates.empty()
                                      ? plan->engine
                                      : std::to_string(plan->candidates.size()) + " engine configurations to time (benchmark)";
      std::fprintf(stderr, "ignis: cuDNN graph for %s%s: %s, workspace %lld B, built in %.1f ms\n", what.c_str(),
                   label.c_str(), engines.c_str(), (long long)plan->workspace,
                   std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::lock_guard<std::mutex> lk(g_mu);
    g_plans[key] = plan;
  }
  if (!plan->plan) return false;
  if (plan->verdict == 0) plan->verdict = forced_verdict();
  // the unfused path timed faster for this plan: nothing to allocate or bind
  if (plan->verdict == 2) return false;

  // the graph's workspace; when it does not fit, the unfused path (which may need less) runs this time
  std::unique_ptr<Scratch> wsp;
  try {
    wsp = std::make_unique<Scratch>(dev, size_t(plan->workspace));
  } catch (const CudaError& e) {
    if (e.kind == "MemoryError") return false;
    throw;
  }
  Scratch& ws = *wsp;
  Bd pack;
  hostt::Scope tv("conv graph: variant pack");
  // a composed activation's constants: host pointers to the plan's scalars, after the tensors
  std::vector<int64_t> all_uids;
  std::vector<void*> all_ptrs;
  if (!plan->const_uids.empty()) {
    all_uids.assign(uids, uids + n);
    all_ptrs.assign(ptrs, ptrs + n);
    for (size_t i = 0; i < plan->const_uids.size(); ++i) {
      all_uids.push_back(plan->const_uids[i]);
      all_ptrs.push_back(plan->const_f.empty() ? static_cast<void*>(&plan->const_d[i]) : &plan->const_f[i]);
    }
    uids = all_uids.data();
    ptrs = all_ptrs.data();
    n = int64_t(all_uids.size());
  }
  cudnnStatus_t st = cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack.d);
  if (st == CUDNN_STATUS_SUCCESS)
    st = cudnnBackendSetAttribute(pack.d, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n, uids);
  if (st == CUDNN_STATUS_SUCCESS)
    st = cudnnBackendSetAttribute(pack.d, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, n, ptrs);
  if (st == CUDNN_STATUS_SUCCESS)
    st = cudnnBackendSetAttribute(pack.d, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1, &ws.p);
  if (st == CUDNN_STATUS_SUCCESS) st = cudnnBackendFinalize(pack.d);
  tv.stop();
  auto execute = [&] {
    hostt::Scope te("cudnnBackendExecute");
    if (st == CUDNN_STATUS_SUCCESS) st = cudnnBackendExecute(h, plan->plan, pack.d);
  };
  if (plan->verdict == 0 && st == CUDNN_STATUS_SUCCESS) {
    // room for a copy of the graph's output (its first 2^24 elements at most: a wrong engine shows
    // everywhere), for the comparison below; when it does not fit, the unfused path runs this time
    // and a later call decides (as for the workspace above)
    const int64_t checked = std::min<int64_t>(out.n, int64_t(1) << 24);
    const size_t bytes = size_t(checked) * dtype_size(out.dtype);
    std::unique_ptr<Scratch> kept;
    try {
      if (out.p && bytes) kept = std::make_unique<Scratch>(dev, bytes);
    } catch (const CudaError& e) {
      if (e.kind == "MemoryError") return false;
      throw;
    }
    // cudnn.benchmark: each engine configuration timed, the fastest kept (one that fails to run is
    // passed over); its timing stands for the graph's below
    CallTime graph{0, 0};
    bool timed = false;
    if (!plan->candidates.empty()) {
      cudnnStatus_t failed = CUDNN_STATUS_SUCCESS;
      size_t best = 0;
      for (size_t i = 0; i < plan->candidates.size(); ++i) {
        plan->plan = plan->candidates[i].plan;
        st = CUDNN_STATUS_SUCCESS;
        const CallTime t = time_calls(dev, execute, 3);
        if (logging())
          std::fprintf(stderr, "ignis: cuDNN graph for %s%s: %s: %.4f ms (host %.4f)%s\n", what.c_str(), label.c_str(),
                       plan->candidates[i].engine.c_str(), t.device_ms, t.host_ms,
                       st == CUDNN_STATUS_SUCCESS ? "" : " (failed to execute)");
        if (st != CUDNN_STATUS_SUCCESS) {
          failed = st;
          continue;
        }
        if (!timed || t.cost() < graph.cost()) {
          graph = t;
          best = i;
          timed = true;
        }
      }
      plan->plan = plan->candidates[best].plan;
      plan->engine = plan->candidates[best].engine;
      plan->candidates.clear();
      st = timed ? CUDNN_STATUS_SUCCESS : failed;
      if (timed) execute();  // the output of the one kept, for the comparison below
    }
    // the graph against the unfused path, once per plan, each call's cost the slower of its device
    // and host times: a device-time tie (the seed CNN's first-layer filter gradient on an H200, 0.0657
    // ms both) goes to the cheaper host path (in an H100 run's training steps, a median 103 us of host
    // time per legacy filter-gradient call against 52 us per graph execution)
    if (!timed && st == CUDNN_STATUS_SUCCESS) graph = time_calls(dev, execute, 3);
    if (st == CUDNN_STATUS_SUCCESS) {
      if (kept)
        IGNIS_CUDA_CHECK(cudaMemcpyAsync(kept->p, out.p, bytes, cudaMemcpyDeviceToDevice, stream(dev)), what.c_str());
      const CallTime unf = time_calls(dev, unfused, 3);
      double diff = 0, mag = 0;
      if (kept) max_abs_diff_cuda(dev, out.dtype, kept->p, out.p, checked, &diff, &mag);
      const bool agrees = diff <= kAgree * mag;
      plan->verdict = agrees && graph.cost() <= unf.cost() ? 1 : 2;
      if (!agrees)
        std::fprintf(stderr, "ignis: cuDNN graph for %s%s (%s) disagrees with the unfused path (largest difference %g, largest value %g); unfused from now on\n",
                     what.c_str(), label.c_str(), plan->engine.c_str(), diff, mag);
      else if (logging())
        std::fprintf(stderr, "ignis: cuDNN graph for %s%s: %.4f ms (host %.4f), unfused %.4f ms (host %.4f) (first call): %s\n",
                     what.c_str(), label.c_str(), graph.device_ms, graph.host_ms, unf.device_ms, unf.host_ms,
                     plan->verdict == 1 ? "the graph" : "unfused");
    }
  }
  if (plan->verdict == 2) return false;  // just decided above
  execute();
  if (st != CUDNN_STATUS_SUCCESS) {
    // out of memory inside cuDNN: the unfused path this time, the plan stays
    if (cudnn_out_of_memory(st)) return false;
    // an earlier kernel's fault (a sticky CUDA error) is reported as such, not blamed on the plan
    IGNIS_CUDA_CHECK(cudaPeekAtLastError(), (what + " (cuDNN graph; an earlier kernel failed)").c_str());
    // a plan that built but does not run: drop it for good and take the unfused path
    if (logging())
      std::fprintf(stderr, "ignis: cuDNN graph for %s%s failed to execute (%s); unfused from now on\n", what.c_str(),
                   label.c_str(), cudnnGetErrorString(st));
    std::lock_guard<std::mutex> lk(g_mu);
    g_plans[key] = std::make_shared<Plan>();
    return false;
  }
  ran.engine = plan->engine;
  ran.workspace = plan->workspace;
  return true;
}

}  // namespace

bool conv2d_graph_fwd(int dev, cudnnHandle_t h, const IgnisCudaConv& s, const void* x, const void* w, const void* b,
                      void* y, void* z, int act_op, const double* params, const std::string& what,
                      const std::function<void()>& unfused, GraphRun& ran) {
  const double* p = params ? params : kNone;
  Act act{};
  if (act_op >= 0 && !pointwise_for(act_op, p, s.dtype, act)) return false;
  const int64_t es = int64_t(dtype_size(s.dtype));
  const int64_t align[5] = {alignment(x, es), alignment(w, es), b ? alignment(b, es) : es, alignment(y, es),
                            z ? alignment(z, es) : es};
  const bool keep_z = z != nullptr && act_op >= 0;
  const std::string key = key_of(dev, s, b != nullptr, act_op, act_op >= 0 ? p : kNone, align, keep_z);
  int64_t uids[5] = {UID_X, UID_W, UID_Y};
  void* ptrs[5] = {const_cast<void*>(x), const_cast<void*>(w), y};
  int64_t n = 3;
  if (b) {
    uids[n] = UID_B;
    ptrs[n++] = const_cast<void*>(b);
  }
  if (keep_z) {
    uids[n] = b ? UID_BIASED : UID_CONV;
    ptrs[n++] = z;
  }
  const std::string label = std::string(b ? " + bias" : "") + (act_op >= 0 ? ", activation " + std::to_string(act_op) : "") +
                            (keep_z ? ", keeping z" : "");
  // a fused graph's family: the key without the shape (but plain, grouped or depthwise) and without
  // the parameters (a clip or a slope: no engine's support depends on them)
  IgnisCudaConv fs{};
  fs.dtype = s.dtype;
  fs.G = s.G == 1 ? 1 : s.G == s.C ? -1 : 2;
  const std::string family = act_op < 0 ? std::string() : key_of(dev, fs, b != nullptr, act_op, kNone, align, keep_z);
  return run_graph(
      dev, h, key, [&](Plan& plan) { build(plan, h, s, b != nullptr, act_op >= 0 ? &act : nullptr, align, keep_z); }, uids,
      ptrs, n, what, label, unfused, ran, family, Output{y, s.N * s.O * s.OH * s.OW, s.dtype});
}

bool conv2d_graph_bwd(int dev, cudnnHandle_t h, const IgnisCudaConv& s, int kind, void* x, void* w, void* dy,
                      const std::string& what, const std::function<void()>& unfused, GraphRun& ran) {
  const int64_t es = int64_t(dtype_size(s.dtype));
  const int64_t align[5] = {alignment(x, es), alignment(w, es), alignment(dy, es), es, es};
  const std::string key = "b" + std::to_string(kind) + "|" + key_of(dev, s, false, -1, kNone, align, false);
  const int64_t uids[3] = {UID_X, UID_W, UID_Y};
  void* const ptrs[3] = {x, w, dy};
  const Output out = kind == 1 ? Output{x, s.N * s.C * s.H * s.W, s.dtype}
                               : Output{w, s.O * (s.C / s.G) * s.kh * s.kw, s.dtype};
  return run_graph(
      dev, h, key, [&](Plan& plan) { build_bwd(plan, h, s, kind, align); }, uids, ptrs, 3, what, "", unfused, ran, "", out);
}

}  // namespace ignis_cuda
