// Per-op CUDA timing and NVTX (profile.h). The ring: `capacity` event pairs per device, created
// when a profile starts for the devices in use, or at the first op on a device first used during
// the profile (so profiling never creates a context on an idle GPU), and kept for later profiles. Slots [tail, head) hold recorded pairs whose
// times are not read yet; past half full, opening a scope reads the finished ones without waiting
// (cudaEventQuery); a full ring makes the host wait for its oldest pair (counted in `waits`, which
// the profiler reports). Start times are CLOCK_MONOTONIC microseconds (std::chrono::steady_clock,
// the clock of Node's process.hrtime), from a base event per device timed at prof_start.
#include "profile.h"

#ifndef IGNIS_NO_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "common.h"

namespace ignis_cuda {
namespace prof {

std::atomic<bool> g_on{false};

struct Slot {
  cudaEvent_t ev[2] = {nullptr, nullptr};
  IgnisCudaKernelRecord rec;
  // library calls in this entry so far (a convolution in batch chunks makes several), the last
  // one's algorithm, and whether they differed (function or algorithm)
  int lib_calls = 0;
  bool lib_mixed = false;
  char algo0[sizeof(IgnisCudaKernelRecord::algo)] = {};
  // 0 free, 1 open (start recorded), 2 closed (both recorded), 3 closed but its entry failed
  int state = 0;
};

namespace {

struct Ring {
  std::vector<Slot> slots;
  int64_t head = 0, tail = 0;
  cudaEvent_t base = nullptr;
  double base_us = 0;
  bool ready = false;  // set up for the running profile
};

std::mutex g_mu;  // rings and results; taken only while profiling (and at start / stop)
std::vector<Ring> g_rings;
std::vector<IgnisCudaKernelRecord> g_results;
int64_t g_waits = 0;
int64_t g_capacity = 0;
std::atomic<int64_t> g_corr{0};
thread_local Slot* t_open = nullptr;

// A profile belongs to the host thread (JS thread) that started it: only the entries that thread
// makes are recorded, so the kernels Workers queue meanwhile stay out of it. A thread that ends
// while it owns the profile (a terminated Worker) ends the profile, so another can start one.
void drop_profile();
struct Owner {
  bool is = false;
  ~Owner() {
    if (is) drop_profile();
  }
};
thread_local Owner t_owner;
// what stop() harvested for this thread, until records() copies it out
thread_local std::vector<IgnisCudaKernelRecord> t_done;

double now_us() {
  return double(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
                    .count()) /
         1e3;
}

// Moves finished pairs from the tail into g_results; `wait` blocks on each (caller holds g_mu).
void harvest(Ring& r, bool wait, int64_t max_wait = INT64_MAX) {
  const int64_t n = int64_t(r.slots.size());
  int64_t waited = 0;
  while (r.tail < r.head) {
    Slot& s = r.slots[size_t(r.tail % n)];
    if (s.state < 2) break;  // still open: nothing after it is finished either
    if (cudaEventQuery(s.ev[1]) != cudaSuccess) {
      cudaGetLastError();
      if (!wait || waited >= max_wait) break;
      cudaEventSynchronize(s.ev[1]);
      cudaGetLastError();
      waited++;
    }
    if (s.state == 2) {
      float t0 = 0, dur = 0;
      if (cudaEventElapsedTime(&t0, r.base, s.ev[0]) == cudaSuccess &&
          cudaEventElapsedTime(&dur, s.ev[0], s.ev[1]) == cudaSuccess) {
        s.rec.start_us = r.base_us + double(t0) * 1e3;
        s.rec.duration_us = double(dur) * 1e3;
        g_results.push_back(s.rec);
      }
      cudaGetLastError();
    }
    s.state = 0;
    r.tail++;
  }
}

// Makes dev's ring ready for this profile: g_capacity event pairs and a fresh base event, timed on
// an idle stream so its device time lies within the host interval around it (caller holds g_mu).
void ready_ring(int dev) {
  if (int(g_rings.size()) <= dev) g_rings.resize(size_t(dev) + 1);
  Ring& r = g_rings[size_t(dev)];
  cudaStream_t st = stream(dev);  // makes dev current: the events belong to it
  if (int64_t(r.slots.size()) != g_capacity) {
    for (Slot& s : r.slots)
      for (cudaEvent_t e : s.ev)
        if (e) cudaEventDestroy(e);
    r.slots.clear();
    r.slots.resize(size_t(g_capacity));
    for (Slot& s : r.slots)
      for (cudaEvent_t& e : s.ev) IGNIS_CUDA_CHECK(cudaEventCreate(&e), "profiler: creating the CUDA event ring");
  }
  if (!r.base) IGNIS_CUDA_CHECK(cudaEventCreate(&r.base), "profiler: creating the base event");
  r.head = r.tail = 0;
  for (Slot& s : r.slots) s.state = 0;
  IGNIS_CUDA_CHECK(cudaStreamSynchronize(st), "profiler start");
  double t0 = now_us();
  IGNIS_CUDA_CHECK(cudaEventRecord(r.base, st), "profiler start");
  IGNIS_CUDA_CHECK(cudaEventSynchronize(r.base), "profiler start");
  r.base_us = (t0 + now_us()) / 2;
  r.ready = true;
}

void copy_name(char* dst, size_t cap, const char* name, const char* sub) {
  if (sub && *sub) std::snprintf(dst, cap, "%s<%s>", name, sub);
  else std::snprintf(dst, cap, "%s", name ? name : "?");
}

void drop_profile() {
  std::lock_guard<std::mutex> lk(g_mu);
  g_on.store(false);
  for (Ring& r : g_rings) r.ready = false;
  g_results.clear();
}

}  // namespace

void Scope::open(int dev, const char* name, const char* sub) {
  if (!t_owner.is) return;  // another thread's profile
  std::lock_guard<std::mutex> lk(g_mu);
  if (!on() || dev < 0) return;
  if (dev >= int(g_rings.size()) || !g_rings[size_t(dev)].ready) {
    try {
      ready_ring(dev);  // a device first used during this profile
    } catch (...) {
      return;
    }
  }
  Ring& r = g_rings[size_t(dev)];
  const int64_t n = int64_t(r.slots.size());
  if (r.head - r.tail >= n / 2) harvest(r, false);
  if (r.head - r.tail >= n) {
    harvest(r, true, 1);
    g_waits++;
    if (r.head - r.tail >= n) return;  // the oldest pair is still open: not recorded
  }
  cudaStream_t st;
  try {
    st = stream(dev);
  } catch (...) {
    return;
  }
  Slot& s = r.slots[size_t(r.head % n)];
  std::memset(&s.rec, 0, sizeof s.rec);
  s.lib_calls = 0;
  s.lib_mixed = false;
  copy_name(s.rec.name, sizeof s.rec.name, name, sub);
  s.rec.dev = dev;
  s.rec.correlation = g_corr.load(std::memory_order_relaxed);
  s.rec.workspace = -1;
  s.rec.fused = -1;
  if (cudaEventRecord(s.ev[0], st) != cudaSuccess) {
    cudaGetLastError();
    return;
  }
  r.head++;
  s.state = 1;
  slot_ = &s;
  dev_ = dev;
  stream_ = st;
  exceptions_ = std::uncaught_exceptions();
  t_open = &s;
}

void Scope::close() {
  std::lock_guard<std::mutex> lk(g_mu);
  Slot& s = *slot_;
  t_open = nullptr;
  slot_ = nullptr;
  if (cudaEventRecord(s.ev[1], stream_) != cudaSuccess) cudaGetLastError();
  // an entry that threw (bad arguments, a failed launch) leaves no record
  s.state = std::uncaught_exceptions() > exceptions_ ? 3 : 2;
}

bool scope_open() { return t_open != nullptr; }

void launch(dim3 grid, dim3 block) {
  Slot* s = t_open;
  if (!s) return;
  IgnisCudaKernelRecord& r = s->rec;
  r.grid[0] = int32_t(grid.x); r.grid[1] = int32_t(grid.y); r.grid[2] = int32_t(grid.z);
  r.block[0] = int32_t(block.x); r.block[1] = int32_t(block.y); r.block[2] = int32_t(block.z);
  r.launches++;
}

void library(const char* call, const char* algo, int64_t workspace, int fused) {
  Slot* s = t_open;
  if (!s) return;
  IgnisCudaKernelRecord& r = s->rec;
  const char* c = call ? call : "";
  const char* a = algo ? algo : "";
  // several calls in one entry (batch chunks, benchmark timing runs): the record names the last
  // call and its algorithm, counts them all ("(3 calls)", ", mixed" when the function or algorithm
  // changed), keeps the largest workspace, and is unfused if any call ran unfused
  if (s->lib_calls++ > 0) {
    if (std::strcmp(r.library, c) != 0 || std::strcmp(s->algo0, a) != 0) s->lib_mixed = true;
    r.workspace = std::max(r.workspace, workspace);
    r.fused = (r.fused == 0 || fused == 0) ? 0 : std::max(r.fused, fused);
  } else {
    r.workspace = workspace;
    r.fused = fused;
  }
  std::snprintf(r.library, sizeof r.library, "%s", c);
  std::snprintf(s->algo0, sizeof s->algo0, "%s", a);
  if (s->lib_calls == 1) {
    std::snprintf(r.algo, sizeof r.algo, "%s", a);
    return;
  }
  const std::string t =
      std::string(a) + " (" + std::to_string(s->lib_calls) + " calls" + (s->lib_mixed ? ", mixed)" : ")");
  std::snprintf(r.algo, sizeof r.algo, "%s", t.c_str());
}

int start(int64_t capacity) {
  return guard([&] {
    if (capacity < 16 || capacity > (int64_t(1) << 22))
      fail("ValueError", "profiler: the CUDA event ring holds 16 to 4194304 event pairs, got " + std::to_string(capacity));
    std::lock_guard<std::mutex> lk(g_mu);
    if (on())
      fail("ValueError", t_owner.is ? "profiler: CUDA kernel recording is already running"
                                    : "profiler: CUDA kernel recording is running in another thread (one at a time "
                                      "per process)");
    g_capacity = capacity;
    for (Ring& r : g_rings) r.ready = false;
    int n = 0;
    IGNIS_CUDA_CHECK(cudaGetDeviceCount(&n), "profiler start");
    for (int dev = 0; dev < n; ++dev)
      if (device_started(dev)) ready_ring(dev);
    g_results.clear();
    g_waits = 0;
    g_corr.store(0);
    g_on.store(true);
    t_owner.is = true;
  });
}

void correlate(int64_t id) {
  if (t_owner.is) g_corr.store(id, std::memory_order_relaxed);
}

int stop(int64_t* count, int64_t* waits) {
  return guard([&] {
    std::lock_guard<std::mutex> lk(g_mu);
    if (!t_owner.is) fail("ValueError", "profiler: this thread is not recording CUDA kernels");
    t_owner.is = false;
    g_on.store(false);
    for (Ring& r : g_rings)
      if (r.ready) {
        harvest(r, true);
        r.ready = false;
      }
    t_done.swap(g_results);
    g_results.clear();
    *count = int64_t(t_done.size());
    *waits = g_waits;
  });
}

int records(IgnisCudaKernelRecord* out, int64_t n) {
  return guard([&] {
    const size_t k = std::min(size_t(n < 0 ? 0 : n), t_done.size());
    if (k) std::memcpy(out, t_done.data(), k * sizeof(IgnisCudaKernelRecord));
    t_done.clear();
    t_done.shrink_to_fit();
  });
}

// NVTX: the default domain, ASCII messages (what nsys / ncu filters such as --nvtx-include match)
#ifndef IGNIS_NO_NVTX
void nvtx_push(const char* name) { nvtxRangePushA(name); }
void nvtx_pop() { nvtxRangePop(); }
uint64_t nvtx_start(const char* name) { return nvtxRangeStartA(name); }
void nvtx_end(uint64_t id) { nvtxRangeEnd(id); }
void nvtx_mark(const char* name) { nvtxMarkA(name); }
#else
void nvtx_push(const char*) {}
void nvtx_pop() {}
uint64_t nvtx_start(const char*) { return 0; }
void nvtx_end(uint64_t) {}
void nvtx_mark(const char*) {}
#endif

// ---- op names ---------------------------------------------------------------------------------
namespace {
const char* const kUnary[] = {
#define UNARY(name, int_ok, expr) #name,
#include "../ops/unary.def"
#undef UNARY
};
const char* const kBinary[] = {
#define BINARY(name, expr) #name,
#define COMPARE(name, expr) #name,
#include "../ops/binary.def"
#undef BINARY
#undef COMPARE
};
const char* const kAct[] = {
#define ACT(name, np, fwd, bwd) #name,
#include "../ops/activations.def"
#undef ACT
};
const char* const kReduce[] = {
#define REDUCE(name) #name,
#include "../ops/reduce.def"
#undef REDUCE
};
const char* const kOptim[] = {"sgd", "adam", "rmsprop", "adagrad"};  // cpu/optim.h: OptimKind
const char* const kRandom[] = {"uniform", "normal", "randint", "bernoulli"};  // src/kernels.ts: RANDOM

template <size_t N>
const char* pick(const char* const (&t)[N], int i) {
  return i >= 0 && size_t(i) < N ? t[i] : "?";
}
}  // namespace

const char* unary_name(int op) { return pick(kUnary, op); }
const char* binary_name(int op) { return pick(kBinary, op); }
const char* act_name(int op) { return pick(kAct, op); }
const char* reduce_name(int op) { return pick(kReduce, op); }
const char* optim_name(int kind) { return pick(kOptim, kind); }
const char* random_name(int kind) { return pick(kRandom, kind); }

}  // namespace prof
}  // namespace ignis_cuda
