// Devices, the caching allocator, host<->device copies and the api.h table.
//
// Allocator: one per device. Requests round up to a size class (512 B steps below 1 MiB, 128 KiB
// steps above); a freed block goes back to a free list keyed by size and is handed out again for a
// request of its class (or a little smaller). Every kernel of a device runs on that device's one
// stream, so a block reused by a later launch is only touched after all earlier work on it has
// run: stream-ordered reuse without events (PyTorch's rule for single-stream use). When cudaMalloc
// fails, or the limit set by set_memory_limit would be passed, the cache is released and the
// request retried once; then the error names the allocator's figures.
#include <cudnn.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "profile.h"

// The host CUDA emulator (native/cuda/emu) under AddressSanitizer: a block's bytes past what was
// asked for are poisoned while it is handed out, and the whole block while it is cached, so a kernel
// that touches memory past its tensor, or a freed tensor, is caught (compute-sanitizer on the device
// sees only whole cudaMalloc blocks). No-ops in every other build.
#if defined(IGNIS_CUDA_EMU) && defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define IGNIS_EMU_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define IGNIS_EMU_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define IGNIS_EMU_POISON(p, n) ((void)(p), (void)(n))
#define IGNIS_EMU_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace ignis_cuda {

thread_local Flags g_flags;
thread_local uint64_t g_seed = 0;

std::recursive_mutex& api_mutex() {
  static std::recursive_mutex mu;
  return mu;
}
thread_local int t_lock_depth = 0;

namespace {
thread_local std::string t_kind, t_msg;
std::string g_versions;

constexpr size_t kSmall = size_t(1) << 20;
constexpr size_t kStagingBytes = size_t(4) << 20;

size_t round_size(size_t n) {
  if (n == 0) n = 1;
  if (n < kSmall) return (n + 511) & ~size_t(511);
  const size_t step = size_t(128) << 10;
  return (n + step - 1) / step * step;
}

std::string mib(int64_t b) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f MiB", double(b) / 1048576.0);
  return buf;
}
}  // namespace

struct Device {
  int ordinal = 0;
  cudaStream_t stream = nullptr;
  std::mutex mu;
  std::multimap<size_t, void*> free_blocks;
  std::unordered_map<void*, size_t> live;  // pointer -> block size
  int64_t allocated = 0, reserved = 0, max_allocated = 0, limit = 0, calls = 0, hits = 0;
  // pinned staging for h2d: two buffers used in turn, each with an event marking its last copy
  void* staging[2] = {nullptr, nullptr};
  cudaEvent_t staged[2] = {nullptr, nullptr};
  int next_staging = 0;
};

namespace {
std::mutex g_devices_mu;
std::vector<std::unique_ptr<Device>> g_devices;
// The current device is per host thread in CUDA (cudaSetDevice), so the cache of it is too.
thread_local int t_current = -1;
std::atomic<uint64_t> g_releases{0};

// `counted`: the release shows in cache_releases() (every release but release_cache()'s)
void release_cached(Device& d, bool counted = true) {  // caller holds d.mu
  if (d.free_blocks.empty()) return;
  if (counted) g_releases.fetch_add(1, std::memory_order_relaxed);
  // a failed sync is an earlier kernel's fault: report it here rather than let the next op wear it
  IGNIS_CUDA_CHECK(cudaStreamSynchronize(d.stream), "releasing cached blocks (an earlier kernel failed)");
  for (auto& kv : d.free_blocks) {
    IGNIS_EMU_UNPOISON(kv.second, kv.first);
    if (cudaFree(kv.second) != cudaSuccess) cudaGetLastError();
    d.reserved -= int64_t(kv.first);
  }
  d.free_blocks.clear();
}

std::string figures(Device& d) {
  size_t fr = 0, tot = 0;
  cudaMemGetInfo(&fr, &tot);
  cudaGetLastError();
  std::string s = "allocated " + mib(d.allocated) + ", reserved " + mib(d.reserved) + " (peak allocated " +
                  mib(d.max_allocated) + ")";
  if (d.limit) s += ", limit " + mib(d.limit);
  s += "; device has " + mib(int64_t(fr)) + " free of " + mib(int64_t(tot));
  return s;
}
}  // namespace

[[noreturn]] void fail(const std::string& kind, const std::string& msg) { throw CudaError(kind, msg); }

void check_cuda(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear sticky-free errors so the next call starts clean
  std::string m = std::string(what) + ": CUDA error " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  fail(e == cudaErrorMemoryAllocation ? "MemoryError" : "DeviceError", m);
}

bool force_index64() {
  static const bool on = env_flag("IGNIS_CUDA_FORCE_INDEX64");
  return on;
}

