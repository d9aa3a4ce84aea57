// 2-D convolution: oneDNN primitives (cached by shape) for float32, im2col + bmm otherwise.
#include "conv.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>
#include <map>
#include <unordered_map>
#include <string>
#include <vector>

#include "../core/allocator.h"
#include "../core/error.h"
#include "../core/iter.h"
#include "../core/parallel.h"
#include "kernels.h"
#include "matmul.h"

namespace ignis {

#ifdef IGNIS_HAVE_DNNL
DnnlCtx& dnnl_ctx() {
  static DnnlCtx c;
  return c;
}
#endif

namespace {
const char* const kActNames[] = {
#define ACT(name, np, fwd, bwd) #name,
#include "../ops/activations.def"
#undef ACT
};
constexpr int kActCount = int(sizeof(kActNames) / sizeof(kActNames[0]));

std::string dims4(int64_t a, int64_t b, int64_t c, int64_t d) {
  return "[" + std::to_string(a) + ", " + std::to_string(b) + ", " + std::to_string(c) + ", " + std::to_string(d) + "]";
}
}  // namespace

void conv_check(const ConvShape& s, const char* what) {
  const std::string w(what);
  if (s.N < 0 || s.C <= 0 || s.H < 0 || s.W < 0 || s.O <= 0 || s.kh <= 0 || s.kw <= 0)
    throw Error("ShapeError", w + ": bad sizes: input " + dims4(s.N, s.C, s.H, s.W) + ", weight " +
                                  dims4(s.O, s.G > 0 ? s.C / s.G : 0, s.kh, s.kw));
  if (s.G <= 0 || s.C % s.G || s.O % s.G) throw Error("ValueError", w + ": channels must be divisible by groups");
  if (s.sh <= 0 || s.sw <= 0 || s.dh <= 0 || s.dw <= 0 || s.pt < 0 || s.pl < 0)
    throw Error("ValueError", w + ": stride and dilation must be positive, padding non-negative");
  if (s.OH <= 0 || s.OW <= 0)
    throw Error("ShapeError", w + ": output size is empty for input " + dims4(s.N, s.C, s.H, s.W));
  // every output position's window starts inside the padded input
  if ((s.OH - 1) * s.sh - s.pt >= s.H + s.pt + s.dh * (s.kh - 1) || (s.OW - 1) * s.sw - s.pl >= s.W + s.pl + s.dw * (s.kw - 1))
    throw Error("ShapeError", w + ": output size too large for the input");
  if (!is_floating(s.dt)) throw Error("DTypeError", w + ": expected float32 or float64, got " + dtype_name(s.dt));
}

void apply_act(DType dt, const char* src, char* dst, int64_t n, const ActSpec& act) {
  if (act.op < 0 || n == 0) return;
  if (act.op >= kActCount) throw Error("ValueError", "conv2d: unknown activation code");
  Iter it;
  it.ndim = 1;
  it.shape[0] = n;
  it.nops = 2;
  for (int k = 0; k < 2; ++k) {
    it.op[k].data = k == 0 ? dst : const_cast<char*>(src);
    it.op[k].dtype = dt;
    it.op[k].strides[0] = int64_t(dtype_size(dt));
  }
  cpu_kernels().act_fwd(act.op, it, act.p);
}

namespace {
// The fused bias + activation passes work in blocks of about this many elements (whole rows n of
// bias_act_cpu, whole planes (n, c) of bias_act_bwd_cpu), each step over a block while it is in cache.
constexpr int64_t kActBlock = 8192;
constexpr int64_t kPlaneSumMin = 16;

// the sum of one plane of S elements (float32 planes summed in float32, vectorised)
template <class T>
double plane_sum(const T* d, int64_t S) {
  T a = 0;
#pragma omp simd reduction(+ : a)
  for (int64_t i = 0; i < S; ++i) a += d[i];
  return double(a);
}

// db[c] = sum over n of part[n, c] (or, for planes shorter than kPlaneSumMin, of dz[n, c, :]
// itself), in order of n, in double; channel ranges in parallel
template <class T>
void channel_sums(const T* dz, const std::vector<double>& part, int64_t N, int64_t C, int64_t S, T* db) {
  const bool from_dz = S < kPlaneSumMin;
  parallel_for(C, N * (from_dz ? S : 1), [&](int64_t c0, int64_t c1) {
    std::vector<double> t(size_t(c1 - c0), 0.0);
    for (int64_t n = 0; n < N; ++n) {
      if (from_dz) {
        const T* d = dz + (n * C + c0) * S;
        for (int64_t c = 0; c < c1 - c0; ++c)
          for (int64_t i = 0; i < S; ++i) t[size_t(c)] += double(d[c * S + i]);
      } else {
        const double* pr = part.data() + n * C + c0;
        for (int64_t c = 0; c < c1 - c0; ++c) t[size_t(c)] += pr[c];
      }
    }
    for (int64_t c = c0; c < c1; ++c) db[c] = T(t[size_t(c - c0)]);
  });
}
}  // namespace

// binary.def's op codes (the add of bias_act_cpu)
enum BinaryOp {
#define BINARY(name, expr) kBin_##name,
#define COMPARE(name, expr) kBin_##name,
#include "../ops/binary.def"
#undef BINARY
#undef COMPARE
};

// Rows n of C * S elements go in blocks of whole rows, about kActBlock elements each: the
// ISA-dispatched add of b broadcast over [rows, C, S] (binary.def's kernel), then the activation
// kernel over the block while it is still in cache.
void bias_act_cpu(DType dt, const ActSpec& act, char* y, const char* b, int64_t N, int64_t C, int64_t S, char* out) {
  if (act.op >= kActCount) throw Error("ValueError", "bias + activation: unknown activation code");
  const int64_t row = C * S;
  if (N == 0 || row == 0) return;
  const int64_t es = int64_t(dtype_size(dt));
  const int64_t per = std::max<int64_t>(1, kActBlock / row);
  parallel_for(
      N, row * (act.op >= 0 ? 4 : 1),
      [&](int64_t n0, int64_t n1) {
        for (int64_t q0 = n0; q0 < n1; q0 += per) {
          const int64_t rows = std::min(n1, q0 + per) - q0;
          char* src = y + q0 * row * es;
          char* dst = out + q0 * row * es;
          if (b) {
            Iter it;  // y[r, c, s] = y[r, c, s] + b[c] in place: op0 = out, op1 = y, op2 = b
            it.ndim = 3;
            it.shape[0] = rows;
            it.shape[1] = C;
            it.shape[2] = S;
            it.nops = 3;
            const int64_t ys[3] = {row * es, S * es, es}, bs[3] = {0, es, 0};
            char* data[3] = {src, src, const_cast<char*>(b)};
            for (int k = 0; k < 3; ++k) {
              it.op[k].data = data[k];
              it.op[k].dtype = dt;
              for (int d = 0; d < 3; ++d) it.op[k].strides[d] = k == 2 ? bs[d] : ys[d];
            }
            it.coalesce();
            cpu_kernels().binary(kBin_add, it);
          }
          if (act.op >= 0) apply_act(dt, src, dst, rows * row, act);
          else if (dst != src) std::memcpy(dst, src, size_t(rows * row * es));
        }
      },
      kElementwiseGrain);
}

// The training path of a convolution (or linear layer) with a fused activation: dz = act'(z) dy over
// [N, C, S] and, in the same sweep, db[c] = sum of dz over n and s. The activation's backward kernel
// runs over blocks of planes (n, c), each plane summed while the block is still in cache; the sums go
// to a per-plane partial in double, added over n in order (deterministic for any thread count).
void bias_act_bwd_cpu(DType dt, const ActSpec& act, const char* z, const char* dy, int64_t N, int64_t C, int64_t S,
                      char* dz, char* db) {
  if (act.op < 0 || act.op >= kActCount) throw Error("ValueError", "bias + activation backward: unknown activation code");
  const int64_t es = int64_t(dtype_size(dt));
  const int64_t planes = N * C;
  // planes of at least kPlaneSumMin elements are summed while in cache, into one double per plane;
  // shorter ones (a linear layer's [M, out] as S = 1) are summed from dz afterwards, by channel
  std::vector<double> part(db && S >= kPlaneSumMin ? size_t(planes) : 0, 0.0);
  const int64_t per = std::max<int64_t>(1, kActBlock / std::max<int64_t>(S, 1));
  if (S > 0)
    parallel_for(planes, S * 8, [&](int64_t p0, int64_t p1) {
      for (int64_t q0 = p0; q0 < p1; q0 += per) {
        const int64_t q1 = std::min(p1, q0 + per);
        const int64_t off = q0 * S * es;
        Iter it;
        it.ndim = 1;
        it.shape[0] = (q1 - q0) * S;
        it.nops = 3;
        const char* src[3] = {dz + off, z + off, dy + off};
        for (int k = 0; k < 3; ++k) {
          it.op[k].data = const_cast<char*>(src[k]);
          it.op[k].dtype = dt;
          it.op[k].strides[0] = es;
        }
        cpu_kernels().act_bwd(act.op, it, act.p);
        if (!db || S < kPlaneSumMin) continue;
        for (int64_t p = q0; p < q1; ++p)
          part[size_t(p)] = dt == DType::f32 ? plane_sum(reinterpret_cast<const float*>(dz) + p * S, S)
                                             : plane_sum(reinterpret_cast<const double*>(dz) + p * S, S);
      }
    });
  if (!db) return;
  if (dt == DType::f32) channel_sums(reinterpret_cast<const float*>(dz), part, N, C, S, reinterpret_cast<float*>(db));
  else channel_sums(reinterpret_cast<const double*>(dz), part, N, C, S, reinterpret_cast<double*>(db));
}

// ---- reference: im2col + bmm -----------------------------------------------------------------
namespace {

// col[c][i][j][oh][ow] for one sample (all C channels; groups are contiguous channel ranges)
template <class T>
void im2col(const ConvShape& s, const T* x, T* col) {
  const int64_t L = s.OH * s.OW;
  parallel_for(s.C * s.kh * s.kw, L, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t c = r / (s.kh * s.kw), i = (r / s.kw) % s.kh, j = r % s.kw;
      const T* xc = x + c * s.H * s.W;
      T* dst = col + r * L;
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        const int64_t ih = oh * s.sh - s.pt + i * s.dh;
        T* d = dst + oh * s.OW;
        if (ih < 0 || ih >= s.H) {
          std::fill(d, d + s.OW, T(0));
          continue;
        }
        const T* xr = xc + ih * s.W;
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          const int64_t iw = ow * s.sw - s.pl + j * s.dw;
          d[ow] = (iw >= 0 && iw < s.W) ? xr[iw] : T(0);
        }
      }
    }
  });
}

