// 2-d max / average pooling: the CUDA twins of cpu/pool.cpp's reference loops (PyTorch semantics:
// max with flat h*W+w indices and NaN winning, average with count_include_pad and
// divisor_override, ceil mode through OH/OW; adaptive windows [floor(o I / O), ceil((o + 1) I / O))).
// One thread per output element; the backward passes scatter into a zeroed dx with atomics
// (overlapping windows add up).
#include <cmath>

#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

template <class T>
__global__ void max_fwd(IgnisCudaPool s, const T* x, T* y, int64_t* ind) {
  const int64_t L = s.OH * s.OW, total = s.N * s.C * L;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t p = o / L, l = o % L, oh = l / s.OW, ow = l % s.OW;
    const T* xp = x + p * s.H * s.W;
    int64_t hs = oh * s.sh - s.pt, he = min(hs + (s.kh - 1) * s.dh + 1, s.H);
    while (hs < 0) hs += s.dh;
    int64_t ws = ow * s.sw - s.pl, we = min(ws + (s.kw - 1) * s.dw + 1, s.W);
    while (ws < 0) ws += s.dw;
    int64_t mi = hs * s.W + ws;
    T mv = -INFINITY;
    for (int64_t ih = hs; ih < he; ih += s.dh)
      for (int64_t iw = ws; iw < we; iw += s.dw) {
        const T v = xp[ih * s.W + iw];
        if (v > mv || isnan(v)) { mv = v; mi = ih * s.W + iw; }
      }
    y[o] = mv;
    if (ind) ind[o] = mi;
  }
}

template <class T>
__device__ __forceinline__ bool avg_window(const IgnisCudaPool& s, int64_t oh, int64_t ow, int64_t& hs, int64_t& he,
                                           int64_t& ws, int64_t& we, int64_t& div) {
  hs = oh * s.sh - s.pt;
  he = min(hs + s.kh, s.H + s.pt);
  const int64_t ph = he - hs;
  hs = max(hs, int64_t(0));
  he = min(he, s.H);
  ws = ow * s.sw - s.pl;
  we = min(ws + s.kw, s.W + s.pl);
  const int64_t pool = ph * (we - ws);
  ws = max(ws, int64_t(0));
  we = min(we, s.W);
  if (hs >= he || ws >= we) return false;
  div = s.divisor ? s.divisor : (s.count_include_pad ? pool : (he - hs) * (we - ws));
  return true;
}

template <class T>
__global__ void avg_fwd(IgnisCudaPool s, const T* x, T* y) {
  const int64_t L = s.OH * s.OW, total = s.N * s.C * L;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t p = o / L, l = o % L;
    int64_t hs, he, ws, we, div;
    if (!avg_window<T>(s, l / s.OW, l % s.OW, hs, he, ws, we, div)) { y[o] = T(0); continue; }
    const T* xp = x + p * s.H * s.W;
    T acc = 0;
    for (int64_t ih = hs; ih < he; ++ih)
      for (int64_t iw = ws; iw < we; ++iw) acc += xp[ih * s.W + iw];
    y[o] = acc / T(div);
  }
}

template <class T>
__global__ void avg_bwd(IgnisCudaPool s, const T* dy, T* dx) {
  const int64_t L = s.OH * s.OW, total = s.N * s.C * L;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t p = o / L, l = o % L;
    int64_t hs, he, ws, we, div;
    if (!avg_window<T>(s, l / s.OW, l % s.OW, hs, he, ws, we, div)) continue;
    const T g = dy[o] / T(div);
    T* xp = dx + p * s.H * s.W;
    for (int64_t ih = hs; ih < he; ++ih)
      for (int64_t iw = ws; iw < we; ++iw) atomicAdd(xp + ih * s.W + iw, g);
  }
}

__device__ __forceinline__ int64_t start_index(int64_t o, int64_t O, int64_t I) { return (o * I) / O; }
__device__ __forceinline__ int64_t end_index(int64_t o, int64_t O, int64_t I) { return ((o + 1) * I + O - 1) / O; }

