// Compound helpers of the activation formulas in activations.def, shared by the CPU kernels
// (cpu/activations.cpp) and the CUDA kernels (cuda/activations.cu) so that both compute the same
// cancellation-free forms. The includer first defines, in its own namespace:
//   IGNIS_ACT_FN                 the function qualifiers (inline / __device__ __forceinline__)
//   exp_, tanh_, sel_(c, a, b)   its elementary functions (CPU: vmath.h, vectorisable; CUDA: libdevice)
//   log1p_exp_neg_abs_(z)        log1p(exp(-|z|))
// and then includes this file inside that namespace (no include guard on purpose: once per includer;
// the includer has included <cmath>, <type_traits> and activation_consts.h at file scope).

// log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)); nan propagates.
template <class T> IGNIS_ACT_FN T softplus_(T z) { return sel_(z < T(0), T(0), z) + log1p_exp_neg_abs_(z); }
// min(max(t, 0), 6) with NaN passing through (as PyTorch's hardsigmoid / hardswish), branch-free
template <class T> IGNIS_ACT_FN T clamp06_(T t) { return sel_(t > T(6), T(6), sel_(t < T(0), T(0), t)); }

// d/dx of the tanh GELU: (1 + t) / 2 + x / 2 (1 - t^2) beta (1 + 3 kappa x^2), t = tanh(u), u = beta (x +
// kappa x^3) (PyTorch's formula). In float, 1 + t (x << 0) and 1 - t^2 (|x| large) cancel, so float
// takes both from e = exp(-2|u|) instead: 1 + t = 2 / (1 + e) (u >= 0) or 2 e / (1 + e) (u < 0), and
// 1 - t^2 = 4 e / (1 + e)^2 - accurate to a few ulp, one exp and one division. double keeps the formula.
template <class T> IGNIS_ACT_FN T gelu_tanh_grad(T x) {
  const T kBeta = T(GELU_BETA), kKappa = T(0.044715);
  T x_sq = x * x;
  T inner = kBeta * (x + kKappa * x_sq * x);
  T left = T(0.5) * x;
  if constexpr (std::is_same_v<T, float>) {
    T e = exp_(T(-2) * std::abs(inner));
    T q = T(1) / (T(1) + e);
    T right = sel_(inner < T(0), T(2) * e * q, T(2) * q);
    T sech2 = T(4) * e * q * q;
    return T(0.5) * right + left * sech2 * kBeta * (T(1) + T(3) * kKappa * x_sq);
  } else {
    T t = tanh_(inner);
    T right = T(1) + t;
    return T(0.5) * right + left * (T(1) - t * t) * kBeta * (T(1) + T(3) * kKappa * x_sq);
  }
}

// mish(x) = x tanh(softplus(x)). With e = exp(x), n = e (e + 2) = (1 + e)^2 - 1:
// tanh(log(1 + e)) = n / (n + 2), one exp and one division instead of exp, log1p and tanh.
// Above x = 20, tanh(softplus(x)) is 1 in float and double; e is clamped there so n stays finite.
template <class T> IGNIS_ACT_FN T mish_(T x) {
  T e = exp_(sel_(x > T(20), T(20), x));
  T n = e * (e + T(2));
  return sel_(x > T(20), x, x * (n / (n + T(2))));
}

// d/dx mish = tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2), sp = softplus(x) (PyTorch's formula), with
// tanh(sp) = n / (n + 2), 1 - tanh(sp)^2 = 4 (1 + e)^2 / (n + 2)^2 (no cancellation near 1),
// sigmoid(x) = e / (1 + e).
template <class T> IGNIS_ACT_FN T mish_grad(T x) {
  T e = exp_(sel_(x > T(20), T(20), x));
  T e1 = T(1) + e;
  T n = e * (e + T(2));
  T r = T(1) / (n + T(2));
  T ts = sel_(x > T(20), T(1), n * r);
  T sech2 = sel_(x > T(20), T(0), T(4) * (e1 * r) * (e1 * r));
  T s = e / e1;
  return ts + x * s * sech2;
}
