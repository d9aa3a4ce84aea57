// Optimizer update loops (see optim.h). Compiled once per ISA. Each formula follows PyTorch's
// single-tensor implementation (torch/optim/*.py, _single_tensor_*) operation by operation, in the
// parameter's dtype with the scalars cast to it, so that results agree to rounding.
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/error.h"
#include "../core/parallel.h"
#include "optim.h"

namespace ignis {
namespace IGNIS_ISA_NS {

namespace {

constexpr int64_t kChunk = 8192;  // elements per work unit

// torch.lerp: self + w * (end - self) for |w| < 0.5, else end - (end - self) * (1 - w)
template <class T>
inline T lerp(T self, T end, T w) {
  return std::abs(w) < T(0.5) ? self + w * (end - self) : end - (end - self) * (T(1) - w);
}

template <class T>
void sgd(const double* h, const OptimItem& it, int64_t b, int64_t e) {
  const T momentum = T(h[1]), damp1 = T(1 - h[2]);
  const bool nesterov = h[3] != 0, maximize = h[5] != 0, has_wd = h[4] != 0, has_mom = h[1] != 0;
  const T wd = T(h[4]), neg_lr = T(-h[0]);
  const bool first = it.x[0] != 0;
  T* __restrict p = reinterpret_cast<T*>(it.p);
  const T* __restrict g = reinterpret_cast<const T*>(it.g);
  T* __restrict buf = reinterpret_cast<T*>(it.s[0]);
  if (!has_mom) {
    for (int64_t i = b; i < e; ++i) {
      T gi = maximize ? -g[i] : g[i];
      if (has_wd) gi = gi + wd * p[i];
      p[i] = p[i] + neg_lr * gi;
    }
    return;
  }
  for (int64_t i = b; i < e; ++i) {
    T gi = maximize ? -g[i] : g[i];
    if (has_wd) gi = gi + wd * p[i];
    T bi = first ? gi : buf[i] * momentum + damp1 * gi;
    buf[i] = bi;
    T d = nesterov ? gi + momentum * bi : bi;
    p[i] = p[i] + neg_lr * d;
  }
}

template <class T, bool Amsgrad>
void adam(const double* h, const OptimItem& it, int64_t b, int64_t e) {
  const T w1 = T(1 - h[1]), beta2 = T(h[2]), c2 = T(1 - h[2]), eps = T(h[3]);
  const T wd = T(h[4]);
  const bool has_wd = h[4] != 0, maximize = h[6] != 0, decoupled = h[7] != 0;
  const T decay = T(1 - h[0] * h[4]);
  const T neg_step = T(-it.x[0]), bc2_sqrt = T(it.x[1]);
  T* __restrict p = reinterpret_cast<T*>(it.p);
  const T* __restrict g = reinterpret_cast<const T*>(it.g);
  T* __restrict m = reinterpret_cast<T*>(it.s[0]);
  T* __restrict v = reinterpret_cast<T*>(it.s[1]);
  T* __restrict vmax = reinterpret_cast<T*>(it.s[2]);
  const bool lerp_lo = std::abs(w1) < T(0.5);
  const T w1c = T(1) - w1;
  for (int64_t i = b; i < e; ++i) {
    T gi = maximize ? -g[i] : g[i];
    T pi = p[i];
    if (has_wd) {
      if (decoupled) pi = pi * decay;
      else gi = gi + wd * pi;
    }
    T mi = m[i];
    mi = lerp_lo ? mi + w1 * (gi - mi) : gi - (gi - mi) * w1c;
    m[i] = mi;
    T vi = v[i] * beta2 + c2 * gi * gi;
    v[i] = vi;
    if (Amsgrad) {
      vi = std::max(vmax[i], vi);
      vmax[i] = vi;
    }
    T denom = std::sqrt(vi) / bc2_sqrt + eps;
    p[i] = pi + neg_step * mi / denom;
  }
}

template <class T>
void rmsprop(const double* h, const OptimItem& it, int64_t b, int64_t e) {
  const T neg_lr = T(-h[0]), alpha = T(h[1]), c = T(1 - h[1]), eps = T(h[2]), wd = T(h[3]), momentum = T(h[4]);
  const bool has_wd = h[3] != 0, has_mom = h[4] > 0, centered = h[5] != 0, maximize = h[6] != 0;
  T* __restrict p = reinterpret_cast<T*>(it.p);
  const T* __restrict g = reinterpret_cast<const T*>(it.g);
  T* __restrict sq = reinterpret_cast<T*>(it.s[0]);
  T* __restrict buf = reinterpret_cast<T*>(it.s[1]);
  T* __restrict ga = reinterpret_cast<T*>(it.s[2]);
  for (int64_t i = b; i < e; ++i) {
    T gi = maximize ? -g[i] : g[i];
    if (has_wd) gi = gi + wd * p[i];
    T si = sq[i] * alpha + c * gi * gi;
    sq[i] = si;
    T avg;
    if (centered) {
      T gai = lerp(ga[i], gi, c);
      ga[i] = gai;
      avg = std::sqrt(si + T(-1) * gai * gai);
    } else {
      avg = std::sqrt(si);
    }
    avg = avg + eps;
    if (has_mom) {
      T bi = buf[i] * momentum + gi / avg;
      buf[i] = bi;
      p[i] = p[i] + neg_lr * bi;
    } else {
      p[i] = p[i] + neg_lr * gi / avg;
    }
  }
}

template <class T>
void adagrad(const double* h, const OptimItem& it, int64_t b, int64_t e) {
  const T eps = T(h[0]), wd = T(h[1]), neg_clr = T(-it.x[0]);
  const bool has_wd = h[1] != 0, maximize = h[2] != 0;
  T* __restrict p = reinterpret_cast<T*>(it.p);
  const T* __restrict g = reinterpret_cast<const T*>(it.g);
  T* __restrict sum = reinterpret_cast<T*>(it.s[0]);
  for (int64_t i = b; i < e; ++i) {
    T gi = maximize ? -g[i] : g[i];
    if (has_wd) gi = gi + wd * p[i];
    T si = sum[i] + gi * gi;
    sum[i] = si;
    T std_ = std::sqrt(si) + eps;
    p[i] = p[i] + neg_clr * gi / std_;
  }
}

template <class T>
void run(const OptimArgs& a) {
  using Fn = void (*)(const double*, const OptimItem&, int64_t, int64_t);
  Fn fn = nullptr;
  int64_t cost = 4;
  switch (a.kind) {
    case OptimKind::sgd: fn = sgd<T>; cost = 3; break;
    case OptimKind::adam: fn = a.hyper[5] != 0 ? adam<T, true> : adam<T, false>; cost = 10; break;
    case OptimKind::rmsprop: fn = rmsprop<T>; cost = 8; break;
    case OptimKind::adagrad: fn = adagrad<T>; cost = 8; break;
  }
  if (!fn) throw Error("ValueError", "optimizer step: unknown optimizer kind");
  // Work units: (item, begin, end) slices of at most kChunk elements, so that many small and a few
  // big parameters spread evenly over the threads in one parallel region.
  struct Unit { int32_t item; int64_t b, e; };
  std::vector<Unit> units;
  int64_t total = 0, elems = 0;
  for (int64_t k = 0; k < a.count; ++k) {
    total += (a.items[k].n + kChunk - 1) / kChunk;
    elems += a.items[k].n;
  }
  if (total == 0) return;
  units.reserve(size_t(total));
  for (int64_t k = 0; k < a.count; ++k)
    for (int64_t b = 0; b < a.items[k].n; b += kChunk) units.push_back({int32_t(k), b, std::min(a.items[k].n, b + kChunk)});
  const double* h = a.hyper;
  // cost per unit: the average slice length times the work per element
  parallel_for(int64_t(units.size()), std::max<int64_t>(1, elems / total) * cost, [&](int64_t ub, int64_t ue) {
    for (int64_t u = ub; u < ue; ++u) fn(h, a.items[units[size_t(u)].item], units[size_t(u)].b, units[size_t(u)].e);
  });
}

}  // namespace

void optim_step(const OptimArgs& a) {
  IGNIS_DISPATCH_FLOAT(a.dtype, T, "optimizer step", run<T>(a));
}

}  // namespace IGNIS_ISA_NS
}  // namespace ignis