// dx[c] += col rows of channel c (one sample); parallel over channels so writes never collide
template <class T>
void col2im(const ConvShape& s, const T* col, T* dx) {
  const int64_t L = s.OH * s.OW, KK = s.kh * s.kw;
  parallel_for(s.C, KK * L, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      T* xc = dx + c * s.H * s.W;
      std::fill(xc, xc + s.H * s.W, T(0));
      for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j) {
          const T* src = col + ((c * s.kh + i) * s.kw + j) * L;
          for (int64_t oh = 0; oh < s.OH; ++oh) {
            const int64_t ih = oh * s.sh - s.pt + i * s.dh;
            if (ih < 0 || ih >= s.H) continue;
            T* xr = xc + ih * s.W;
            const T* sr = src + oh * s.OW;
            for (int64_t ow = 0; ow < s.OW; ++ow) {
              const int64_t iw = ow * s.sw - s.pl + j * s.dw;
              if (iw >= 0 && iw < s.W) xr[iw] += sr[ow];
            }
          }
        }
    }
  });
}

template <class T>
void conv_fwd_ref(const ConvShape& s, const T* x, const T* w, const T* b, T* y) {
  const int64_t L = s.OH * s.OW, Cg = s.C / s.G, Og = s.O / s.G, K = Cg * s.kh * s.kw;
  std::vector<T> col(size_t(s.C * s.kh * s.kw * L));
  for (int64_t n = 0; n < s.N; ++n) {
    im2col(s, x + n * s.C * s.H * s.W, col.data());
    // y_n[g] (Og x L) = w[g] (Og x K) @ col[g] (K x L)
    MatArg a{reinterpret_cast<const char*>(w), {Og * K, K, 1}};
    MatArg bm{reinterpret_cast<const char*>(col.data()), {K * L, L, 1}};
    bmm_fwd_cpu(s.dt, s.G, Og, K, L, a, bm, reinterpret_cast<char*>(y + n * s.O * L));
  }
  if (b) {
    parallel_for(s.N * s.O, L, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T bv = b[r % s.O];
        T* yr = y + r * L;
        for (int64_t l = 0; l < L; ++l) yr[l] += bv;
      }
    });
  }
}