namespace hostt {
const bool g_on = env_flag("IGNIS_CUDA_HOST_TIMES");
namespace {
struct Tally {
  std::vector<int64_t> ns;  // every call's, for the median (robust to the first calls' plan builds)
};
std::mutex g_tally_mu;
std::map<std::string, Tally>* g_tally = nullptr;  // leaked: read by the atexit handler
void print_tally() {
  std::lock_guard<std::mutex> lk(g_tally_mu);
  if (!g_tally) return;
  struct Row {
    std::string name;
    size_t calls;
    double total_us, median_us;
  };
  std::vector<Row> rows;
  for (auto& [name, t] : *g_tally) {
    double sum = 0;
    for (int64_t v : t.ns) sum += double(v);
    std::nth_element(t.ns.begin(), t.ns.begin() + t.ns.size() / 2, t.ns.end());
    rows.push_back({name, t.ns.size(), sum / 1e3, double(t.ns[t.ns.size() / 2]) / 1e3});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.total_us > b.total_us; });
  std::fprintf(stderr, "ignis host times (IGNIS_CUDA_HOST_TIMES): name, calls, total us, median us per call\n");
  for (const Row& r : rows)
    std::fprintf(stderr, "  %-44s %9zu %12.1f %9.2f\n", r.name.c_str(), r.calls, r.total_us, r.median_us);
}
}  // namespace
int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
void add(const char* name, int64_t ns) {
  std::lock_guard<std::mutex> lk(g_tally_mu);
  if (!g_tally) {
    g_tally = new std::map<std::string, Tally>();
    std::atexit(print_tally);
  }
  (*g_tally)[name].ns.push_back(ns);
}
}  // namespace hostt

int set_error(const char* kind, const std::string& msg) {
  t_kind = kind;
  t_msg = msg;
  return 1;
}

