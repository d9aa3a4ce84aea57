// Fast approximations of the expensive activations (issue 3 section 5): the `approx: 'fast'` forward
// kernels, the ACT_FAST rows of ops/activations.def. Same rules as vmath.h (arithmetic, selects and
// bit casts only: no branches, tables or library calls, so the `omp simd` loops vectorise), but with
// accuracy traded for speed - fewer polynomial terms, and rationals where the exact kernels
// evaluate exp / erfc:
//   exp        2^n e^r, e^r = 1 + r P(r), P of degree 3 (exact kernel: degree 6 plus a split 2^n),
//              relative error 3.0e-6 (fit), no subnormal results
//   log1p      t P(t) on t in [0, 1] only, P of degree 5, no range reduction, abs error 1.5e-6 (fit)
//   tanh       odd [7/6] minimax rational on [-7.1, 7.1] (fit error 1.0e-6), clamped outside
//              (1 - tanh(7.1) = 1.4e-6): abs error 1.25e-6 over every 4th float32 in [-30, 30]
//   (gelu with approximate='tanh' uses the tanh above, with the tails made exact: x and -0)
//   Phi - 1/2  odd [7/6] minimax rational on [-4.75, 4.75] fitted for x (Phi - Phi~) (GELU's error,
//              fit 4.7e-6), Phi~ = 0 / 1 outside (tail 4.8e-6): GELU abs error 5.4e-6 (same sweep)
// (fits: differential-correction rational / polynomial minimax against mpmath, float32 coefficients).
// The errors of the activations built on these - each measured over the float32 range by
// test/activations/approx.test.ts and quoted in src/activations/table.ts - are what the API promises;
// the figures above are the fits alone. Speed vs the exact kernels: bench/RESULTS.md.
//
// Limits: these return the mathematical limit at ±inf (silu(-inf) = gelu(-inf) = mish(-inf) = 0,
// never inf/inf or inf * 0 = nan) - the exact kernels, like PyTorch's, give nan there. nan
// propagates. Only float32 uses these (the CPU kernels run float64 requests through the exact rows).
#pragma once
#include "vmath.h"

namespace ignis {
namespace vm {
namespace fast {

using detail::fma_;
using detail::horner;
using detail::sel;

// (e^r - 1) / r on |r| <= ln2/2 (+1%), relative error of 1 + r P(r): 3.0e-6
constexpr float kExpP[4] = {0x1.fffb84p-1f, 0x1.000448p-1f, 0x1.57da5cp-3f, 0x1.53f85ep-5f};
// log1p(t) / t on [0, 1], log1p abs error 1.5e-6
constexpr float kLog1pP[6] = {0x1.fff328p-1f, -0x1.fdd3eep-2f, 0x1.454988p-2f, -0x1.8ce05cp-3f, 0x1.5e9604p-4f, -0x1.2c9406p-6f};
// tanh(x) ~ x P(x^2) / Q(x^2) on [0, 7.1]
constexpr float kTanhC = 7.1f;
constexpr float kTanhP[4] = {0x1.ffff6p-1f, 0x1.f75bcap-4f, 0x1.28ea3cp-9f, 0x1.040be2p-18f};
constexpr float kTanhQ[4] = {1.f, 0x1.d328p-2f, 0x1.5859c6p-6f, 0x1.27dea4p-13f};
// Phi(x) - 1/2 ~ x P(x^2) / Q(x^2) on [0, 4.75]
constexpr float kPhiC = 4.75f;
constexpr float kPhiP[4] = {0x1.987c2cp-2f, 0x1.ce277p-6f, 0x1.f1485cp-9f, 0x1.0ad79ap-15f};
constexpr float kPhiQ[4] = {1.f, 0x1.e5d88p-3f, 0x1.8b44d6p-6f, 0x1.292e9cp-10f};

// e^x: x clamped to [-87.3, 88.8] (results below 2^-126 come out as ~1.2e-38, above 88.72 as +inf)
IGNIS_VM_INLINE float exp(float x) {
  using namespace detail;
  float xc = clamp_(x, -87.3f, 88.8f);
  float n = fma_(xc, K<float>::log2e, K<float>::magic) - K<float>::magic;
  float r = fma_(n, -0x1.62e43p-1f, xc);  // one-part ln2: |n| <= 128 costs < 3e-7 relative
  return fma_(r, horner(kExpP, r), 1.f) * pow2i(n);
}

// e^x - 1: 2^n (1 + r P) - 1 = t r P + (t - 1), exact for n = 0 (no cancellation near 0)
IGNIS_VM_INLINE float expm1(float x) {
  using namespace detail;
  float xc = clamp_(x, -87.3f, 88.8f);
  float n = fma_(xc, K<float>::log2e, K<float>::magic) - K<float>::magic;
  float r = fma_(n, -0x1.62e43p-1f, xc);
  float t = pow2i(n);
  return fma_(t, r * horner(kExpP, r), t - 1.f);
}

// log1p(t) for t in [0, 1] (or nan)
IGNIS_VM_INLINE float log1p_01(float t) { return t * horner(kLog1pP, t); }

IGNIS_VM_INLINE float tanh(float x) {
  float a = detail::clamp_(x, -kTanhC, kTanhC);  // keeps nan and -0
  float z = a * a;
  return a * horner(kTanhP, z) / horner(kTanhQ, z);
}

// 1 / (1 + e^-x)
IGNIS_VM_INLINE float sigmoid(float x) { return 1.f / (1.f + fast::exp(-x)); }

// x sigmoid(x) (silu, swish with x = beta x): 0 where sigmoid is 0 (x * 0 would be nan at x = -inf)
IGNIS_VM_INLINE float mul_sigmoid(float x, float bx) {
  float s = fast::sigmoid(bx);
  return sel(s == 0.f, 0.f, x * s);
}

// x Phi(x)
IGNIS_VM_INLINE float gelu(float x) {
  float z = x * x;
  float h = fma_(x, horner(kPhiP, z) / horner(kPhiQ, z), 0.5f);
  return sel(x < -kPhiC, -0.f, sel(x > kPhiC, x, x * h));
}

// x (1 + tanh(u)) / 2, u = sqrt(2 / pi) (x + 0.044715 x^3) (PyTorch's approximate='tanh' GELU): x past
// u = 7.1 (where tanh_fast clamps), -0 below u = -7.1, so the error never grows with |x|.
IGNIS_VM_INLINE float gelu_tanh(float x) {
  float u = 0x1.988454p-1f * fma_(0.044715f * x, x * x, x);
  float y = (0.5f * x) * (1.f + fast::tanh(u));
  return sel(u < -kTanhC, -0.f, sel(u > kTanhC, x, y));
}

// x tanh(softplus(x)) = x n / (n + 2), n = e (e + 2), e = e^x: x clamped below at -100, where
// mish(x) > -4e-42 (the clamp keeps -inf from reaching x * tiny = -inf), above at 20 (mish = x).
IGNIS_VM_INLINE float mish(float x) {
  float xc = detail::clamp_(x, -100.f, 20.f);
  float e = fast::exp(xc);
  float n = e * (e + 2.f);
  return sel(x > 20.f, x, xc * (n / (n + 2.f)));
}

// log(1 + e^z) = max(z, 0) + log1p(e^-|z|)
IGNIS_VM_INLINE float softplus(float z) {
  return sel(z < 0.f, 0.f, z) + fast::log1p_01(fast::exp(-detail::abs_(z)));
}

}  // namespace fast
}  // namespace vm
}  // namespace ignis
