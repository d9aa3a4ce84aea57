// CPU caching allocator. Large blocks freed by tensors are kept and reused instead of being handed
// back to the OS: on these VMs every fresh page costs a fault, and a training loop frees and
// re-allocates the same sizes every step (DESIGN.md, "Page faults are expensive").
#pragma once
#include <cstddef>
#include <cstdint>

namespace ignis {

struct MemoryStats {
  int64_t live_bytes = 0;     // bytes held by live storages (requested sizes)
  int64_t live_count = 0;     // number of live storages
  int64_t cached_bytes = 0;   // bytes kept in the cache, ready for reuse
  int64_t peak_bytes = 0;     // high-water mark of live_bytes
  int64_t alloc_calls = 0;    // allocations served
  int64_t cache_hits = 0;     // ... of which came from the cache
};

// Returns nullptr when the request cannot be satisfied (the caller raises MemoryError).
void* cpu_alloc(size_t nbytes);
void cpu_free(void* p, size_t nbytes);
void cpu_empty_cache();
MemoryStats cpu_memory_stats();

}  // namespace ignis