template <class T>
void conv_bwd_data_ref(const ConvShape& s, const T* dy, const T* w, T* dx) {
  const int64_t L = s.OH * s.OW, Cg = s.C / s.G, Og = s.O / s.G, K = Cg * s.kh * s.kw;
  std::vector<T> col(size_t(s.C * s.kh * s.kw * L));
  for (int64_t n = 0; n < s.N; ++n) {
    // col[g] (K x L) = w[g]^T (K x Og) @ dy_n[g] (Og x L)
    MatArg a{reinterpret_cast<const char*>(w), {Og * K, 1, K}};
    MatArg bm{reinterpret_cast<const char*>(dy + n * s.O * L), {Og * L, L, 1}};
    bmm_fwd_cpu(s.dt, s.G, K, Og, L, a, bm, reinterpret_cast<char*>(col.data()));
    col2im(s, col.data(), dx + n * s.C * s.H * s.W);
  }
}

template <class T>
void conv_bwd_weight_ref(const ConvShape& s, const T* x, const T* dy, T* dw, T* db) {
  const int64_t L = s.OH * s.OW, Cg = s.C / s.G, Og = s.O / s.G, K = Cg * s.kh * s.kw;
  std::vector<T> col(size_t(s.C * s.kh * s.kw * L));
  std::vector<T> tmp(size_t(s.O * K));
  std::fill(dw, dw + s.O * K, T(0));
  for (int64_t n = 0; n < s.N; ++n) {
    im2col(s, x + n * s.C * s.H * s.W, col.data());
    // tmp[g] (Og x K) = dy_n[g] (Og x L) @ col[g]^T (L x K)
    MatArg a{reinterpret_cast<const char*>(dy + n * s.O * L), {Og * L, L, 1}};
    MatArg bm{reinterpret_cast<const char*>(col.data()), {K * L, 1, L}};
    bmm_fwd_cpu(s.dt, s.G, Og, L, K, a, bm, reinterpret_cast<char*>(tmp.data()));
    for (int64_t i = 0; i < s.O * K; ++i) dw[i] += tmp[size_t(i)];
  }
  if (db) {
    parallel_for(s.O, s.N * L, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        T acc = 0;
        for (int64_t n = 0; n < s.N; ++n) {
          const T* r = dy + (n * s.O + o) * L;
          for (int64_t l = 0; l < L; ++l) acc += r[l];
        }
        db[o] = acc;
      }
    });
  }
}

