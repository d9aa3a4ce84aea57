// Reductions over the trailing (already permuted) dims of a strided input. Compiled once per ISA.
// Floating sums accumulate in double; integer and bool sums in int64 (PyTorch's output dtype).
// max/min propagate NaN; argmax/argmin return the first index of the extreme (NaN counts as max).
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels.h"

namespace ignis {
namespace IGNIS_ISA_NS {

namespace {

enum ReduceOp {
#define REDUCE(name) R_##name,
#include "../ops/reduce.def"
#undef REDUCE
};

struct Split {
  // kept dims [0, nk), reduced dims [nk, nd) of the input iterator
  int nk, nd;
  int64_t shape[kMaxDims];
  int64_t stride[kMaxDims];
};

// Merge adjacent dims within [lo, hi) when they form one strided run.
int coalesce_range(int64_t* shape, int64_t* stride, int lo, int hi, int64_t* oshape, int64_t* ostride) {
  int n = 0;
  for (int d = lo; d < hi; ++d) {
    if (shape[d] == 1) continue;
    if (n > 0 && ostride[n - 1] == stride[d] * shape[d]) {
      oshape[n - 1] *= shape[d];
      ostride[n - 1] = stride[d];
    } else {
      oshape[n] = shape[d];
      ostride[n] = stride[d];
      ++n;
    }
  }
  return n;
}

// Walks the reduced dims of one output element: fn(ptr, count, stride) per innermost run.
template <class F>
inline void walk_reduced(const char* base, const Split& s, int64_t begin, int64_t end, F&& fn) {
  const int nr = s.nd - s.nk;
  if (nr == 0) { if (begin < end) fn(base, int64_t(1), int64_t(0), int64_t(0)); return; }
  const int64_t* shp = s.shape + s.nk;
  const int64_t* str = s.stride + s.nk;
  int64_t idx[kMaxDims];
  int64_t rem = begin;
  for (int d = nr - 1; d >= 0; --d) { idx[d] = rem % shp[d]; rem /= shp[d]; }
  int64_t lin = begin;
  while (lin < end) {
    int64_t cnt = std::min(shp[nr - 1] - idx[nr - 1], end - lin);
    const char* p = base;
    for (int d = 0; d < nr; ++d) p += idx[d] * str[d];
    fn(p, cnt, str[nr - 1], lin);
    lin += cnt;
    idx[nr - 1] += cnt;
    for (int d = nr - 1; d > 0 && idx[d] >= shp[d]; --d) { idx[d] = 0; idx[d - 1]++; }
  }
}

template <class T>
void reduce_t(int op, ReduceArgs& r) {
  Iter& it = r.in;
  Split s;
  int64_t kshape[kMaxDims], kstride[kMaxDims], rshape[kMaxDims], rstride[kMaxDims];
  int nk = coalesce_range(it.shape, it.op[0].strides, 0, r.nkeep, kshape, kstride);
  int nr = coalesce_range(it.shape, it.op[0].strides, r.nkeep, it.ndim, rshape, rstride);
  s.nk = nk;
  s.nd = nk + nr;
  for (int d = 0; d < nk; ++d) { s.shape[d] = kshape[d]; s.stride[d] = kstride[d]; }
  for (int d = 0; d < nr; ++d) { s.shape[nk + d] = rshape[d]; s.stride[nk + d] = rstride[d]; }
  int64_t nout = 1, nred = 1;
  for (int d = 0; d < nk; ++d) nout *= s.shape[d];
  for (int d = nk; d < s.nd; ++d) nred *= s.shape[d];
  const char* base = it.op[0].data;
  auto out_base = [&](int64_t o) {
    const char* p = base;
    for (int d = nk - 1; d >= 0; --d) { p += (o % s.shape[d]) * s.stride[d]; o /= s.shape[d]; }
    return p;
  };

  constexpr bool fp = std::is_floating_point_v<T>;
  using Acc = std::conditional_t<fp, double, int64_t>;

  // "Vertical" reductions: the innermost kept dim is contiguous and the reduced dims lie outside it
  // (x.sum(0) of a matrix, a sum over the channels of [N, C, H, W]). Walking each output's reduced
  // elements would read with a large stride, one element at a time; instead add whole contiguous
  // rows of kVBlock outputs at once (vectorised), one row per reduced index.
  if ((op == R_sum || op == R_max || op == R_min) && nk >= 1 && nr >= 1 && s.stride[nk - 1] == int64_t(sizeof(T)) &&
      s.shape[nk - 1] > 1 && r.out_dtype == (op == R_sum ? (fp ? it.op[0].dtype : DType::i64) : it.op[0].dtype)) {
    constexpr int64_t kVBlock = 256;
    const int64_t K = s.shape[nk - 1];
    const int64_t outer = nout / K;
    const int64_t nblk = (K + kVBlock - 1) / kVBlock;
    Split inner = s;  // the kept dims without the innermost one address a row's start
    parallel_for(outer * nblk, nred * kVBlock, [&](int64_t tb, int64_t te) {
      for (int64_t t = tb; t < te; ++t) {
        const int64_t o = t / nblk, j0 = (t % nblk) * kVBlock, nj = std::min(kVBlock, K - j0);
        const char* row0 = base + j0 * int64_t(sizeof(T));
        for (int64_t q = o, d = nk - 2; d >= 0; --d) { row0 += (q % s.shape[d]) * s.stride[d]; q /= s.shape[d]; }
        if (op == R_sum) {
          Acc acc[kVBlock];
          for (int64_t j = 0; j < nj; ++j) acc[j] = 0;
          walk_reduced(row0, inner, 0, nred, [&](const char* p, int64_t n, int64_t st, int64_t) {
            for (int64_t i = 0; i < n; ++i) {
              const T* v = reinterpret_cast<const T*>(p + i * st);
#pragma omp simd
              for (int64_t j = 0; j < nj; ++j) acc[j] += Acc(v[j]);
            }
          });
          for (int64_t j = 0; j < nj; ++j) {
            if constexpr (fp) reinterpret_cast<T*>(r.out)[o * K + j0 + j] = T(acc[j]);
            else reinterpret_cast<int64_t*>(r.out)[o * K + j0 + j] = int64_t(acc[j]);
          }
        } else {
          T m[kVBlock];
          const bool mx = op == R_max;
          walk_reduced(row0, inner, 0, nred, [&](const char* p, int64_t n, int64_t st, int64_t lin) {
            for (int64_t i = 0; i < n; ++i) {
              const T* v = reinterpret_cast<const T*>(p + i * st);
              if (lin + i == 0) {
                for (int64_t j = 0; j < nj; ++j) m[j] = v[j];
                continue;
              }
              // NaN wins and stays (m != m keeps it; v != v takes it)
              if (mx) {
#pragma omp simd
                for (int64_t j = 0; j < nj; ++j) m[j] = (m[j] != m[j] || !(v[j] > m[j] || v[j] != v[j])) ? m[j] : v[j];
              } else {
#pragma omp simd
                for (int64_t j = 0; j < nj; ++j) m[j] = (m[j] != m[j] || !(v[j] < m[j] || v[j] != v[j])) ? m[j] : v[j];
              }
            }
          });
          for (int64_t j = 0; j < nj; ++j) reinterpret_cast<T*>(r.out)[o * K + j0 + j] = m[j];
        }
      }
    });
    return;
  }

  if (op == R_sum || op == R_prod) {
    const bool is_sum = op == R_sum;
    auto partial = [&](const char* b, int64_t rb, int64_t re) -> Acc {
      Acc acc = is_sum ? Acc(0) : Acc(1);
      walk_reduced(b, s, rb, re, [&](const char* p, int64_t n, int64_t st, int64_t) {
        if (is_sum) {
          Acc a = 0;
          if (st == sizeof(T)) {
            const T* q = reinterpret_cast<const T*>(p);
#pragma omp simd reduction(+ : a)
            for (int64_t i = 0; i < n; ++i) a += Acc(q[i]);
          } else {
            for (int64_t i = 0; i < n; ++i) a += Acc(*reinterpret_cast<const T*>(p + i * st));
          }
          acc += a;
        } else {
          for (int64_t i = 0; i < n; ++i) acc *= Acc(*reinterpret_cast<const T*>(p + i * st));
        }
      });
      return acc;
    };
    auto store = [&](int64_t o, Acc v) {
      if (r.out_dtype == DType::i64) reinterpret_cast<int64_t*>(r.out)[o] = int64_t(v);
      else if (r.out_dtype == DType::f64) reinterpret_cast<double*>(r.out)[o] = double(v);
      else if (r.out_dtype == DType::f32) reinterpret_cast<float*>(r.out)[o] = float(v);
      else if (r.out_dtype == DType::i32) reinterpret_cast<int32_t*>(r.out)[o] = int32_t(v);
      else reinterpret_cast<uint8_t*>(r.out)[o] = v != 0;
    };
    if (nout == 1 && nred > kGrain) {
      int nt = num_threads();
      std::vector<Acc> parts(size_t(nt), is_sum ? Acc(0) : Acc(1));
      parallel_for(nt, nred / nt, [&](int64_t b, int64_t e) {
        for (int64_t c = b; c < e; ++c) parts[size_t(c)] = partial(base, nred * c / nt, nred * (c + 1) / nt);
      });
      Acc acc = is_sum ? Acc(0) : Acc(1);
      for (Acc v : parts) acc = is_sum ? acc + v : acc * v;
      store(0, acc);
    } else {
      parallel_for(nout, nred, [&](int64_t b, int64_t e) {
        for (int64_t o = b; o < e; ++o) store(o, partial(out_base(o), 0, nred));
      });
    }
    return;
  }

  // max / min / argmax / argmin
  const bool want_max = op == R_max || op == R_argmax;
  const bool want_idx = op == R_argmax || op == R_argmin;
  struct Best { T v; int64_t i; bool nan; };
  auto better = [&](T v, const Best& b) {
    if constexpr (fp) { if (b.nan) return false; if (v != v) return true; }
    return want_max ? v > b.v : v < b.v;
  };
  auto partial = [&](const char* b, int64_t rb, int64_t re) -> Best {
    Best best{T(0), -1, false};
    walk_reduced(b, s, rb, re, [&](const char* p, int64_t n, int64_t st, int64_t lin) {
      if constexpr (fp) {
        // values only, contiguous run: lane-wise extreme plus a NaN flag, vectorised
        if (!want_idx && st == int64_t(sizeof(T)) && n > 1 && !best.nan) {
          const T* q = reinterpret_cast<const T*>(p);
          T m = best.i < 0 ? q[0] : best.v;
          int nan = 0;
          if (want_max) {
#pragma omp simd reduction(max : m) reduction(| : nan)
            for (int64_t i = 0; i < n; ++i) { m = q[i] > m ? q[i] : m; nan |= q[i] != q[i]; }
          } else {
#pragma omp simd reduction(min : m) reduction(| : nan)
            for (int64_t i = 0; i < n; ++i) { m = q[i] < m ? q[i] : m; nan |= q[i] != q[i]; }
          }
          best.v = nan ? std::numeric_limits<T>::quiet_NaN() : m;
          best.nan = nan != 0;
          best.i = lin;
          return;
        }
      }
      for (int64_t i = 0; i < n; ++i) {
        T v = *reinterpret_cast<const T*>(p + i * st);
        if (best.i < 0 || better(v, best)) {
          best.v = v;
          best.i = lin + i;
          if constexpr (fp) best.nan = v != v;
        }
      }
    });
    return best;
  };
  auto store = [&](int64_t o, const Best& b) {
    if (want_idx) reinterpret_cast<int64_t*>(r.out)[o] = b.i;
    else reinterpret_cast<T*>(r.out)[o] = b.v;
  };
  if (nout == 1 && nred > kGrain) {
    int nt = num_threads();
    std::vector<Best> parts(static_cast<size_t>(nt));
    parallel_for(nt, nred / nt, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) parts[size_t(c)] = partial(base, nred * c / nt, nred * (c + 1) / nt);
    });
    Best best = parts[0];
    for (int c = 1; c < nt; ++c)
      if (parts[size_t(c)].i >= 0 && better(parts[size_t(c)].v, best)) best = parts[size_t(c)];
    store(0, best);
  } else {
    parallel_for(nout, nred, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) store(o, partial(out_base(o), 0, nred));
    });
  }
}

}  // namespace

void reduce(int op, ReduceArgs& r) {
  IGNIS_DISPATCH_ALL(r.in.op[0].dtype, T, reduce_t<T>(op, r));
}

}  // namespace IGNIS_ISA_NS
}  // namespace ignis
