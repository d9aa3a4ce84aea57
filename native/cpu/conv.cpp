// 2-D convolution: oneDNN primitives (cached by shape) for float32, im2col + bmm otherwise.
#include "conv.h"

#include <array>
#include <cstring>
#include <map>
#include <unordered_map>
#include <string>
#include <vector>

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

void apply_act_inplace(DType dt, char* data, int64_t n, const ActSpec& act) {
  if (act.op < 0 || n == 0) return;
  if (act.op >= kActCount) throw Error("ValueError", "conv2d: unknown activation code");
  Iter it;
  it.ndim = 1;
  it.shape[0] = n;
  it.nops = 2;
  for (int k = 0; k < 2; ++k) {
    it.op[k].data = data;
    it.op[k].dtype = dt;
    it.op[k].strides[0] = int64_t(dtype_size(dt));
  }
  cpu_kernels().act_fwd(act.op, it, act.p);
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
#ifdef IGNIS_HAVE_DNNL
using namespace dnnl;
using Key = std::array<int64_t, 24>;

Key conv_key(const ConvShape& s, int64_t kind, int64_t extra = 0) {
  return Key{kind, s.N, s.C, s.H, s.W, s.O, s.kh, s.kw, s.OH, s.OW, s.sh, s.sw, s.dh, s.dw, s.pt, s.pl, s.G, extra, 0, 0, 0, 0, 0, 0};
}

struct Descs {
  memory::desc src, wei, bias, dst;
  memory::dims strides, dil, pl, pr;
};

Descs descs(const ConvShape& s) {
  Descs d;
  auto f = memory::data_type::f32;
  d.src = memory::desc({s.N, s.C, s.H, s.W}, f, memory::format_tag::nchw);
  if (s.G > 1)
    d.wei = memory::desc({s.G, s.O / s.G, s.C / s.G, s.kh, s.kw}, f, memory::format_tag::goihw);
  else
    d.wei = memory::desc({s.O, s.C, s.kh, s.kw}, f, memory::format_tag::oihw);
  d.bias = memory::desc({s.O}, f, memory::format_tag::x);
  d.dst = memory::desc({s.N, s.O, s.OH, s.OW}, f, memory::format_tag::nchw);
  d.strides = {s.sh, s.sw};
  d.dil = {s.dh - 1, s.dw - 1};
  d.pl = {s.pt, s.pl};
  // exact right padding for the given output size (may be smaller than the left padding)
  d.pr = {(s.OH - 1) * s.sh + (s.kh - 1) * s.dh + 1 - s.H - s.pt, (s.OW - 1) * s.sw + (s.kw - 1) * s.dw + 1 - s.W - s.pl};
  return d;
}

convolution_forward::primitive_desc fwd_pd(const ConvShape& s, const Descs& d, bool bias, prop_kind pk,
                                           const primitive_attr& attr = primitive_attr()) {
  if (bias)
    return {convolution_forward::desc(pk, algorithm::convolution_direct, d.src, d.wei, d.bias, d.dst, d.strides, d.dil,
                                      d.pl, d.pr),
            attr, dnnl_ctx().eng};
  return {convolution_forward::desc(pk, algorithm::convolution_direct, d.src, d.wei, d.dst, d.strides, d.dil, d.pl, d.pr),
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

struct FwdEntry {
  convolution_forward prim;
  bool post_op;  // the activation runs inside the primitive
};
std::map<Key, FwdEntry> g_fwd;
std::map<Key, convolution_backward_data> g_bwd_data;
std::map<Key, convolution_backward_weights> g_bwd_weights;

template <class M>
void bound(M& m) {
  if (m.size() > 256) m.clear();
}

bool conv_fwd_dnnl(const ConvShape& s, const float* x, const float* w, const float* b, float* y, const ActSpec& act) {
  DnnlCtx& c = dnnl_ctx();
  Key key = conv_key(s, 1, b ? 1 : 0);
  double pk[3] = {act.p[0], act.p[1], 0};
  key[18] = act.op;
  std::memcpy(&key[19], &pk[0], 8);
  std::memcpy(&key[20], &pk[1], 8);
  std::lock_guard<std::mutex> g(c.mu);
  auto it = g_fwd.find(key);
  Descs d = descs(s);
  if (it == g_fwd.end()) {
    try {
      primitive_attr attr;
      bool post = false;
      algorithm alg;
      float alpha, beta;
      if (act.op >= 0 && dnnl_eltwise(act, alg, alpha, beta)) {
        post_ops po;
        po.append_eltwise(1.f, alg, alpha, beta);
        attr.set_post_ops(po);
        post = true;
      }
      auto pd = fwd_pd(s, d, b != nullptr, prop_kind::forward_training, attr);
      bound(g_fwd);
      it = g_fwd.emplace(key, FwdEntry{convolution_forward(pd), post}).first;
    } catch (const dnnl::error&) {
      return false;
    }
  }
  memory xm(d.src, c.eng, const_cast<float*>(x)), wm(d.wei, c.eng, const_cast<float*>(w)), ym(d.dst, c.eng, y);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xm}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DST, ym}};
  if (b) args.emplace(DNNL_ARG_BIAS, memory(d.bias, c.eng, const_cast<float*>(b)));
  it->second.prim.execute(c.strm, args);
  c.strm.wait();
  if (!it->second.post_op) apply_act_inplace(DType::f32, reinterpret_cast<char*>(y), s.N * s.O * s.OH * s.OW, act);
  return true;
}