// ---- oneDNN ------------------------------------------------------------------------------------
// The primitives are created with format_tag::any so oneDNN picks its fast blocked layouts (e.g.
// nChw16c / OIhw16i16o with the jit:avx512 kernels) instead of the slow gemm path it uses for plain
// NCHW. Ignis tensors stay NCHW/OIHW: each cached plan holds the reorders between the user layout and
// the primitive's (as PyTorch's ideep does); the reordered copies live in the caching allocator.
#ifdef IGNIS_HAVE_DNNL
using namespace dnnl;
using Key = std::array<int64_t, 24>;

Key conv_key(const ConvShape& s, int64_t kind, int64_t extra = 0) {
  return Key{kind, s.N, s.C, s.H, s.W, s.O, s.kh, s.kw, s.OH, s.OW, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, s.G, extra, 0, 0, 0, 0, 0, 0};
}

struct Descs {
  memory::desc src, wei, bias, dst;           // the user's layouts (NCHW, OIHW / GOIHW)
  memory::desc src_a, wei_a, dst_a;           // format_tag::any: the primitive chooses
  memory::dims strides, dil, pl, pr;
};

Descs descs(const ConvShape& s) {
  Descs d;
  auto f = memory::data_type::f32;
  auto any = memory::format_tag::any;
  memory::dims sd{s.N, s.C, s.H, s.W}, dd{s.N, s.O, s.OH, s.OW};
  memory::dims wd = s.G > 1 ? memory::dims{s.G, s.O / s.G, s.C / s.G, s.kh, s.kw} : memory::dims{s.O, s.C, s.kh, s.kw};
  d.src = memory::desc(sd, f, memory::format_tag::nchw);
  d.wei = memory::desc(wd, f, s.G > 1 ? memory::format_tag::goihw : memory::format_tag::oihw);
  d.bias = memory::desc({s.O}, f, memory::format_tag::x);
  d.dst = memory::desc(dd, f, memory::format_tag::nchw);
  d.src_a = memory::desc(sd, f, any);
  d.wei_a = memory::desc(wd, f, any);
  d.dst_a = memory::desc(dd, f, any);
  d.strides = {s.sh, s.sw};
  d.dil = {s.dh - 1, s.dw - 1};
  d.pl = {s.pt, s.pl};
  // exact right padding for the given output size (may be smaller than the left padding)
  d.pr = {(s.OH - 1) * s.sh + (s.kh - 1) * s.dh + 1 - s.H - s.pt, (s.OW - 1) * s.sw + (s.kw - 1) * s.dw + 1 - s.W - s.pl};
  return d;
}

