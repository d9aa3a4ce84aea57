// 2-d max / average pooling: the CUDA twins of cpu/pool.cpp's reference loops (PyTorch semantics:
// max with flat h*W+w indices and NaN winning, average with count_include_pad and
// divisor_override, ceil mode through OH/OW; adaptive windows [floor(o I / O), ceil((o + 1) I / O))).
// One thread per output element; the backward of max and average pooling gathers (one thread per
// input element), the adaptive ones scatter into a zeroed dx with atomics (overlapping windows add
// up). Max pooling's index math in 32 bits (I = int32_t) wherever every index fits, as a 64-bit
// division costs several times a 32-bit one.
#include <cmath>

#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

// The geometry in the index type I
template <class I>
struct Geo {
  I N, C, H, W, OH, OW, kh, kw, sh, sw, pt, pl, dh, dw, L, total;
  __device__ explicit Geo(const IgnisCudaPool& s)
      : N(I(s.N)), C(I(s.C)), H(I(s.H)), W(I(s.W)), OH(I(s.OH)), OW(I(s.OW)), kh(I(s.kh)), kw(I(s.kw)), sh(I(s.sh)),
        sw(I(s.sw)), pt(I(s.pt)), pl(I(s.pl)), dh(I(s.dh)), dw(I(s.dw)), L(I(s.OH * s.OW)), total(I(s.N * s.C * s.OH * s.OW)) {}
};

template <class T, class I>
__global__ void max_fwd(IgnisCudaPool s, const T* x, T* y, int64_t* ind) {
  const Geo<I> g(s);
  for (I o = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); o < g.total; o += I(blockDim.x) * I(gridDim.x)) {
    const I p = o / g.L, l = o - p * g.L, oh = l / g.OW, ow = l - oh * g.OW;
    const T* xp = x + int64_t(p) * g.H * g.W;
    I hs = oh * g.sh - g.pt, he = min(hs + (g.kh - 1) * g.dh + 1, g.H);
    while (hs < 0) hs += g.dh;
    I ws = ow * g.sw - g.pl, we = min(ws + (g.kw - 1) * g.dw + 1, g.W);
    while (ws < 0) ws += g.dw;
    I mi = hs * g.W + ws;
    T mv = -INFINITY;
    for (I ih = hs; ih < he; ih += g.dh)
      for (I iw = ws; iw < we; iw += g.dw) {
        const T v = xp[ih * g.W + iw];
        if (v > mv || isnan(v)) { mv = v; mi = ih * g.W + iw; }
      }
    y[o] = mv;
    if (ind) ind[o] = int64_t(mi);
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

// Average pooling's backward as a gather, as max pooling's: one thread per input element, summing
// dy / divisor over the windows that hold it, in output order (no zeroing pass, no atomics).
template <class T>
__global__ void avg_bwd(IgnisCudaPool s, const T* dy, T* dx) {
  const int64_t L = s.OH * s.OW, HW = s.H * s.W, n = s.N * s.C * HW;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t p = i / HW, r = i - p * HW, ih = r / s.W, iw = r - ih * s.W;
    const int64_t hh = ih + s.pt, ww = iw + s.pl;
    const int64_t oh0 = hh < s.kh ? 0 : (hh - s.kh) / s.sh + 1, oh1 = min(hh / s.sh + 1, s.OH);
    const int64_t ow0 = ww < s.kw ? 0 : (ww - s.kw) / s.sw + 1, ow1 = min(ww / s.sw + 1, s.OW);
    const T* dyp = dy + p * L;
    T acc = 0;
    for (int64_t oh = oh0; oh < oh1; ++oh)
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        int64_t hs, he, ws, we, div;
        if (avg_window<T>(s, oh, ow, hs, he, ws, we, div) && ih >= hs && ih < he && iw >= ws && iw < we)
          acc += dyp[oh * s.OW + ow] / T(div);
      }
    dx[i] = acc;
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

// Max pooling's backward as a gather (PyTorch's max_pool_backward_nchw pattern): one thread per
// input element, summing dy over the outputs whose window span covers it and whose argmax it is, in
// output order. No zeroing pass over dx and no atomics, and the sum's order is fixed where windows
// overlap (the scatter's atomics made it vary from run to run).
template <class T, class I>
__global__ void max_bwd_gather(IgnisCudaPool s, const T* dy, const int64_t* ind, T* dx) {
  const Geo<I> g(s);
  const I HW = g.H * g.W, n = g.N * g.C * HW;
  const I span_h = (g.kh - 1) * g.dh + 1, span_w = (g.kw - 1) * g.dw + 1;
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < n; i += I(blockDim.x) * I(gridDim.x)) {
    const I p = i / HW, r = i - p * HW, ih = r / g.W, iw = r - ih * g.W;
    // window oh spans rows [oh sh - pt, oh sh - pt + span_h): those that hold ih
    const I hh = ih + g.pt, ww = iw + g.pl;
    const I oh0 = hh < span_h ? 0 : (hh - span_h) / g.sh + 1, oh1 = min(hh / g.sh + 1, g.OH);
    const I ow0 = ww < span_w ? 0 : (ww - span_w) / g.sw + 1, ow1 = min(ww / g.sw + 1, g.OW);
    const T* dyp = dy + int64_t(p) * g.L;
    const int64_t* ip = ind + int64_t(p) * g.L;
    T acc = 0;
    for (I oh = oh0; oh < oh1; ++oh)
      for (I ow = ow0; ow < ow1; ++ow) {
        const I o = oh * g.OW + ow;
        if (ip[o] == int64_t(r)) acc += dyp[o];
      }
    dx[i] = acc;
  }
}