bool conv_bwd_data_dnnl(const ConvShape& s, const float* dy, const float* w, float* dx) {
  DnnlCtx& c = dnnl_ctx();
  Key key = conv_key(s, 2);
  std::lock_guard<std::mutex> g(c.mu);
  Descs d = descs(s);
  auto it = g_bwd_data.find(key);
  if (it == g_bwd_data.end()) {
    try {
      auto hint = fwd_pd(s, d, false, prop_kind::forward_training);
      convolution_backward_data::primitive_desc pd(
          convolution_backward_data::desc(algorithm::convolution_direct, d.src, d.wei, d.dst, d.strides, d.dil, d.pl, d.pr),
          c.eng, hint);
      bound(g_bwd_data);
      it = g_bwd_data.emplace(key, convolution_backward_data(pd)).first;
    } catch (const dnnl::error&) {
      return false;
    }
  }
  memory dym(d.dst, c.eng, const_cast<float*>(dy)), wm(d.wei, c.eng, const_cast<float*>(w)), dxm(d.src, c.eng, dx);
  it->second.execute(c.strm, {{DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_WEIGHTS, wm}, {DNNL_ARG_DIFF_SRC, dxm}});
  c.strm.wait();
  return true;
}

bool conv_bwd_weight_dnnl(const ConvShape& s, const float* x, const float* dy, float* dw, float* db) {
  DnnlCtx& c = dnnl_ctx();
  Key key = conv_key(s, 3, db ? 1 : 0);
  std::lock_guard<std::mutex> g(c.mu);
  Descs d = descs(s);
  auto it = g_bwd_weights.find(key);
  if (it == g_bwd_weights.end()) {
    try {
      auto hint = fwd_pd(s, d, db != nullptr, prop_kind::forward_training);
      auto desc = db ? convolution_backward_weights::desc(algorithm::convolution_direct, d.src, d.wei, d.bias, d.dst, d.strides,
                                                           d.dil, d.pl, d.pr)
                     : convolution_backward_weights::desc(algorithm::convolution_direct, d.src, d.wei, d.dst, d.strides, d.dil,
                                                           d.pl, d.pr);
      convolution_backward_weights::primitive_desc pd(desc, c.eng, hint);
      bound(g_bwd_weights);
      it = g_bwd_weights.emplace(key, convolution_backward_weights(pd)).first;
    } catch (const dnnl::error&) {
      return false;
    }
  }
  memory xm(d.src, c.eng, const_cast<float*>(x)), dym(d.dst, c.eng, const_cast<float*>(dy)), dwm(d.wei, c.eng, dw);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xm}, {DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_WEIGHTS, dwm}};
  if (db) args.emplace(DNNL_ARG_DIFF_BIAS, memory(d.bias, c.eng, db));
  it->second.execute(c.strm, args);
  c.strm.wait();
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
