// gather / scatter along one dim: the CUDA twins of cpu/index.cpp (PyTorch semantics, int64
// indices, bounds-checked). Indices are checked on the device first; the first bad one comes back
// in one small synchronous copy and becomes an IndexError, so a bad index leaves the tensor
// untouched (scatter writes only after the check). That copy waits for the stream, so callers skip
// the check for indices known to be in range (src/kernels.ts: markValidIndex). scatter with
// reduce=add uses atomics, so the order of additions to one element is not fixed (as in PyTorch on
// CUDA); assignment with repeated indices keeps one of the values.
#include <algorithm>
#include <cstring>

#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
namespace {

// bad[0]: 1 once a bad index was seen (a flag apart from the value: every int64 can be a bad index),
// bad[1]: one of the bad indices
__global__ void check_kernel(DIter<3> it, int64_t n, int idx_op, int64_t size, unsigned long long* bad) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[3];
    offsets<3>(it, i, off);
    int64_t v = *reinterpret_cast<const int64_t*>(it.op[idx_op].data + off[idx_op]);
    if ((v < 0 || v >= size) && atomicExch(&bad[0], 1ull) == 0ull) bad[1] = static_cast<unsigned long long>(v);
  }
}

template <class T>
__global__ void gather_kernel(DIter<3> it, int64_t n, int64_t stride) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[3];
    offsets<3>(it, i, off);
    int64_t v = *reinterpret_cast<const int64_t*>(it.op[2].data + off[2]);
    *reinterpret_cast<T*>(it.op[0].data + off[0]) = *reinterpret_cast<const T*>(it.op[1].data + off[1] + v * stride);
  }
}

template <class T>
__device__ __forceinline__ void add_to(T* dst, T v) {
  if constexpr (std::is_same_v<T, int64_t>)
    atomicAdd(reinterpret_cast<unsigned long long*>(dst), static_cast<unsigned long long>(v));
  else
    atomicAdd(dst, v);
}

template <class T>
__global__ void scatter_kernel(DIter<3> it, int64_t n, int64_t stride, int reduce) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[3];
    offsets<3>(it, i, off);
    int64_t v = *reinterpret_cast<const int64_t*>(it.op[1].data + off[1]);
    T* dst = reinterpret_cast<T*>(it.op[0].data + off[0] + v * stride);
    T src = ld<T>(it.op[2], off[2]);
    if constexpr (std::is_same_v<T, uint8_t>) {
      *dst = src;  // reduce is refused for bool on the host
    } else {
      if (reduce) add_to(dst, src);
      else *dst = src;
    }
  }
}

void check_indices(int dev, const DIter<3>& it, int64_t n, int idx_op, int64_t size, const char* op) {
  cudaStream_t st = stream(dev);
  Scratch flag(dev, 2 * sizeof(unsigned long long));
  unsigned long long got[2] = {0, 0};
  IGNIS_CUDA_CHECK(cudaMemsetAsync(flag.p, 0, 2 * sizeof(unsigned long long), st), op);
  check_kernel<<<blocks_for(n, 256, 4), 256, 0, st>>>(it, n, idx_op, size, static_cast<unsigned long long*>(flag.p));
  prof::launch(blocks_for(n, 256, 4), 256);
  IGNIS_CUDA_CHECK(cudaGetLastError(), op);
  // the wait first: a copy to pageable memory returns only once the queue before it is done
  wait_stream(dev, op);
  IGNIS_CUDA_CHECK(cudaMemcpyAsync(got, flag.p, sizeof got, cudaMemcpyDeviceToHost, st), op);
  if (got[0])
    fail("IndexError", std::string(op) + ": index " + std::to_string(static_cast<long long>(got[1])) +
                           " is out of bounds for dimension with size " + std::to_string(size));
}

int64_t count(const IgnisCudaIter& it) {
  int64_t n = 1;
  for (int d = 0; d < it.ndim; ++d) n *= it.shape[d];
  return n;
}

}  // namespace

