// Batch normalization on the CPU over x viewed as [N, C, S] (S = product of spatial dims, 1 for
// [N, C]). oneDNN batch_normalization for float32, OpenMP loops otherwise. PyTorch semantics:
// batch statistics with the biased variance for normalizing, the unbiased one for the running
// update; eval mode normalizes with the running statistics.
#pragma once
#include <cstdint>

#include "../core/dtype.h"

namespace ignis {

struct BnShape {
  DType dt = DType::f32;
  int64_t N = 0, C = 0, S = 1;
  double eps = 1e-5, momentum = 0.1;
  bool training = true;
};

// w, b, rm, rv may be null. Training: writes the batch mean / biased variance into smean / svar
// and updates rm / rv in place. Eval: normalizes with rm / rv (required) and copies them into
// smean / svar for the backward pass.
void batchnorm_fwd_cpu(const BnShape& s, const char* x, const char* w, const char* b, char* rm, char* rv, char* y,
                       char* smean, char* svar, bool onednn);
// dx always, dw / db when non-null.
void batchnorm_bwd_cpu(const BnShape& s, const char* x, const char* dy, const char* w, const char* smean, const char* svar,
                       char* dx, char* dw, char* db, bool onednn);

}  // namespace ignis
