// One place decides how CPU work is split across threads (OpenMP, the runtime oneDNN uses too).
#pragma once
#include <cstdint>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace ignis {

// Below this many element-operations a loop runs on the calling thread: waking the pool costs more.
constexpr int64_t kGrain = 32768;
// The same for elementwise kernels (iter_for_each), whose cost is per element relative to a copy:
// 1 for add, neg, relu; 3-6 for the vectorised transcendental ones; 16-64 for libm's pow, sin, fmod.
// On the 2-vCPU dev VM a parallel region costs ~4 us (fork + join of the OpenMP pool, also in a bare
// C++ loop), so relu/neg on 64K float32 took 3.3 us on one thread and 7.4 us on two; two threads
// won from ~100K elements on (gelu from ~30K, exp and silu from ~40K). With two chunks of this grain
// needed, cost-1 kernels split from 128K elements and gelu's from 26K; PyTorch's fixed 32768
// elements splits them early and pays it.
constexpr int64_t kElementwiseGrain = 65536;

inline int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

// Calls fn(begin, end) on disjoint chunks covering [0, n). `cost` is the work per index in
// element-operations, so that cheap and expensive loops get the same amount of work per thread.
// `grain`: the work worth a thread (kGrain, or kElementwiseGrain for elementwise kernels).
template <class F>
void parallel_for(int64_t n, int64_t cost, F&& fn, int64_t grain = kGrain) {
  if (n <= 0) return;
  int64_t work = n * (cost < 1 ? 1 : cost);
  int nt = num_threads();
  // each thread gets at least `grain` of work: fewer than two such chunks run here, without a
  // parallel region (a one-thread region still cost ~2 us on the dev VM)
  int64_t chunks = work / grain;
  if (chunks > nt) chunks = nt;
  if (chunks > n) chunks = n;
  if (chunks < 2) {
    fn(int64_t(0), n);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for num_threads(int(chunks)) schedule(static, 1)
#endif
  for (int64_t c = 0; c < chunks; ++c) {
    int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
    fn(b, e);
  }
}

}  // namespace ignis
