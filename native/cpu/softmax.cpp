// softmax / logSoftmax / softmin forward and backward along one dim (softmax.h). Compiled once per
// ISA. Last dim (inner == 1): one row of D contiguous elements per task, three passes (max, sum of
// exp, write), each a `#pragma omp simd` loop; the row stays in L1 after the first pass, so the
// forward's cost is the exp: vmath.h's exp_nonpos (exp's value, bit for bit, for the x - max <= 0
// it is given, with a third fewer operations). Reductions keep GCC's one vector accumulator: four
// interleaved ones measured slower (single thread, [4096, 1024] float32), forward and backward.
// Other dims: the same passes run over a block of up to kBlock adjacent columns at once
// (x[o, d, j0 .. j0 + kBlock) is contiguous), so the inner loops stay contiguous and vectorised
// there too. Rows / column blocks are spread over the OpenMP threads. Log (logSoftmax) and Neg
// (softmin: the kernel reads -x) are template parameters: no test in the loops.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "../core/error.h"
#include "../core/parallel.h"
#include "softmax.h"
#include "stream.h"  // kStreamBytes, the intrinsics
#include "vmath.h"

namespace ignis {
namespace IGNIS_ISA_NS {

namespace {

template <class T> IGNIS_VM_INLINE T exp_(T x) { return vm::exp_nonpos(x); }
template <class T> IGNIS_VM_INLINE T sel_(bool c, T a, T b) { return vm::sel(c, a, b); }

#define IGNIS_SMX_FN IGNIS_VM_INLINE
#include "../ops/softmax_math.h"
#undef IGNIS_SMX_FN

constexpr int64_t kBlock = 64;  // columns per task on the strided path
constexpr int64_t kCost = 24;   // element-operations per element (three passes, one exp)

template <class T, bool Log, bool Neg>
void fwd_row(const T* __restrict x, T* __restrict y, int64_t D) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < D; ++i) m = smx_max_(m, smx_in_(x[i], Neg));
  T s = 0;
  if constexpr (Log) {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < D; ++i) s += smx_exp_(smx_in_(x[i], Neg), m);
    const T ls = std::log(s);
#pragma omp simd
    for (int64_t i = 0; i < D; ++i) y[i] = log_softmax_out_(smx_in_(x[i], Neg), m, ls);
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < D; ++i) {
      T e = smx_exp_(smx_in_(x[i], Neg), m);
      y[i] = e;
      s += e;
    }
    const T inv = T(1) / s;
#pragma omp simd
    for (int64_t i = 0; i < D; ++i) y[i] = softmax_out_(y[i], inv);
  }
}

// Non-temporal stores for the softmax / softmin backward's output when the tensor is large
// (stream::kStreamBytes and up, the threshold stream.h gives the binary ops): the output then goes to
// memory without being read first (no read-for-ownership), one stream of DRAM traffic less of four:
// 80-86 -> 100-113 GB/s on [4096, 1024] float32, 2 threads, alternating runs. Smaller outputs keep
// ordinary stores, so that the next op finds them in cache. The product is formed in registers and
// streamed straight out (stream::out's buffered path measured slower here).

// stream_grad(y, g, gx, dot, neg, i): one vector of gx = y (g - dot) (neg: y (dot - g)) from i on,
// for the vector type VT whose intrinsics are PRE_<op>_SUF (_mm512_loadu_ps, ...).
#define IGNIS_STREAM_GRAD(T, VT, PRE, SUF)                                                     \
  IGNIS_VM_INLINE void stream_grad(const T* y, const T* g, T* gx, T dot, bool neg, int64_t i) { \
    VT yv = PRE##_loadu_##SUF(y + i), gv = PRE##_loadu_##SUF(g + i), d = PRE##_set1_##SUF(dot);  \
    PRE##_stream_##SUF(gx + i, PRE##_mul_##SUF(yv, neg ? PRE##_sub_##SUF(d, gv) : PRE##_sub_##SUF(gv, d))); \
  }