Device& device(int dev) {
  std::lock_guard<std::mutex> lk(g_devices_mu);
  if (dev < 0 || dev >= int(g_devices.size()))
    fail("DeviceError", "cuda:" + std::to_string(dev) + " does not exist (" + std::to_string(g_devices.size()) +
                            " CUDA device(s))");
  if (t_current != dev) {
    IGNIS_CUDA_CHECK(cudaSetDevice(dev), "cudaSetDevice");
    t_current = dev;
  }
  Device& d = *g_devices[size_t(dev)];
  if (!d.stream) IGNIS_CUDA_CHECK(cudaStreamCreateWithFlags(&d.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  return d;
}

cudaStream_t stream(int dev) { return device(dev).stream; }

bool device_started(int dev) {
  std::lock_guard<std::mutex> lk(g_devices_mu);
  return dev >= 0 && dev < int(g_devices.size()) && g_devices[size_t(dev)]->stream != nullptr;
}

void* dev_malloc(int dev, size_t nbytes) {
  hostt::Scope ts("dev_malloc");
  Device& d = device(dev);
  std::lock_guard<std::mutex> lk(d.mu);
  const size_t r = round_size(nbytes);
  d.calls++;
  // a cached block of this class, or up to 1/8 larger (2x for small blocks)
  auto it = d.free_blocks.lower_bound(r);
  if (it != d.free_blocks.end() && it->first <= (r < kSmall ? 2 * r : r + r / 8)) {
    void* p = it->second;
    size_t sz = it->first;
    d.free_blocks.erase(it);
    d.live[p] = sz;
    IGNIS_EMU_UNPOISON(p, sz);
    IGNIS_EMU_POISON(static_cast<char*>(p) + nbytes, sz - nbytes);
    d.allocated += int64_t(sz);
    d.max_allocated = std::max(d.max_allocated, d.allocated);
    d.hits++;
    return p;
  }
  void* p = nullptr;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (d.limit && d.reserved + int64_t(r) > d.limit) {
      if (attempt == 0) { release_cached(d); continue; }
      fail("MemoryError", "cuda:" + std::to_string(dev) + " out of memory: tried to allocate " + mib(int64_t(r)) +
                              ", over the limit set by setMemoryLimit; " + figures(d));
    }
    cudaError_t e = cudaMalloc(&p, r);
    if (e == cudaSuccess) break;
    p = nullptr;
    // only "out of memory" is worth a retry; anything else (the sticky error of a kernel that
    // faulted earlier, an illegal address) is reported as what it is, not as out of memory
    if (e != cudaErrorMemoryAllocation) check_cuda(e, "cudaMalloc (an earlier kernel may have failed)");
    cudaGetLastError();
    if (attempt == 0) { release_cached(d); continue; }
    fail("MemoryError", "cuda:" + std::to_string(dev) + " out of memory: tried to allocate " + mib(int64_t(r)) + "; " +
                            figures(d) + ". Free tensors (dispose()) or call ignis.cuda.emptyCache(), then retry");
  }
  d.reserved += int64_t(r);
  d.live[p] = r;
  IGNIS_EMU_POISON(static_cast<char*>(p) + nbytes, r - nbytes);
  d.allocated += int64_t(r);
  d.max_allocated = std::max(d.max_allocated, d.allocated);
  return p;
}

bool release_cache(int dev) {
  Device& d = device(dev);
  std::lock_guard<std::mutex> lk(d.mu);
  const bool any = !d.free_blocks.empty();
  release_cached(d, false);
  return any;
}

uint64_t cache_releases() { return g_releases.load(std::memory_order_relaxed); }

void dev_free(int dev, void* p, size_t) {
  if (!p) return;
  Device* dp;
  {
    std::lock_guard<std::mutex> lk(g_devices_mu);
    if (dev < 0 || dev >= int(g_devices.size())) return;
    dp = g_devices[size_t(dev)].get();
  }
  std::lock_guard<std::mutex> lk(dp->mu);
  auto it = dp->live.find(p);
  if (it == dp->live.end()) return;  // not ours: ignore rather than corrupt the pools
  dp->allocated -= int64_t(it->second);
  dp->free_blocks.emplace(it->second, p);
  IGNIS_EMU_POISON(p, it->second);
  dp->live.erase(it);
}

namespace {

int init_impl() {
  return guard([] {
    std::lock_guard<std::mutex> lk(g_devices_mu);
    if (!g_devices.empty()) return;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorNoDevice || (e == cudaSuccess && n == 0)) {
      cudaGetLastError();
      fail("DeviceError", "no CUDA device is visible (driver loaded; check CUDA_VISIBLE_DEVICES and nvidia-smi)");
    }
    if (e == cudaErrorInsufficientDriver) {
      cudaGetLastError();
      int drv = 0;
      cudaDriverGetVersion(&drv);
      fail("DeviceError", "the NVIDIA driver supports CUDA " + std::to_string(drv / 1000) + "." +
                              std::to_string(drv % 1000 / 10) + " but this build needs CUDA " +
                              std::to_string(CUDART_VERSION / 1000) + ".x: update the driver");
    }
    IGNIS_CUDA_CHECK(e, "cudaGetDeviceCount");
    size_t dnn = cudnn_version();
    if (dnn / 10000 != CUDNN_MAJOR && dnn / 1000 != CUDNN_MAJOR)
      fail("DeviceError", "cuDNN " + std::to_string(dnn) + " was loaded but this build needs cuDNN " +
                              std::to_string(CUDNN_MAJOR) + ".x (set CUDNN_PATH or LD_LIBRARY_PATH to a cuDNN " +
                              std::to_string(CUDNN_MAJOR) + " install)");
    int rt = 0;
    cudaRuntimeGetVersion(&rt);
    g_versions = "cudart " + std::to_string(rt) + ", cuDNN " + std::to_string(dnn) + " (built with " +
                 std::to_string(CUDNN_VERSION) + "), cuBLAS " + std::to_string(cublas_version());
    // NVIDIA guarantees nothing for a cuDNN minor older than the headers; the legacy calls work, and a
    // backend-graph attribute that it does not know makes that graph decline (the epilogue runs)
    if (dnn / 100 < size_t(CUDNN_VERSION) / 100) g_versions += " [cuDNN older than the headers it was built with]";
    // a cuDNN built for another CUDA major usually still runs (the driver serves both runtimes);
    // said here so that a failure inside cuDNN can be traced to it
    size_t dnn_rt = cudnn_cudart_version();
    if (dnn_rt / 1000 != size_t(CUDART_VERSION) / 1000)
      g_versions += " [cuDNN built for CUDA " + std::to_string(dnn_rt / 1000) + ", this build for CUDA " +
                    std::to_string(CUDART_VERSION / 1000) + "]";
    for (int i = 0; i < n; ++i) {
      auto d = std::make_unique<Device>();
      d->ordinal = i;
      g_devices.push_back(std::move(d));
    }
  });
}

int device_count_impl(int* n) {
  return guard([&] {
    std::lock_guard<std::mutex> lk(g_devices_mu);
    *n = int(g_devices.size());
  });
}

int props_impl(int dev, IgnisCudaProps* o) {
  return guard([&] {
    device(dev);
    cudaDeviceProp p;
    IGNIS_CUDA_CHECK(cudaGetDeviceProperties(&p, dev), "getDeviceProperties");
    std::memset(o, 0, sizeof *o);
    std::snprintf(o->name, sizeof o->name, "%s", p.name);
    o->major = p.major;
    o->minor = p.minor;
    o->multiProcessorCount = p.multiProcessorCount;
    o->totalMemory = int64_t(p.totalGlobalMem);
    o->maxThreadsPerBlock = p.maxThreadsPerBlock;
    o->warpSize = p.warpSize;
    o->l2CacheSize = p.l2CacheSize;
    int clk = 0;
    if (cudaDeviceGetAttribute(&clk, cudaDevAttrClockRate, dev) == cudaSuccess) o->clockRateKHz = clk;
    cudaGetLastError();
  });
}

int sync_impl(int dev) {
  return guard_unlocked([&] { IGNIS_CUDA_CHECK(cudaStreamSynchronize(stream(dev)), "synchronize"); });
}

int malloc_impl(int dev, size_t n, void** out) {
  return guard([&] { *out = dev_malloc(dev, n); });
}

void free_impl(int dev, void* p, size_t n) {
  try {
    dev_free(dev, p, n);
  } catch (...) {
  }
}

int stats_impl(int dev, IgnisCudaMemStats* o) {
  return guard([&] {
    Device& d = device(dev);
    std::lock_guard<std::mutex> lk(d.mu);
    o->allocated = d.allocated;
    o->reserved = d.reserved;
    o->maxAllocated = d.max_allocated;
    o->limit = d.limit;
    o->allocCalls = d.calls;
    o->cacheHits = d.hits;
    size_t fr = 0, tot = 0;
    if (cudaMemGetInfo(&fr, &tot) != cudaSuccess) cudaGetLastError();
    o->deviceFree = int64_t(fr);
    o->deviceTotal = int64_t(tot);
  });
}

int reset_peak_impl(int dev) {
  return guard([&] {
    Device& d = device(dev);
    std::lock_guard<std::mutex> lk(d.mu);
    d.max_allocated = d.allocated;
  });
}

void pin_release_all();  // the async readback pool (below)

int empty_cache_impl(int dev) {
  return guard([&] {
    Device& d = device(dev);
    std::lock_guard<std::mutex> lk(d.mu);
    release_cached(d);
    pin_release_all();  // the async readback buffers (shared by the devices)
  });
}

int limit_impl(int dev, int64_t bytes) {
  return guard([&] {
    if (bytes < 0) fail("ValueError", "setMemoryLimit: the limit must be >= 0 bytes (0 = none)");
    Device& d = device(dev);
    std::lock_guard<std::mutex> lk(d.mu);
    d.limit = bytes;
    if (bytes && d.reserved > bytes) release_cached(d);
  });
}

int h2d_impl(int dev, void* dst, const void* src, size_t n) {
  return guard([&] {
    prof::Scope ps(dev, "Memcpy HtoD");
    upload_async(dev, dst, src, n);
  });
}

}  // namespace