template <class T>
__global__ void adaptive_fwd(IgnisCudaPool s, const T* x, T* y, int64_t* ind) {
  const int64_t L = s.OH * s.OW, total = s.N * s.C * L;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t p = o / L, l = o % L, oh = l / s.OW, ow = l % s.OW;
    const int64_t hs = start_index(oh, s.OH, s.H), he = end_index(oh, s.OH, s.H);
    const int64_t ws = start_index(ow, s.OW, s.W), we = end_index(ow, s.OW, s.W);
    const T* xp = x + p * s.H * s.W;
    if (s.max) {
      int64_t mi = hs * s.W + ws;
      T mv = -INFINITY;
      for (int64_t ih = hs; ih < he; ++ih)
        for (int64_t iw = ws; iw < we; ++iw) {
          const T v = xp[ih * s.W + iw];
          if (v > mv || isnan(v)) { mv = v; mi = ih * s.W + iw; }
        }
      y[o] = mv;
      if (ind) ind[o] = mi;
    } else {
      T acc = 0;
      for (int64_t ih = hs; ih < he; ++ih)
        for (int64_t iw = ws; iw < we; ++iw) acc += xp[ih * s.W + iw];
      y[o] = acc / T((he - hs) * (we - ws));
    }
  }
}

template <class T>
__global__ void adaptive_avg_bwd(IgnisCudaPool s, const T* dy, T* dx) {
  const int64_t L = s.OH * s.OW, total = s.N * s.C * L;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t p = o / L, l = o % L, oh = l / s.OW, ow = l % s.OW;
    const int64_t hs = start_index(oh, s.OH, s.H), he = end_index(oh, s.OH, s.H);
    const int64_t ws = start_index(ow, s.OW, s.W), we = end_index(ow, s.OW, s.W);
    const T g = dy[o] / T((he - hs) * (we - ws));
    T* xp = dx + p * s.H * s.W;
    for (int64_t ih = hs; ih < he; ++ih)
      for (int64_t iw = ws; iw < we; ++iw) atomicAdd(xp + ih * s.W + iw, g);
  }
}

template <class T>
__global__ void unpool_add(IgnisCudaPool s, const T* dy, const int64_t* ind, T* dx) {
  const int64_t L = s.OH * s.OW, HW = s.H * s.W, total = s.N * s.C * L;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < total; o += int64_t(blockDim.x) * gridDim.x) {
    const int64_t i = ind[o];
    if (i >= 0 && i < HW) atomicAdd(dx + (o / L) * HW + i, dy[o]);
  }
}

}  // namespace

void pool_fwd_cuda(int dev, const IgnisCudaPool& s, const void* x, void* y, int64_t* ind) {
  const int64_t total = s.N * s.C * s.OH * s.OW;
  if (total == 0) return;
  cudaStream_t st = stream(dev);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "pool2d", {
    if (s.adaptive) adaptive_fwd<T><<<blocks_for(total, 256), 256, 0, st>>>(s, static_cast<const T*>(x), static_cast<T*>(y), ind);
    else if (s.max) max_fwd<T><<<blocks_for(total, 256), 256, 0, st>>>(s, static_cast<const T*>(x), static_cast<T*>(y), ind);
    else avg_fwd<T><<<blocks_for(total, 256), 256, 0, st>>>(s, static_cast<const T*>(x), static_cast<T*>(y));
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "pool2d");
  prof::launch(blocks_for(total, 256), 256);
}

void pool_bwd_cuda(int dev, const IgnisCudaPool& s, const void* dy, const int64_t* ind, void* dx) {
  cudaStream_t st = stream(dev);
  const int64_t total = s.N * s.C * s.OH * s.OW;
  const size_t dx_bytes = size_t(s.N * s.C * s.H * s.W) * dtype_size(s.dtype);
  if (dx_bytes) IGNIS_CUDA_CHECK(cudaMemsetAsync(dx, 0, dx_bytes, st), "pool2d backward");
  if (total == 0) return;
  if (s.max && !ind) fail("ValueError", "max_pool2d backward: indices are missing");
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "pool2d backward", {
    if (s.max) unpool_add<T><<<blocks_for(total, 256), 256, 0, st>>>(s, static_cast<const T*>(dy), ind, static_cast<T*>(dx));
    else if (s.adaptive) adaptive_avg_bwd<T><<<blocks_for(total, 256), 256, 0, st>>>(s, static_cast<const T*>(dy), static_cast<T*>(dx));
    else avg_bwd<T><<<blocks_for(total, 256), 256, 0, st>>>(s, static_cast<const T*>(dy), static_cast<T*>(dx));
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "pool2d backward");
  prof::launch(blocks_for(total, 256), 256);
}

}  // namespace ignis_cuda
