// matmul through cuBLAS: C[b] = A[b] @ B[b] for row-major [M, K] x [K, N] with any strides in
// which one of the two matrix dims is unit-stride (others are packed first with the copy kernel).
// Row-major C = A B is column-major C^T = B^T A^T, so B goes first. TF32 only when
// ignis.backends.cuda.matmul.allowTf32 (PyTorch's default: off).
#include <cublas_v2.h>

#include <mutex>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "profile.h"

namespace ignis_cuda {
namespace {

std::mutex g_mu;
std::vector<cublasHandle_t> g_handles;
std::vector<cudaStream_t> g_streams;  // the stream each handle was last bound to

const char* status_name(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "cuBLAS error";
  }
}

void check(cublasStatus_t s, const std::string& what) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  fail(s == CUBLAS_STATUS_ALLOC_FAILED ? "MemoryError" : "DeviceError", what + ": " + status_name(s));
}

// The device's handle, bound to its stream. The stream is set when it differs from the one set last
// (once: a device keeps its stream): cublasSetStream also resets the handle's workspace to the
// default pool, work not worth repeating on every matmul.
cublasHandle_t handle(int dev) {
  cudaStream_t st = stream(dev);  // also makes dev current
  std::lock_guard<std::mutex> lk(g_mu);
  if (int(g_handles.size()) <= dev) {
    g_handles.resize(size_t(dev) + 1, nullptr);
    g_streams.resize(size_t(dev) + 1, nullptr);
  }
  if (!g_handles[size_t(dev)]) check(cublasCreate(&g_handles[size_t(dev)]), "matmul: cublasCreate");
  if (g_streams[size_t(dev)] != st) {
    check(cublasSetStream(g_handles[size_t(dev)], st), "matmul: cublasSetStream");
    g_streams[size_t(dev)] = st;
  }
  return g_handles[size_t(dev)];
}

// Packs a strided [B, R, C] operand into a contiguous scratch buffer with the copy kernel.
const void* pack(int dev, int dtype, int64_t B, int64_t R, int64_t C, const void* src, const int64_t* s,
                 Scratch& buf, int64_t* out_s) {
  const int64_t es = int64_t(dtype_size(dtype));
  IgnisCudaIter it{};
  it.ndim = 3;
  it.nops = 2;
  it.shape[0] = B; it.shape[1] = R; it.shape[2] = C;
  it.op[0].data = static_cast<char*>(buf.p);
  it.op[0].dtype = dtype;
  it.op[0].strides[0] = R * C * es; it.op[0].strides[1] = C * es; it.op[0].strides[2] = es;
  it.op[1].data = const_cast<char*>(static_cast<const char*>(src));
  it.op[1].dtype = dtype;
  for (int i = 0; i < 3; ++i) it.op[1].strides[i] = s[i] * es;
  copy_cuda(dev, it);
  out_s[0] = R * C; out_s[1] = C; out_s[2] = 1;
  return buf.p;
}

}  // namespace

size_t cublas_version() {
  int ma = 0, mi = 0, pa = 0;
  cublasGetProperty(MAJOR_VERSION, &ma);
  cublasGetProperty(MINOR_VERSION, &mi);
  cublasGetProperty(PATCH_LEVEL, &pa);
  return size_t(ma) * 10000 + size_t(mi) * 100 + size_t(pa);
}

