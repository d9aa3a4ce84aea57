// The CUDA emulator's device side: force-included (g++ -include) in front of every CUDA library
// source compiled for the host (scripts/cuda-emu.mjs rewrites `k<<<cfg>>>(args)` into
// `::emu::launch(::emu::Cfg(cfg), ...)` first). It gives the kernels what nvcc would: threadIdx and
// friends, __shared__ memory per block, __syncthreads, warp shuffles and atomics. A launch runs every
// block of the grid in turn on the calling host thread; each CUDA thread of a block is a fiber
// (emu.cpp), so barriers and shuffles behave as on the GPU, and a barrier that not every live
// thread reaches is reported as the error it is on the device (a hang or undefined behaviour).
// The point is testing without a GPU: the kernels' indexing, vectorisation and reductions against
// the CPU twins, never speed.
#pragma once
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

// host_defines.h makes these empty for a host compiler; __shared__ must be one copy per block: the
// blocks of a launch run one after another on one host thread, so a static per host thread is it
#undef __shared__
#define __shared__ static thread_local
#ifndef __launch_bounds__
#define __launch_bounds__(...)
#endif

// the device's float overloads, for unqualified calls in kernels (the host's ::exp is double only)
using std::abs;
using std::ceil;
using std::cos;
using std::erf;
using std::erfc;
using std::exp;
using std::expm1;
using std::fabs;
using std::floor;
using std::fmod;
using std::isinf;
using std::isnan;
using std::log;
using std::log1p;
using std::pow;
using std::round;
using std::sin;
using std::sqrt;
using std::tanh;
// the device intrinsics the kernels call (__fdividef: the device's is within 2 ulp of a / b)
inline float __fdividef(float a, float b) { return a / b; }

namespace emu {

struct Cfg {
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  Cfg(dim3 g, dim3 b, size_t s = 0, cudaStream_t st = nullptr) : grid(g), block(b), smem(s), stream(st) {}
};

struct Fiber;
// the launch the calling host thread runs, and the fiber (CUDA thread) running now
struct Ctx {
  dim3 grid, block;
  uint3 bid;
  Fiber* cur;
};
extern thread_local Ctx t_ctx;
const uint3& thread_idx();

// Runs body() once per CUDA thread of every block of cfg; false (and cudaGetLastError() reports it)
// for a bad configuration or a barrier that not every live thread reached.
bool run(const Cfg& cfg, void (*body)(void*), void* arg);

// IGNIS_CUDA_EMU_SKIP_KERNELS=1: launches (and the cuDNN / cuBLAS stand-ins' arithmetic) are checked
// but not run, for timing the host side of the CUDA path alone; the results are garbage
bool skip_kernels();

void sync_threads();
// exchanges 8 bytes among the 32 lanes of the calling warp: lane i receives what lane `src(i)` gave
uint64_t warp_exchange(uint64_t v, int xor_mask);

template <class K, class Tuple>
struct Call {
  K* k;
  Tuple* args;
  static void body(void* p) {
    auto* c = static_cast<Call*>(p);
    Tuple copy = *c->args;  // every thread gets its own copy of the parameters, as on the device
    std::apply(*c->k, copy);
  }
};

template <class K, class... A>
void launch(const Cfg& cfg, K k, A&&... a) {
  std::tuple<std::decay_t<A>...> args(std::forward<A>(a)...);
  Call<K, decltype(args)> c{&k, &args};
  run(cfg, &Call<K, decltype(args)>::body, &c);
}

}  // namespace emu

#define threadIdx (::emu::thread_idx())
#define blockIdx (::emu::t_ctx.bid)
#define blockDim (::emu::t_ctx.block)
#define gridDim (::emu::t_ctx.grid)

inline void __syncthreads() { ::emu::sync_threads(); }

// the device's min / max overloads for mixed integer and floating arguments
// (floating: fmin / fmax, which return the other argument for a NaN, as the device's do)
template <class A, class B>
std::common_type_t<A, B> min(A a, B b) {
  using C = std::common_type_t<A, B>;
  if constexpr (std::is_floating_point_v<C>) return std::fmin(C(a), C(b));
  else return C(b) < C(a) ? C(b) : C(a);
}
template <class A, class B>
std::common_type_t<A, B> max(A a, B b) {
  using C = std::common_type_t<A, B>;
  if constexpr (std::is_floating_point_v<C>) return std::fmax(C(a), C(b));
  else return C(a) < C(b) ? C(b) : C(a);
}

template <class T>
T __shfl_xor_sync(unsigned /*mask: all 32 lanes, checked by warp_exchange*/, T v, int lane_mask, int width = 32) {
  static_assert(sizeof(T) <= 8, "emulated shuffles move up to 8 bytes");
  (void)width;
  uint64_t u = 0;
  std::memcpy(&u, &v, sizeof(T));
  u = ::emu::warp_exchange(u, lane_mask);
  T r;
  std::memcpy(&r, &u, sizeof(T));
  return r;
}

// fibers of one launch run one at a time on one host thread: a read-modify-write is atomic
template <class T, class U>
T atomicAdd(T* p, U v) {
  T old = *p;
  *p = T(old + T(v));
  return old;
}
template <class T, class U>
T atomicExch(T* p, U v) {
  T old = *p;
  *p = T(v);
  return old;
}
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((uint64_t(a) * b) >> 32); }
