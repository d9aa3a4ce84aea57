// 2-D pooling: reference loops (parallel over N*C planes) and oneDNN pooling_v2 for float32.
#include "pool.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <unordered_map>
#include <string>
#include <type_traits>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "../core/error.h"
#include "../core/parallel.h"
#include "conv.h"

namespace ignis {

void pool_check(const PoolShape& s, const char* what) {
  const std::string w(what);
  if (s.N < 0 || s.C < 0 || s.H <= 0 || s.W <= 0 || s.OH <= 0 || s.OW <= 0)
    throw Error("ShapeError", w + ": bad sizes (input " + std::to_string(s.H) + "x" + std::to_string(s.W) + ", output " +
                                  std::to_string(s.OH) + "x" + std::to_string(s.OW) + ")");
  if (s.kh <= 0 || s.kw <= 0 || s.sh <= 0 || s.sw <= 0 || s.dh <= 0 || s.dw <= 0 || s.pt < 0 || s.pl < 0)
    throw Error("ValueError", w + ": kernel size, stride and dilation must be positive, padding non-negative");
  if (!is_floating(s.dt)) throw Error("DTypeError", w + ": expected float32 or float64, got " + dtype_name(s.dt));
}

namespace {

// The common max pool (2x2 windows, stride 2, no padding or dilation) on float32, four outputs at a
// time with SSE2 (the baseline ISA): the same comparisons in the same order as max_fwd below
// (`v > m || isnan(v)` over the window row by row), so NaNs and ties give the same values and
// indices. max_fwd's branches mispredict on real data: [64,32,30,30] with indices took 4.4 ms
// there and 1.0 ms here, 2 threads on the dev VM.
bool is_max2x2(const PoolShape& s) {
  return s.max && s.kh == 2 && s.kw == 2 && s.sh == 2 && s.sw == 2 && s.pt == 0 && s.pl == 0 && s.dh == 1 && s.dw == 1 &&
         2 * s.OH <= s.H && 2 * s.OW <= s.W && s.H * s.W < (int64_t(1) << 31);
}

#if defined(__SSE2__)
inline void max2x2_step(__m128& m, __m128i& code, __m128 v, int c) {
  const __m128 take = _mm_or_ps(_mm_cmpgt_ps(v, m), _mm_cmpunord_ps(v, v));
  m = _mm_or_ps(_mm_and_ps(take, v), _mm_andnot_ps(take, m));
  const __m128i t = _mm_castps_si128(take);
  code = _mm_or_si128(_mm_and_si128(t, _mm_set1_epi32(c)), _mm_andnot_si128(t, code));
}
#endif

void max2x2_f32(const PoolShape& s, const float* x, float* y, int64_t* ind) {
  const int64_t HW = s.H * s.W, L = s.OH * s.OW, W = s.W;
  parallel_for(s.N * s.C, L * 4, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        const float* r0 = x + p * HW + 2 * oh * W;
        const float* r1 = r0 + W;
        float* yo = y + p * L + oh * s.OW;
        int64_t* io = ind ? ind + p * L + oh * s.OW : nullptr;
        const int64_t base = 2 * oh * W;
        int64_t ow = 0;
#if defined(__SSE2__)
        for (; ow + 4 <= s.OW; ow += 4) {
          const __m128 a0 = _mm_loadu_ps(r0 + 2 * ow), a1 = _mm_loadu_ps(r0 + 2 * ow + 4);
          const __m128 b0 = _mm_loadu_ps(r1 + 2 * ow), b1 = _mm_loadu_ps(r1 + 2 * ow + 4);
          __m128 m = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0));  // (0, 0) of each window
          __m128i code = _mm_setzero_si128();
          max2x2_step(m, code, _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1)), 1);  // (0, 1)
          max2x2_step(m, code, _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0)), 2);  // (1, 0)
          max2x2_step(m, code, _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1)), 3);  // (1, 1)
          _mm_storeu_ps(yo + ow, m);
          if (io) {
            // base + 2 (ow + k) + (c >> 1) W + (c & 1) in 32 bits (a plane's index; H W < 2^31 checked
            // by is_max2x2's caller), widened to int64 with zeros
            const __m128i two = _mm_set1_epi32(2);
            const __m128i row = _mm_and_si128(_mm_cmpeq_epi32(_mm_and_si128(code, two), two), _mm_set1_epi32(int32_t(W)));
            const __m128i col = _mm_add_epi32(_mm_set_epi32(6, 4, 2, 0), _mm_and_si128(code, _mm_set1_epi32(1)));
            const __m128i idx = _mm_add_epi32(_mm_add_epi32(row, col), _mm_set1_epi32(int32_t(base + 2 * ow)));
            const __m128i zero = _mm_setzero_si128();
            _mm_storeu_si128(reinterpret_cast<__m128i*>(io + ow), _mm_unpacklo_epi32(idx, zero));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(io + ow + 2), _mm_unpackhi_epi32(idx, zero));
          }
        }