template <class T, class I>
__global__ void unpool_add(IgnisCudaPool s, const T* dy, const int64_t* ind, T* dx) {
  const Geo<I> g(s);
  const int64_t HW = int64_t(g.H) * g.W;
  for (I o = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); o < g.total; o += I(blockDim.x) * I(gridDim.x)) {
    const int64_t i = ind[o];
    if (i >= 0 && i < HW) atomicAdd(dx + int64_t(o / g.L) * HW + i, dy[o]);
  }
}

// Whether every index of the max-pooling kernels fits in 32 bits: the input's and the output's
// elements (plus a grid stride past the end), and the windows' reach past the input's edge.
bool idx32(const IgnisCudaPool& s, int64_t total) {
  if (force_index64()) return false;
  const int64_t lim = int64_t(1) << 30;
  return s.N * s.C * s.H * s.W < lim && total + int64_t(blocks_for(total, 256)) * 256 < lim &&
         (s.OH + 1) * s.sh + s.kh * s.dh + s.H < lim && (s.OW + 1) * s.sw + s.kw * s.dw + s.W < lim;
}

}  // namespace

void pool_fwd_cuda(int dev, const IgnisCudaPool& s, const void* x, void* y, int64_t* ind) {
  const int64_t total = s.N * s.C * s.OH * s.OW;
  if (total == 0) return;
  cudaStream_t st = stream(dev);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "pool2d", {
    if (s.adaptive) adaptive_fwd<T><<<blocks_for(total, 256), 256, 0, st>>>(s, static_cast<const T*>(x), static_cast<T*>(y), ind);
    else if (s.max && idx32(s, total)) max_fwd<T, int32_t><<<blocks_for(total, 256), 256, 0, st>>>(s, static_cast<const T*>(x), static_cast<T*>(y), ind);
    else if (s.max) max_fwd<T, int64_t><<<blocks_for(total, 256), 256, 0, st>>>(s, static_cast<const T*>(x), static_cast<T*>(y), ind);
    else avg_fwd<T><<<blocks_for(total, 256), 256, 0, st>>>(s, static_cast<const T*>(x), static_cast<T*>(y));
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "pool2d");
  prof::launch(blocks_for(total, 256), 256);
}

void pool_bwd_cuda(int dev, const IgnisCudaPool& s, const void* dy, const int64_t* ind, void* dx) {
  cudaStream_t st = stream(dev);
  const int64_t total = s.N * s.C * s.OH * s.OW, inputs = s.N * s.C * s.H * s.W;
  if (s.max && total > 0 && !ind) fail("ValueError", "max_pool2d backward: indices are missing");
  // max and average pooling gather, one thread per input element, writing every element of dx; the
  // adaptive ones scatter, one thread per output element, into a zeroed dx
  const bool gather = !s.adaptive && total > 0;
  if (!gather) {
    const size_t dx_bytes = size_t(inputs) * dtype_size(s.dtype);
    if (dx_bytes) IGNIS_CUDA_CHECK(cudaMemsetAsync(dx, 0, dx_bytes, st), "pool2d backward");
    if (total == 0) return;
  }
  const int64_t n = gather ? inputs : total;
  const bool i32 = s.max && idx32(s, total);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "pool2d backward", {
    const T* g = static_cast<const T*>(dy);
    T* d = static_cast<T*>(dx);
    if (gather && i32) max_bwd_gather<T, int32_t><<<blocks_for(n, 256), 256, 0, st>>>(s, g, ind, d);
    else if (gather && s.max) max_bwd_gather<T, int64_t><<<blocks_for(n, 256), 256, 0, st>>>(s, g, ind, d);
    else if (gather) avg_bwd<T><<<blocks_for(n, 256), 256, 0, st>>>(s, g, d);
    else if (i32) unpool_add<T, int32_t><<<blocks_for(n, 256), 256, 0, st>>>(s, g, ind, d);
    else if (s.max) unpool_add<T, int64_t><<<blocks_for(n, 256), 256, 0, st>>>(s, g, ind, d);
    else adaptive_avg_bwd<T><<<blocks_for(n, 256), 256, 0, st>>>(s, g, d);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "pool2d backward");
  prof::launch(blocks_for(n, 256), 256);
}

}  // namespace ignis_cuda
