// Elementwise math, comparisons, where and copy: the CUDA twins of native/cpu/elementwise.cpp,
// generated from the same rows (ops/unary.def, ops/binary.def) with the same scalar helpers
// (cpu/math.h, compiled __host__ __device__), so the two backends cannot drift apart.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../cpu/math.h"
#include "ew.cuh"
#include "kernels.h"

namespace ignis_cuda {
using namespace ignis;  // floor_, max_, div_, ... of cpu/math.h

namespace {
// the transcendental helpers of ops/unary.def (the CPU takes them from cpu/vmath.h)
template <class T> __device__ inline T exp_(T x) { return exp(x); }
template <class T> __device__ inline T log_(T x) { return log(x); }
template <class T> __device__ inline T log1p_(T x) { return log1p(x); }
template <class T> __device__ inline T expm1_(T x) { return expm1(x); }
template <class T> __device__ inline T tanh_(T x) { return tanh(x); }
template <class T> __device__ inline T sigmoid_(T x) { return T(1) / (T(1) + exp(-x)); }
template <class T> __device__ inline T erf_(T x) { return erf(x); }

enum UnaryOp {
#define UNARY(name, int_ok, expr) U_##name,
#include "../ops/unary.def"
#undef UNARY
  kUnaryCount
};
enum BinaryOp {
#define BINARY(name, expr) B_##name,
#define COMPARE(name, expr) B_##name,
#include "../ops/binary.def"
#undef BINARY
#undef COMPARE
  kBinaryCount
};

template <class T>
void unary_t(int dev, int op, const IgnisCudaIter& it, double p0, double p1) {
  constexpr bool fl = std::is_floating_point_v<T>;
  switch (op) {
#define UNARY(name, int_ok, expr)                                                                  \
  case U_##name:                                                                                   \
    if constexpr (fl || int_ok) {                                                                  \
      launch_ew<T, T, 1>(dev, it, [p0, p1] __device__(T x) -> T { (void)p0; (void)p1; return T(expr); }, #name); \
    } else {                                                                                       \
      fail("DTypeError", std::string(#name) + ": not defined for " + dtype_name(it.op[1].dtype));  \
    }                                                                                              \
    break;
#include "../ops/unary.def"
#undef UNARY
    default: fail("ValueError", "unary: unknown op code");
  }
}

template <class T>
void binary_t(int dev, int op, const IgnisCudaIter& it) {
  switch (op) {
#define BINARY(name, expr) \
  case B_##name: launch_ew<T, T, 2>(dev, it, [] __device__(T a, T b) -> T { return T(expr); }, #name); break;
#define COMPARE(name, expr) \
  case B_##name: launch_ew<uint8_t, T, 2>(dev, it, [] __device__(T a, T b) -> uint8_t { return uint8_t(expr); }, #name); break;
#include "../ops/binary.def"
#undef BINARY
#undef COMPARE
    default: fail("ValueError", "binary: unknown op code");
  }
}

template <class T>
__global__ void where_kernel(DIter<4> it, int64_t n, int mode) {
  const int64_t stride = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    int64_t off[4];
    if (mode == kStrided) {
      offsets<4>(it, i, off);
    } else {
      off[0] = off[2] = off[3] = i * int64_t(sizeof(T));
      off[1] = i;
    }
    T r = ld<uint8_t>(it.op[1], off[1]) ? ld<T>(it.op[2], off[2]) : ld<T>(it.op[3], off[3]);
    *reinterpret_cast<T*>(it.op[0].data + off[0]) = r;
  }
}

template <class TO, class TI>
__device__ __forceinline__ TO convert(TI v) {
  if constexpr (std::is_same_v<TO, uint8_t>) return TO(v != TI(0));
  else return TO(v);
}

}  // namespace

void unary_cuda(int dev, int op, const IgnisCudaIter& it, double p0, double p1) {
  if (op < 0 || op >= kUnaryCount) fail("ValueError", "unary: unknown op code");
  IGNIS_CUDA_DISPATCH_ALL(it.op[1].dtype, T, "unary", unary_t<T>(dev, op, it, p0, p1));
}

void binary_cuda(int dev, int op, const IgnisCudaIter& it) {
  if (op < 0 || op >= kBinaryCount) fail("ValueError", "binary: unknown op code");
  IGNIS_CUDA_DISPATCH_ALL(it.op[1].dtype, T, "binary", binary_t<T>(dev, op, it));
}

void where_cuda(int dev, const IgnisCudaIter& it) {
  int64_t n = 1;
  for (int d = 0; d < it.ndim; ++d) n *= it.shape[d];
  if (n == 0) return;
  int mode;
  DIter<4> di = to_diter<4>(it, &mode, false);
  IGNIS_CUDA_DISPATCH_ALL(it.op[0].dtype, T, "where", {
    where_kernel<T><<<blocks_for(n, 256, 4), 256, 0, stream(dev)>>>(di, n, mode);
    prof::launch(blocks_for(n, 256, 4), 256);
  });
  IGNIS_CUDA_CHECK(cudaGetLastError(), "where");
}

void copy_cuda(int dev, const IgnisCudaIter& it) {
  IGNIS_CUDA_DISPATCH_ALL(it.op[0].dtype, TO, "copy", {
    IGNIS_CUDA_DISPATCH_ALL(it.op[1].dtype, TI, "copy", {
      launch_ew<TO, TI, 1>(dev, it, [] __device__(TI v) -> TO { return convert<TO, TI>(v); }, "copy");
    });
  });
}

namespace {
// per block: the largest |a - b| (0 where the two are equal, NaN in both included; +inf where only
// one is NaN) and the largest |b| that is not NaN
template <class T>
__global__ void max_abs_diff_kernel(const T* a, const T* b, int64_t n, double* part) {
  __shared__ double sd[256], sm[256];
  double d = 0, m = 0;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const double x = double(a[i]), y = double(b[i]);
    const bool xn = x != x, yn = y != y;
    const double e = (xn || yn) ? (xn && yn ? 0.0 : INFINITY) : x == y ? 0.0 : fabs(x - y);
    d = fmax(d, e);
    if (!yn) m = fmax(m, fabs(y));
  }
  sd[threadIdx.x] = d;
  sm[threadIdx.x] = m;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w) {
      sd[threadIdx.x] = fmax(sd[threadIdx.x], sd[threadIdx.x + w]);
      sm[threadIdx.x] = fmax(sm[threadIdx.x], sm[threadIdx.x + w]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    part[2 * blockIdx.x] = sd[0];
    part[2 * blockIdx.x + 1] = sm[0];
  }
}
}  // namespace

void max_abs_diff_cuda(int dev, int dtype, const void* a, const void* b, int64_t n, double* diff, double* mag) {
  *diff = *mag = 0;
  if (n <= 0) return;
  if (dtype != 0 && dtype != 1) fail("DTypeError", "max_abs_diff: float32 or float64 only");
  const unsigned blocks = std::min(blocks_for(n, 256), 256u);
  Scratch part(dev, size_t(blocks) * 2 * sizeof(double));
  cudaStream_t st = stream(dev);
  if (dtype == 0)
    max_abs_diff_kernel<float><<<blocks, 256, 0, st>>>(static_cast<const float*>(a), static_cast<const float*>(b), n,
                                                       static_cast<double*>(part.p));
  else
    max_abs_diff_kernel<double><<<blocks, 256, 0, st>>>(static_cast<const double*>(a), static_cast<const double*>(b), n,
                                                        static_cast<double*>(part.p));
  IGNIS_CUDA_CHECK(cudaGetLastError(), "max_abs_diff");
  std::vector<double> host(size_t(blocks) * 2, 0.0);
  IGNIS_CUDA_CHECK(cudaMemcpyAsync(host.data(), part.p, host.size() * sizeof(double), cudaMemcpyDeviceToHost, st),
                   "max_abs_diff");
  IGNIS_CUDA_CHECK(cudaStreamSynchronize(st), "max_abs_diff");
  for (unsigned i = 0; i < blocks; ++i) {
    *diff = std::max(*diff, host[2 * i]);
    *mag = std::max(*mag, host[2 * i + 1]);
  }
}

}  // namespace ignis_cuda
