#include "index.h"

#include "../core/parallel.h"

#include <atomic>
#include <cmath>
#include <string>

namespace ignis {

namespace {
// Scans every index before anything is written, so a bad index leaves the tensor untouched.
void check_indices(Iter& it, int idx_op, int64_t size, const char* op) {
  std::atomic<int64_t> bad{INT64_MIN};
  iter_for_each(it, 1, [&](char** p, const int64_t* s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = *reinterpret_cast<const int64_t*>(p[idx_op] + i * s[idx_op]);
      if (v < 0 || v >= size) bad.store(v);
    }
  });
  if (bad.load() != INT64_MIN)
    throw Error("IndexError", std::string(op) + ": index " + std::to_string(bad.load()) +
                                  " is out of bounds for dimension with size " + std::to_string(size));
}
}  // namespace

void gather_fwd_cpu(Iter& it, int64_t stride, int64_t size) {
  check_indices(it, 2, size, "gather");
  int64_t es = int64_t(dtype_size(it.op[0].dtype));
  iter_for_each(it, 1, [&](char** p, const int64_t* s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = *reinterpret_cast<const int64_t*>(p[2] + i * s[2]);
      std::memcpy(p[0] + i * s[0], p[1] + i * s[1] + v * stride, size_t(es));
    }
  });
}

void scatter_fwd_cpu(Iter& it, int64_t stride, int64_t size, int reduce) {
  check_indices(it, 1, size, reduce ? "scatter_add" : "scatter");
  // Serial: two index entries may name the same destination.
  IGNIS_DISPATCH_ALL(it.op[0].dtype, T, {
    iter_for_each_serial(it, [&](char** p, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = *reinterpret_cast<const int64_t*>(p[1] + i * s[1]);
        T* dst = reinterpret_cast<T*>(p[0] + i * s[0] + v * stride);
        T src = *reinterpret_cast<const T*>(p[2] + i * s[2]);
        if (reduce) {
          if constexpr (std::is_same_v<T, uint8_t>) *dst = T((*dst + src) != 0);
          else *dst = T(*dst + src);
        } else {
          *dst = src;
        }
      }
    });
  });
}

namespace {
template <class T>
void nll_fwd_t(const NllShape& s, const T* logp, const int64_t* t, const T* w, T* loss, T* wi, T* denom) {
  double sum = 0, wsum = 0;
  for (int64_t m = 0; m < s.M; ++m) {
    const int64_t c = t[m];
    const bool valid = c != s.ignore && c >= 0 && c < s.C;
    const T wt = valid ? (w ? w[c] : T(1)) : T(0);
    wi[m] = wt;
    if (s.reduce == 0) {
      loss[m] = valid ? -wt * logp[m * s.C + c] : T(0);
    } else if (valid) {
      sum -= double(wt) * double(logp[m * s.C + c]);
      wsum += double(wt);
    }
  }
  if (s.reduce == 0) return;
  loss[0] = T(s.reduce == 2 ? sum / wsum : sum);
  if (denom) denom[0] = T(wsum);
}

template <class T>
void ce_bwd_t(const NllShape& s, const T* logp, const int64_t* t, const T* wi, const T* g, int64_t g_step, const T* denom,
              T* gx) {
  // exp per element: about 4 element-operations of work per index of C
  parallel_for(s.M, 4 * s.C, [&](int64_t b, int64_t e) {
    for (int64_t m = b; m < e; ++m) {
      const int64_t c = t[m];
      const bool valid = c != s.ignore && c >= 0 && c < s.C;
      // an ignored row's gradient is 0 even when every row is ignored (the mean's 0 / 0), as PyTorch's
      const T k = valid ? wi[m] * (denom ? g[m * g_step] / denom[0] : g[m * g_step]) : T(0);
      const T* row = logp + m * s.C;
      T* out = gx + m * s.C;
      for (int64_t j = 0; j < s.C; ++j) out[j] = k * std::exp(row[j]);
      if (valid) out[c] -= k;
    }
  });
}
}  // namespace

void nll_fwd_cpu(const NllShape& s, const char* logp, const int64_t* t, const char* w, char* loss, char* wi,
                 char* denom) {
  IGNIS_DISPATCH_FLOAT(s.dt, T, "crossEntropy", {
    nll_fwd_t(s, reinterpret_cast<const T*>(logp), t, reinterpret_cast<const T*>(w), reinterpret_cast<T*>(loss),
              reinterpret_cast<T*>(wi), reinterpret_cast<T*>(denom));
  });
}

void ce_bwd_cpu(const NllShape& s, const char* logp, const int64_t* t, const char* wi, const char* g, int64_t g_step,
                const char* denom, char* gx) {
  IGNIS_DISPATCH_FLOAT(s.dt, T, "crossEntropy backward", {
    ce_bwd_t(s, reinterpret_cast<const T*>(logp), t, reinterpret_cast<const T*>(wi), reinterpret_cast<const T*>(g),
             g_step, reinterpret_cast<const T*>(denom), reinterpret_cast<T*>(gx));
  });
}

}  // namespace ignis
