// Elementwise launch machinery shared by elementwise.cu and activations.cu: the iterator as the
// kernels see it, three addressing modes, and one grid-stride kernel template.
//   vec:     every tensor operand contiguous and 16-byte aligned, all of one element size: each
//            thread moves 16-byte packs (float4 for float32), the form that reaches copy bandwidth
//   contig:  every tensor operand contiguous (scalars allowed): plain indexing
//   strided: anything else (broadcast, transposed views): offsets from the index, dim by dim
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "common.h"
#include "fastdiv.cuh"
#include "profile.h"

namespace ignis_cuda {

constexpr int kMaxDims = IGNIS_CUDA_MAX_DIMS;

struct DOp {
  char* data;  // nullptr: scalar `value`
  int64_t strides[kMaxDims];
  double value;
};

template <int NOPS>
struct DIter {
  int ndim;
  int idx32;  // numel < 2^31: split indices with div[] (32-bit) instead of 64-bit division
  int64_t shape[kMaxDims];
  FastDiv div[kMaxDims];
  DOp op[NOPS];
};

template <class T>
__device__ __forceinline__ T from_double(double v) {
  if constexpr (std::is_same_v<T, uint8_t>) return T(v != 0);
  else return T(v);
}

template <class T>
__device__ __forceinline__ T ld(const DOp& o, int64_t off) {
  return o.data ? *reinterpret_cast<const T*>(o.data + off) : from_double<T>(o.value);
}

template <class T, int V>
struct alignas(16) Pack {
  T v[V];
};

enum Mode { kStrided = 0, kContig = 1, kVec = 2 };
// packs per thread in flight in the vec mode; launch_ew sizes the grid at one tile of this many
// packs per thread
constexpr int kEwUnroll = 4;

// Byte offsets of element i for every operand.
template <int NOPS>
__device__ __forceinline__ void offsets(const DIter<NOPS>& it, int64_t i, int64_t* off) {
#pragma unroll
  for (int k = 0; k < NOPS; ++k) off[k] = 0;
  if (it.idx32) {
    uint32_t r = uint32_t(i);
    for (int d = it.ndim - 1; d >= 0; --d) {
      uint32_t q = fast_quot(r, it.div[d]);
      int64_t idx = int64_t(r - q * uint32_t(it.shape[d]));
      r = q;
#pragma unroll
      for (int k = 0; k < NOPS; ++k) off[k] += idx * it.op[k].strides[d];
    }
    return;
  }
  for (int d = it.ndim - 1; d >= 0; --d) {
    int64_t s = it.shape[d];
    int64_t idx = i % s;
    i /= s;
#pragma unroll
    for (int k = 0; k < NOPS; ++k) off[k] += idx * it.op[k].strides[d];
  }
}

// out = f(in_1, ..., in_NIN) with one input type TI (f returns TO).
template <class TO, class TI, int NIN, class F>
__global__ void ew_kernel(DIter<NIN + 1> it, int64_t n, int mode, F f) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (mode == kVec) {
    constexpr int V = 16 / sizeof(TO);
    if constexpr (sizeof(TO) == sizeof(TI)) {
      const int64_t np = n / V;
      auto load = [&](int64_t p, Pack<TI, V>* in) {
#pragma unroll
        for (int k = 0; k < NIN; ++k) {
          const DOp& o = it.op[k + 1];
          if (o.data) in[k] = reinterpret_cast<const Pack<TI, V>*>(o.data)[p];
          else
#pragma unroll
            for (int j = 0; j < V; ++j) in[k].v[j] = from_double<TI>(o.value);
        }
      };
      auto apply = [&](int64_t p, const Pack<TI, V>* in) {
        Pack<TO, V> out;
#pragma unroll
        for (int j = 0; j < V; ++j) {
          if constexpr (NIN == 1) out.v[j] = f(in[0].v[j]);
          else if constexpr (NIN == 2) out.v[j] = f(in[0].v[j], in[1].v[j]);
        }
        reinterpret_cast<Pack<TO, V>*>(it.op[0].data)[p] = out;
      };
      // tiles of kEwUnroll * blockDim.x packs, one per block (grid-stride past launch_ew's cap); in a
      // full tile each thread loads its kEwUnroll packs before working on any, so the loads stay in
      // flight while the math of the heavier activations runs (a store may alias a later load: the
      // compiler cannot hoist them itself)
      const int64_t tile = int64_t(blockDim.x) * kEwUnroll;
      for (int64_t base = int64_t(blockIdx.x) * tile; base < np; base += int64_t(gridDim.x) * tile) {
        const int64_t p0 = base + threadIdx.x;
        if (base + tile <= np) {
          Pack<TI, V> in[kEwUnroll][NIN];
#pragma unroll
          for (int u = 0; u < kEwUnroll; ++u) load(p0 + u * int64_t(blockDim.x), in[u]);
#pragma unroll
          for (int u = 0; u < kEwUnroll; ++u) apply(p0 + u * int64_t(blockDim.x), in[u]);
        } else {
          for (int64_t p = p0; p < np; p += blockDim.x) {
            Pack<TI, V> in[NIN];
            load(p, in);
            apply(p, in);
          }
        }
      }
      for (int64_t e = np * V + i; e < n; e += stride) {  // tail
        TO r;
        if constexpr (NIN == 1) r = f(ld<TI>(it.op[1], e * sizeof(TI)));
        else r = f(ld<TI>(it.op[1], e * sizeof(TI)), ld<TI>(it.op[2], e * sizeof(TI)));
        reinterpret_cast<TO*>(it.op[0].data)[e] = r;
      }
    }
    return;
  }
  for (; i < n; i += stride) {
    int64_t off[NIN + 1];
    if (mode == kContig) {
      off[0] = i * int64_t(sizeof(TO));
#pragma unroll
      for (int k = 1; k <= NIN; ++k) off[k] = i * int64_t(sizeof(TI));
    } else {
      offsets<NIN + 1>(it, i, off);
    }
    TO r;
    if constexpr (NIN == 1) r = f(ld<TI>(it.op[1], off[1]));
    else if constexpr (NIN == 2) r = f(ld<TI>(it.op[1], off[1]), ld<TI>(it.op[2], off[2]));
    *reinterpret_cast<TO*>(it.op[0].data + off[0]) = r;
  }
}