void upload_async(int dev, void* dst, const void* src, size_t n) {
  Device& d = device(dev);
  std::lock_guard<std::mutex> lk(d.mu);
  for (int i = 0; i < 2; ++i)
    if (!d.staging[i]) {
      IGNIS_CUDA_CHECK(cudaMallocHost(&d.staging[i], kStagingBytes), "pinned staging buffer");
      IGNIS_CUDA_CHECK(cudaEventCreateWithFlags(&d.staged[i], cudaEventDisableTiming), "cudaEventCreate");
    }
  // chunks alternate between the two pinned buffers: filling one overlaps the copy of the other
  for (size_t off = 0; off < n; off += kStagingBytes) {
    size_t len = std::min(kStagingBytes, n - off);
    int b = d.next_staging;
    d.next_staging ^= 1;
    IGNIS_CUDA_CHECK(cudaEventSynchronize(d.staged[b]), "host to device copy");
    std::memcpy(d.staging[b], static_cast<const char*>(src) + off, len);
    IGNIS_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst) + off, d.staging[b], len, cudaMemcpyHostToDevice, d.stream),
                     "host to device copy");
    IGNIS_CUDA_CHECK(cudaEventRecord(d.staged[b], d.stream), "host to device copy");
  }
}

void wait_stream(int dev, const char* what) {
  cudaStream_t s = stream(dev);
  cudaEvent_t ev = nullptr;
  IGNIS_CUDA_CHECK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), what);
  cudaError_t e = cudaEventRecord(ev, s);
  if (e == cudaSuccess) {
    // the lock is kept inside an open profiler scope: work other threads queued meanwhile would land
    // between the scope's events and be timed as this entry's
    struct LetGo {
      bool on;
      explicit LetGo(bool b) : on(b) {
        if (on) api_mutex().unlock();
      }
      ~LetGo() {
        if (on) api_mutex().lock();
      }
    } let_go(t_lock_depth == 1 && !prof::scope_open());
    e = cudaEventSynchronize(ev);
  }
  cudaEventDestroy(ev);
  IGNIS_CUDA_CHECK(e, what);
}

namespace {

// A copy to pageable memory returns once it is done, so it would wait for the queued work while
// holding the lock: that wait comes first, without it.
int d2h_impl(int dev, void* dst, const void* src, size_t n) {
  return guard([&] {
    wait_stream(dev, "device to host copy");
    cudaStream_t s = stream(dev);
    {
      prof::Scope ps(dev, "Memcpy DtoH");
      if (n) IGNIS_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, s), "device to host copy");
    }
    IGNIS_CUDA_CHECK(cudaStreamSynchronize(s), "device to host copy");
  });
}