#if defined(__AVX512F__)
constexpr int kStreamLanes = 64;
IGNIS_STREAM_GRAD(float, __m512, _mm512, ps)
IGNIS_STREAM_GRAD(double, __m512d, _mm512, pd)
#elif defined(__AVX2__)
constexpr int kStreamLanes = 32;
IGNIS_STREAM_GRAD(float, __m256, _mm256, ps)
IGNIS_STREAM_GRAD(double, __m256d, _mm256, pd)
#endif  // the baseline build keeps ordinary stores
#undef IGNIS_STREAM_GRAD

// gx = y (g - dot) (Neg: y (dot - g)) with streaming stores; false (nothing written) unless gx is
// aligned to the vector and D a multiple of it
template <class T>
bool stream_softmax_grad(const T* y, const T* g, T* gx, int64_t D, T dot, bool neg) {
#if defined(__AVX2__)
  constexpr int64_t V = kStreamLanes / int64_t(sizeof(T));
  if ((reinterpret_cast<uintptr_t>(gx) % kStreamLanes) != 0 || D % V != 0) return false;
  for (int64_t i = 0; i < D; i += V) stream_grad(y, g, gx, dot, neg, i);
  return true;
#else
  (void)y, (void)g, (void)gx, (void)D, (void)dot, (void)neg;
  return false;
#endif
}

template <class T, bool Log, bool Neg>
void bwd_row(const T* __restrict y, const T* __restrict g, T* __restrict gx, int64_t D, bool streamed) {
  T acc = 0;
  if constexpr (Log) {
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < D; ++i) acc += g[i];
#pragma omp simd
    for (int64_t i = 0; i < D; ++i) gx[i] = log_softmax_grad_(y[i], g[i], acc, Neg);
  } else {
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < D; ++i) acc += g[i] * y[i];
    if (streamed && stream_softmax_grad(y, g, gx, D, acc, Neg)) return;
#pragma omp simd
    for (int64_t i = 0; i < D; ++i) gx[i] = softmax_grad_(y[i], g[i], acc, Neg);
  }
}

// Columns [j0, j0 + n) of slab o: x and y point at x[o, 0, j0]; rows of the slab are `inner` apart.
template <class T, bool Log, bool Neg>
void fwd_cols(const T* __restrict x, T* __restrict y, int64_t D, int64_t inner, int64_t n) {
  T m[kBlock], s[kBlock];
  for (int64_t j = 0; j < n; ++j) {
    m[j] = -std::numeric_limits<T>::infinity();
    s[j] = 0;
  }
  for (int64_t d = 0; d < D; ++d) {
    const T* xr = x + d * inner;
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) m[j] = smx_max_(m[j], smx_in_(xr[j], Neg));
  }
  for (int64_t d = 0; d < D; ++d) {
    const T* xr = x + d * inner;
    T* yr = y + d * inner;
    if constexpr (Log) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) s[j] += smx_exp_(smx_in_(xr[j], Neg), m[j]);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) {
        T e = smx_exp_(smx_in_(xr[j], Neg), m[j]);
        yr[j] = e;
        s[j] += e;
      }
    }
  }
  for (int64_t j = 0; j < n; ++j) s[j] = Log ? std::log(s[j]) : T(1) / s[j];
  for (int64_t d = 0; d < D; ++d) {
    const T* xr = x + d * inner;
    T* yr = y + d * inner;
    if constexpr (Log) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) yr[j] = log_softmax_out_(smx_in_(xr[j], Neg), m[j], s[j]);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) yr[j] = softmax_out_(yr[j], s[j]);
    }
  }
}

template <class T, bool Log, bool Neg>
void bwd_cols(const T* __restrict y, const T* __restrict g, T* __restrict gx, int64_t D, int64_t inner, int64_t n) {
  T acc[kBlock];
  for (int64_t j = 0; j < n; ++j) acc[j] = 0;
  for (int64_t d = 0; d < D; ++d) {
    const T* yr = y + d * inner;
    const T* gr = g + d * inner;
    if constexpr (Log) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) acc[j] += gr[j];
    } else {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) acc[j] += gr[j] * yr[j];
    }
  }
  for (int64_t d = 0; d < D; ++d) {
    const T* yr = y + d * inner;
    const T* gr = g + d * inner;
    T* o = gx + d * inner;
    if constexpr (Log) {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) o[j] = log_softmax_grad_(yr[j], gr[j], acc[j], Neg);
    } else {
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) o[j] = softmax_grad_(yr[j], gr[j], acc[j], Neg);
    }
  }
}

