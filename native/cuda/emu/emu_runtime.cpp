// The CUDA emulator's runtime: the part of the CUDA runtime API the library calls, over host memory.
// One device; "device" memory is host memory (256-byte aligned, counted against a total that
// IGNIS_CUDA_EMU_MEMORY sets, 4 GiB by default, so out-of-memory paths can be provoked); streams
// and events exist as handles, and since every launch and copy runs to completion before it
// returns, every wait is already over. Run-time compiled code (cudaLibrary*) is not supported.
#include <cuda_runtime.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "emu_state.h"

struct CUstream_st {
  int id;
};
struct CUevent_st {
  double ms = 0;
  bool recorded = false;
};

namespace emu {
namespace {
thread_local cudaError_t t_last = cudaSuccess;
std::mutex g_mu;
std::unordered_map<void*, size_t> g_live;
size_t g_used = 0;

size_t total_memory() {
  static const size_t t = [] {
    const char* v = std::getenv("IGNIS_CUDA_EMU_MEMORY");
    const double gib = v && *v ? std::atof(v) : 4.0;
    return size_t((gib > 0 ? gib : 4.0) * double(size_t(1) << 30));
  }();
  return t;
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

cudaError_t ret(cudaError_t e) {
  if (e != cudaSuccess) t_last = e;
  return e;
}
}  // namespace

void set_launch_error(cudaError_t e) { t_last = e; }
}  // namespace emu

using emu::ret;

extern "C" {

cudaError_t cudaGetLastError(void) {
  cudaError_t e = emu::t_last;
  emu::t_last = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError(void) { return emu::t_last; }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    default: return "cudaError";
  }
}
const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorLaunchFailure: return "unspecified launch failure (the emulator found a kernel error)";
    case cudaErrorNotSupported: return "operation not supported (by the CUDA emulator)";
    default: return "error (CUDA emulator)";
  }
}

cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : ret(cudaErrorInvalidDevice); }
cudaError_t cudaRuntimeGetVersion(int* v) {
  *v = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* v) {
  *v = CUDART_VERSION;
  return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  if (d != 0) return ret(cudaErrorInvalidDevice);
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "Ignis CUDA emulator (host)");
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = 132;
  p->totalGlobalMem = emu::total_memory();
  p->maxThreadsPerBlock = 1024;
  p->warpSize = 32;
  p->l2CacheSize = 50 << 20;
  p->sharedMemPerBlock = 48 << 10;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int d) {
  if (d != 0) return ret(cudaErrorInvalidDevice);
  switch (a) {
    case cudaDevAttrClockRate: *v = 1980000; return cudaSuccess;
    case cudaDevAttrMultiProcessorCount: *v = 132; return cudaSuccess;
    case cudaDevAttrMaxThreadsPerBlock: *v = 1024; return cudaSuccess;
    default: *v = 0; return ret(cudaErrorInvalidValue);
  }
}

cudaError_t cudaMalloc(void** p, size_t n) {
  *p = nullptr;
  std::lock_guard<std::mutex> lk(emu::g_mu);
  const size_t r = (n + 255) / 256 * 256;
  if (emu::g_used + r > emu::total_memory()) return ret(cudaErrorMemoryAllocation);
  void* q = std::aligned_alloc(256, r ? r : 256);
  if (!q) return ret(cudaErrorMemoryAllocation);
  // fresh device memory holds garbage: a kernel that reads before it writes shows it
  std::memset(q, 0xFF, r ? r : 256);  // NaN as float or double, -1 as an integer
  emu::g_live[q] = r;
  emu::g_used += r;
  *p = q;
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  std::lock_guard<std::mutex> lk(emu::g_mu);
  auto it = emu::g_live.find(p);
  if (it == emu::g_live.end()) return ret(cudaErrorInvalidValue);
  emu::g_used -= it->second;
  emu::g_live.erase(it);
  std::free(p);
  return cudaSuccess;
}
cudaError_t cudaMemGetInfo(size_t* fr, size_t* tot) {
  std::lock_guard<std::mutex> lk(emu::g_mu);
  *tot = emu::total_memory();
  *fr = *tot - emu::g_used;
  return cudaSuccess;
}
cudaError_t cudaMallocHost(void** p, size_t n) {
  *p = std::aligned_alloc(4096, (n + 4095) / 4096 * 4096 + 4096);
  return *p ? cudaSuccess : ret(cudaErrorMemoryAllocation);
}
cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind, cudaStream_t) {
  if (n) std::memmove(dst, src, n);
  return cudaSuccess;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind) {
  if (n) std::memmove(dst, src, n);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int v, size_t n, cudaStream_t) {
  if (n && !emu::skip_kernels()) std::memset(p, v, n);  // device work, skipped with the kernels
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  static std::atomic<int> ids{1};
  *s = new CUstream_st{ids++};
  return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, 0); }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

cudaError_t cudaEventCreate(cudaEvent_t* e) {
  *e = new CUevent_st;
  return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned) { return cudaEventCreate(e); }
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
  if (!e) return ret(cudaErrorInvalidResourceHandle);
  e->ms = emu::now_ms();
  e->recorded = true;
  return cudaSuccess;
}
cudaError_t cudaEventQuery(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  if (!a || !b || !a->recorded || !b->recorded) return ret(cudaErrorInvalidResourceHandle);
  *ms = float(b->ms - a->ms);
  return cudaSuccess;
}

// run-time compiled kernels (rtc.cpp): not emulated
cudaError_t cudaLibraryLoadData(cudaLibrary_t*, const void*, cudaJitOption*, void**, unsigned int, cudaLibraryOption*,
                                void**, unsigned int) {
  return ret(cudaErrorNotSupported);
}
cudaError_t cudaLibraryGetKernel(cudaKernel_t*, cudaLibrary_t, const char*) { return ret(cudaErrorNotSupported); }
cudaError_t cudaLibraryUnload(cudaLibrary_t) { return cudaSuccess; }
cudaError_t cudaLaunchKernel(const void*, dim3, dim3, void**, size_t, cudaStream_t) {
  return ret(cudaErrorNotSupported);
}

}  // extern "C"