int d2d_impl(int dev, void* dst, const void* src, size_t n) {
  return guard([&] {
    prof::Scope ps(dev, "Memcpy DtoD");
    if (n) IGNIS_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, stream(dev)), "device copy");
  });
}

// Pinned buffers for async readback, kept for reuse: cudaMallocHost pins pages (slow), and
// cudaFreeHost waits for the whole device, which would make every `await t.data()` a full sync.
// Reads up to kPinPooled bytes take power-of-two classes (4 KiB up) from a pool of at most
// kPinCacheMax bytes; larger reads get an exact buffer, freed after use as before.
constexpr size_t kPinPooled = size_t(16) << 20;
constexpr size_t kPinCacheMax = size_t(64) << 20;
std::mutex g_pin_mu;
std::multimap<size_t, void*> g_pin_free;
size_t g_pin_cached = 0;

void pin_release_all() {
  std::lock_guard<std::mutex> lk(g_pin_mu);
  for (auto& kv : g_pin_free) cudaFreeHost(kv.second);
  g_pin_free.clear();
  g_pin_cached = 0;
  cudaGetLastError();
}

void* pin_get(size_t n, size_t* cap) {
  size_t r = n ? n : 1;
  if (r <= kPinPooled) {
    size_t c = 4096;
    while (c < r) c <<= 1;
    r = c;
    std::lock_guard<std::mutex> lk(g_pin_mu);
    auto it = g_pin_free.find(r);
    if (it != g_pin_free.end()) {
      void* p = it->second;
      g_pin_free.erase(it);
      g_pin_cached -= r;
      *cap = r;
      return p;
    }
  }
  void* p = nullptr;
  cudaError_t e = cudaMallocHost(&p, r);
  if (e == cudaErrorMemoryAllocation) {  // the pool may hold what is missing
    cudaGetLastError();
    pin_release_all();
    e = cudaMallocHost(&p, r);
  }
  IGNIS_CUDA_CHECK(e, "async readback (pinned buffer)");
  *cap = r;
  return p;
}

void pin_put(void* p, size_t cap) {
  if (!p) return;
  {
    std::lock_guard<std::mutex> lk(g_pin_mu);
    if (cap <= kPinPooled && g_pin_cached + cap <= kPinCacheMax) {
      g_pin_free.emplace(cap, p);
      g_pin_cached += cap;
      return;
    }
  }
  cudaFreeHost(p);
}

struct ReadToken {
  void* pinned = nullptr;
  size_t n = 0, cap = 0;
  cudaEvent_t ev = nullptr;
};

int read_start_impl(int dev, const void* src, size_t n, void** token) {
  return guard([&] {
    cudaStream_t s = stream(dev);
    auto t = std::make_unique<ReadToken>();
    prof::Scope ps(dev, "Memcpy DtoH (async)");
    t->n = n;
    t->pinned = pin_get(n, &t->cap);
    cudaError_t e = cudaEventCreateWithFlags(&t->ev, cudaEventDisableTiming);
    if (e == cudaSuccess && n) e = cudaMemcpyAsync(t->pinned, src, n, cudaMemcpyDeviceToHost, s);
    if (e == cudaSuccess) e = cudaEventRecord(t->ev, s);
    if (e != cudaSuccess) {
      if (t->ev) cudaEventDestroy(t->ev);
      // the copy may be queued: the buffer is not handed out again
      cudaStreamSynchronize(s);
      cudaGetLastError();
      pin_put(t->pinned, t->cap);
      IGNIS_CUDA_CHECK(e, "async readback");
    }
    *token = t.release();
  });
}

void read_cancel_impl(void* token) {
  auto* t = static_cast<ReadToken*>(token);
  if (!t) return;
  // the copy into the buffer must be over before another read can take it
  cudaEventSynchronize(t->ev);
  cudaEventDestroy(t->ev);
  cudaGetLastError();
  pin_put(t->pinned, t->cap);
  delete t;
}

int read_poll_impl(void* token, void* dst, int* done) {
  return guard([&] {
    auto* t = static_cast<ReadToken*>(token);
    cudaError_t e = cudaEventQuery(t->ev);
    if (e == cudaErrorNotReady) {
      cudaGetLastError();
      *done = 0;
      return;
    }
    if (e != cudaSuccess) {
      read_cancel_impl(t);
      IGNIS_CUDA_CHECK(e, "async readback");
    }
    std::memcpy(dst, t->pinned, t->n);
    read_cancel_impl(t);
    *done = 1;
  });
}

// torch.cuda.Event: an event bound to one device, recorded on that device's stream.
struct Event {
  int dev;
  bool timing;
  bool recorded = false;
  cudaEvent_t ev = nullptr;
};

int event_create_impl(int dev, int timing, void** out) {
  return guard([&] {
    device(dev);
    auto e = std::make_unique<Event>(Event{dev, timing != 0});
    IGNIS_CUDA_CHECK(cudaEventCreateWithFlags(&e->ev, timing ? cudaEventDefault : cudaEventDisableTiming),
                     "Event: cudaEventCreate");
    *out = e.release();
  });
}