convolution_forward::primitive_desc fwd_pd(const Descs& d, bool bias, const primitive_attr& attr = primitive_attr()) {
  auto pk = prop_kind::forward_training;
  if (bias)
    return {convolution_forward::desc(pk, algorithm::convolution_direct, d.src_a, d.wei_a, d.bias, d.dst_a, d.strides,
                                      d.dil, d.pl, d.pr),
            attr, dnnl_ctx().eng};
  return {convolution_forward::desc(pk, algorithm::convolution_direct, d.src_a, d.wei_a, d.dst_a, d.strides, d.dil, d.pl,
                                    d.pr),
          attr, dnnl_ctx().eng};
}

bool dnnl_eltwise(const ActSpec& a, algorithm& alg, float& alpha, float& beta) {
  const std::string n = kActNames[a.op];
  alpha = 0;
  beta = 0;
  if (n == "relu") alg = algorithm::eltwise_relu;
  else if (n == "leaky_relu") { alg = algorithm::eltwise_relu; alpha = float(a.p[0]); }
  else if (n == "relu6") { alg = algorithm::eltwise_clip_v2; alpha = 0; beta = 6; }
  else if (n == "hardtanh") { alg = algorithm::eltwise_clip_v2; alpha = float(a.p[0]); beta = float(a.p[1]); }
  else if (n == "elu") { alg = algorithm::eltwise_elu; alpha = float(a.p[0]); }
  else if (n == "gelu") alg = algorithm::eltwise_gelu_erf;
  else if (n == "gelu_tanh") alg = algorithm::eltwise_gelu_tanh;
  else if (n == "silu") { alg = algorithm::eltwise_swish; alpha = 1; }
  else if (n == "swish") { alg = algorithm::eltwise_swish; alpha = float(a.p[0]); }
  else if (n == "mish") alg = algorithm::eltwise_mish;
  else if (n == "sigmoid") alg = algorithm::eltwise_logistic;
  else if (n == "tanh") alg = algorithm::eltwise_tanh;
  else if (n == "hardswish") alg = algorithm::eltwise_hardswish;
  else if (n == "logsigmoid") alg = algorithm::eltwise_logsigmoid;
  else if (n == "softplus" && a.p[0] == 1 && a.p[1] >= 20) alg = algorithm::eltwise_soft_relu;
  else return false;
  return true;
}

