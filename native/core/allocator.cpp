#include "allocator.h"

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>
#ifdef __linux__
#include <sys/mman.h>
#endif

namespace ignis {
namespace {

constexpr size_t kAlign = 64;                    // cache line; also AVX-512 friendly
constexpr size_t kSmall = 1 << 14;               // below this: size classes of kAlign bytes
constexpr size_t kMaxCached = size_t(2) << 30;   // never keep more than 2 GiB idle
constexpr size_t kMaxSmallCached = size_t(64) << 20;  // ... of which small blocks at most 64 MiB
constexpr size_t kMaxRequest = size_t(1) << 46;  // refuse absurd sizes before asking the OS

std::mutex mu;
std::multimap<size_t, void*> cache;  // rounded size -> free block (kSmall bytes and more)
// Small blocks (under kSmall) by class, sz / kAlign - 1: a free list each. glibc serves 64-byte
// aligned requests through memalign, which skips its thread cache and goes through _int_malloc
// every time (often growing the heap again after a trim: page faults), so a 4 KiB tensor cost
// 1-20 us to allocate on the dev VM; from the list it is a pop.
std::vector<void*> small_free[kSmall / kAlign];
size_t small_cached = 0;
MemoryStats stats;

// Blocks of kHugeMin bytes and more get their own mapping, aligned to a 2 MiB boundary and marked
// MADV_HUGEPAGE, so that the kernel backs them with transparent huge pages where it allows them
// (/sys/kernel/mm/transparent_hugepage/enabled = always or madvise). A streaming kernel over two
// 16 MiB buffers then walks 16 TLB entries instead of 8,192: +4-10% for a 4M-float relu at 2 threads
// on the dev VM (bench/RESULTS.md). PyTorch does the same only when THP_MEM_ALLOC_ENABLE=1.
// The mapping is only as long as the block (rounded to 4 KiB): a partial 2 MiB stretch at its end
// keeps small pages, so no huge page is filled for bytes nobody asked for. IGNIS_CPU_HUGEPAGES=0
// turns it off (read once).
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kHugeMin = size_t(4) << 20;

bool huge_enabled() {
#ifdef __linux__
  static const bool on = [] {
    const char* e = std::getenv("IGNIS_CPU_HUGEPAGES");
    return !(e && e[0] == '0');
  }();
  return on;
#else
  return false;
#endif
}

#ifdef __linux__
// A huge-page block's mapping: its size rounded up to whole 4 KiB pages.
size_t mapped_len(size_t sz) { return (sz + 4095) & ~size_t(4095); }
#endif

// The OS side of a block of (rounded) size sz; nullptr when the OS refuses.
void* os_alloc(size_t sz) {
#ifdef __linux__
  if (sz >= kHugeMin && huge_enabled()) {
    size_t len = mapped_len(sz);
    void* base = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    uintptr_t b = reinterpret_cast<uintptr_t>(base);
    uintptr_t a = (b + kHugePage - 1) & ~uintptr_t(kHugePage - 1);
    if (a > b) munmap(base, a - b);                              // the unaligned head
    size_t tail = (b + len + kHugePage) - (a + len);
    if (tail) munmap(reinterpret_cast<void*>(a + len), tail);    // what is left past the block
    madvise(reinterpret_cast<void*>(a), len, MADV_HUGEPAGE);      // a hint: failure is harmless
    return reinterpret_cast<void*>(a);
  }
#endif
  return std::aligned_alloc(kAlign, sz);
}

void os_free(void* p, size_t sz) {
#ifdef __linux__
  if (sz >= kHugeMin && huge_enabled()) {
    munmap(p, mapped_len(sz));
    return;
  }
#endif
  std::free(p);
}

// Keeps a small block (false when its list cannot grow: the caller frees the block instead).
bool push_small(void* p, size_t sz) {
  try {
    small_free[sz / kAlign - 1].push_back(p);
    return true;
  } catch (...) {
    return false;
  }
}

// Every cached block back to the OS (mu held).
void release_cache() {
  for (auto& kv : cache) os_free(kv.second, kv.first);
  cache.clear();
  for (size_t i = 0; i < kSmall / kAlign; ++i) {
    for (void* p : small_free[i]) std::free(p);
    std::vector<void*>().swap(small_free[i]);
  }
  small_cached = 0;
  stats.cached_bytes = 0;
}

size_t round_size(size_t n) {
  if (n < kSmall) return (n + kAlign - 1) / kAlign * kAlign;
  // Round large blocks to 1/8 of their power of two so near sizes share blocks.
  size_t p = 1;
  while (p < n) p <<= 1;
  size_t step = p >= 8 * 4096 ? p / 8 : 4096;
  return (n + step - 1) / step * step;
}

}  // namespace

void* cpu_alloc(size_t nbytes) {
  if (nbytes > kMaxRequest) return nullptr;
  size_t sz = round_size(nbytes == 0 ? 1 : nbytes);
  std::lock_guard<std::mutex> g(mu);
  stats.alloc_calls++;
  void* p = nullptr;
  if (sz < kSmall) {
    auto& list = small_free[sz / kAlign - 1];
    if (!list.empty()) {
      p = list.back();
      list.pop_back();
      small_cached -= sz;
      stats.cached_bytes -= int64_t(sz);
      stats.cache_hits++;
    }
  } else {
    auto it = cache.find(sz);
    if (it != cache.end()) {
      p = it->second;
      cache.erase(it);
      stats.cached_bytes -= int64_t(sz);
      stats.cache_hits++;
    }
  }
  if (!p) {
    p = os_alloc(sz);
    if (!p && stats.cached_bytes > 0) {  // out of memory: give the cache back and try once more
      release_cache();
      p = os_alloc(sz);
    }
    if (!p) return nullptr;
  }
  stats.live_bytes += int64_t(nbytes);
  stats.live_count++;
  if (stats.live_bytes > stats.peak_bytes) stats.peak_bytes = stats.live_bytes;
  return p;
}

void cpu_free(void* p, size_t nbytes) {
  if (!p) return;
  size_t sz = round_size(nbytes == 0 ? 1 : nbytes);
  std::lock_guard<std::mutex> g(mu);
  stats.live_bytes -= int64_t(nbytes);
  stats.live_count--;
  if (sz < kSmall && small_cached + sz <= kMaxSmallCached && push_small(p, sz)) {
    small_cached += sz;
    stats.cached_bytes += int64_t(sz);
  } else if (sz >= kSmall && size_t(stats.cached_bytes) + sz <= kMaxCached) {
    cache.emplace(sz, p);
    stats.cached_bytes += int64_t(sz);
  } else {
    os_free(p, sz);
  }
}

void cpu_empty_cache() {
  std::lock_guard<std::mutex> g(mu);
  release_cache();
}

MemoryStats cpu_memory_stats() {
  std::lock_guard<std::mutex> g(mu);
  return stats;
}

}  // namespace ignis
