// Streaming (non-temporal) stores for large outputs. A kernel that writes a fresh tensor much larger
// than the caches normally pays a read of every output line before writing it (read-for-ownership);
// streaming stores write the line without reading it, one DRAM stream less. glibc's memcpy does the
// same above a cache-sized threshold. Used above kStreamBytes of output only: smaller results stay
// in cache for the op that reads them next.
#pragma once
#include <cstdint>
#include <immintrin.h>

#include "vmath.h"  // IGNIS_VM_INLINE

namespace ignis {
namespace stream {

constexpr int64_t kStreamBytes = int64_t(8) << 20;

// Copies 64 bytes from the aligned buffer to the aligned destination with streaming stores.
IGNIS_VM_INLINE void put64(void* dst, const void* src) {
#if defined(__AVX512F__)
  _mm512_stream_si512(static_cast<__m512i*>(dst), _mm512_load_si512(src));
#elif defined(__AVX2__)
  _mm256_stream_si256(static_cast<__m256i*>(dst), _mm256_load_si256(static_cast<const __m256i*>(src)));
  _mm256_stream_si256(static_cast<__m256i*>(dst) + 1, _mm256_load_si256(static_cast<const __m256i*>(src) + 1));
#else
  for (int k = 0; k < 4; ++k)
    _mm_stream_si128(static_cast<__m128i*>(dst) + k, _mm_load_si128(static_cast<const __m128i*>(src) + k));
#endif
}

// o[i] = f(i) for i < n: the values are computed a chunk at a time into an L1 buffer (a vectorised
// loop) and streamed out; the unaligned head and the tail use ordinary stores. Ends with a store
// fence, so the data is visible to other threads once the caller's parallel task returns.
template <class T, class F>
IGNIS_VM_INLINE void out(T* __restrict o, int64_t n, F&& f) {
  constexpr int64_t K = 1024 / int64_t(sizeof(T));  // 1 KiB chunks
  int64_t i = 0;
  for (; i < n && (reinterpret_cast<uintptr_t>(o + i) & 63) != 0; ++i) o[i] = f(i);
  alignas(64) T buf[K];
  for (; i + K <= n; i += K) {
#pragma omp simd
    for (int64_t j = 0; j < K; ++j) buf[j] = f(i + j);
    for (int64_t j = 0; j < K; j += 64 / int64_t(sizeof(T))) put64(o + i + j, buf + j);
  }
  for (; i < n; ++i) o[i] = f(i);
  _mm_sfence();
}

}  // namespace stream
}  // namespace ignis