// Calls fn(element offset of the task's first element, columns) for every row (inner == 1) or
// column block of every slab, spread over the threads.
template <class F>
void for_tasks(const SoftmaxShape& s, F&& fn) {
  if (s.outer <= 0 || s.D <= 0 || s.inner <= 0) return;
  const int64_t nb = (s.inner + kBlock - 1) / kBlock;
  const int64_t per = std::min(s.inner, kBlock);
  parallel_for(s.outer * nb, s.D * per * kCost, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t o = t / nb, j0 = (t % nb) * kBlock;
      fn(o * s.D * s.inner + j0, std::min(kBlock, s.inner - j0));
    }
  });
}

template <class T, bool Log, bool Neg>
void fwd(const SoftmaxShape& s, const T* x, T* y) {
  if (s.inner == 1) {
    if (s.D <= 0) return;
    parallel_for(s.outer, s.D * kCost, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) fwd_row<T, Log, Neg>(x + r * s.D, y + r * s.D, s.D);
    });
    return;
  }
  for_tasks(s, [&](int64_t off, int64_t n) { fwd_cols<T, Log, Neg>(x + off, y + off, s.D, s.inner, n); });
}

template <class T, bool Log, bool Neg>
void bwd(const SoftmaxShape& s, const T* y, const T* g, T* gx) {
  if (s.inner == 1) {
    if (s.D <= 0) return;
    const bool big = s.outer * s.D * int64_t(sizeof(T)) >= stream::kStreamBytes;
    parallel_for(s.outer, s.D * kCost, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) bwd_row<T, Log, Neg>(y + r * s.D, g + r * s.D, gx + r * s.D, s.D, big);
#if defined(__AVX2__)
      if (big) _mm_sfence();  // the streamed lines are visible before the task ends
#endif
    });
    return;
  }
  for_tasks(s, [&](int64_t off, int64_t n) { bwd_cols<T, Log, Neg>(y + off, g + off, gx + off, s.D, s.inner, n); });
}

// Calls fn.template operator()<Log, Neg>() for the shape's flags.
template <class F>
void with_flags(const SoftmaxShape& s, F&& fn) {
  if (s.log) {
    if (s.neg) fn(std::true_type(), std::true_type());
    else fn(std::true_type(), std::false_type());
  } else {
    if (s.neg) fn(std::false_type(), std::true_type());
    else fn(std::false_type(), std::false_type());
  }
}

const char* op_name(const SoftmaxShape& s, bool backward) {
  if (s.neg) return s.log ? (backward ? "logSoftmin backward" : "logSoftmin") : (backward ? "softmin backward" : "softmin");
  return s.log ? (backward ? "logSoftmax backward" : "logSoftmax") : (backward ? "softmax backward" : "softmax");
}

}  // namespace

void softmax_fwd_cpu(const SoftmaxShape& s, const char* x, char* y) {
  IGNIS_DISPATCH_FLOAT(s.dt, T, op_name(s, false), with_flags(s, [&](auto log, auto neg) {
                         fwd<T, decltype(log)::value, decltype(neg)::value>(s, reinterpret_cast<const T*>(x), reinterpret_cast<T*>(y));
                       }));
}

void softmax_bwd_cpu(const SoftmaxShape& s, const char* y, const char* g, char* gx) {
  IGNIS_DISPATCH_FLOAT(s.dt, T, op_name(s, true), with_flags(s, [&](auto log, auto neg) {
                         bwd<T, decltype(log)::value, decltype(neg)::value>(s, reinterpret_cast<const T*>(y), reinterpret_cast<const T*>(g),
                                                                            reinterpret_cast<T*>(gx));
                       }));
}

}  // namespace IGNIS_ISA_NS
}  // namespace ignis
