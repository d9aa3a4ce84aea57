// Matrix multiply: oneDNN for float32 when the build found it, a blocked OpenMP loop otherwise
// (and always for float64 and integers, which oneDNN's CPU matmul does not take).
#include "matmul.h"

#include <cstring>
#include <map>
#include <mutex>
#include <array>
#include <vector>

#include "../core/error.h"
#include "../core/parallel.h"

#ifdef IGNIS_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace ignis {

bool have_onednn() {
#ifdef IGNIS_HAVE_DNNL
  return true;
#else
  return false;
#endif
}

namespace {

// out[M,N] = A[M,K] @ B[K,N]; B is packed row-major so the inner loop is unit stride.
template <class T>
void gemm_ref(int64_t B, int64_t M, int64_t K, int64_t N, const MatArg& a, const MatArg& b, T* out) {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
  std::vector<T> packed(static_cast<size_t>(K * N));
  for (int64_t bi = 0; bi < B; ++bi) {
    const T* A = reinterpret_cast<const T*>(a.data) + bi * a.s[0];
    const T* Bm = reinterpret_cast<const T*>(b.data) + bi * b.s[0];
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) packed[size_t(k * N + j)] = Bm[k * b.s[1] + j * b.s[2]];
    T* C = out + bi * M * N;
    const T* P = packed.data();
    parallel_for(M, K * N, [&](int64_t i0, int64_t i1) {
      std::vector<Acc> row(static_cast<size_t>(N));
      for (int64_t i = i0; i < i1; ++i) {
        std::fill(row.begin(), row.end(), Acc(0));
        Acc* __restrict r = row.data();
        for (int64_t k = 0; k < K; ++k) {
          const Acc av = Acc(A[i * a.s[1] + k * a.s[2]]);
          const T* __restrict pk = P + k * N;
#pragma omp simd
          for (int64_t j = 0; j < N; ++j) r[j] += av * Acc(pk[j]);
        }
        for (int64_t j = 0; j < N; ++j) C[i * N + j] = T(r[j]);
      }
    });
  }
}

#ifdef IGNIS_HAVE_DNNL
struct Dnnl {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
  std::map<std::array<int64_t, 10>, dnnl::matmul> cache;
  std::mutex mu;
};
Dnnl& dnnl_state() {
  static Dnnl d;
  return d;
}

bool gemm_dnnl(int64_t B, int64_t M, int64_t K, int64_t N, const MatArg& a, const MatArg& b, float* out) {
  using namespace dnnl;
  Dnnl& d = dnnl_state();
  std::array<int64_t, 10> key{B, M, K, N, a.s[0], a.s[1], a.s[2], b.s[0], b.s[1], b.s[2]};
  // Batch strides are irrelevant when B == 1; normalise so the primitive is reused.
  if (B == 1) { key[4] = 0; key[7] = 0; }
  memory::dims ad{B, M, K}, bd{B, K, N}, cd{B, M, N};
  memory::dims as{B == 1 ? M * K : a.s[0], a.s[1], a.s[2]}, bs{B == 1 ? K * N : b.s[0], b.s[1], b.s[2]};
  memory::desc amd(ad, memory::data_type::f32, as), bmd(bd, memory::data_type::f32, bs),
      cmd(cd, memory::data_type::f32, memory::format_tag::abc);
  std::lock_guard<std::mutex> g(d.mu);
  auto it = d.cache.find(key);
  if (it == d.cache.end()) {
    try {
      matmul::primitive_desc pd(matmul::desc(amd, bmd, cmd), d.eng);
      if (d.cache.size() > 512) d.cache.clear();
      it = d.cache.emplace(key, matmul(pd)).first;
    } catch (const dnnl::error&) {
      return false;  // layout oneDNN does not take: the reference path handles it
    }
  }
  memory am(amd, d.eng, const_cast<char*>(a.data)), bm(bmd, d.eng, const_cast<char*>(b.data)), cm(cmd, d.eng, out);
  it->second.execute(d.strm, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  d.strm.wait();
  return true;
}
#endif

}  // namespace

void bmm_fwd_cpu(DType dt, int64_t B, int64_t M, int64_t K, int64_t N, const MatArg& a, const MatArg& b, char* out) {
  if (B * M * N == 0) return;
  if (K == 0) {
    std::memset(out, 0, size_t(B * M * N) * dtype_size(dt));
    return;
  }
#ifdef IGNIS_HAVE_DNNL
  if (dt == DType::f32 && gemm_dnnl(B, M, K, N, a, b, reinterpret_cast<float*>(out))) return;
#endif
  switch (dt) {
    case DType::f32: return gemm_ref<float>(B, M, K, N, a, b, reinterpret_cast<float*>(out));
    case DType::f64: return gemm_ref<double>(B, M, K, N, a, b, reinterpret_cast<double*>(out));
    case DType::i32: return gemm_ref<int32_t>(B, M, K, N, a, b, reinterpret_cast<int32_t*>(out));
    case DType::i64: return gemm_ref<int64_t>(B, M, K, N, a, b, reinterpret_cast<int64_t*>(out));
    default: throw Error("DTypeError", "matmul: bool tensors are not supported");
  }
}

}  // namespace ignis
