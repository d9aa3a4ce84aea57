// Fused optimizer steps: one launch updates every parameter of a call (PyTorch's multi-tensor /
// fused path). The element updates are native/cpu/optim.cpp's, operation by operation (PyTorch's
// _single_tensor_* order), so CPU and CUDA agree to rounding. Work is cut into (parameter, slice)
// units sized to the call; the unit table travels to the device in one copy and each block takes one
// unit.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

constexpr int64_t kChunk = 65536;
struct Unit {
  int32_t item;
  int64_t b, e;
};

template <class T>
__device__ __forceinline__ T lerp(T self, T end, T w) {
  return fabs(w) < T(0.5) ? self + w * (end - self) : end - (end - self) * (T(1) - w);
}

// One element's operands: the parameter, its gradient and the state slots the optimizer keeps
// (it.s[k] null: a slot this step does not use). Loaded for several elements before any is updated,
// so the loads of a thread are in flight together (one element at a time left the memory system
// idle: a unit of 64K elements on one block took ~0.3 ms).
template <class T>
struct Vals {
  T p, g, s[3];
};

template <class T>
__device__ __forceinline__ void load_vals(const IgnisCudaOptimItem& it, int64_t i, Vals<T>& v) {
  v.p = reinterpret_cast<const T*>(it.p)[i];
  v.g = reinterpret_cast<const T*>(it.g)[i];
#pragma unroll
  for (int k = 0; k < 3; ++k) v.s[k] = it.s[k] ? reinterpret_cast<const T*>(it.s[k])[i] : T(0);
}

template <class T>
__device__ __forceinline__ void store_vals(const IgnisCudaOptimItem& it, int64_t i, const Vals<T>& v) {
  reinterpret_cast<T*>(it.p)[i] = v.p;
#pragma unroll
  for (int k = 0; k < 3; ++k)
    if (it.s[k]) reinterpret_cast<T*>(it.s[k])[i] = v.s[k];
}

// The updates, on the loaded values (the operation order of cpu/optim.cpp)
template <class T>
__device__ void sgd(const double* h, const IgnisCudaOptimItem& it, Vals<T>& v) {
  const T momentum = T(h[1]), damp1 = T(1 - h[2]);
  const bool nesterov = h[3] != 0, maximize = h[5] != 0, has_wd = h[4] != 0, has_mom = h[1] != 0;
  const T wd = T(h[4]), neg_lr = T(-h[0]);
  T gi = maximize ? -v.g : v.g;
  if (has_wd) gi = gi + wd * v.p;
  if (!has_mom) { v.p = v.p + neg_lr * gi; return; }
  T bi = it.x[0] != 0 ? gi : v.s[0] * momentum + damp1 * gi;
  v.s[0] = bi;
  T d = nesterov ? gi + momentum * bi : bi;
  v.p = v.p + neg_lr * d;
}

template <class T>
__device__ void adam(const double* h, const IgnisCudaOptimItem& it, Vals<T>& v) {
  const T w1 = T(1 - h[1]), beta2 = T(h[2]), c2 = T(1 - h[2]), eps = T(h[3]), wd = T(h[4]);
  const bool has_wd = h[4] != 0, amsgrad = h[5] != 0, maximize = h[6] != 0, decoupled = h[7] != 0;
  const T decay = T(1 - h[0] * h[4]);
  const T neg_step = T(-it.x[0]), bc2_sqrt = T(it.x[1]);
  T gi = maximize ? -v.g : v.g;
  T pi = v.p;
  if (has_wd) {
    if (decoupled) pi = pi * decay;
    else gi = gi + wd * pi;
  }
  T mi = v.s[0];
  mi = fabs(w1) < T(0.5) ? mi + w1 * (gi - mi) : gi - (gi - mi) * (T(1) - w1);
  v.s[0] = mi;
  T vi = v.s[1] * beta2 + c2 * gi * gi;
  v.s[1] = vi;
  if (amsgrad) {
    vi = v.s[2] > vi ? v.s[2] : vi;
    v.s[2] = vi;
  }
  T denom = sqrt(vi) / bc2_sqrt + eps;
  v.p = pi + neg_step * mi / denom;
}

template <class T>
__device__ void rmsprop(const double* h, const IgnisCudaOptimItem&, Vals<T>& v) {
  const T neg_lr = T(-h[0]), alpha = T(h[1]), c = T(1 - h[1]), eps = T(h[2]), wd = T(h[3]), momentum = T(h[4]);
  const bool has_wd = h[3] != 0, has_mom = h[4] > 0, centered = h[5] != 0, maximize = h[6] != 0;
  T gi = maximize ? -v.g : v.g;
  if (has_wd) gi = gi + wd * v.p;
  T si = v.s[0] * alpha + c * gi * gi;
  v.s[0] = si;
  T avg;
  if (centered) {
    T gai = lerp(v.s[2], gi, c);
    v.s[2] = gai;
    avg = sqrt(si + T(-1) * gai * gai);
  } else {
    avg = sqrt(si);
  }
  avg = avg + eps;
  if (has_mom) {
    T bi = v.s[1] * momentum + gi / avg;
    v.s[1] = bi;
    v.p = v.p + neg_lr * bi;
  } else {
    v.p = v.p + neg_lr * gi / avg;
  }
}

