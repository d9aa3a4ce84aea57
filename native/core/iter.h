// Strided N-d iteration over up to four operands, the shape TensorIterator has in PyTorch.
// JS describes every operand (dtype, element offset, element strides — 0 on broadcast dims) in a
// shared Float64Array (see src/native.ts, writeOperand); read_iter() turns that into byte pointers,
// checks that every access stays inside its storage, and merges dims that are contiguous together.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "dtype.h"
#include "error.h"
#include "parallel.h"

namespace ignis {

constexpr int kMaxDims = 16;
constexpr int kMaxOperands = 4;

struct Operand {
  char* data = nullptr;  // points at the operand's first element
  DType dtype = DType::f32;
  int64_t strides[kMaxDims] = {};  // in bytes
  bool scalar = false;
  double value = 0;  // for scalar operands
  alignas(8) char scalar_buf[8] = {};
};

struct Iter {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int nops = 0;
  Operand op[kMaxOperands];

  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= shape[d];
    return n;
  }

  // Merge dim d into d+1 when every operand walks them as one run. Keeps at least one dim.
  void coalesce() {
    if (ndim <= 1) return;
    int out = ndim - 1;  // we build from the innermost dim outward
    int64_t nshape[kMaxDims];
    int64_t nstr[kMaxOperands][kMaxDims];
    nshape[out] = shape[ndim - 1];
    for (int k = 0; k < nops; ++k) nstr[k][out] = op[k].strides[ndim - 1];
    for (int d = ndim - 2; d >= 0; --d) {
      bool can = true;
      if (shape[d] != 1 && nshape[out] != 1) {
        for (int k = 0; k < nops; ++k)
          if (op[k].strides[d] != nstr[k][out] * nshape[out]) { can = false; break; }
      }
      if (can) {
        if (nshape[out] == 1) {
          for (int k = 0; k < nops; ++k) nstr[k][out] = op[k].strides[d];
        }
        nshape[out] *= shape[d];
      } else {
        --out;
        nshape[out] = shape[d];
        for (int k = 0; k < nops; ++k) nstr[k][out] = op[k].strides[d];
      }
    }
    int nd = ndim - out;
    for (int d = 0; d < nd; ++d) {
      shape[d] = nshape[out + d];
      for (int k = 0; k < nops; ++k) op[k].strides[d] = nstr[k][out + d];
    }
    ndim = nd;
  }
};

// Walks [begin, end) of the iteration space in row pieces: fn(ptrs, inner_strides, count).
template <class F>
inline void iter_range(const Iter& it, int64_t begin, int64_t end, F&& fn) {
  const int nd = it.ndim;
  char* ptrs[kMaxOperands];
  int64_t inner[kMaxOperands];
  if (nd == 0) {
    for (int k = 0; k < it.nops; ++k) { ptrs[k] = it.op[k].data; inner[k] = 0; }
    if (begin < end) fn(ptrs, inner, int64_t(1));
    return;
  }
  for (int k = 0; k < it.nops; ++k) inner[k] = it.op[k].strides[nd - 1];
  int64_t idx[kMaxDims];
  int64_t rem = begin;
  for (int d = nd - 1; d >= 0; --d) { idx[d] = rem % it.shape[d]; rem /= it.shape[d]; }
  while (begin < end) {
    int64_t cnt = std::min(it.shape[nd - 1] - idx[nd - 1], end - begin);
    for (int k = 0; k < it.nops; ++k) {
      char* p = it.op[k].data;
      for (int d = 0; d < nd; ++d) p += idx[d] * it.op[k].strides[d];
      ptrs[k] = p;
    }
    fn(ptrs, inner, cnt);
    begin += cnt;
    idx[nd - 1] += cnt;
    for (int d = nd - 1; d > 0 && idx[d] >= it.shape[d]; --d) { idx[d] = 0; idx[d - 1]++; }
  }
}

template <class F>
inline void iter_for_each(const Iter& it, int64_t cost, F&& fn) {
  parallel_for(it.numel(), cost, [&](int64_t b, int64_t e) { iter_range(it, b, e, fn); }, kElementwiseGrain);
}

template <class F>
inline void iter_for_each_serial(const Iter& it, F&& fn) {
  iter_range(it, 0, it.numel(), fn);
}

// Fill a scalar operand's buffer with its value converted to the operand's dtype.
inline void materialize_scalar(Operand& o) {
  IGNIS_DISPATCH_ALL(o.dtype, T, {
    T v;
    if constexpr (std::is_same_v<T, uint8_t>) v = o.value != 0;
    else v = static_cast<T>(o.value);
    std::memcpy(o.scalar_buf, &v, sizeof(T));
  });
  o.data = o.scalar_buf;
  std::fill(o.strides, o.strides + kMaxDims, 0);
}

}  // namespace ignis