// Host side: converts the api.h iterator, picks the mode, launches on the device's stream.
template <int NOPS>
inline DIter<NOPS> to_diter(const IgnisCudaIter& src, int* mode, bool same_size) {
  DIter<NOPS> it;
  it.ndim = src.ndim;
  int64_t n = 1;
  for (int d = 0; d < kMaxDims; ++d) {
    it.shape[d] = d < src.ndim ? src.shape[d] : 1;
    n *= it.shape[d];
  }
  it.idx32 = !force_index64() && n < (int64_t(1) << 31);
  for (int d = 0; d < kMaxDims; ++d) it.div[d] = it.idx32 && it.shape[d] > 0 ? fast_div(uint32_t(it.shape[d])) : FastDiv{1, 0};
  bool contig = src.ndim <= 1, vec = true;
  size_t es0 = dtype_size(src.op[0].dtype);
  for (int k = 0; k < NOPS; ++k) {
    const IgnisCudaOperand& o = src.op[k];
    it.op[k].data = o.data;
    it.op[k].value = o.value;
    for (int d = 0; d < kMaxDims; ++d) it.op[k].strides[d] = d < src.ndim ? o.strides[d] : 0;
    if (!o.data) continue;
    size_t es = dtype_size(o.dtype);
    if (src.ndim == 1 && o.strides[0] != int64_t(es) && src.shape[0] > 1) contig = false;
    if (es != es0 || (reinterpret_cast<uintptr_t>(o.data) & 15)) vec = false;
  }
  *mode = !contig ? kStrided : ((vec && same_size) ? kVec : kContig);
  return it;
}

template <class TO, class TI, int NIN, class F>
inline void launch_ew(int dev, const IgnisCudaIter& src, F f, const char* what) {
  hostt::Scope ts("elementwise launch");
  int64_t n = 1;
  for (int d = 0; d < src.ndim; ++d) n *= src.shape[d];
  if (n == 0) return;
  int mode;
  DIter<NIN + 1> it = to_diter<NIN + 1>(src, &mode, sizeof(TO) == sizeof(TI));
  constexpr int kThreads = 256;
  int64_t per = mode == kVec ? int64_t(16 / sizeof(TO)) : 1;
  unsigned blocks = blocks_for(n, kThreads, per * kEwUnroll);
  ew_kernel<TO, TI, NIN, F><<<blocks, kThreads, 0, stream(dev)>>>(it, n, mode, f);
  prof::launch(blocks, kThreads);
  IGNIS_CUDA_CHECK(cudaGetLastError(), what);
}

#define IGNIS_CUDA_DISPATCH_ALL(dt, T, what, ...)                              \
  switch (dt) {                                                                \
    case 0: { using T = float; __VA_ARGS__; break; }                           \
    case 1: { using T = double; __VA_ARGS__; break; }                          \
    case 2: { using T = int32_t; __VA_ARGS__; break; }                         \
    case 3: { using T = int64_t; __VA_ARGS__; break; }                         \
    case 4: { using T = uint8_t; __VA_ARGS__; break; }                         \
    default: ::ignis_cuda::fail("DTypeError", std::string(what) + ": unknown dtype code"); \
  }
#define IGNIS_CUDA_DISPATCH_FLOAT(dt, T, what, ...)                            \
  switch (dt) {                                                                \
    case 0: { using T = float; __VA_ARGS__; break; }                           \
    case 1: { using T = double; __VA_ARGS__; break; }                          \
    default: ::ignis_cuda::fail("DTypeError", std::string(what) + ": expected float32 or float64, got " + \
                                                   ::ignis_cuda::dtype_name(dt)); \
  }

}  // namespace ignis_cuda