template <class T>
__device__ void adagrad(const double* h, const IgnisCudaOptimItem& it, Vals<T>& v) {
  const T eps = T(h[0]), wd = T(h[1]), neg_clr = T(-it.x[0]);
  const bool has_wd = h[1] != 0, maximize = h[2] != 0;
  T gi = maximize ? -v.g : v.g;
  if (has_wd) gi = gi + wd * v.p;
  T si = v.s[0] + gi * gi;
  v.s[0] = si;
  v.p = v.p + neg_clr * gi / (sqrt(si) + eps);
}

struct Hyper {
  double h[14];
};

constexpr int kThreads = 256;
constexpr int kUnroll = 4;  // elements per thread whose loads are in flight together

template <class T>
__global__ void optim_kernel(int kind, Hyper hy, const IgnisCudaOptimItem* items, const Unit* units) {
  const Unit u = units[blockIdx.x];
  const IgnisCudaOptimItem it = items[u.item];
  const int64_t step = blockDim.x;
  for (int64_t base = u.b + threadIdx.x; base < u.e; base += kUnroll * step) {
    Vals<T> v[kUnroll];
#pragma unroll
    for (int k = 0; k < kUnroll; ++k)
      if (base + k * step < u.e) load_vals(it, base + k * step, v[k]);
#pragma unroll
    for (int k = 0; k < kUnroll; ++k) {
      const int64_t i = base + k * step;
      if (i >= u.e) continue;
      switch (kind) {
        case 0: sgd<T>(hy.h, it, v[k]); break;
        case 1: adam<T>(hy.h, it, v[k]); break;
        case 2: rmsprop<T>(hy.h, it, v[k]); break;
        case 3: adagrad<T>(hy.h, it, v[k]); break;
      }
      store_vals(it, i, v[k]);
    }
  }
}

}  // namespace

void optim_step_cuda(int dev, int kind, int dtype, const double* hyper, const IgnisCudaOptimItem* items, int64_t count) {
  if (kind < 0 || kind > 3) fail("ValueError", "optimizer step: unknown optimizer kind");
  // units of `chunk` elements: about 4 blocks per SM of an H100 over the whole call, each at least
  // 8 elements per thread, at most kChunk (a small model's step then spreads over the GPU instead of
  // one block per parameter)
  int64_t total = 0;
  for (int64_t k = 0; k < count; ++k) total += items[k].n;
  const int64_t per = (total + 132 * 4 - 1) / (132 * 4);
  const int64_t chunk = std::min<int64_t>(kChunk, std::max<int64_t>(kThreads * 8, (per + 1023) / 1024 * 1024));
  std::vector<Unit> units;
  for (int64_t k = 0; k < count; ++k)
    for (int64_t b = 0; b < items[k].n; b += chunk) units.push_back({int32_t(k), b, std::min(items[k].n, b + chunk)});
  if (units.empty()) return;
  if (units.size() > 0x7fffffff) fail("ValueError", "optimizer step: too many parameters");
  const size_t ib = size_t(count) * sizeof(IgnisCudaOptimItem), ub = units.size() * sizeof(Unit);
  Scratch tab(dev, ib + ub);
  cudaStream_t st = stream(dev);
  // one copy of both tables through the pinned staging buffers: from pageable memory the copy may
  // wait for the stream, that is for the whole backward pass queued before this step
  std::vector<char> host(ib + ub);
  std::memcpy(host.data(), items, ib);
  std::memcpy(host.data() + ib, units.data(), ub);
  upload_async(dev, tab.p, host.data(), ib + ub);
  Hyper hy;
  for (int i = 0; i < 14; ++i) hy.h[i] = hyper[i];
  auto* di = static_cast<const IgnisCudaOptimItem*>(tab.p);
  auto* du = reinterpret_cast<const Unit*>(static_cast<char*>(tab.p) + ib);
  IGNIS_CUDA_DISPATCH_FLOAT(dtype, T, "optimizer step", {
    optim_kernel<T><<<unsigned(units.size()), kThreads, 0, st>>>(kind, hy, di, du);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "optimizer step");
  prof::launch(unsigned(units.size()), kThreads);
}

}  // namespace ignis_cuda