#endif
        for (; ow < s.OW; ++ow) {
          const float v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
          float m = v[0];
          int c = 0;
          for (int k = 1; k < 4; ++k)
            if (v[k] > m || std::isnan(v[k])) m = v[k], c = k;
          yo[ow] = m;
          if (io) io[ow] = base + 2 * ow + (c >> 1) * W + (c & 1);
        }
      }
    }
  });
}

template <class T>
void max_fwd(const PoolShape& s, const T* x, T* y, int64_t* ind) {
  if constexpr (std::is_same_v<T, float>) {
    if (is_max2x2(s)) return max2x2_f32(s, x, y, ind);
  }
  const int64_t HW = s.H * s.W, L = s.OH * s.OW;
  parallel_for(s.N * s.C, L * s.kh * s.kw, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * HW;
      T* yp = y + p * L;
      int64_t* ip = ind ? ind + p * L : nullptr;
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        int64_t hs = oh * s.sh - s.pt;
        int64_t he = std::min(hs + (s.kh - 1) * s.dh + 1, s.H);
        while (hs < 0) hs += s.dh;
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          int64_t ws = ow * s.sw - s.pl;
          int64_t we = std::min(ws + (s.kw - 1) * s.dw + 1, s.W);
          while (ws < 0) ws += s.dw;
          int64_t mi = hs * s.W + ws;
          T mv = -std::numeric_limits<T>::infinity();
          for (int64_t ih = hs; ih < he; ih += s.dh)
            for (int64_t iw = ws; iw < we; iw += s.dw) {
              const T v = xp[ih * s.W + iw];
              if (v > mv || std::isnan(v)) {
                mv = v;
                mi = ih * s.W + iw;
              }
            }
          yp[oh * s.OW + ow] = mv;
          if (ip) ip[oh * s.OW + ow] = mi;
        }
      }
    }
  });
}

// The input window of average-pooling output (oh, ow), clipped to the input, and its divisor
// (divisor_override, or the window size with / without the padding: count_include_pad).
struct AvgWindow {
  int64_t hs, he, ws, we, div;
  bool empty;  // no input element under the window
};
inline AvgWindow avg_window(const PoolShape& s, int64_t oh, int64_t ow) {
  AvgWindow a;
  a.hs = oh * s.sh - s.pt;
  a.he = std::min(a.hs + s.kh, s.H + s.pt);
  a.ws = ow * s.sw - s.pl;
  a.we = std::min(a.ws + s.kw, s.W + s.pl);
  const int64_t padded = (a.he - a.hs) * (a.we - a.ws);
  a.hs = std::max<int64_t>(a.hs, 0);
  a.he = std::min(a.he, s.H);
  a.ws = std::max<int64_t>(a.ws, 0);
  a.we = std::min(a.we, s.W);
  a.empty = a.hs >= a.he || a.ws >= a.we;
  a.div = s.divisor ? s.divisor : (s.count_include_pad ? padded : (a.he - a.hs) * (a.we - a.ws));
  return a;
}

template <class T>
void avg_fwd(const PoolShape& s, const T* x, T* y) {
  const int64_t HW = s.H * s.W, L = s.OH * s.OW;
  parallel_for(s.N * s.C, L * s.kh * s.kw, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * HW;
      T* yp = y + p * L;
      for (int64_t oh = 0; oh < s.OH; ++oh)
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          const AvgWindow a = avg_window(s, oh, ow);
          if (a.empty) {
            yp[oh * s.OW + ow] = T(0);
            continue;
          }
          T acc = 0;
          for (int64_t ih = a.hs; ih < a.he; ++ih)
            for (int64_t iw = a.ws; iw < a.we; ++iw) acc += xp[ih * s.W + iw];
          yp[oh * s.OW + ow] = acc / T(a.div);
        }
    }
  });
}

