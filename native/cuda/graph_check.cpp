// ignis_cuda_graph_check: builds every conv + bias + activation graph conv_graph.cpp can ask cuDNN
// for (each activation with a pointwise mode or a composition of them, with and without bias,
// keeping z or not, float32 and float64, grouped and strided) without a GPU, through the operation
// graph's step: every tensor, convolution and pointwise descriptor (a composition's by-value
// constants included) must finalize, and the operation graph, which needs a cuDNN handle (a
// device), must be the first step cuDNN refuses. Run by test/cuda/graph_descriptors.test.ts on
// machines without a GPU, so the descriptor code is checked where CI runs. Prints one line per
// graph ("ok ..." or "FAIL ...") and exits 1 on any failure.
#include "conv_graph.cpp"  // NOLINT: the internals under test (anonymous namespace)

#include <cstdio>

namespace ignis_cuda {
// the few library symbols conv_graph.cpp uses; none of them runs before the operation graph
thread_local Flags g_flags;
void fail(const std::string& kind, const std::string& msg) { throw CudaError(kind, msg); }
void* dev_malloc(int, size_t) { return nullptr; }
void dev_free(int, void*, size_t) {}
cudaStream_t stream(int) { return nullptr; }
void check_cuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess) fail("DeviceError", what);
}
void max_abs_diff_cuda(int, int, const void*, const void*, int64_t, double*, double*) {}
namespace hostt {  // the host-time tally: off here
const bool g_on = false;
int64_t now_ns() { return 0; }
void add(const char*, int64_t) {}
}  // namespace hostt
}  // namespace ignis_cuda

using namespace ignis_cuda;

int main() {
  int failures = 0, graphs = 0;
  const double params[][4] = {{0.2, 20, 0, 0}, {-0.5, 0.7, 0, 0}};
  for (int dtype : {0, 1})
    for (int grouped : {0, 1})
      for (int keep : {0, 1})
        for (int bias : {0, 1})
          for (int act = -1; act < A_COUNT; ++act)
            for (const auto& p : params) {
              if (act < 0 && (!bias || keep)) continue;  // conv2d_graph_fwd's own early returns
              Act a{};
              if (act >= 0 && !pointwise_for(act, p, dtype, a)) continue;
              IgnisCudaConv s{};
              s.dtype = dtype;
              s.N = 2; s.C = grouped ? 4 : 3; s.H = 9; s.W = 10; s.O = 4; s.kh = 3; s.kw = 3;
              s.sh = 1; s.sw = grouped ? 2 : 1; s.dh = s.dw = 1; s.pt = s.pl = 1; s.G = grouped ? 2 : 1;
              s.OH = (s.H + 2 * s.pt - s.dh * (s.kh - 1) - 1) / s.sh + 1;
              s.OW = (s.W + 2 * s.pl - s.dw * (s.kw - 1) - 1) / s.sw + 1;
              const int64_t align[5] = {16, 16, 16, 16, dtype == 0 ? 4 : 8};
              Plan plan;
              char what[160];
              std::snprintf(what, sizeof what, "%s, groups %lld, %s bias, %s z, activation %d (p0 %g, p1 %g)",
                            dtype == 0 ? "float32" : "float64", (long long)s.G, bias ? "with" : "no",
                            keep ? "keeping" : "no", act, p[0], p[1]);
              ++graphs;
              try {
                build(plan, nullptr, s, bias != 0, act >= 0 ? &a : nullptr, align, keep != 0);
                std::printf("FAIL %s: built without a handle\n", what);
                ++failures;
              } catch (const Decline& d) {
                const bool ok = std::string(d.step) == "operation graph";
                std::printf("%s %s: stopped at %s (%s), %zu descriptors\n", ok ? "ok  " : "FAIL", what, d.step,
                            cudnnGetErrorString(d.st), plan.keep.size());
                failures += ok ? 0 : 1;
              }
            }
  // run_graph's no-engine memo: once the heuristics list no engine for one graph of a family, the
  // family's other shapes are declined without a build; a decline at any other step, or a graph
  // without a family, is tried per shape
  {
    int builds = 0;
    const char* at = kNoEngine;
    auto declining = [&](Plan&) {
      ++builds;
      throw Decline{CUDNN_STATUS_NOT_SUPPORTED, at};
    };
    const int64_t uids[1] = {UID_X};
    void* const ptrs[1] = {nullptr};
    GraphRun ran;
    auto attempt = [&](const char* key, const char* family) {
      return run_graph(0, nullptr, key, declining, uids, ptrs, 1, "memo check", "", [] {}, ran, family, Output{});
    };
    const bool r1 = attempt("memo 1", "family A"), r2 = attempt("memo 2", "family A");
    const bool r3 = attempt("memo 3", "family B"), r4 = attempt("memo 3", "family B");  // the same shape again: cached
    at = "operation graph";
    const bool r5 = attempt("memo 5", "family C"), r6 = attempt("memo 6", "family C");
    const bool r7 = attempt("memo 7", ""), r8 = attempt("memo 8", "");
    const bool ok = !(r1 || r2 || r3 || r4 || r5 || r6 || r7 || r8) && builds == 1 + 1 + 2 + 2;
    std::printf("%s no-engine memo: %d builds for 8 attempts (expected 6)\n", ok ? "ok  " : "FAIL", builds);
    failures += ok ? 0 : 1;
  }
  std::printf("%d graphs, %d failures\n", graphs, failures);
  return failures ? 1 : 0;
}
