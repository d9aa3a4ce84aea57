// Scalar helpers shared by the elementwise tables; NaN semantics follow PyTorch. Also compiled
// into the CUDA kernels (native/cuda/elementwise.cu), hence IGNIS_HD.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#ifdef __CUDACC__
#define IGNIS_HD __host__ __device__
#else
#define IGNIS_HD
#endif

namespace ignis {

template <class T> IGNIS_HD inline T floor_(T x) { if constexpr (std::is_floating_point_v<T>) return std::floor(x); else return x; }
template <class T> IGNIS_HD inline T ceil_(T x) { if constexpr (std::is_floating_point_v<T>) return std::ceil(x); else return x; }
// PyTorch rounds half to even.
template <class T> IGNIS_HD inline T round_(T x) { if constexpr (std::is_floating_point_v<T>) return std::nearbyint(x); else return x; }

template <class T> IGNIS_HD inline T max_(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) { if (a != a) return a; if (b != b) return b; }
  return a > b ? a : b;
}
template <class T> IGNIS_HD inline T min_(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) { if (a != a) return a; if (b != b) return b; }
  return a < b ? a : b;
}

template <class T> IGNIS_HD inline T clamp_(T x, double lo, double hi) {
  if constexpr (std::is_floating_point_v<T>) {
    T l = T(lo), h = T(hi);
    return x < l ? l : (x > h ? h : x);
  } else {
    double v = double(x);
    v = v < lo ? lo : (v > hi ? hi : v);
    return T(v);
  }
}

template <class T> IGNIS_HD inline T pow_(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::pow(a, b);
  } else {
    if (b < 0) return a == 1 ? T(1) : (a == T(-1) ? T((b & 1) ? -1 : 1) : T(0));
    T r = 1, base = a;
    auto e = b;
    while (e) { if (e & 1) r = T(r * base); base = T(base * base); e >>= 1; }
    return r;
  }
}

// Integer division by 0 or INT_MIN / -1 would trap (SIGFPE): define them instead of crashing.
template <class T> IGNIS_HD inline T div_(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return a / b;
  else if constexpr (std::is_same_v<T, uint8_t>) return b == 0 ? T(0) : T(a / b);
  else return b == 0 ? T(0) : (b == T(-1) ? T(T(0) - a) : T(a / b));
}
template <class T> IGNIS_HD inline T fmod_(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return std::fmod(a, b);
  else return (b == 0 || b == T(-1)) ? T(0) : T(a % b);
}

}  // namespace ignis
