// Vectorisable elementary functions for the elementwise kernels (activations.def).
//
// GCC does not vectorise calls to std::exp / std::tanh / std::erf / std::log1p (no -ffast-math,
// no libmvec), so an activation that calls them runs one element at a time. The functions here
// are written only with arithmetic, comparisons / selects (?:) and bit casts - no branches, no
// library calls, no tables - so that, inlined into a `#pragma omp simd` loop, they compile to
// straight vector code for every ISA build (default x86-64, AVX2, AVX-512). FMA is used where the
// build has it (__FMA__), plain multiply-add otherwise; both stay within the error bounds below.
//
// Method: Cody-Waite range reduction (x = n ln2 + r, |r| <= ln2/2, ln2 split in a short high
// part and a low part so that n * hi is exact) followed by a polynomial; the polynomial
// coefficients are near-minimax Chebyshev fits computed for this file (mpmath.chebyfit, degree
// and fit error next to each table). Measured max error, float32 exhaustively over all 2^32 inputs
// against double libm (AVX-512 build; the no-FMA default build is within 0.05 ulp of these), float64
// on 4M inputs per function (half in the working range, half random bit patterns) against long
// double libm:
//            exp    expm1  log    log1p  tanh   sigmoid* erf    (log1p_01 on [0, 1]: 0.86)
//   float32  0.99   1.44   0.86   1.29   1.50   2.48     1.35   ulp
//   float64  0.97   1.76   1.05   1.20   1.49   2.27     1.09   ulp
// * sigmoid is PyTorch's 1 / (1 + exp(-x)): exp(-x) carries its own ulp into the quotient, and the
//   result flushes to 0 once exp(-x) reaches 2^128 (x < -88.37, true value < 4.3e-39; double
//   x < -709.4) - PyTorch's flushes below -88.72.
// Special values follow C99 Annex F: exp(-inf) = 0, exp(+inf) = +inf, expm1(-inf) = -1,
// log(0) = -inf, log(<0) = nan, log1p(-1) = -inf, f(nan) = nan, and the odd functions
// (expm1, log1p, tanh, erf) keep the sign of zero. Overflow gives +inf, underflow gradual
// subnormals then 0 (exp); sigmoid is PyTorch's 1/(1+exp(-x)) and flushes to 0 below x = -88.72.
#pragma once
#include <cmath>  // M_SQRT1_2
#include <cstddef>
#include <cstdint>
#include <limits>

#if defined(__GNUC__)
#define IGNIS_VM_INLINE inline __attribute__((always_inline))
#else
#define IGNIS_VM_INLINE inline
#endif

