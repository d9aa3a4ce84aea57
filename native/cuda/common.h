// Shared by the CUDA library's sources: error reporting through the C ABI (api.h), the per-device
// context (stream, cuBLAS / cuDNN handles) and the status-checking macros. Every failure becomes a
// CudaError that the api.h entry turns into (kind, message); nothing here aborts the process.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "api.h"

namespace ignis_cuda {

struct CudaError : std::runtime_error {
  std::string kind;
  CudaError(std::string k, const std::string& m) : std::runtime_error(m), kind(std::move(k)) {}
};

// Whether the environment variable `name` is set to something other than "" or "0" (the library's
// switches: IGNIS_CUDNN_GRAPH_LOG, IGNIS_CUDA_HOST_TIMES, IGNIS_CUDA_FORCE_INDEX64).
inline bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

// Host-time tally, a diagnostic for the device machine (IGNIS_CUDA_HOST_TIMES=1 in the
// environment): each Scope adds the host time it spans to its name's total, and the totals (calls,
// µs, µs per call) go to stderr at exit, to tell where the host's time per op goes inside the
// library (the cuDNN and cuBLAS calls, the launches, the allocator). Off, a scope costs one test of
// a flag read once at load.
namespace hostt {
extern const bool g_on;
int64_t now_ns();
void add(const char* name, int64_t ns);
struct Scope {
  const char* name;
  int64_t t0;
  explicit Scope(const char* n) : name(g_on ? n : nullptr), t0(g_on ? now_ns() : 0) {}
  ~Scope() { stop(); }
  void stop() {
    if (name) add(name, now_ns() - t0);
    name = nullptr;
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
};
}  // namespace hostt

[[noreturn]] void fail(const std::string& kind, const std::string& msg);
// Turns a cudaError_t into a DeviceError naming the op (MemoryError for cudaErrorMemoryAllocation).
void check_cuda(cudaError_t e, const char* what);
#define IGNIS_CUDA_CHECK(expr, what) ::ignis_cuda::check_cuda((expr), (what))

// Runs f() and converts exceptions into the api.h status convention. It also holds the library's
// one lock: JS threads (the main thread and worker_threads) may call in at the same time, and the
// staging buffers, the cuBLAS / cuDNN handles and the plan caches are shared. Launches are short, so
// one lock costs an uncontended mutex per call; recursive, since an entry may call another.
// guard_unlocked: the same without the lock, for entries that only wait (synchronize), so that a
// thread waiting for the stream does not stop the others from queuing work.
std::recursive_mutex& api_mutex();
// how many guard() frames of the calling thread hold the lock (0 outside the library)
extern thread_local int t_lock_depth;
template <class F>
int guard(F&& f);
template <class F>
int guard_unlocked(F&& f);
int set_error(const char* kind, const std::string& msg);

// Host bytes to the device, queued on dev's stream without waiting for it: they go through one of
// two pinned staging buffers (from pageable memory cudaMemcpyAsync "may synchronize with the stream",
// the CUDA runtime's API sync notes). Waits only for the copy that used that buffer last; src may
// be freed on return.
void upload_async(int dev, void* dst, const void* src, size_t n);
// Waits until the work queued so far on dev's stream is done (an event, so work other threads queue
// meanwhile is not waited for). The library lock is let go during the wait when one guard() frame
// holds it and no profiler scope is open, so other JS threads keep queuing; callers hold no other
// lock and keep no iterator into shared state across it.
void wait_stream(int dev, const char* what);

struct Device;
// Makes `dev` current (cudaSetDevice when it changed) and returns its context.
Device& device(int dev);
cudaStream_t stream(int dev);
// Whether `dev` has been used (its stream exists); creates nothing, so it never makes a context.
bool device_started(int dev);

// Allocator entry points for internal scratch (workspaces, packed copies); RAII holder below.
void* dev_malloc(int dev, size_t n);
void dev_free(int dev, void* p, size_t n);
// Gives dev's cached free blocks back to the driver (what emptyCache does for the device); true when
// it freed something. cache_releases() counts the other releases (emptyCache, setMemoryLimit, the
// allocator's retry after out of memory), on every device, since the start: memory that came free
// for a reason other than the caller's own release.
bool release_cache(int dev);
uint64_t cache_releases();
struct Scratch {
  int dev = 0;
  void* p = nullptr;
  size_t n = 0;
  Scratch(int d, size_t bytes) : dev(d), p(bytes ? dev_malloc(d, bytes) : nullptr), n(bytes) {}
  ~Scratch() { if (p) dev_free(dev, p, n); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
};

// PyTorch's defaults: TF32 off for matmul, on for cuDNN convolutions; benchmark and deterministic
// off. cudnn_graph: convolutions (and conv + bias + activation) through cuDNN operation graphs
// where an engine takes them and times faster (Ignis's own).
// Per host thread: each JS thread (main, every Worker) has its own ignis.backends settings, and
// the library runs on the thread that calls it.
struct Flags {
  bool tf32_matmul = false;
  bool tf32_conv = true;
  bool cudnn_benchmark = false;
  bool cudnn_graph = true;
  bool cudnn_deterministic = false;  // torch.backends.cudnn.deterministic
};
extern thread_local Flags g_flags;
extern thread_local uint64_t g_seed;

inline const char* dtype_name(int d) {
  switch (d) {
    case 0: return "float32";
    case 1: return "float64";
    case 2: return "int32";
    case 3: return "int64";
    case 4: return "bool";
  }
  return "?";
}
inline size_t dtype_size(int d) { return (d == 0 || d == 2) ? 4 : (d == 4 ? 1 : 8); }

template <class F>
int guard(F&& f) {
  std::lock_guard<std::recursive_mutex> lk(api_mutex());
  struct Depth {
    Depth() { ++t_lock_depth; }
    ~Depth() { --t_lock_depth; }
  } depth;
  return guard_unlocked(std::forward<F>(f));
}

template <class F>
int guard_unlocked(F&& f) {
  try {
    f();
    return 0;
  } catch (const CudaError& e) {
    return set_error(e.kind.c_str(), e.what());
  } catch (const std::bad_alloc&) {
    return set_error("MemoryError", "out of host memory");
  } catch (const std::exception& e) {
    return set_error("IgnisError", e.what());
  }
}

// launch geometry: grid-stride loops capped at a few waves
inline unsigned blocks_for(int64_t n, int threads, int64_t per_thread = 1) {
  int64_t b = (n + threads * per_thread - 1) / (threads * per_thread);
  if (b < 1) b = 1;
  if (b > 65535LL * 8) b = 65535LL * 8;
  return unsigned(b);
}

}  // namespace ignis_cuda
