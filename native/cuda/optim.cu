// Fused optimizer steps: one launch updates every parameter of a call (PyTorch's multi-tensor /
// fused path). The element updates are native/cpu/optim.cpp's, operation by operation (PyTorch's
// _single_tensor_* order), so CPU and CUDA agree to rounding. Work is cut into (parameter, slice)
// units; the unit table travels to the device in one copy and each block takes one unit.
#include <cmath>
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

template <class T>
__device__ void sgd(const double* h, const IgnisCudaOptimItem& it, int64_t i) {
  const T momentum = T(h[1]), damp1 = T(1 - h[2]);
  const bool nesterov = h[3] != 0, maximize = h[5] != 0, has_wd = h[4] != 0, has_mom = h[1] != 0;
  const T wd = T(h[4]), neg_lr = T(-h[0]);
  T* p = reinterpret_cast<T*>(it.p);
  const T* g = reinterpret_cast<const T*>(it.g);
  T gi = maximize ? -g[i] : g[i];
  if (has_wd) gi = gi + wd * p[i];
  if (!has_mom) { p[i] = p[i] + neg_lr * gi; return; }
  T* buf = reinterpret_cast<T*>(it.s[0]);
  T bi = it.x[0] != 0 ? gi : buf[i] * momentum + damp1 * gi;
  buf[i] = bi;
  T d = nesterov ? gi + momentum * bi : bi;
  p[i] = p[i] + neg_lr * d;
}

template <class T>
__device__ void adam(const double* h, const IgnisCudaOptimItem& it, int64_t i) {
  const T w1 = T(1 - h[1]), beta2 = T(h[2]), c2 = T(1 - h[2]), eps = T(h[3]), wd = T(h[4]);
  const bool has_wd = h[4] != 0, amsgrad = h[5] != 0, maximize = h[6] != 0, decoupled = h[7] != 0;
  const T decay = T(1 - h[0] * h[4]);
  const T neg_step = T(-it.x[0]), bc2_sqrt = T(it.x[1]);
  T* p = reinterpret_cast<T*>(it.p);
  const T* g = reinterpret_cast<const T*>(it.g);
  T* m = reinterpret_cast<T*>(it.s[0]);
  T* v = reinterpret_cast<T*>(it.s[1]);
  T gi = maximize ? -g[i] : g[i];
  T pi = p[i];
  if (has_wd) {
    if (decoupled) pi = pi * decay;
    else gi = gi + wd * pi;
  }
  T mi = m[i];
  mi = fabs(w1) < T(0.5) ? mi + w1 * (gi - mi) : gi - (gi - mi) * (T(1) - w1);
  m[i] = mi;
  T vi = v[i] * beta2 + c2 * gi * gi;
  v[i] = vi;
  if (amsgrad) {
    T* vmax = reinterpret_cast<T*>(it.s[2]);
    vi = vmax[i] > vi ? vmax[i] : vi;
    vmax[i] = vi;
  }
  T denom = sqrt(vi) / bc2_sqrt + eps;
  p[i] = pi + neg_step * mi / denom;
}

template <class T>
__device__ void rmsprop(const double* h, const IgnisCudaOptimItem& it, int64_t i) {
  const T neg_lr = T(-h[0]), alpha = T(h[1]), c = T(1 - h[1]), eps = T(h[2]), wd = T(h[3]), momentum = T(h[4]);
  const bool has_wd = h[3] != 0, has_mom = h[4] > 0, centered = h[5] != 0, maximize = h[6] != 0;
  T* p = reinterpret_cast<T*>(it.p);
  const T* g = reinterpret_cast<const T*>(it.g);
  T* sq = reinterpret_cast<T*>(it.s[0]);
  T gi = maximize ? -g[i] : g[i];
  if (has_wd) gi = gi + wd * p[i];
  T si = sq[i] * alpha + c * gi * gi;
  sq[i] = si;
  T avg;
  if (centered) {
    T* ga = reinterpret_cast<T*>(it.s[2]);
    T gai = lerp(ga[i], gi, c);
    ga[i] = gai;
    avg = sqrt(si + T(-1) * gai * gai);
  } else {
    avg = sqrt(si);
  }
  avg = avg + eps;
  if (has_mom) {
    T* buf = reinterpret_cast<T*>(it.s[1]);
    T bi = buf[i] * momentum + gi / avg;
    buf[i] = bi;
    p[i] = p[i] + neg_lr * bi;
  } else {
    p[i] = p[i] + neg_lr * gi / avg;
  }
}