// One argument of a primitive: the user's buffer layout, the primitive's, and (when they differ)
// the reorder between them. The primitive-layout copy lives in a block of the caching allocator for
// the duration of one call, so a cached plan holds no activation-sized memory.
struct PlanArg {
  int arg = 0;
  bool out = false;
  memory::desc user, prim;
  bool reordered = false;
  primitive reorder;  // user -> prim (inputs) or prim -> user (outputs)
};

struct Plan {
  primitive prim;
  std::vector<PlanArg> args;
  bool post_op = false;  // forward: the activation runs inside the primitive
};

void add_arg(Plan& p, int arg, bool out, const memory::desc& user, const memory::desc& prim) {
  PlanArg a;
  a.arg = arg;
  a.out = out;
  a.user = user;
  a.prim = prim;
  if (user != prim) {
    auto& eng = dnnl_ctx().eng;
    memory u(user, eng, DNNL_MEMORY_NONE), q(prim, eng, DNNL_MEMORY_NONE);
    a.reordered = true;
    a.reorder = out ? primitive(dnnl::reorder(q, u)) : primitive(dnnl::reorder(u, q));
  }
  p.args.push_back(std::move(a));
}

// Scratch blocks for one call, returned to the caching allocator on every exit path.
struct Scratch {
  std::vector<std::pair<void*, size_t>> blocks;
  void* get(size_t n) {
    void* p = cpu_alloc(n);
    if (!p) throw Error("MemoryError", "conv2d: out of memory allocating " + std::to_string(n) + " bytes for a layout reorder");
    blocks.emplace_back(p, n);
    return p;
  }
  ~Scratch() {
    for (auto& b : blocks) cpu_free(b.first, b.second);
  }
};

// Runs plan p over the user buffers ptrs[i] (in p.args order): reorders in, primitive, reorders out.
void run_plan(Plan& p, const std::vector<void*>& ptrs) {
  DnnlCtx& c = dnnl_ctx();
  Scratch scratch;
  std::unordered_map<int, memory> args;
  std::vector<std::pair<memory, memory>> outs;  // (primitive layout, user)
  for (size_t i = 0; i < p.args.size(); ++i) {
    PlanArg& a = p.args[i];
    memory u(a.user, c.eng, ptrs[i]);
    if (!a.reordered) {
      args.emplace(a.arg, u);
      continue;
    }
    memory q(a.prim, c.eng, scratch.get(a.prim.get_size()));
    if (!a.out) a.reorder.execute(c.strm, {{DNNL_ARG_FROM, u}, {DNNL_ARG_TO, q}});
    else outs.emplace_back(q, u);
    args.emplace(a.arg, q);
  }
  p.prim.execute(c.strm, args);
  size_t k = 0;
  for (size_t i = 0; i < p.args.size(); ++i)
    if (p.args[i].reordered && p.args[i].out) {
      p.args[i].reorder.execute(c.strm, {{DNNL_ARG_FROM, outs[k].first}, {DNNL_ARG_TO, outs[k].second}});
      ++k;
    }
  c.strm.wait();
}

std::map<Key, Plan> g_plans;

Plan* find_or_make(const Key& key, const std::function<Plan()>& make) {
  auto it = g_plans.find(key);
  if (it != g_plans.end()) return &it->second;
  Plan p;
  try {
    p = make();
  } catch (const dnnl::error&) {
    return nullptr;
  }
  if (g_plans.size() >= 256) g_plans.clear();
  return &g_plans.emplace(key, std::move(p)).first->second;
}