int event_record_impl(void* p) {
  return guard([&] {
    auto* e = static_cast<Event*>(p);
    IGNIS_CUDA_CHECK(cudaEventRecord(e->ev, stream(e->dev)), "Event.record");
    e->recorded = true;
  });
}

int event_query_impl(void* p, int* done) {
  return guard([&] {
    auto* e = static_cast<Event*>(p);
    *done = 1;
    if (!e->recorded) return;
    cudaError_t r = cudaEventQuery(e->ev);
    if (r == cudaErrorNotReady) {
      cudaGetLastError();
      *done = 0;
      return;
    }
    IGNIS_CUDA_CHECK(r, "Event.query");
  });
}

// waits without the library lock, as synchronize() does
int event_sync_impl(void* p) {
  return guard_unlocked([&] {
    auto* e = static_cast<Event*>(p);
    if (e->recorded) IGNIS_CUDA_CHECK(cudaEventSynchronize(e->ev), "Event.synchronize");
  });
}

int event_elapsed_impl(void* a, void* b, double* ms) {
  int rc = event_sync_impl(a);
  if (rc == 0) rc = event_sync_impl(b);
  if (rc != 0) return rc;
  return guard([&] {
    auto *s = static_cast<Event*>(a), *t = static_cast<Event*>(b);
    if (!s->timing || !t->timing)
      fail("ValueError", "Event.elapsedTime: both events must be created with enableTiming: true");
    if (!s->recorded || !t->recorded)
      fail("ValueError", "Event.elapsedTime: both events must be recorded before the elapsed time is read");
    if (s->dev != t->dev)
      fail("DeviceError", "Event.elapsedTime: the events belong to cuda:" + std::to_string(s->dev) + " and cuda:" +
                              std::to_string(t->dev));
    float f = 0;
    IGNIS_CUDA_CHECK(cudaEventElapsedTime(&f, s->ev, t->ev), "Event.elapsedTime");
    *ms = double(f);
  });
}

void event_destroy_impl(void* p) {
  auto* e = static_cast<Event*>(p);
  if (!e) return;
  if (e->ev && cudaEventDestroy(e->ev) != cudaSuccess) cudaGetLastError();
  delete e;
}

// the calling thread's (common.h: Flags)
void seed_impl(uint64_t s) { g_seed = s; }
void flags_impl(int a, int b, int c, int d, int e) {
  g_flags.tf32_matmul = a != 0;
  g_flags.tf32_conv = b != 0;
  g_flags.cudnn_benchmark = c != 0;
  g_flags.cudnn_graph = d != 0;
  g_flags.cudnn_deterministic = e != 0;
}

const char* kind_impl() { return t_kind.c_str(); }
const char* msg_impl() { return t_msg.c_str(); }
const char* versions_impl() { return g_versions.c_str(); }

