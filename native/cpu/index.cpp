#include "index.h"

#include <atomic>
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

}  // namespace ignis
