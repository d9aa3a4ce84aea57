// One place decides how CPU work is split across threads (OpenMP, the runtime oneDNN uses too).
#pragma once
#include <cstdint>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace ignis {

// Below this many element-operations a loop runs on the calling thread: waking the pool costs more.
constexpr int64_t kGrain = 32768;

inline int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Calls fn(begin, end) on disjoint chunks covering [0, n). `cost` is the work per index in
// element-operations, so that cheap and expensive loops get the same amount of work per thread.
template <class F>
void parallel_for(int64_t n, int64_t cost, F&& fn) {
  if (n <= 0) return;
  int64_t work = n * (cost < 1 ? 1 : cost);
  int nt = num_threads();
  if (nt <= 1 || work < kGrain) {
    fn(int64_t(0), n);
    return;
  }
  int64_t chunks = work / kGrain;
  if (chunks > nt) chunks = nt;
  if (chunks > n) chunks = n;
#ifdef _OPENMP
#pragma omp parallel for num_threads(int(chunks)) schedule(static, 1)
#endif
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    fn(b, e);
  }
}

}  // namespace ignis