template <class T>
void avg_bwd(const PoolShape& s, const T* dy, T* dx) {
  const int64_t HW = s.H * s.W, L = s.OH * s.OW;
  parallel_for(s.N * s.C, L * s.kh * s.kw, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* xp = dx + p * HW;
      const T* yp = dy + p * L;
      std::fill(xp, xp + HW, T(0));
      for (int64_t oh = 0; oh < s.OH; ++oh)
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          const AvgWindow a = avg_window(s, oh, ow);
          if (a.empty) continue;
          const T g = yp[oh * s.OW + ow] / T(a.div);
          for (int64_t ih = a.hs; ih < a.he; ++ih)
            for (int64_t iw = a.ws; iw < a.we; ++iw) xp[ih * s.W + iw] += g;
        }
    }
  });
}

template <class T>
void unpool_add(const PoolShape& s, const T* dy, const int64_t* ind, T* dx) {
  const int64_t HW = s.H * s.W, L = s.OH * s.OW;
  parallel_for(s.N * s.C, L + HW, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* xp = dx + p * HW;
      const T* yp = dy + p * L;
      const int64_t* ip = ind + p * L;
      std::fill(xp, xp + HW, T(0));
      for (int64_t l = 0; l < L; ++l) {
        const int64_t i = ip[l];
        if (i >= 0 && i < HW) xp[i] += yp[l];
      }
    }
  });
}

inline int64_t start_index(int64_t o, int64_t O, int64_t I) { return (o * I) / O; }
inline int64_t end_index(int64_t o, int64_t O, int64_t I) { return ((o + 1) * I + O - 1) / O; }

template <class T>
void adaptive_fwd(const PoolShape& s, const T* x, T* y, int64_t* ind) {
  const int64_t HW = s.H * s.W, L = s.OH * s.OW;
  const int64_t kcost = ((s.H + s.OH - 1) / s.OH + 1) * ((s.W + s.OW - 1) / s.OW + 1);
  parallel_for(s.N * s.C, L * kcost, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      const T* xp = x + p * HW;
      T* yp = y + p * L;
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        const int64_t hs = start_index(oh, s.OH, s.H), he = end_index(oh, s.OH, s.H);
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          const int64_t ws = start_index(ow, s.OW, s.W), we = end_index(ow, s.OW, s.W);
          if (s.max) {
            int64_t mi = hs * s.W + ws;
            T mv = -std::numeric_limits<T>::infinity();
            for (int64_t ih = hs; ih < he; ++ih)
              for (int64_t iw = ws; iw < we; ++iw) {
                const T v = xp[ih * s.W + iw];
                if (v > mv || std::isnan(v)) {
                  mv = v;
                  mi = ih * s.W + iw;
                }
              }
            yp[oh * s.OW + ow] = mv;
            if (ind) ind[p * L + oh * s.OW + ow] = mi;
          } else {
            T acc = 0;
            for (int64_t ih = hs; ih < he; ++ih)
              for (int64_t iw = ws; iw < we; ++iw) acc += xp[ih * s.W + iw];
            yp[oh * s.OW + ow] = acc / T((he - hs) * (we - ws));
          }
        }
      }
    }
  });
}

template <class T>
void adaptive_avg_bwd(const PoolShape& s, const T* dy, T* dx) {
  const int64_t HW = s.H * s.W, L = s.OH * s.OW;
  parallel_for(s.N * s.C, L + HW, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      T* xp = dx + p * HW;
      const T* yp = dy + p * L;
      std::fill(xp, xp + HW, T(0));
      for (int64_t oh = 0; oh < s.OH; ++oh) {
        const int64_t hs = start_index(oh, s.OH, s.H), he = end_index(oh, s.OH, s.H);
        for (int64_t ow = 0; ow < s.OW; ++ow) {
          const int64_t ws = start_index(ow, s.OW, s.W), we = end_index(ow, s.OW, s.W);
          const T g = yp[oh * s.OW + ow] / T((he - hs) * (we - ws));
          for (int64_t ih = hs; ih < he; ++ih)
            for (int64_t iw = ws; iw < we; ++iw) xp[ih * s.W + iw] += g;
        }
      }
    }
  });
}

// Whether x[0, n) holds a NaN: oneDNN's max pooling drops NaNs (max(1, NaN) gives 1), PyTorch's
// propagates them, so a NaN input takes Ignis's loops. One vectorised read of the input.
bool any_nan(const float* __restrict x, int64_t n) {
  int f = 0;
#pragma omp simd reduction(| : f)
  for (int64_t i = 0; i < n; ++i) f |= x[i] != x[i];
  return f != 0;
}