bool conv_fwd_dnnl(const ConvShape& s, const float* x, const float* w, const float* b, float* y, const ActSpec& act) {
  DnnlCtx& c = dnnl_ctx();
  Key key = conv_key(s, 1, b ? 1 : 0);
  key[18] = act.op;
  std::memcpy(&key[19], &act.p[0], 8);
  std::memcpy(&key[20], &act.p[1], 8);
  std::lock_guard<std::mutex> g(c.mu);
  Plan* p = find_or_make(key, [&] {
    Descs d = descs(s);
    primitive_attr attr;
    Plan pl;
    algorithm alg;
    float alpha, beta;
    if (act.op >= 0 && dnnl_eltwise(act, alg, alpha, beta)) {
      post_ops po;
      po.append_eltwise(1.f, alg, alpha, beta);
      attr.set_post_ops(po);
      pl.post_op = true;
    }
    auto pd = fwd_pd(d, b != nullptr, attr);
    pl.prim = convolution_forward(pd);
    add_arg(pl, DNNL_ARG_SRC, false, d.src, pd.src_desc());
    add_arg(pl, DNNL_ARG_WEIGHTS, false, d.wei, pd.weights_desc());
    if (b) add_arg(pl, DNNL_ARG_BIAS, false, d.bias, pd.bias_desc());
    add_arg(pl, DNNL_ARG_DST, true, d.dst, pd.dst_desc());
    return pl;
  });
  if (!p) return false;
  std::vector<void*> ptrs{const_cast<float*>(x), const_cast<float*>(w)};
  if (b) ptrs.push_back(const_cast<float*>(b));
  ptrs.push_back(y);
  run_plan(*p, ptrs);
  if (!p->post_op) apply_act_inplace(DType::f32, reinterpret_cast<char*>(y), s.N * s.O * s.OH * s.OW, act);
  return true;
}

bool conv_bwd_data_dnnl(const ConvShape& s, const float* dy, const float* w, float* dx) {
  DnnlCtx& c = dnnl_ctx();
  std::lock_guard<std::mutex> g(c.mu);
  Plan* p = find_or_make(conv_key(s, 2), [&] {
    Descs d = descs(s);
    auto hint = fwd_pd(d, false);
    convolution_backward_data::primitive_desc pd(
        convolution_backward_data::desc(algorithm::convolution_direct, d.src_a, d.wei_a, d.dst_a, d.strides, d.dil, d.pl, d.pr),
        c.eng, hint);
    Plan pl;
    pl.prim = convolution_backward_data(pd);
    add_arg(pl, DNNL_ARG_DIFF_DST, false, d.dst, pd.diff_dst_desc());
    add_arg(pl, DNNL_ARG_WEIGHTS, false, d.wei, pd.weights_desc());
    add_arg(pl, DNNL_ARG_DIFF_SRC, true, d.src, pd.diff_src_desc());
    return pl;
  });
  if (!p) return false;
  run_plan(*p, {const_cast<float*>(dy), const_cast<float*>(w), dx});
  return true;
}