void gather_cuda(int dev, const IgnisCudaIter& src, int64_t stride_bytes, int64_t size, bool check) {
  const int64_t n = count(src);
  if (n == 0) return;
  int mode;
  DIter<3> it = to_diter<3>(src, &mode, false);
  if (check) check_indices(dev, it, n, 2, size, "gather");
  switch (dtype_size(src.op[0].dtype)) {  // a gather moves bytes: one kernel per element size
    case 1: gather_kernel<uint8_t><<<blocks_for(n, 256, 4), 256, 0, stream(dev)>>>(it, n, stride_bytes); break;
    case 4: gather_kernel<uint32_t><<<blocks_for(n, 256, 4), 256, 0, stream(dev)>>>(it, n, stride_bytes); break;
    default: gather_kernel<uint64_t><<<blocks_for(n, 256, 4), 256, 0, stream(dev)>>>(it, n, stride_bytes); break;
  }
  IGNIS_CUDA_CHECK(cudaGetLastError(), "gather");
  prof::launch(blocks_for(n, 256, 4), 256);
}

void scatter_cuda(int dev, const IgnisCudaIter& src, int64_t stride_bytes, int64_t size, int reduce, bool check) {
  const int64_t n = count(src);
  if (n == 0) return;
  const char* op = reduce ? "scatter_add" : "scatter";
  if (reduce && src.op[0].dtype == 4) fail("DTypeError", "scatter_add: bool is not supported on cuda");
  int mode;
  DIter<3> it = to_diter<3>(src, &mode, false);
  if (check) check_indices(dev, it, n, 1, size, op);
  IGNIS_CUDA_DISPATCH_ALL(src.op[0].dtype, T, op, {
    scatter_kernel<T><<<blocks_for(n, 256, 4), 256, 0, stream(dev)>>>(it, n, stride_bytes, reduce);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), op);
  prof::launch(blocks_for(n, 256, 4), 256);
}

namespace {

// cross entropy with class-index targets: the twins of cpu/index.cpp's nll_fwd_cpu / ce_bwd_cpu
template <class T>
__global__ void nll_fwd_kernel(const T* __restrict__ logp, const int64_t* __restrict__ t, const T* __restrict__ w,
                               T* __restrict__ loss, T* __restrict__ wi, int64_t M, int64_t C, int64_t ignore) {
  for (int64_t m = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; m < M; m += int64_t(blockDim.x) * gridDim.x) {
    const int64_t c = t[m];
    const bool valid = c != ignore && c >= 0 && c < C;
    const T wt = valid ? (w ? w[c] : T(1)) : T(0);
    loss[m] = valid ? -wt * logp[m * C + c] : T(0);
    wi[m] = wt;
  }
}

// A reduction's rows: each block sums its rows' losses and weights in double (threads stride over
// the rows, then a fixed tree); one block writes the result, several write partials that
// nll_red_final adds up in block order. Deterministic either way.
constexpr int kNllThreads = 256;
struct NllPart {
  double loss, weight;
};

__device__ inline void nll_block_sum(double& l, double& ws) {
  __shared__ double sl[kNllThreads], sw[kNllThreads];
  sl[threadIdx.x] = l;
  sw[threadIdx.x] = ws;
  __syncthreads();
  for (int k = kNllThreads / 2; k > 0; k >>= 1) {
    if (int(threadIdx.x) < k) {
      sl[threadIdx.x] += sl[threadIdx.x + k];
      sw[threadIdx.x] += sw[threadIdx.x + k];
    }
    __syncthreads();
  }
  l = sl[0];
  ws = sw[0];
}

template <class T>
__device__ inline void nll_write(double l, double ws, int mean, T* out, T* denom) {
  out[0] = T(mean ? l / ws : l);
  if (denom) denom[0] = T(ws);
}

template <class T>
__global__ void nll_red_kernel(const T* __restrict__ logp, const int64_t* __restrict__ t, const T* __restrict__ w,
                               T* __restrict__ wi, int64_t M, int64_t C, int64_t ignore, int mean,
                               NllPart* __restrict__ part, T* __restrict__ out, T* __restrict__ denom) {
  double l = 0, ws = 0;
  for (int64_t m = int64_t(blockIdx.x) * kNllThreads + threadIdx.x; m < M; m += int64_t(kNllThreads) * gridDim.x) {
    const int64_t c = t[m];
    const bool valid = c != ignore && c >= 0 && c < C;
    const T wt = valid ? (w ? w[c] : T(1)) : T(0);
    wi[m] = wt;
    if (valid) {
      l -= double(wt) * double(logp[m * C + c]);
      ws += double(wt);
    }
  }
  nll_block_sum(l, ws);
  if (threadIdx.x != 0) return;
  if (gridDim.x == 1) nll_write(l, ws, mean, out, denom);
  else part[blockIdx.x] = NllPart{l, ws};
}

template <class T>
__global__ void nll_red_final(const NllPart* __restrict__ part, int n, int mean, T* __restrict__ out, T* __restrict__ denom) {
  double l = 0, ws = 0;
  for (int i = threadIdx.x; i < n; i += kNllThreads) {
    l += part[i].loss;
    ws += part[i].weight;
  }
  nll_block_sum(l, ws);
  if (threadIdx.x == 0) nll_write(l, ws, mean, out, denom);
}

template <class T>
__global__ void ce_bwd_kernel(const T* __restrict__ logp, const int64_t* __restrict__ t, const T* __restrict__ wi,
                              const T* __restrict__ g, int64_t g_step, const T* __restrict__ denom, T* __restrict__ gx,
                              int64_t M, int64_t C, int64_t ignore) {
  const int64_t n = M * C;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t m = i / C;
    const int64_t c = t[m];
    const T k = c != ignore ? wi[m] * (denom ? g[m * g_step] / denom[0] : g[m * g_step]) : T(0);
    gx[i] = k * exp(logp[i]) - (i - m * C == c ? k : T(0));
  }
}

}  // namespace