bool has_nan(const float* x, int64_t n) {
  std::atomic<bool> found{false};
  parallel_for(n, 1, [&](int64_t b, int64_t e) {
    if (any_nan(x + b, e - b)) found = true;
  }, kElementwiseGrain);
  return found;
}

#ifdef IGNIS_HAVE_DNNL
using namespace dnnl;
using Key = std::array<int64_t, 20>;

Key pool_key(const PoolShape& s, int64_t kind) {
  return Key{kind, s.N, s.C, s.H, s.W, s.OH, s.OW, s.kh, s.kw, s.sh, s.sw, s.pt, s.pl, s.dh, s.dw, s.max, s.count_include_pad, 0, 0, 0};
}

struct PoolDescs {
  memory::desc src, dst;
  memory::dims strides, kernel, dil, pl, pr;
  algorithm alg;
};

// false when oneDNN's semantics differ from PyTorch's for this configuration
bool pool_descs(const PoolShape& s, PoolDescs& d) {
  if (s.dt != DType::f32 || s.divisor) return false;
  // the right padding that makes oneDNN's output size ours; negative when the last windows stop
  // short of the input's end (floor mode over an odd size: 13 -> 6 with k = s = 2), where no
  // window reaches any padding and 0 gives the same windows and output size
  const int64_t prh = std::max<int64_t>(0, (s.OH - 1) * s.sh + (s.kh - 1) * s.dh + 1 - s.H - s.pt);
  const int64_t prw = std::max<int64_t>(0, (s.OW - 1) * s.sw + (s.kw - 1) * s.dw + 1 - s.W - s.pl);
  if (s.max) d.alg = algorithm::pooling_max;
  else if (!s.count_include_pad) d.alg = algorithm::pooling_avg_exclude_padding;
  else {
    // PyTorch's divisor stops at the padded input's end; oneDNN's counts the ceil-mode overhang too
    if (prh > s.pt || prw > s.pl || s.dh != 1 || s.dw != 1) return false;
    d.alg = algorithm::pooling_avg_include_padding;
  }
  d.src = memory::desc({s.N, s.C, s.H, s.W}, memory::data_type::f32, memory::format_tag::nchw);
  d.dst = memory::desc({s.N, s.C, s.OH, s.OW}, memory::data_type::f32, memory::format_tag::nchw);
  d.strides = {s.sh, s.sw};
  d.kernel = {s.kh, s.kw};
  d.dil = {s.dh - 1, s.dw - 1};
  d.pl = {s.pt, s.pl};
  d.pr = {prh, prw};
  return true;
}

struct FwdEntry {
  pooling_v2_forward prim;
  memory::desc ws;
};
std::map<Key, FwdEntry> g_fwd;
std::map<Key, std::pair<pooling_v2_backward, memory::desc>> g_bwd;

pooling_v2_forward::primitive_desc fwd_pd(const PoolDescs& d, prop_kind pk) {
  return {pooling_v2_forward::desc(pk, d.alg, d.src, d.dst, d.strides, d.kernel, d.dil, d.pl, d.pr), dnnl_ctx().eng};
}
#endif

}  // namespace

bool pool2d_fwd_onednn(const PoolShape& s, const char* x, char* y, const std::function<char*(size_t)>& ws_alloc) {
#ifdef IGNIS_HAVE_DNNL
  PoolDescs d;
  if (s.N * s.C == 0 || !pool_descs(s, d)) return false;
  const bool train = s.max && ws_alloc;
  // training's 2x2 / stride 2 max pool takes the SSE2 loop: its forward with indices costs about
  // oneDNN's with a workspace, and the backward from indices is 2-3x faster than oneDNN's
  if (train && is_max2x2(s)) return false;
  if (s.max && has_nan(reinterpret_cast<const float*>(x), s.N * s.C * s.H * s.W)) return false;
  DnnlCtx& c = dnnl_ctx();
  std::lock_guard<std::mutex> g(c.mu);
  Key key = pool_key(s, train ? 1 : 2);
  auto it = g_fwd.find(key);
  if (it == g_fwd.end()) {
    try {
      auto pd = fwd_pd(d, train ? prop_kind::forward_training : prop_kind::forward_inference);
      if (g_fwd.size() > 256) g_fwd.clear();
      it = g_fwd.emplace(key, FwdEntry{pooling_v2_forward(pd), train ? pd.workspace_desc() : memory::desc()}).first;
    } catch (const dnnl::error&) {
      return false;
    }
  }
  memory xm(d.src, c.eng, const_cast<char*>(x)), ym(d.dst, c.eng, y);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, xm}, {DNNL_ARG_DST, ym}};
  if (train) {
    char* ws = ws_alloc(it->second.ws.get_size());
    args.emplace(DNNL_ARG_WORKSPACE, memory(it->second.ws, c.eng, ws));
  }
  it->second.prim.execute(c.strm, args);
  c.strm.wait();
  return true;
