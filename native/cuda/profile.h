// Per-op CUDA timing for ignis.profiler (activities ['cuda']) and NVTX ranges.
//
// While a profile runs, every api.h kernel entry opens a Scope: a CUDA event pair (from a ring
// preallocated per device in use; see profile.cpp) around all the work the entry queues on its stream, plus
// what Ignis knows of that work: the launch configuration of the kernels it launched itself, and
// for cuDNN / cuBLAS calls the algorithm, workspace bytes and whether the op ran fused. The
// profiler reads the records at stop (prof_stop waits for the devices). When no profile runs a
// Scope is one relaxed atomic load: no event, no lock, no allocation.
#pragma once
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>

#include "api.h"

namespace ignis_cuda {
namespace prof {

extern std::atomic<bool> g_on;
inline bool on() { return g_on.load(std::memory_order_relaxed); }

struct Slot;

// One entry's work, on `dev`'s stream. `name` is copied; `sub` (may be null) is appended as
// "name<sub>" (the op of a table-driven entry: act_fwd<relu>).
class Scope {
 public:
  Scope(int dev, const char* name, const char* sub = nullptr) {
    if (on()) open(dev, name, sub);
  }
  ~Scope() {
    if (slot_) close();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  void open(int dev, const char* name, const char* sub);
  void close();
  Slot* slot_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int dev_ = 0;
  int exceptions_ = 0;
};

// Notes on the innermost open scope of this thread (no-ops when none is open, i.e. not profiling):
// a kernel Ignis launched itself,
void launch(dim3 grid, dim3 block);
// a library call (cuDNN / cuBLAS) and what it ran with: algorithm name, workspace bytes (-1 none),
// fused: -1 not applicable, 0 ran unfused, 1 ran fused.
void library(const char* call, const char* algo, int64_t workspace, int fused);

// whether this thread has a scope open (a wait inside it keeps the library lock: runtime.cpp)
bool scope_open();

// the api.h profiling entries
int start(int64_t capacity);
void correlate(int64_t id);
int stop(int64_t* count, int64_t* waits);
int records(IgnisCudaKernelRecord* out, int64_t n);
void nvtx_push(const char* name);
void nvtx_pop();
uint64_t nvtx_start(const char* name);
void nvtx_end(uint64_t id);
void nvtx_mark(const char* name);

// names of the table-driven ops (from the .def files), for Scope's `sub`
const char* unary_name(int op);
const char* binary_name(int op);
const char* act_name(int op);
const char* reduce_name(int op);
const char* optim_name(int kind);
const char* random_name(int kind);

}  // namespace prof
}  // namespace ignis_cuda