void bmm_cuda(int dev, int dtype, int64_t B, int64_t M, int64_t K, int64_t N, const void* a, const int64_t* sa_in,
              const void* b, const int64_t* sb_in, void* c) {
  hostt::Scope ts("matmul (whole call)");
  if (dtype != 0 && dtype != 1)
    fail("DTypeError", std::string("matmul: cuda supports float32 and float64, got ") + dtype_name(dtype));
  const int64_t es = int64_t(dtype_size(dtype));
  if (B == 0 || M == 0 || N == 0) return;
  cudaStream_t st = stream(dev);
  if (K == 0) {
    IGNIS_CUDA_CHECK(cudaMemsetAsync(c, 0, size_t(B * M * N * es), st), "matmul");
    return;
  }
  const int64_t kMax = 2147483647LL;
  if (M > kMax || N > kMax || K > kMax || B > kMax) fail("ShapeError", "matmul: dims above 2^31 are not supported on cuda");
  int64_t sa[3] = {sa_in[0], sa_in[1], sa_in[2]}, sb[3] = {sb_in[0], sb_in[1], sb_in[2]};
  // a size-1 dim's stride is free: make it whatever keeps the operand unit-stride
  if (M == 1) sa[1] = K;
  if (K == 1) { sa[2] = 1; sb[1] = N; }
  if (N == 1) sb[2] = 1;
  // usable directly: row-major with row stride >= cols, or column-major with col stride >= rows
  auto direct = [](const int64_t* s, int64_t R, int64_t C) { return (s[2] == 1 && s[1] >= C) || (s[1] == 1 && s[2] >= R); };
  Scratch bufa(dev, direct(sa, M, K) ? 0 : size_t(B * M * K * es));
  Scratch bufb(dev, direct(sb, K, N) ? 0 : size_t(B * K * N * es));
  if (bufa.p) a = pack(dev, dtype, B, M, K, a, sa, bufa, sa);
  if (bufb.p) b = pack(dev, dtype, B, K, N, b, sb, bufb, sb);
  // column-major views: A^T is [K, M], B^T is [N, K]
  cublasOperation_t opA, opB;
  int64_t lda, ldb;
  if (sa[2] == 1 && sa[1] >= K) { opA = CUBLAS_OP_N; lda = sa[1]; }
  else { opA = CUBLAS_OP_T; lda = sa[2]; }
  if (sb[2] == 1 && sb[1] >= N) { opB = CUBLAS_OP_N; ldb = sb[1]; }
  else { opB = CUBLAS_OP_T; ldb = sb[2]; }
  if (lda > kMax || ldb > kMax) fail("ShapeError", "matmul: leading dimension above 2^31 on cuda");
  cublasHandle_t h = handle(dev);
  check(cublasSetMathMode(h, (dtype == 0 && g_flags.tf32_matmul) ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
        "matmul: cublasSetMathMode");
  // one matrix: the plain GEMM, as PyTorch's mm calls it. On an H200 the seed CNN's Linear matmuls
  // ([256, 4096] x [4096, 64] and their gradients, a few us of arithmetic each) showed 35-40 us
  // each between the profiler's events around the strided batched call with a batch of 1 (cuBLAS's
  // own host time inside the call counts there when the GPU waits for it); the plain call gets the
  // kernels and host path PyTorch gets. The next GPU run says how much of that was which.
  const bool single = B == 1;
  hostt::Scope tg(single ? "cublas{S,D}gemm" : "cublas{S,D}gemmStridedBatched");
  cublasStatus_t gs;
  if (single && dtype == 0) {
    const float one = 1, zero = 0;
    gs = cublasSgemm(h, opB, opA, int(N), int(M), int(K), &one, static_cast<const float*>(b), int(ldb),
                     static_cast<const float*>(a), int(lda), &zero, static_cast<float*>(c), int(N));
  } else if (single) {
    const double one = 1, zero = 0;
    gs = cublasDgemm(h, opB, opA, int(N), int(M), int(K), &one, static_cast<const double*>(b), int(ldb),
                     static_cast<const double*>(a), int(lda), &zero, static_cast<double*>(c), int(N));
  } else if (dtype == 0) {
    const float one = 1, zero = 0;
    gs = cublasSgemmStridedBatched(h, opB, opA, int(N), int(M), int(K), &one, static_cast<const float*>(b), int(ldb),
                                   sb[0], static_cast<const float*>(a), int(lda), sa[0], &zero, static_cast<float*>(c),
                                   int(N), M * N, int(B));
  } else {
    const double one = 1, zero = 0;
    gs = cublasDgemmStridedBatched(h, opB, opA, int(N), int(M), int(K), &one, static_cast<const double*>(b), int(ldb),
                                   sb[0], static_cast<const double*>(a), int(lda), sa[0], &zero,
                                   static_cast<double*>(c), int(N), M * N, int(B));
  }
  // the message (its shapes) is built only for a failure: this is every matmul's host path
  if (gs != CUBLAS_STATUS_SUCCESS)
    check(gs, "matmul [" + std::to_string(B) + ", " + std::to_string(M) + ", " + std::to_string(K) + "] @ [" +
                  std::to_string(B) + ", " + std::to_string(K) + ", " + std::to_string(N) + "]");
  // cuBLAS picks its kernel inside the call (the legacy API does not say which): the record names
  // the default algorithm and the math mode it ran with
  if (prof::on())
    prof::library(single ? (dtype == 0 ? "cublasSgemm" : "cublasDgemm")
                         : (dtype == 0 ? "cublasSgemmStridedBatched" : "cublasDgemmStridedBatched"),
                  (dtype == 0 && g_flags.tf32_matmul) ? "CUBLAS_GEMM_DEFAULT, TF32" : "CUBLAS_GEMM_DEFAULT", -1, -1);
}

}  // namespace ignis_cuda
