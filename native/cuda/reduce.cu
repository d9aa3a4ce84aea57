// Reductions of ops/reduce.def over the trailing dims of a strided input: the CUDA twin of
// cpu/reduce.cpp with its semantics (floating sums in double, integer sums in int64; max/min
// propagate NaN; argmax/argmin give the first index of the extreme, NaN counting as the extreme).
// Grid: `parts` blocks per output element, each reducing a slice of the reduced index space with
// a shared-memory tree; with parts > 1 a second launch combines the slices in index order. Outputs
// adjacent in memory (a contiguous kept dim) and short reductions take one thread per output
// instead (reduce_cols_kernel), the reduced range split the same way.
#include <cmath>
#include <type_traits>

#include "chansum.cuh"
#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

enum ReduceOp {
#define REDUCE(name) R_##name,
#include "../ops/reduce.def"
#undef REDUCE
  kReduceCount
};

struct RShape {
  int nk, nr;
  int64_t kshape[kMaxDims], kstride[kMaxDims];  // bytes
  int64_t rshape[kMaxDims], rstride[kMaxDims];
  int64_t nout, nred;
  int red32;                                  // nred < 2^31: rdiv splits reduced indices (fastdiv.cuh)
  FastDiv kdiv[kMaxDims], rdiv[kMaxDims];     // kdiv always (nout < 2^31, reduce_cuda checks)
};

template <class T>
struct Part {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  Acc acc;
  T v;
  int64_t i;  // -1: empty
  int nan;
};

template <class T>
__device__ __forceinline__ Part<T> combine(int op, const Part<T>& a, const Part<T>& b) {
  if (op == R_sum) return Part<T>{a.acc + b.acc, T(0), 0, 0};
  if (op == R_prod) return Part<T>{a.acc * b.acc, T(0), 0, 0};
  if (a.i < 0) return b;
  if (b.i < 0) return a;
  if (a.nan || b.nan) {
    if (a.nan && b.nan) return a.i <= b.i ? a : b;
    return a.nan ? a : b;
  }
  const bool want_max = op == R_max || op == R_argmax;
  if (want_max ? b.v > a.v : b.v < a.v) return b;
  if (want_max ? a.v > b.v : a.v < b.v) return a;
  return a.i <= b.i ? a : b;
}

template <class T>
__device__ __forceinline__ Part<T> empty_part(int op) {
  return Part<T>{typename Part<T>::Acc(op == R_prod ? 1 : 0), T(0), -1, 0};
}

template <class T>
__device__ void store_out(int op, char* out, int out_dtype, int64_t o, const Part<T>& p) {
  if (op == R_argmax || op == R_argmin) { reinterpret_cast<int64_t*>(out)[o] = p.i; return; }
  if (op == R_max || op == R_min) { reinterpret_cast<T*>(out)[o] = p.v; return; }
  switch (out_dtype) {
    case 0: reinterpret_cast<float*>(out)[o] = float(p.acc); break;
    case 1: reinterpret_cast<double*>(out)[o] = double(p.acc); break;
    case 2: reinterpret_cast<int32_t*>(out)[o] = int32_t(p.acc); break;
    case 3: reinterpret_cast<int64_t*>(out)[o] = int64_t(p.acc); break;
    default: reinterpret_cast<uint8_t*>(out)[o] = p.acc != 0; break;
  }
}

constexpr int kThreads = 256;
constexpr int kUnroll = 4;  // elements loaded ahead per thread: one 4-byte load in flight starves the memory system

// Where output o's reduction starts in the input.
__device__ const char* output_base(const char* in, const RShape& s, int64_t o) {
  const char* base = in;
  uint32_t q = uint32_t(o);
  for (int d = s.nk - 1; d >= 0; --d) {
    const uint32_t next = fast_quot(q, s.kdiv[d]);
    base += int64_t(q - next * uint32_t(s.kshape[d])) * s.kstride[d];
    q = next;
  }
  return base;
}

// Element r of the reduced index space from an output's base, as a partial result.
template <class T>
__device__ Part<T> element(const char* base, const RShape& s, int64_t r) {
  const char* p = base;
  if (s.nr == 1) {  // the common case (the reduced dims coalesce into one): no division at all
    p += r * s.rstride[0];
  } else if (s.red32) {
    uint32_t q = uint32_t(r);
    for (int d = s.nr - 1; d >= 0; --d) {
      const uint32_t next = fast_quot(q, s.rdiv[d]);
      p += int64_t(q - next * uint32_t(s.rshape[d])) * s.rstride[d];
      q = next;
    }
  } else {
    int64_t q = r;
    for (int d = s.nr - 1; d >= 0; --d) { p += (q % s.rshape[d]) * s.rstride[d]; q /= s.rshape[d]; }
  }
  T v = *reinterpret_cast<const T*>(p);
  Part<T> e;
  e.acc = typename Part<T>::Acc(v);
  e.v = v;
  e.i = r;
  if constexpr (std::is_floating_point_v<T>) e.nan = v != v; else e.nan = 0;
  return e;
}