namespace ignis {
namespace vm {
namespace detail {

template <class To, class From>
IGNIS_VM_INLINE To bits(From x) { return __builtin_bit_cast(To, x); }

IGNIS_VM_INLINE float fma_(float a, float b, float c) {
#if defined(__FMA__)
  return __builtin_fmaf(a, b, c);
#else
  return a * b + c;
#endif
}
IGNIS_VM_INLINE double fma_(double a, double b, double c) {
#if defined(__FMA__)
  return __builtin_fma(a, b, c);
#else
  return a * b + c;
#endif
}

// c ? a : b, with both a and b evaluated: a bitwise blend. GCC's if-conversion will not
// speculate floating-point arithmetic that sits in one arm of ?: (-ftrapping-math is on), so
// `c ? x : f(x)` stays a branch - and the loop scalar - on AVX2 / SSE (AVX-512 masks it).
IGNIS_VM_INLINE float sel(bool c, float a, float b) {
  uint32_t m = 0u - uint32_t(c);
  return bits<float>((bits<uint32_t>(a) & m) | (bits<uint32_t>(b) & ~m));
}
IGNIS_VM_INLINE double sel(bool c, double a, double b) {
  uint64_t m = 0ull - uint64_t(c);
  return bits<double>((bits<uint64_t>(a) & m) | (bits<uint64_t>(b) & ~m));
}

// c[0] + c[1] x + ... + c[N-1] x^(N-1), Horner, unrolled at compile time.
template <std::size_t I, class T, std::size_t N>
IGNIS_VM_INLINE T horner_(const T (&c)[N], T x, T acc) {
  if constexpr (I == 0) return acc;
  else return horner_<I - 1>(c, x, fma_(acc, x, c[I - 1]));
}
template <class T, std::size_t N>
IGNIS_VM_INLINE T horner(const T (&c)[N], T x) { return horner_<N - 1>(c, x, c[N - 1]); }

IGNIS_VM_INLINE float abs_(float x) { return bits<float>(bits<uint32_t>(x) & 0x7fffffffu); }
IGNIS_VM_INLINE double abs_(double x) { return bits<double>(bits<uint64_t>(x) & 0x7fffffffffffffffull); }
// |mag| with the sign of s
IGNIS_VM_INLINE float copysign_(float mag, float s) {
  return bits<float>((bits<uint32_t>(mag) & 0x7fffffffu) | (bits<uint32_t>(s) & 0x80000000u));
}
IGNIS_VM_INLINE double copysign_(double mag, double s) {
  return bits<double>((bits<uint64_t>(mag) & 0x7fffffffffffffffull) | (bits<uint64_t>(s) & 0x8000000000000000ull));
}

// ---- coefficient tables (see the header comment) ------------------------------------------------
// (e^r - 1 - r) / r^2
// kExpG32: degree 5 on [-0.353505, 0.353505], fit error 1.58e-9
constexpr float kExpG32[6] = {0x1p-1f, 0x1.555556p-3f, 0x1.5554ep-5f, 0x1.1110dcp-7f, 0x1.6d4f3cp-10f, 0x1.a12fbp-13f};
// kExpG64: degree 11 on [-0.353505, 0.353505], fit error 2.19e-20
constexpr double kExpG64[12] = {0x1p-1, 0x1.5555555555555p-3, 0x1.5555555555557p-5, 0x1.1111111111112p-7,
                                0x1.6c16c16c15763p-10, 0x1.a01a01a01951p-13, 0x1.a01a01ab24e51p-16, 0x1.71de3a5b4fde6p-19,
                                0x1.27e4d0de7522ep-22, 0x1.ae64291102b99p-26, 0x1.1f8502faecc8fp-29, 0x1.61c5e94230f13p-33};
// (log(1+f) - f + f^2/2) / f^3
// kLogQ32: degree 8 on [-0.297893, 0.419214], fit error 3.3e-8
constexpr float kLogQ32[9] = {0x1.555554p-2f, -0x1.fffffap-3f, 0x1.999dcp-3f, -0x1.555cap-3f, 0x1.23c48cp-3f,
                              -0x1.fc9bf2p-4f, 0x1.df62bp-4f, -0x1.d9458ap-4f, 0x1.1f6facp-4f};
// the same on [-0.25, 0.5] for log1p_01
// kLogQ01_32: degree 8 on [-0.25, 0.5], fit error 2.84e-8
constexpr float kLogQ01_32[9] = {0x1.555556p-2f, -0x1.000026p-2f, 0x1.999a56p-3f, -0x1.5536aap-3f, 0x1.243704p-3f,
                                 -0x1.02da64p-3f, 0x1.de70d4p-4f, -0x1.87a1eap-4f, 0x1.5f350ep-5f};
// (2 atanh(s) / s - 2) / s^2 as a function of w = s^2
// kLogW64: degree 8 on [0, 0.03033], fit error 1.84e-20
constexpr double kLogW64[9] = {0x1.5555555555555p-1, 0x1.9999999999998p-2, 0x1.2492492492a7bp-2,
                               0x1.c71c71c622d27p-3, 0x1.745d17eab6b15p-3, 0x1.3b137422d0931p-3,
                               0x1.111e5470b11f9p-3, 0x1.de8aead8cf92fp-4, 0x1.e87f7c29b01bbp-4};
// (tanh(x) - x) / x^3 as a function of z = x^2, |x| < 0.5625
// kTanhT32: degree 5 on [0, 0.31957], fit error 5.18e-10
constexpr float kTanhT32[6] = {-0x1.555556p-2f, 0x1.111102p-3f, -0x1.ba1284p-5f, 0x1.65573ap-6f, -0x1.164c5ap-7f, 0x1.44e9fp-9f};
// kTanhT64: degree 10 on [0, 0.31957], fit error 1.36e-17
constexpr double kTanhT64[11] = {-0x1.5555555555555p-2, 0x1.1111111110f9cp-3, -0x1.ba1ba1b9edf51p-5, 0x1.664f48713f32bp-6,
                                 -0x1.226e31eaee69dp-7, 0x1.d6d304efb7a5fp-9, -0x1.7d94a3d109fa1p-10, 0x1.34a742ffcbcdfp-11,
                                 -0x1.eab18a5c50b59p-13, 0x1.609e5c35f9bb6p-14, -0x1.4dd64c4408d7dp-16};
// erf(x) / x - 1 as a function of z = x^2 (erf = x + x Q(x^2): the leading term is exact)
// kErfS32: degree 6 on [0, 1], fit error 1.24e-9
constexpr float kErfS32[7] = {0x1.06eba8p-3f, -0x1.81273ep-2f, 0x1.ce2d1p-4f, -0x1.b7fabap-6f, 0x1.54127p-8f, -0x1.a45088p-11f, 0x1.4a569p-14f};
// kErfS64: degree 13 on [0, 1], fit error 2.16e-21
constexpr double kErfS64[14] = {0x1.06eba8214db69p-3, -0x1.812746b0379e7p-2, 0x1.ce2f21a042bdep-4, -0x1.b82ce312889bap-6, 0x1.565bcd0e6502dp-8, -0x1.c02db3feeb579p-11, 0x1.f9a326c233146p-14, -0x1.f4d2561aeafd4p-17, 0x1.b9e6509b9867dp-20, -0x1.5f6d925a0bc7ap-23, 0x1.fc4356498c2d9p-27, -0x1.4e607b41a6416p-30, 0x1.7f072188e194dp-34, -0x1.29b9f1b3df556p-38};
// erf(x) for 1 <= x <= 3.925 (erf = 1 in float32 above), polynomial in (x - 2.5)
// kErfL32: degree 14 on [1, 3.925] in (x - 2.5), fit error 7.51e-9 (absolute)
constexpr float kErfL32[15] = {0x1.ffcaa8p-1f, 0x1.1d80b4p-9f, -0x1.64e158p-8f, 0x1.11a81ap-7f, -0x1.1a94a8p-7f,
                               0x1.907c9cp-8f, -0x1.6e3e5cp-9f, 0x1.2410aep-11f, 0x1.0a29eep-12f, -0x1.18c97ep-12f,
                               0x1.63853ap-14f, 0x1.166a9p-16f, -0x1.1e6306p-16f, 0x1.6dbd6cp-21f, 0x1.233e06p-20f};
// x erfcx(x) = x e^(x^2) erfc(x) for 1 <= x <= 6 (erf = 1 in float64 above), polynomial in (1/x - 7/12)
// kErfL64: degree 24 on [1/6, 1] in (1/x - 7/12), fit error 1.17e-17 (relative)
constexpr double kErfL64[25] = {0x1.fc96239a8a6bdp-2, -0x1.5e5e9e35879b1p-3, -0x1.6d934c361aae9p-7, 0x1.602e01db008cdp-4,
                                -0x1.6ac066fc2673bp-4, 0x1.a2096f24053a6p-5, -0x1.e8bedfa33467fp-12, -0x1.5d8dad3eef6f6p-5,
                                0x1.0c5721cd6abe4p-4, -0x1.02238209f598ap-4, 0x1.3271609f5b1cdp-5, 0x1.aad62af2548fap-9,
                                -0x1.81a82850906e1p-5, 0x1.4b2c804afa835p-4, -0x1.7f4436460edb4p-4, 0x1.46a1a8119ba2p-4,
                                -0x1.10548c1aa22fdp-5, -0x1.adc30f8f741dbp-5, 0x1.e1edc75d89497p-4, -0x1.2fb46358fae8bp-4,
                                0x1.43f00aa6b8432p-3, -0x1.1cc0238328b98p-1, 0x1.473c939ddb0f9p-2, 0x1.9de0edcc8f13dp-1,
                                -0x1.b1f921bcd945p-1};

// erfcx(a) / t with t = 1 / (1 + 0.4 a), a = (1 - t) / (0.4 t) >= 0, polynomial in t on [0.2, 1]
// (a <= 10), for vm::normal_cdf (float): erfc(a) = t R(t) e^(-a^2) (the Numerical Recipes erfcc
// form, refitted). kErfcR32: degree 8, chebyfit, fit error 3.8e-8 (relative < 1e-7).
constexpr float kErfcR32[9] = {0x1.ce12c0p-3f, 0x1.d03a12p-3f, 0x1.99db46p-3f, 0x1.9b1ee8p-3f, 0x1.f786e4p-5f,
                               0x1.da8e90p-4f, 0x1.ded466p-5f, -0x1.0502a2p-3f, 0x1.3b7632p-5f};
// kErfcR32 / 2 (exact: exponents - 1), for vm::gelu.
constexpr float kErfcHalfR32[9] = {0x1.ce12c0p-4f, 0x1.d03a12p-4f, 0x1.99db46p-4f, 0x1.9b1ee8p-4f, 0x1.f786e4p-6f,
                                   0x1.da8e90p-5f, 0x1.ded466p-6f, -0x1.0502a2p-4f, 0x1.3b7632p-6f};
// e^r = 1 + r (1 + r P(r)), P = kExpD6_32 (low degree first) on [-ln2/2, ln2/2]: degree 6 overall,
// relative fit error 3.8e-9 (least squares at Chebyshev nodes, relative weight), for vm::gauss.
constexpr float kExpD6_32[5] = {0x1.fffff8p-2f, 0x1.55548ep-3f, 0x1.555b5cp-5f, 0x1.123bdcp-7f, 0x1.687b46p-10f};

// ---- per-type constants --------------------------------------------------------------------------
template <class T> struct K;
template <> struct K<float> {
  using U = uint32_t;
  static constexpr float magic = 0x1.8p23f;  // t + magic rounds t to an integer held in the low bits
  static constexpr float log2e = 0x1.715476p+0f;
  static constexpr float ln2_hi = 0x1.63p-1f;  // 0.693359375: 9 bits, n * ln2_hi exact for |n| < 2^15
  static constexpr float ln2_lo = -0x1.bd0106p-13f;  // ln2 - ln2_hi
  static constexpr int mant = 23;
  static constexpr U bias = 127;
  static constexpr U sqrt_half_off = 0x3f800000u - 0x3f3504f3u;  // 1.0 - sqrt(0.5) in bits
  static constexpr float exp_lo = -104.f, exp_hi = 89.f;  // exp(x) = 0 / inf beyond
  static constexpr float expm1_lo = -18.f, expm1_hi = 88.8f;  // expm1(x) = -1 below
  static constexpr float tanh_hi = 9.f;  // tanh(x) = 1 above
};
template <> struct K<double> {
  using U = uint64_t;
  static constexpr double magic = 0x1.8p52;
  static constexpr double log2e = 0x1.71547652b82fep+0;
  static constexpr double ln2_hi = 0x1.62e42feep-1;  // 32 bits: n * ln2_hi exact for |n| < 2^21
  static constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
  static constexpr int mant = 52;
  static constexpr U bias = 1023;
  static constexpr U sqrt_half_off = 0x3ff0000000000000ull - 0x3fe6a09e667f3bcdull;
  static constexpr double exp_lo = -746., exp_hi = 710.;
  static constexpr double expm1_lo = -40., expm1_hi = 709.8;
  static constexpr double tanh_hi = 20.;
};

template <class T> IGNIS_VM_INLINE T clamp_(T x, T lo, T hi) {
  // keeps nan (both comparisons false)
  x = sel(x < lo, lo, x);
  return sel(x > hi, hi, x);
}

// x = n ln2 + r with n integral and |r| <= ln2/2 (slightly more without FMA). Returns n.
template <class T> IGNIS_VM_INLINE T reduce_ln2(T x, T& r) {
  T n = fma_(x, K<T>::log2e, K<T>::magic) - K<T>::magic;
  r = fma_(n, -K<T>::ln2_hi, x);
  r = fma_(n, -K<T>::ln2_lo, r);
  return n;
}

// 2^n for integral n in the normal exponent range.
template <class T> IGNIS_VM_INLINE T pow2i(T n) {
  using U = typename K<T>::U;
  // n + magic holds n in its low mantissa bits; the shift drops magic's own bits.
  return bits<T>(U(bits<U>(n + K<T>::magic) + K<T>::bias) << K<T>::mant);
}

// expm1(r) for |r| <= ~0.36
IGNIS_VM_INLINE float expm1_r(float r) { return fma_(r * r, horner(kExpG32, r), r); }
IGNIS_VM_INLINE double expm1_r(double r) { return fma_(r * r, horner(kExpG64, r), r); }

// expm1(x) for x in [expm1_lo, ~ln2 * (max exponent - 1)]: no overflow handling, sign of zero lost.
template <class T> IGNIS_VM_INLINE T expm1_core(T x) {
  T r;
  T n = reduce_ln2(x, r);
  T p = expm1_r(r);
  T t = pow2i(n);
  return fma_(t, p, t - T(1));  // 2^n (1 + p) - 1; t - 1 is exact for the n that matter
}

// tanh(a) for 0 <= a < 0.5625
IGNIS_VM_INLINE float tanh_small(float a) { return fma_(a * (a * a), horner(kTanhT32, a * a), a); }
IGNIS_VM_INLINE double tanh_small(double a) { return fma_(a * (a * a), horner(kTanhT64, a * a), a); }

// log(m) for m = 1 + f, f in [sqrt(1/2) - 1, sqrt(2) - 1]
IGNIS_VM_INLINE float log1p_f(float f) {
  float f2 = f * f;
  float hf2 = 0.5f * f2;
  return f + fma_(f2 * f, horner(kLogQ32, f), -hf2);
}
IGNIS_VM_INLINE double log1p_f(double f) {
  double s = f / (2.0 + f);
  double w = s * s;
  double hf2 = 0.5 * f * f;
  double R = w * horner(kLogW64, w);
  return f - (hf2 - s * (hf2 + R));
}

// Splits u > 0 (normal) as 2^k m, m in [sqrt(1/2), sqrt(2)); returns k as T, m in `m`.
template <class T> IGNIS_VM_INLINE T split_exp(T u, T& m) {
  using U = typename K<T>::U;
  U iu = bits<U>(u) + K<T>::sqrt_half_off;  // moves the m = sqrt(1/2) boundary onto an exponent step
  U kb = iu >> K<T>::mant;                  // biased k (u > 0: no sign bit)
  U im = (iu & ((U(1) << K<T>::mant) - 1)) + (bits<U>(T(1)) - K<T>::sqrt_half_off);
  m = bits<T>(im);
  // biased k -> T through the magic constant (no int -> float conversion needed)
  return bits<T>(bits<U>(K<T>::magic) + kb) - K<T>::magic - T(K<T>::bias);
}

}  // namespace detail

// ---- public functions -----------------------------------------------------------------------------

using detail::sel;

template <class T> IGNIS_VM_INLINE T exp(T x) {
  using namespace detail;
  T xc = clamp_(x, K<T>::exp_lo, K<T>::exp_hi);
  T r;
  T n = reduce_ln2(xc, r);
  T p = T(1) + expm1_r(r);
  // 2^n as two factors so that the subnormal range and the overflow boundary round once, correctly
  T n1 = (n * T(0.5) + K<T>::magic) - K<T>::magic;
  T n2 = n - n1;
  return (p * pow2i(n1)) * pow2i(n2);
}

// exp(x) for callers that add it to 1 (sigmoid): one power-of-two factor instead of two, results below
// the normal range come out as if x were -87.3 (float) / -708 (double), i.e. <= 1.2e-38 / 2.3e-308.
// Overflow still gives +inf.
template <class T> IGNIS_VM_INLINE T exp_normal(T x) {
  using namespace detail;
  const T lo = sizeof(T) == 4 ? T(-87.3) : T(-708.3);
  T xc = clamp_(x, lo, K<T>::exp_hi);
  T r;
  T n = reduce_ln2(xc, r);
  return (T(1) + expm1_r(r)) * pow2i(n);  // n = max exponent + 1 encodes +inf
}

// exp(x) for x <= 0 (or nan) only - softmax's exp(x - max x) and exp of a logSoftmax output: the
// same value as vm::exp there, bit for bit, with fewer operations. No upper clamp; 2^n is read from
// the bits of the rounding sum k = n + magic (no second add), and instead of exp's two power-of-two
// factors the scale is 2^(n + mant + 2) (normal for every n the clamp lets through: float n >= -150,
// double n >= -1076) times 2^-(mant + 2), a single rounding into the subnormal range, as in exp.
// x > 0 gives garbage (not checked).
template <class T> IGNIS_VM_INLINE T exp_nonpos(T x) {
  using namespace detail;
  using U = typename K<T>::U;
  constexpr int kPre = K<T>::mant + 2;  // 2^kPre lifts the lowest n into the normal range
  T xc = sel(x < K<T>::exp_lo, K<T>::exp_lo, x);  // keeps nan
  T k = fma_(xc, K<T>::log2e, K<T>::magic);
  T n = k - K<T>::magic;
  T r = fma_(n, -K<T>::ln2_hi, xc);
  r = fma_(n, -K<T>::ln2_lo, r);
  T p = T(1) + expm1_r(r);
  T scale = bits<T>(U(bits<U>(k) + K<T>::bias + kPre) << K<T>::mant);
  return (p * scale) * (T(1) / T(U(1) << kPre));
}

template <class T> IGNIS_VM_INLINE T expm1(T x) {
  using namespace detail;
  T xc = clamp_(x, K<T>::expm1_lo, K<T>::expm1_hi);
  T r;
  T n = reduce_ln2(xc, r);
  T p = expm1_r(r);
  const T nmax = T(K<T>::bias);  // 2^nmax is the largest power of two
  T big = sel(n > nmax, T(2), T(1));
  T nn = sel(n > nmax, nmax, n);
  T t = pow2i(nn);
  T y = fma_(t, p, t - T(1)) * big;  // overflows to +inf past the top of the range
  return sel(x == T(0), x, y);       // expm1(-0) = -0
}

template <class T> IGNIS_VM_INLINE T log1p(T x) {
  using namespace detail;
  T u = T(1) + x;
  T m;
  T k = split_exp(u, m);
  // k == 0: f = x exactly. Otherwise f = m - 1 and c / u restores the bits of x lost in 1 + x.
  T c = sel(u < T(2), x - (u - T(1)), T(1) - (u - x));
  T f = sel(k == T(0), x, m - T(1));
  T cu = sel(k == T(0), T(0), c / u);
  T y = log1p_f(f);
  y = (fma_(k, K<T>::ln2_lo, cu) + y) + k * K<T>::ln2_hi;
  y = sel(x == std::numeric_limits<T>::infinity(), x, y);
  y = sel(u == T(0), -std::numeric_limits<T>::infinity(), y);
  y = sel(u < T(0), std::numeric_limits<T>::quiet_NaN(), y);
  y = sel(x != x, x, y);
  return sel(x == T(0), x, y);  // log1p(-0) = -0
}

// e^(-x^2 / 2), with x^2 split into hi + lo exactly (FMA builds) so that the result keeps full
// relative accuracy for large |x| (rounding x^2 alone costs x^2/2 * 2^-24 relative, 1e-6 at x = 5).
// 0 once x^2 / 2 leaves the normal range of exp (|x| > 13.2 in float, 37.6 in double).
template <class T> IGNIS_VM_INLINE T gauss(T x) {
  T hi = x * x;
  T lo = detail::fma_(x, x, -hi);  // 0 without FMA
  T y = vm::exp_normal(T(-0.5) * hi) * (T(1) - T(0.5) * lo);
  return detail::sel(hi > (sizeof(T) == 4 ? T(174.6) : T(1416.6)), T(0), y);  // keeps nan
}
// float: the same value from a leaner exp (the argument h = -x^2/2 is <= 0 and goes to 0 below the
// normal range, so exp_normal's clamps are not needed - the last select covers it, garbage bits
// included): h = m x with m = -x/2 (exact) and lo = fma(m, x, -h) its exact remainder, so
// e^(h + lo) = e^h (1 + lo); e^h = 2^n e^r with a degree-6 polynomial (kExpD6_32, relative fit
// error 3.8e-9) and 2^n taken from the bits of the rounding constant sum (no second add). Max
// relative error 1.2e-7 (2 ulp) where the result is normal; 1/3 of the cost of the generic path.
IGNIS_VM_INLINE float gauss(float x) {
  using namespace detail;
  float m = -0.5f * x;
  float h = m * x;
  float lo = fma_(m, x, -h);  // 0 without FMA
  float k = fma_(h, K<float>::log2e, K<float>::magic);
  float n = k - K<float>::magic;
  float r = fma_(n, -K<float>::ln2_hi, h);
  r = fma_(n, -K<float>::ln2_lo, r);
  float p = fma_(horner(kExpD6_32, r), r, 1.f);
  p = fma_(p, r, 1.f);
  float e = p * bits<float>(uint32_t(bits<uint32_t>(k) + K<float>::bias) << K<float>::mant);
  e = fma_(lo, e, e);
  return sel(h < -87.3f, 0.f, e);  // keeps nan (h nan: e nan)
}

// Phi(x) = P(N(0,1) <= x) = erfc(-x / sqrt 2) / 2 in float, given g = gauss(x) = e^(-x^2/2) (which
// carries the exact x^2). With a = |x| / sqrt 2 and t = 1 / (1 + 0.4 a): erfc(a) = t R(t) g, and
// Phi = erfc / 2 (x < 0) or 1 - erfc / 2 (x >= 0) - one exp (in g, shared with gelu's derivative),
// one division and one polynomial, no cancellation in the left tail (1 + erf would lose it all).
// Max relative error 4.5e-7 (7.6 ulp) over every float x in [-13, 10] (AVX-512 build, against
// double erfc); Phi underflows below x = -13.2. nan gives nan, -inf gives 0 (x * Phi = nan, as
// PyTorch's), +inf gives 1.
IGNIS_VM_INLINE float normal_cdf(float x, float g) {
  using namespace detail;
  float z = x * float(M_SQRT1_2);
  float t = 1.f / fma_(0.4f, abs_(z), 1.f);
  float half_erfc = (0.5f * g) * (t * horner(kErfcR32, t));
  return sel(z < 0.f, half_erfc, 1.f - half_erfc);
}

// GELU(x) = x Phi(x) in float from the same erfc form, using Phi(x) = 1 - Phi(-x):
// GELU(x) = relu(x) - |x| erfc(|x| / sqrt 2) / 2 = relu(x) - (|x| t) (R(t) / 2) e^(-x^2/2),
// t = 1 / (1 + 0.4 |x| / sqrt 2): no sign select on Phi, no 1 - erfc; relu keeps -0 (gelu(-0) = -0)
// and nan. Above x = 6 GELU(x) rounds to x (1 - Phi(6) < 1e-9), which also gives +inf at +inf
// (the product would be inf * 0); -inf gives nan, as PyTorch's x * Phi. Max relative error 4.5e-7
// on every 1e-4 step of [-13.5, 8] where |GELU| > 1e-36 (against double erfc), as x * normal_cdf;
// 1.45x faster than it (AVX-512, 1 thread, in cache).
IGNIS_VM_INLINE float gelu(float x) {
  using namespace detail;
  float a = abs_(x);
  float t = 1.f / fma_(0.4f * float(M_SQRT1_2), a, 1.f);
  float h = (a * t) * (horner(kErfcHalfR32, t) * gauss(x));
  float y = (x < 0.f ? 0.f : x) - h;
  return sel(x > 6.f, x, y);
}

// log1p(t) for t in [0, 1] (or nan) only - the log1p(exp(-|z|)) of softplus / logsigmoid. No range
// handling is needed there: 1 + t = 2^k (1 + f) with k = (t >= 0.5) and f = (t - 1) / 2 (exact),
// else f = t (exact), so there is no correction term either. float32 max error 0.9 ulp.
IGNIS_VM_INLINE float log1p_01(float t) {
  using namespace detail;
  bool hi = t >= 0.5f;
  float f = sel(hi, (t - 1.f) * 0.5f, t);
  float f2 = f * f;
  float y = f + fma_(f2 * f, horner(kLogQ01_32, f), -0.5f * f2);
  return sel(hi, (y + K<float>::ln2_lo) + K<float>::ln2_hi, y);
}
IGNIS_VM_INLINE double log1p_01(double t) { return vm::log1p(t); }

template <class T> IGNIS_VM_INLINE T log(T x) {
  using namespace detail;
  // subnormals: scale into the normal range first
  const T tiny = std::numeric_limits<T>::min();
  const T up = T(uint64_t(1) << K<T>::mant) * T(4);  // 2^(mant+2)
  T xs = sel(x < tiny, x * up, x);
  T m;
  T k = split_exp(xs, m);
  k = sel(x < tiny, k - T(K<T>::mant + 2), k);
  T y = log1p_f(m - T(1));
  y = fma_(k, K<T>::ln2_lo, y) + k * K<T>::ln2_hi;
  y = sel(x == std::numeric_limits<T>::infinity(), x, y);
  y = sel(x == T(0), -std::numeric_limits<T>::infinity(), y);
  y = sel(x < T(0), std::numeric_limits<T>::quiet_NaN(), y);
  return sel(x != x, x, y);
}

template <class T> IGNIS_VM_INLINE T tanh(T x) {
  using namespace detail;
  // |x| < 0.5625: odd polynomial. Above: tanh |x| = e / (e + 2), e = expm1(2 |x|) >= 2.08, with |x|
  // clamped where tanh rounds to 1.
  T a = abs_(x);
  T ac = sel(a > K<T>::tanh_hi, K<T>::tanh_hi, a);  // keeps nan
  T e = expm1_core(T(2) * ac);
  T y = sel(a < T(0.5625), tanh_small(a), e / (e + T(2)));
  return copysign_(y, x);
}

// 1 / (1 + exp(-x)), PyTorch's formula: exp(-x) overflows to +inf below x = -88.72 (float), where the
// result flushes to 0 (the true value is < 3e-39) as PyTorch's does.
template <class T> IGNIS_VM_INLINE T sigmoid(T x) { return T(1) / (T(1) + vm::exp_normal(-x)); }
// x sigmoid(x) = x / (1 + exp(-x)) (PyTorch's silu)
template <class T> IGNIS_VM_INLINE T silu(T x) { return x / (T(1) + vm::exp_normal(-x)); }

IGNIS_VM_INLINE float erf(float x) {
  using namespace detail;
  float a = abs_(x);
  float small = fma_(a, horner(kErfS32, a * a), a);
  float t = sel(a > 3.925f, 3.925f, a) - 2.5f;
  float large = horner(kErfL32, t);
  float y = sel(a < 1.f, small, large);
  y = sel(y > 1.f, 1.f, y);
  y = sel(a >= 3.925f, 1.f, y);
  return copysign_(y, x);
}

IGNIS_VM_INLINE double erf(double x) {
  using namespace detail;
  double a = abs_(x);
  double small = fma_(a, horner(kErfS64, a * a), a);
  // erfc(a) = e^(-a^2) / a * E(1/a)
  double ac = clamp_(a, 1.0, 6.0);
  double t = 1.0 / ac;
  double erfc = vm::exp(-(ac * ac)) * (t * horner(kErfL64, t - 7.0 / 12.0));
  double y = sel(a < 1.0, small, 1.0 - erfc);
  y = sel(a >= 6.0, 1.0, y);
  y = sel(a != a, a, y);
  return copysign_(y, x);
}

// The helper names the op tables' formulas call (ops/unary.def, ops/activations.def,
// ops/activation_math.h): every backend defines them; on the CPU they are the functions above.
namespace defs {
template <class T> IGNIS_VM_INLINE T exp_(T x) { return vm::exp(x); }
template <class T> IGNIS_VM_INLINE T log_(T x) { return vm::log(x); }
template <class T> IGNIS_VM_INLINE T log1p_(T x) { return vm::log1p(x); }
template <class T> IGNIS_VM_INLINE T expm1_(T x) { return vm::expm1(x); }
template <class T> IGNIS_VM_INLINE T tanh_(T x) { return vm::tanh(x); }
template <class T> IGNIS_VM_INLINE T erf_(T x) { return vm::erf(x); }
template <class T> IGNIS_VM_INLINE T sigmoid_(T x) { return vm::sigmoid(x); }
}  // namespace defs

}  // namespace vm
}  // namespace ignis