void nll_fwd_cuda(int dev, const IgnisCudaNll& s, const void* logp, const int64_t* t, const void* w, void* loss, void* wi,
                  void* denom) {
  if (s.reduce) {
    // one block (one launch, as PyTorch's nll_loss) up to 16 rows a thread; above, partials per
    // block of 4096 rows (at most 1024 blocks) and a second launch that adds them
    const int64_t per = int64_t(kNllThreads) * 16;
    const unsigned nb = unsigned(std::min<int64_t>(1024, std::max<int64_t>(1, (s.M + per - 1) / per)));
    Scratch part(dev, nb > 1 ? nb * sizeof(NllPart) : 0);
    IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "crossEntropy", {
      nll_red_kernel<T><<<nb, kNllThreads, 0, stream(dev)>>>(
          static_cast<const T*>(logp), t, static_cast<const T*>(w), static_cast<T*>(wi), s.M, s.C, s.ignore,
          s.reduce == 2, static_cast<NllPart*>(part.p), static_cast<T*>(loss), static_cast<T*>(denom));
      if (nb > 1)
        nll_red_final<T><<<1, kNllThreads, 0, stream(dev)>>>(static_cast<const NllPart*>(part.p), int(nb), s.reduce == 2,
                                                             static_cast<T*>(loss), static_cast<T*>(denom));
    });
    IGNIS_CUDA_CHECK(cudaGetLastError(), "crossEntropy");
    prof::launch(nb, kNllThreads);
    if (nb > 1) prof::launch(1, kNllThreads);  // the record counts both launches
    return;
  }
  if (s.M == 0) return;
  const unsigned nb = blocks_for(s.M, 256, 4);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "crossEntropy", {
    nll_fwd_kernel<T><<<nb, 256, 0, stream(dev)>>>(static_cast<const T*>(logp), t, static_cast<const T*>(w),
                                                   static_cast<T*>(loss), static_cast<T*>(wi), s.M, s.C, s.ignore);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "crossEntropy");
  prof::launch(nb, 256);
}

void ce_bwd_cuda(int dev, const IgnisCudaNll& s, const void* logp, const int64_t* t, const void* wi, const void* g,
                 int64_t g_step, const void* denom, void* gx) {
  if (s.M == 0 || s.C == 0) return;
  const unsigned nb = blocks_for(s.M * s.C, 256, 4);
  IGNIS_CUDA_DISPATCH_FLOAT(s.dtype, T, "crossEntropy backward", {
    ce_bwd_kernel<T><<<nb, 256, 0, stream(dev)>>>(static_cast<const T*>(logp), t, static_cast<const T*>(wi),
                                                  static_cast<const T*>(g), g_step, static_cast<const T*>(denom),
                                                  static_cast<T*>(gx), s.M, s.C, s.ignore);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "crossEntropy backward");
  prof::launch(nb, 256);
}

}  // namespace ignis_cuda