#else
  (void)s; (void)x; (void)y; (void)ws_alloc;
  return false;
#endif
}

bool pool2d_bwd_onednn(const PoolShape& s, const char* dy, const char* ws, size_t ws_bytes, char* dx) {
#ifdef IGNIS_HAVE_DNNL
  PoolDescs d;
  if (!pool_descs(s, d)) return false;
  if (s.N * s.C == 0) return true;
  if (s.max && !ws) return false;
  DnnlCtx& c = dnnl_ctx();
  std::lock_guard<std::mutex> g(c.mu);
  Key key = pool_key(s, 3);
  auto it = g_bwd.find(key);
  if (it == g_bwd.end()) {
    try {
      auto hint = fwd_pd(d, prop_kind::forward_training);
      pooling_v2_backward::primitive_desc pd(
          pooling_v2_backward::desc(d.alg, d.src, d.dst, d.strides, d.kernel, d.dil, d.pl, d.pr), c.eng, hint);
      if (g_bwd.size() > 256) g_bwd.clear();
      it = g_bwd.emplace(key, std::make_pair(pooling_v2_backward(pd), s.max ? hint.workspace_desc() : memory::desc())).first;
    } catch (const dnnl::error&) {
      return false;
    }
  }
  if (s.max && it->second.second.get_size() != ws_bytes)
    throw Error("ValueError", "max_pool2d backward: workspace does not match the forward pass");
  memory dym(d.dst, c.eng, const_cast<char*>(dy)), dxm(d.src, c.eng, dx);
  std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, dym}, {DNNL_ARG_DIFF_SRC, dxm}};
  if (s.max) args.emplace(DNNL_ARG_WORKSPACE, memory(it->second.second, c.eng, const_cast<char*>(ws)));
  it->second.first.execute(c.strm, args);
  c.strm.wait();
  return true;
#else
  (void)s; (void)dy; (void)ws; (void)ws_bytes; (void)dx;
  return false;
#endif
}

void pool2d_fwd_ref(const PoolShape& s, const char* x, char* y, int64_t* ind) {
  IGNIS_DISPATCH_FLOAT(s.dt, T, "pool2d", {
    if (s.max) max_fwd<T>(s, reinterpret_cast<const T*>(x), reinterpret_cast<T*>(y), ind);
    else avg_fwd<T>(s, reinterpret_cast<const T*>(x), reinterpret_cast<T*>(y));
  });
}

void pool2d_bwd_ref(const PoolShape& s, const char* dy, const int64_t* ind, char* dx) {
  if (s.max) return max_unpool_add_cpu(s, dy, ind, dx);
  IGNIS_DISPATCH_FLOAT(s.dt, T, "avg_pool2d backward",
                       { avg_bwd<T>(s, reinterpret_cast<const T*>(dy), reinterpret_cast<T*>(dx)); });
}

void max_unpool_add_cpu(const PoolShape& s, const char* dy, const int64_t* ind, char* dx) {
  if (!ind) throw Error("ValueError", "max_pool2d backward: indices are missing");
  IGNIS_DISPATCH_FLOAT(s.dt, T, "max_pool2d backward",
                       { unpool_add<T>(s, reinterpret_cast<const T*>(dy), ind, reinterpret_cast<T*>(dx)); });
}

void adaptive_pool_fwd_cpu(const PoolShape& s, const char* x, char* y, int64_t* ind) {
  IGNIS_DISPATCH_FLOAT(s.dt, T, "adaptive_pool2d",
                       { adaptive_fwd<T>(s, reinterpret_cast<const T*>(x), reinterpret_cast<T*>(y), ind); });
}

void adaptive_pool_bwd_cpu(const PoolShape& s, const char* dy, const int64_t* ind, char* dx) {
  if (s.max) return max_unpool_add_cpu(s, dy, ind, dx);
  IGNIS_DISPATCH_FLOAT(s.dt, T, "adaptive_avg_pool2d backward",
                       { adaptive_avg_bwd<T>(s, reinterpret_cast<const T*>(dy), reinterpret_cast<T*>(dx)); });
}

}  // namespace ignis