IgnisCudaApi make_api() {
  IgnisCudaApi a;
  std::memset(&a, 0, sizeof a);
  a.abi = IGNIS_CUDA_ABI_VERSION;
  a.table_size = uint32_t(sizeof(IgnisCudaApi));
  a.error_kind = kind_impl;
  a.error_message = msg_impl;
  a.init = init_impl;
  a.versions = versions_impl;
  a.device_count = device_count_impl;
  a.device_props = props_impl;
  a.synchronize = sync_impl;
  a.malloc = malloc_impl;
  a.free = free_impl;
  a.memory_stats = stats_impl;
  a.reset_peak = reset_peak_impl;
  a.empty_cache = empty_cache_impl;
  a.set_memory_limit = limit_impl;
  a.h2d = h2d_impl;
  a.d2h = d2h_impl;
  a.d2d = d2d_impl;
  a.read_start = read_start_impl;
  a.read_poll = read_poll_impl;
  a.read_cancel = read_cancel_impl;
  a.manual_seed = seed_impl;
  a.set_flags = flags_impl;
  a.unary = [](int dev, int op, const IgnisCudaIter* it, double p0, double p1) {
    return guard([&] {
      prof::Scope ps(dev, "unary", prof::unary_name(op));
      unary_cuda(dev, op, *it, p0, p1);
    });
  };
  a.binary = [](int dev, int op, const IgnisCudaIter* it) { return guard([&] {
      prof::Scope ps(dev, "binary", prof::binary_name(op));
      binary_cuda(dev, op, *it);
    }); };
  a.where = [](int dev, const IgnisCudaIter* it) { return guard([&] {
      prof::Scope ps(dev, "where");
      where_cuda(dev, *it);
    }); };
  a.copy = [](int dev, const IgnisCudaIter* it) { return guard([&] {
      prof::Scope ps(dev, "copy");
      copy_cuda(dev, *it);
    }); };
  a.act_fwd = [](int dev, int op, const IgnisCudaIter* it, const double* p) {
    return guard([&] {
      prof::Scope ps(dev, "act_fwd", prof::act_name(op));
      act_fwd_cuda(dev, op, *it, p);
    });
  };
  a.act_bwd = [](int dev, int op, const IgnisCudaIter* it, const double* p) {
    return guard([&] {
      prof::Scope ps(dev, "act_bwd", prof::act_name(op));
      act_bwd_cuda(dev, op, *it, p);
    });
  };
  a.reduce = [](int dev, int op, const IgnisCudaIter* in, int nkeep, void* out, int odt) {
    return guard([&] {
      prof::Scope ps(dev, "reduce", prof::reduce_name(op));
      reduce_cuda(dev, op, *in, nkeep, out, odt);
    });
  };
  a.bmm = [](int dev, int dt, int64_t B, int64_t M, int64_t K, int64_t N, const void* x, const int64_t* sa,
             const void* y, const int64_t* sb, void* c) {
    return guard([&] {
      prof::Scope ps(dev, "bmm");
      bmm_cuda(dev, dt, B, M, K, N, x, sa, y, sb, c);
    });
  };
  a.conv_fwd = [](int dev, const IgnisCudaConv* s, const void* x, const void* w, const void* b, void* y, void* z, int act,
                  const double* ap) { return guard([&] {
      prof::Scope ps(dev, "conv2d_fwd", act >= 0 ? prof::act_name(act) : nullptr);
      conv2d_fwd_cuda(dev, *s, x, w, b, y, z, act, ap);
    }); };
  a.conv_bwd_data = [](int dev, const IgnisCudaConv* s, const void* dy, const void* w, void* dx) {
    return guard([&] {
      prof::Scope ps(dev, "conv2d_bwd_data");
      conv2d_bwd_data_cuda(dev, *s, dy, w, dx);
    });
  };
  a.conv_bwd_filter = [](int dev, const IgnisCudaConv* s, const void* x, const void* dy, void* dw, void* db) {
    return guard([&] {
      prof::Scope ps(dev, "conv2d_bwd_filter");
      conv2d_bwd_filter_cuda(dev, *s, x, dy, dw, db);
    });
  };
  a.bias_act = [](int dev, int dt, void* y, const void* b, int64_t N, int64_t C, int64_t S, int act, const double* p,
                  void* out) {
    return guard([&] {
      prof::Scope ps(dev, "bias_act", act >= 0 ? prof::act_name(act) : nullptr);
      bias_act_cuda(dev, dt, y, b, N, C, S, act, p, out);
    });
  };
  a.bias_act_bwd = [](int dev, int dt, const void* z, const void* dy, void* dz, void* db, int64_t N, int64_t C, int64_t S,
                      int act, const double* p) {
    return guard([&] {
      prof::Scope ps(dev, "bias_act_bwd", prof::act_name(act));
      bias_act_bwd_cuda(dev, dt, z, dy, dz, db, N, C, S, act, p);
    });
  };
  a.optim_step = [](int dev, int kind, int dt, const double* h, const IgnisCudaOptimItem* items, int64_t count) {
    return guard([&] {
      prof::Scope ps(dev, "optim_step", prof::optim_name(kind));
      optim_step_cuda(dev, kind, dt, h, items, count);
    });
  };
  a.gather = [](int dev, const IgnisCudaIter* it, int64_t st, int64_t size, int check) {
    return guard([&] {
      prof::Scope ps(dev, "gather");
      gather_cuda(dev, *it, st, size, check != 0);
    });
  };
  a.scatter = [](int dev, const IgnisCudaIter* it, int64_t st, int64_t size, int reduce, int check) {
    return guard([&] {
      prof::Scope ps(dev, "scatter", reduce ? "add" : nullptr);
      scatter_cuda(dev, *it, st, size, reduce, check != 0);
    });
  };
  a.pool_fwd = [](int dev, const IgnisCudaPool* s, const void* x, void* y, int64_t* ind) {
    return guard([&] {
      prof::Scope ps(dev, "pool_fwd", s->adaptive ? (s->max ? "adaptive_max" : "adaptive_avg") : (s->max ? "max" : "avg"));
      pool_fwd_cuda(dev, *s, x, y, ind);
    });
  };
  a.pool_bwd = [](int dev, const IgnisCudaPool* s, const void* dy, const int64_t* ind, void* dx) {
    return guard([&] {
      prof::Scope ps(dev, "pool_bwd", s->adaptive ? (s->max ? "adaptive_max" : "adaptive_avg") : (s->max ? "max" : "avg"));
      pool_bwd_cuda(dev, *s, dy, ind, dx);
    });
  };
  a.bn_fwd = [](int dev, const IgnisCudaBn* s, const void* x, const void* w, const void* b, void* rm, void* rv, void* y,
                void* sm, void* sv) {
    return guard([&] {
      prof::Scope ps(dev, "batch_norm_fwd");
      bn_fwd_cuda(dev, *s, x, w, b, rm, rv, y, sm, sv);
    });
  };
  a.bn_bwd = [](int dev, const IgnisCudaBn* s, const void* x, const void* dy, const void* w, const void* sm,
                const void* sv, void* dx, void* dw, void* db) {
    return guard([&] {
      prof::Scope ps(dev, "batch_norm_bwd");
      bn_bwd_cuda(dev, *s, x, dy, w, sm, sv, dx, dw, db);
    });
  };
  a.softmax_fwd = [](int dev, const IgnisCudaSoftmax* s, const void* x, void* y) {
    return guard([&] {
      prof::Scope ps(dev, "softmax_fwd", s->log ? "log" : s->neg ? "min" : nullptr);
      softmax_fwd_cuda(dev, *s, x, y);
    });
  };
  a.softmax_bwd = [](int dev, const IgnisCudaSoftmax* s, const void* y, const void* g, void* gx) {
    return guard([&] {
      prof::Scope ps(dev, "softmax_bwd", s->log ? "log" : s->neg ? "min" : nullptr);
      softmax_bwd_cuda(dev, *s, y, g, gx);
    });
  };
  a.random = [](int dev, int kind, int dt, void* out, int64_t n, uint64_t seed, uint64_t off, double p0, double p1) {
    return guard([&] {
      prof::Scope ps(dev, "random", prof::random_name(kind));
      random_cuda(dev, kind, dt, out, n, seed, off, p0, p1);
    });
  };
  a.prelu_fwd = [](int dev, const IgnisCudaGated* s, const void* x, const void* w, void* y) {
    return guard([&] {
      prof::Scope ps(dev, "prelu_fwd");
      prelu_fwd_cuda(dev, *s, x, w, y);
    });
  };
  a.prelu_bwd = [](int dev, const IgnisCudaGated* s, const void* x, const void* w, const void* g, void* gx, void* gw) {
    return guard([&] {
      prof::Scope ps(dev, "prelu_bwd");
      prelu_bwd_cuda(dev, *s, x, w, g, gx, gw);
    });
  };
  a.glu_fwd = [](int dev, const IgnisCudaGated* s, const void* x, void* y) {
    return guard([&] {
      prof::Scope ps(dev, "glu_fwd");
      glu_fwd_cuda(dev, *s, x, y);
    });
  };
  a.glu_bwd = [](int dev, const IgnisCudaGated* s, const void* x, const void* g, void* gx) {
    return guard([&] {
      prof::Scope ps(dev, "glu_bwd");
      glu_bwd_cuda(dev, *s, x, g, gx);
    });
  };
  a.rtc_load = [](int dev, const void* image, size_t nbytes, int nk, const char* const* names, void** kernels) {
    return guard([&] { rtc_load_cuda(dev, image, nbytes, nk, names, kernels); });
  };
  a.rtc_launch = [](int dev, void* kernel, int64_t n, int per_thread, void** args) {
    return guard([&] {
      prof::Scope ps(dev, "expr");  // an expression activation's NVRTC kernel
      rtc_launch_cuda(dev, kernel, n, per_thread, args);
    });
  };
  a.prof_start = prof::start;
  a.prof_correlate = prof::correlate;
  a.prof_stop = prof::stop;
  a.prof_records = prof::records;
  a.nvtx_push = prof::nvtx_push;
  a.nvtx_pop = prof::nvtx_pop;
  a.nvtx_start = prof::nvtx_start;
  a.nvtx_end = prof::nvtx_end;
  a.nvtx_mark = prof::nvtx_mark;
  a.event_create = event_create_impl;
  a.event_record = event_record_impl;
  a.event_query = event_query_impl;
  a.event_synchronize = event_sync_impl;
  a.event_elapsed = event_elapsed_impl;
  a.event_destroy = event_destroy_impl;
  a.nll_fwd = [](int dev, const IgnisCudaNll* s, const void* logp, const int64_t* t, const void* w, void* loss, void* wi,
                 void* denom) {
    return guard([&] {
      prof::Scope ps(dev, "nll_fwd");
      nll_fwd_cuda(dev, *s, logp, t, w, loss, wi, denom);
    });
  };
  a.ce_bwd = [](int dev, const IgnisCudaNll* s, const void* logp, const int64_t* t, const void* wi, const void* g,
                int64_t g_step, const void* denom, void* gx) {
    return guard([&] {
      prof::Scope ps(dev, "cross_entropy_bwd");
      ce_bwd_cuda(dev, *s, logp, t, wi, g, g_step, denom, gx);
    });
  };
  return a;
}

}  // namespace
}  // namespace ignis_cuda

extern "C" __attribute__((visibility("default"))) const IgnisCudaApi* ignis_cuda_api(void) {
  static const IgnisCudaApi api = ignis_cuda::make_api();
  return &api;
}