template <class T>
__device__ void adagrad(const double* h, const IgnisCudaOptimItem& it, int64_t i) {
  const T eps = T(h[0]), wd = T(h[1]), neg_clr = T(-it.x[0]);
  const bool has_wd = h[1] != 0, maximize = h[2] != 0;
  T* p = reinterpret_cast<T*>(it.p);
  const T* g = reinterpret_cast<const T*>(it.g);
  T* sum = reinterpret_cast<T*>(it.s[0]);
  T gi = maximize ? -g[i] : g[i];
  if (has_wd) gi = gi + wd * p[i];
  T si = sum[i] + gi * gi;
  sum[i] = si;
  p[i] = p[i] + neg_clr * gi / (sqrt(si) + eps);
}

struct Hyper {
  double h[14];
};

template <class T>
__global__ void optim_kernel(int kind, Hyper hy, const IgnisCudaOptimItem* items, const Unit* units) {
  const Unit u = units[blockIdx.x];
  const IgnisCudaOptimItem it = items[u.item];
  for (int64_t i = u.b + threadIdx.x; i < u.e; i += blockDim.x) {
    switch (kind) {
      case 0: sgd<T>(hy.h, it, i); break;
      case 1: adam<T>(hy.h, it, i); break;
      case 2: rmsprop<T>(hy.h, it, i); break;
      case 3: adagrad<T>(hy.h, it, i); break;
    }
  }
}

}  // namespace

void optim_step_cuda(int dev, int kind, int dtype, const double* hyper, const IgnisCudaOptimItem* items, int64_t count) {
  if (kind < 0 || kind > 3) fail("ValueError", "optimizer step: unknown optimizer kind");
  std::vector<Unit> units;
  for (int64_t k = 0; k < count; ++k)
    for (int64_t b = 0; b < items[k].n; b += kChunk) units.push_back({int32_t(k), b, std::min(items[k].n, b + kChunk)});
  if (units.empty()) return;
  if (units.size() > 0x7fffffff) fail("ValueError", "optimizer step: too many parameters");
  const size_t ib = size_t(count) * sizeof(IgnisCudaOptimItem), ub = units.size() * sizeof(Unit);
  Scratch tab(dev, ib + ub);
  cudaStream_t st = stream(dev);
  // pageable source: cudaMemcpyAsync returns once the bytes are staged, so the vectors may go
  IGNIS_CUDA_CHECK(cudaMemcpyAsync(tab.p, items, ib, cudaMemcpyHostToDevice, st), "optimizer step");
  IGNIS_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(tab.p) + ib, units.data(), ub, cudaMemcpyHostToDevice, st),
                   "optimizer step");
  Hyper hy;
  for (int i = 0; i < 14; ++i) hy.h[i] = hyper[i];
  auto* di = static_cast<const IgnisCudaOptimItem*>(tab.p);
  auto* du = reinterpret_cast<const Unit*>(static_cast<char*>(tab.p) + ib);
  IGNIS_CUDA_DISPATCH_FLOAT(dtype, T, "optimizer step", {
    optim_kernel<T><<<unsigned(units.size()), 256, 0, st>>>(kind, hy, di, du);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "optimizer step");
  prof::launch(unsigned(units.size()), 256);
}

}  // namespace ignis_cuda