bool conv_bwd_weight_dnnl(const ConvShape& s, const float* x, const float* dy, float* dw, float* db) {
  DnnlCtx& c = dnnl_ctx();
  std::lock_guard<std::mutex> g(c.mu);
  Plan* p = find_or_make(conv_key(s, 3, db ? 1 : 0), [&] {
    Descs d = descs(s);
    auto hint = fwd_pd(d, db != nullptr);
    auto desc = db ? convolution_backward_weights::desc(algorithm::convolution_direct, d.src_a, d.wei_a, d.bias, d.dst_a,
                                                         d.strides, d.dil, d.pl, d.pr)
                   : convolution_backward_weights::desc(algorithm::convolution_direct, d.src_a, d.wei_a, d.dst_a, d.strides,
                                                         d.dil, d.pl, d.pr);
    convolution_backward_weights::primitive_desc pd(desc, c.eng, hint);
    Plan pl;
    pl.prim = convolution_backward_weights(pd);
    add_arg(pl, DNNL_ARG_SRC, false, d.src, pd.src_desc());
    add_arg(pl, DNNL_ARG_DIFF_DST, false, d.dst, pd.diff_dst_desc());
    add_arg(pl, DNNL_ARG_DIFF_WEIGHTS, true, d.wei, pd.diff_weights_desc());
    if (db) add_arg(pl, DNNL_ARG_DIFF_BIAS, true, d.bias, pd.diff_bias_desc());
    return pl;
  });
  if (!p) return false;
  std::vector<void*> ptrs{const_cast<float*>(x), const_cast<float*>(dy), dw};
  if (db) ptrs.push_back(db);
  run_plan(*p, ptrs);
  return true;
}
#endif

}  // namespace

void conv2d_fwd_cpu(const ConvShape& s, const char* x, const char* w, const char* b, char* y, const ActSpec& act, bool onednn) {
  conv_check(s, "conv2d");
  if (act.op >= kActCount) throw Error("ValueError", "conv2d: unknown activation code");
  if (s.N == 0) return;
#ifdef IGNIS_HAVE_DNNL
  if (onednn && s.dt == DType::f32 &&
      conv_fwd_dnnl(s, reinterpret_cast<const float*>(x), reinterpret_cast<const float*>(w),
                    reinterpret_cast<const float*>(b), reinterpret_cast<float*>(y), act))
    return;
#else
  (void)onednn;
#endif
  IGNIS_DISPATCH_FLOAT(s.dt, T, "conv2d", {
    conv_fwd_ref<T>(s, reinterpret_cast<const T*>(x), reinterpret_cast<const T*>(w), reinterpret_cast<const T*>(b),
                    reinterpret_cast<T*>(y));
  });
  apply_act_inplace(s.dt, y, s.N * s.O * s.OH * s.OW, act);
}

void conv2d_bwd_data_cpu(const ConvShape& s, const char* dy, const char* w, char* dx, bool onednn) {
  conv_check(s, "conv2d backward");
  if (s.N == 0) return;
#ifdef IGNIS_HAVE_DNNL
  if (onednn && s.dt == DType::f32 &&
      conv_bwd_data_dnnl(s, reinterpret_cast<const float*>(dy), reinterpret_cast<const float*>(w), reinterpret_cast<float*>(dx)))
    return;
#else
  (void)onednn;
#endif
  IGNIS_DISPATCH_FLOAT(s.dt, T, "conv2d backward", {
    conv_bwd_data_ref<T>(s, reinterpret_cast<const T*>(dy), reinterpret_cast<const T*>(w), reinterpret_cast<T*>(dx));
  });
}

void conv2d_bwd_weight_cpu(const ConvShape& s, const char* x, const char* dy, char* dw, char* db, bool onednn) {
  conv_check(s, "conv2d backward");
  const size_t es = dtype_size(s.dt);
  if (s.N == 0) {
    std::memset(dw, 0, size_t(s.O * (s.C / s.G) * s.kh * s.kw) * es);
    if (db) std::memset(db, 0, size_t(s.O) * es);
    return;
  }
#ifdef IGNIS_HAVE_DNNL
  if (onednn && s.dt == DType::f32 &&
      conv_bwd_weight_dnnl(s, reinterpret_cast<const float*>(x), reinterpret_cast<const float*>(dy), reinterpret_cast<float*>(dw),
                           reinterpret_cast<float*>(db)))
    return;
#else
  (void)onednn;
#endif
  IGNIS_DISPATCH_FLOAT(s.dt, T, "conv2d backward", {
    conv_bwd_weight_ref<T>(s, reinterpret_cast<const T*>(x), reinterpret_cast<const T*>(dy), reinterpret_cast<T*>(dw),
                           reinterpret_cast<T*>(db));
  });
}

}  // namespace ignis