template <class T>
__global__ void reduce_kernel(int op, const char* in, RShape s, int parts, char* out, int out_dtype, Part<T>* scratch) {
  __shared__ Part<T> sh[kThreads];
  const int64_t o = blockIdx.x / parts;
  const int64_t c = blockIdx.x % parts;
  const char* base = output_base(in, s, o);
  const int64_t rb = s.nred * c / parts, re = s.nred * (c + 1) / parts;
  // threads interleave (coalesced loads); combine() breaks ties by index, so argmax/argmin still
  // return the first extreme whatever order the partial results meet in
  Part<T> acc = empty_part<T>(op);
  int64_t r = rb + threadIdx.x;
  // kUnroll loads in flight per thread, combined in the order one at a time would take
  for (; r + (kUnroll - 1) * kThreads < re; r += kUnroll * kThreads) {
    Part<T> e[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) e[u] = element<T>(base, s, r + u * kThreads);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) acc = combine(op, acc, e[u]);
  }
  for (; r < re; r += kThreads) acc = combine(op, acc, element<T>(base, s, r));
  sh[threadIdx.x] = acc;
  __syncthreads();
  for (int w = kThreads / 2; w > 0; w >>= 1) {
    if (int(threadIdx.x) < w) sh[threadIdx.x] = combine(op, sh[threadIdx.x], sh[threadIdx.x + w]);
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    if (parts == 1) store_out(op, out, out_dtype, o, sh[0]);
    else scratch[blockIdx.x] = sh[0];
  }
}

// One thread per output, for outputs adjacent in memory (a contiguous kept dim: sum over dim 0 of
// [B, D], the Linear bias gradient) where a block per output would read one element per 32-byte
// sector, and for short reductions (nred <= 32) where a block per output idles most threads.
// blockIdx.y = slice c of the reduced range; scratch as reduce_kernel's (o * parts + c).
template <class T>
__global__ void reduce_cols_kernel(int op, const char* in, RShape s, int parts, char* out, int out_dtype, Part<T>* scratch) {
  const int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (o >= s.nout) return;
  const int64_t c = blockIdx.y;
  const char* base = output_base(in, s, o);
  const int64_t rb = s.nred * c / parts, re = s.nred * (c + 1) / parts;
  Part<T> acc = empty_part<T>(op);
  int64_t r = rb;
  for (; r + kUnroll <= re; r += kUnroll) {
    Part<T> e[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) e[u] = element<T>(base, s, r + u);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) acc = combine(op, acc, e[u]);
  }
  for (; r < re; ++r) acc = combine(op, acc, element<T>(base, s, r));
  if (parts == 1) store_out(op, out, out_dtype, o, acc);
  else scratch[o * parts + c] = acc;
}

template <class T>
__global__ void combine_kernel(int op, int64_t nout, int parts, const Part<T>* scratch, char* out, int out_dtype) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < nout; o += int64_t(blockDim.x) * gridDim.x) {
    Part<T> acc = scratch[o * parts];
    for (int c = 1; c < parts; ++c) acc = combine(op, acc, scratch[o * parts + c]);
    store_out(op, out, out_dtype, o, acc);
  }
}

int coalesce(const int64_t* shape, const int64_t* stride, int lo, int hi, int64_t* os, int64_t* ost) {
  int n = 0;
  for (int d = lo; d < hi; ++d) {
    if (shape[d] == 1) continue;
    if (n > 0 && ost[n - 1] == stride[d] * shape[d]) { os[n - 1] *= shape[d]; ost[n - 1] = stride[d]; }
    else { os[n] = shape[d]; ost[n] = stride[d]; ++n; }
  }
  return n;
}

