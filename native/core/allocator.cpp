#include "allocator.h"

#include <cstdlib>
#include <map>
#include <mutex>

namespace ignis {
namespace {

constexpr size_t kAlign = 64;                    // cache line; also AVX-512 friendly
constexpr size_t kSmall = 1 << 14;               // below this, malloc's own bins are fine
constexpr size_t kMaxCached = size_t(2) << 30;   // never keep more than 2 GiB idle
constexpr size_t kMaxRequest = size_t(1) << 46;  // refuse absurd sizes before asking the OS

std::mutex mu;
std::multimap<size_t, void*> cache;  // rounded size -> free block
MemoryStats stats;

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
  if (sz >= kSmall) {
    auto it = cache.find(sz);
    if (it != cache.end()) {
      p = it->second;
      cache.erase(it);
      stats.cached_bytes -= int64_t(sz);
      stats.cache_hits++;
    }
  }
  if (!p) {
    p = std::aligned_alloc(kAlign, sz);
    if (!p && !cache.empty()) {  // out of memory: give the cache back and try once more
      for (auto& kv : cache) std::free(kv.second);
      cache.clear();
      stats.cached_bytes = 0;
      p = std::aligned_alloc(kAlign, sz);
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
  if (sz >= kSmall && size_t(stats.cached_bytes) + sz <= kMaxCached) {
    cache.emplace(sz, p);
    stats.cached_bytes += int64_t(sz);
  } else {
    std::free(p);
  }
}

void cpu_empty_cache() {
  std::lock_guard<std::mutex> g(mu);
  for (auto& kv : cache) std::free(kv.second);
  cache.clear();
  stats.cached_bytes = 0;
}

MemoryStats cpu_memory_stats() {
  std::lock_guard<std::mutex> g(mu);
  return stats;
}

}  // namespace ignis
