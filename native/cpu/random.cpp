#include "random.h"

#include <cmath>

#include "../core/error.h"
#include "../core/philox.h"
#include "../core/parallel.h"

namespace ignis {
namespace {

template <class T>
inline void store(char* out, int64_t i, double v) {
  if constexpr (std::is_same_v<T, uint8_t>) reinterpret_cast<T*>(out)[i] = v != 0;
  else reinterpret_cast<T*>(out)[i] = T(v);
}

template <class T>
void fill(RandomKind kind, char* out, int64_t n, uint64_t seed, uint64_t offset, double p0, double p1) {
  int64_t groups = (n + 3) / 4;
  parallel_for(groups, 16, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      double vals[4];
      philox::group_values<T>(int(kind), offset + uint64_t(g), seed, p0, p1, vals);
      for (int l = 0; l < 4; ++l) {
        int64_t i = g * 4 + l;
        if (i < n) store<T>(out, i, vals[l]);
      }
    }
  });
}

}  // namespace

void random_fill_cpu(RandomKind kind, DType dt, char* out, int64_t n, uint64_t seed, uint64_t offset, double p0, double p1) {
  if (kind == RandomKind::randint && !(p1 > p0)) throw Error("ValueError", "randint: high must be greater than low");
  IGNIS_DISPATCH_ALL(dt, T, fill<T>(kind, out, n, seed, offset, p0, p1));
}

}  // namespace ignis