template <class T>
void reduce_t(int dev, int op, const IgnisCudaIter& in, int nkeep, void* out, int out_dtype) {
  RShape s{};
  s.nk = coalesce(in.shape, in.op[0].strides, 0, nkeep, s.kshape, s.kstride);
  s.nr = coalesce(in.shape, in.op[0].strides, nkeep, in.ndim, s.rshape, s.rstride);
  s.nout = 1;
  s.nred = 1;
  for (int d = 0; d < nkeep; ++d) s.nout *= in.shape[d];
  for (int d = nkeep; d < in.ndim; ++d) s.nred *= in.shape[d];
  if (s.nout == 0) return;
  s.red32 = !force_index64() && s.nred > 0 && s.nred < (int64_t(1) << 31);
  for (int d = 0; d < s.nk; ++d) s.kdiv[d] = fast_div(uint32_t(s.kshape[d]));
  if (s.red32)
    for (int d = 0; d < s.nr; ++d) s.rdiv[d] = fast_div(uint32_t(s.rshape[d]));
  if (s.nred == 0 && (op == R_max || op == R_min || op == R_argmax || op == R_argmin))
    fail("ValueError", "reduce: cannot take max/min/argmax/argmin of an empty dimension");
  cudaStream_t st = stream(dev);
  const bool cols = (s.nk > 0 && s.kstride[s.nk - 1] == int64_t(sizeof(T)) &&
                     (s.nr == 0 || s.rstride[s.nr - 1] != int64_t(sizeof(T)))) ||
                    s.nred <= 32;
  if (cols) {
    int cp = 1;  // split the reduced range until ~128K threads run
    while (s.nout * cp < (int64_t(1) << 17) && s.nred / (cp * 2) >= 64 && cp < 1024) cp *= 2;
    const dim3 grid(unsigned((s.nout + 255) / 256), unsigned(cp));
    Scratch tmp(dev, cp > 1 ? size_t(s.nout * cp) * sizeof(Part<T>) : 0);
    auto* sp = static_cast<Part<T>*>(tmp.p);
    reduce_cols_kernel<T><<<grid, 256, 0, st>>>(op, in.op[0].data, s, cp, static_cast<char*>(out), out_dtype, sp);
    if (cp > 1) {
      combine_kernel<T><<<blocks_for(s.nout, 256), 256, 0, st>>>(op, s.nout, cp, sp, static_cast<char*>(out), out_dtype);
      prof::launch(blocks_for(s.nout, 256), 256);
    }
    prof::launch(grid.x * grid.y, 256);  // noted last: the record shows the main pass
    IGNIS_CUDA_CHECK(cudaGetLastError(), "reduce");
    return;
  }
  // enough blocks to fill the GPU: split each output's work when outputs are few and long
  int parts = 1;
  while (s.nout * parts < 1024 && s.nred / (parts * 2) >= 4096) parts *= 2;
  if (parts == 1) {
    reduce_kernel<T><<<unsigned(s.nout), kThreads, 0, st>>>(op, in.op[0].data, s, 1, static_cast<char*>(out), out_dtype, nullptr);
    prof::launch(unsigned(s.nout), kThreads);
  } else {
    Scratch tmp(dev, size_t(s.nout * parts) * sizeof(Part<T>));
    auto* sp = static_cast<Part<T>*>(tmp.p);
    reduce_kernel<T><<<unsigned(s.nout * parts), kThreads, 0, st>>>(op, in.op[0].data, s, parts, static_cast<char*>(out), out_dtype, sp);
    combine_kernel<T><<<blocks_for(s.nout, 256), 256, 0, st>>>(op, s.nout, parts, sp, static_cast<char*>(out), out_dtype);
    prof::launch(blocks_for(s.nout, 256), 256);
    prof::launch(unsigned(s.nout * parts), kThreads);  // noted last: the record shows the main pass
  }
  IGNIS_CUDA_CHECK(cudaGetLastError(), "reduce");
}

}  // namespace

void channel_sum_cuda(int dev, int dtype, const void* x, void* out, int64_t N, int64_t C, int64_t S) {
  hostt::Scope ts("channel sum launch");
  if (C <= 0) return;
  cudaStream_t st = stream(dev);
  if (N * S == 0) {
    IGNIS_CUDA_CHECK(cudaMemsetAsync(out, 0, size_t(C) * dtype_size(dtype), st), "channel sum");
    return;
  }
  const int64_t parts = chansum::part_count(x, N, C, S, dtype_size(dtype));
  Scratch part(dev, size_t(parts) * sizeof(double));
  dim3 grid;
  IGNIS_CUDA_DISPATCH_FLOAT(dtype, T, "channel sum", {
    grid = chansum::channel_sum<T>(st, static_cast<const T*>(x), static_cast<T*>(out), N, C, S, static_cast<double*>(part.p));
  });
  prof::launch(grid, dim3(chansum::kThreads));
  IGNIS_CUDA_CHECK(cudaGetLastError(), "channel sum");
}

void reduce_cuda(int dev, int op, const IgnisCudaIter& in, int nkeep, void* out, int out_dtype) {
  hostt::Scope ts("reduce launch");
  if (op < 0 || op >= kReduceCount) fail("ValueError", "reduce: unknown op code");
  int64_t nout = 1;
  for (int d = 0; d < nkeep; ++d) nout *= in.shape[d];
  if (nout > 2147483647LL) fail("ShapeError", "reduce: more than 2^31 outputs are not supported on cuda");
  IGNIS_CUDA_DISPATCH_ALL(in.op[0].dtype, T, "reduce", reduce_t<T>(dev, op, in, nkeep, out, out_dtype));
}

}  // namespace ignis_cuda
