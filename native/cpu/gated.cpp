// PReLU and GLU forward / backward (gated.h). Compiled once per ISA. Each loop is one contiguous
// `omp simd` pass over its operands (vmath.h's sigmoid for GLU), so that forward and backward move
// each tensor once; the work is split over the OpenMP threads by element ranges, which keeps every
// thread busy also when there is one sample or one slope.
#include <algorithm>
#include <vector>

#include "../core/error.h"
#include "../core/parallel.h"
#include "gated.h"
#include "vmath.h"

namespace ignis {
namespace IGNIS_ISA_NS {

namespace {

constexpr int64_t kSeg = 4096;  // elements summed in T before the partial slope gradient (double) takes them

// Splits [0, n) into `chunks` ranges over the threads and calls fn(chunk, i0, len, c) for every
// run of consecutive elements of one channel c (x viewed as [outer, C, inner]), runs at most kSeg long.
template <class F>
void for_segments(const PreluShape& s, int64_t chunks, F&& fn) {
  const int64_t n = s.outer * s.C * s.inner;
  parallel_for(chunks, n / chunks * 4 + 1, [&](int64_t cb, int64_t ce) {
    for (int64_t k = cb; k < ce; ++k) {
      const int64_t e = n * (k + 1) / chunks;
      for (int64_t i = n * k / chunks; i < e;) {
        const int64_t row = i / s.inner;
        const int64_t len = std::min({e, (row + 1) * s.inner, i + kSeg}) - i;
        fn(k, i, len, row % s.C);
        i += len;
      }
    }
  });
}

int64_t chunk_count(int64_t n, int64_t cost) {
  const int64_t c = n * cost / kGrain;
  return std::max<int64_t>(1, std::min<int64_t>(c, num_threads()));
}

// y = x > 0 ? x : w x, written as x times a selected factor (the same values, and no select of x)
template <class T>
void prelu_fwd(const PreluShape& s, const T* __restrict x, const T* __restrict w, T* __restrict y) {
  const int64_t n = s.outer * s.C * s.inner;
  if (n == 0) return;
  for_segments(s, chunk_count(n, 2), [&](int64_t, int64_t i0, int64_t len, int64_t c) {
    const T wc = w[c];
    const T* xs = x + i0;
    T* ys = y + i0;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) ys[i] = xs[i] * vm::sel(xs[i] > T(0), T(1), wc);
  });
}

template <class T>
void prelu_bwd(const PreluShape& s, const T* __restrict x, const T* __restrict w, const T* __restrict g, T* __restrict gx,
               T* __restrict gw) {
  const int64_t n = s.outer * s.C * s.inner;
  if (gw) std::fill(gw, gw + s.C, T(0));
  if (n == 0) return;
  const int64_t chunks = chunk_count(n, 3);
  std::vector<double> part(gw ? size_t(chunks * s.C) : 0, 0.0);
  for_segments(s, chunks, [&](int64_t k, int64_t i0, int64_t len, int64_t c) {
    const T wc = w[c];
    const T* xs = x + i0;
    const T* gs = g + i0;
    if (gx) {
      T* o = gx + i0;
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) o[i] = gs[i] * vm::sel(xs[i] > T(0), T(1), wc);
    }
    if (gw) {
      T acc = 0;
#pragma omp simd reduction(+ : acc)
      for (int64_t i = 0; i < len; ++i) acc += vm::sel(xs[i] > T(0), T(0), xs[i] * gs[i]);
      part[size_t(k * s.C + c)] += double(acc);
    }
  });
  if (gw)
    for (int64_t c = 0; c < s.C; ++c) {
      double t = 0;
      for (int64_t k = 0; k < chunks; ++k) t += part[size_t(k * s.C + c)];
      gw[c] = T(t);
    }
}

// Calls fn(a, b, i0, len) for runs of the output elements [o, i0, i0 + len) of every slab o, where
// a / b point at the slab's two halves; spread over the threads.
template <class T, class F>
void for_glu(const GluShape& s, int64_t cost, F&& fn) {
  const int64_t n = s.outer * s.M;
  if (n == 0) return;
  const int64_t per = std::max<int64_t>(1, kGrain / cost);
  const int64_t nb = (s.M + per - 1) / per;
  parallel_for(s.outer * nb, std::min(s.M, per) * cost, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / nb, i0 = (t % nb) * per;
      fn(o, i0, std::min(per, s.M - i0));
    }
  });
}

template <class T>
void glu_fwd(const GluShape& s, const T* __restrict x, T* __restrict y) {
  for_glu<T>(s, 16, [&](int64_t o, int64_t i0, int64_t len) {
    const T* a = x + o * 2 * s.M + i0;
    const T* b = a + s.M;
    T* ys = y + o * s.M + i0;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) ys[i] = a[i] * vm::sigmoid(b[i]);
  });
}

// PyTorch's glu_backward: ga = sigmoid(b) g, gb = (1 - sigmoid(b)) sigmoid(b) g a
template <class T>
void glu_bwd(const GluShape& s, const T* __restrict x, const T* __restrict g, T* __restrict gx) {
  for_glu<T>(s, 20, [&](int64_t o, int64_t i0, int64_t len) {
    const T* a = x + o * 2 * s.M + i0;
    const T* b = a + s.M;
    const T* gs = g + o * s.M + i0;
    T* ga = gx + o * 2 * s.M + i0;
    T* gb = ga + s.M;
#pragma omp simd
    for (int64_t i = 0; i < len; ++i) {
      const T sg = vm::sigmoid(b[i]);
      ga[i] = sg * gs[i];
      gb[i] = (T(1) - sg) * sg * gs[i] * a[i];
    }
  });
}

template <class T> const T* cp(const char* p) { return reinterpret_cast<const T*>(p); }
template <class T> T* mp(char* p) { return reinterpret_cast<T*>(p); }

}  // namespace

void prelu_fwd_cpu(const PreluShape& s, const char* x, const char* w, char* y) {
  IGNIS_DISPATCH_FLOAT(s.dt, T, "prelu", prelu_fwd<T>(s, cp<T>(x), cp<T>(w), mp<T>(y)));
}

void prelu_bwd_cpu(const PreluShape& s, const char* x, const char* w, const char* g, char* gx, char* gw) {
  IGNIS_DISPATCH_FLOAT(s.dt, T, "prelu backward", prelu_bwd<T>(s, cp<T>(x), cp<T>(w), cp<T>(g), mp<T>(gx), mp<T>(gw)));
}

void glu_fwd_cpu(const GluShape& s, const char* x, char* y) {
  IGNIS_DISPATCH_FLOAT(s.dt, T, "glu", glu_fwd<T>(s, cp<T>(x), mp<T>(y)));
}

void glu_bwd_cpu(const GluShape& s, const char* x, const char* g, char* gx) {
  IGNIS_DISPATCH_FLOAT(s.dt, T, "glu backward", glu_bwd<T>(s, cp<T>(x), cp<T>(g), mp<T>(gx)));
}

}  // namespace IGNIS_ISA_NS
}  // namespace ignis
