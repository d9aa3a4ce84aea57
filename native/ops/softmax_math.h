// Per-element math of softmax / logSoftmax / softmin along one dim and of their backward, shared
// by the CPU kernels (cpu/softmax.cpp) and the CUDA kernels (cuda/softmax.cu) so that both compute
// the same forms. A row x[0..D) is first reduced to m = max x and s = sum exp(x - m), then every
// element is written from (x, m, s); backward reduces the row to one sum and writes every element
// from it.
//
// Special values follow PyTorch: no special cases are needed, the formulas give them.
//   - a NaN anywhere in the row: exp(NaN - m) = NaN poisons s, so the whole row is NaN (the max may
//     skip the NaN - whichever order the max reduction sees it in, s catches it);
//   - a +inf: m = +inf, inf - inf = NaN poisons s: the whole row is NaN;
//   - a row of only -inf: -inf - (-inf) = NaN: the whole row is NaN; a -inf among finite values
//     gives softmax 0 and logSoftmax -inf.
// softmin (neg): the kernels run on -x (smx_in_) without materialising it; negation is exact, so
// softmin(x) is bit for bit softmax(-x), and the gradient through -x is the negated one, written
// as an exact negation (y (dot - g) = -(y (g - dot))) rather than an extra multiply.
// The includer first defines, in its own namespace:
//   IGNIS_SMX_FN    the function qualifiers (inline / __device__ __forceinline__)
//   exp_(x)         its exp; only ever called on x <= 0 or nan (x - max, a logSoftmax output), so the
//                   CPU uses vm::exp_nonpos (vmath.h, vectorisable); CUDA: libdevice
//   sel_(c, a, b)   branch-free select
// and then includes this file inside that namespace (no include guard on purpose: once per includer).

// The element as the kernel sees it: x, or -x for softmin (neg, a compile-time constant on the CPU).
template <class T> IGNIS_SMX_FN T smx_in_(T x, bool neg) { return neg ? -x : x; }
// The row maximum's step (any order; see above for NaN).
template <class T> IGNIS_SMX_FN T smx_max_(T m, T x) { return sel_(x > m, x, m); }
// One term of the row's sum s: exp(x - m); softmax stores it and rescales it afterwards.
template <class T> IGNIS_SMX_FN T smx_exp_(T x, T m) { return exp_(x - m); }
// softmax: e / s, as e * (1 / s) (PyTorch's CPU kernel multiplies by the reciprocal as well).
template <class T> IGNIS_SMX_FN T softmax_out_(T e, T inv_s) { return e * inv_s; }
// logSoftmax: (x - m) - log(s), with ls = log(s) computed once per row.
template <class T> IGNIS_SMX_FN T log_softmax_out_(T x, T m, T ls) { return (x - m) - ls; }
// softmax backward: gx = y (g - sum(g y)); dot = sum(g y) over the row. neg (softmin): its negation.
template <class T> IGNIS_SMX_FN T softmax_grad_(T y, T g, T dot, bool neg) { return neg ? y * (dot - g) : y * (g - dot); }
// logSoftmax backward: gx = g - exp(y) sum(g); gs = sum(g) over the row. neg: its negation.
template <class T> IGNIS_SMX_FN T log_softmax_grad_(T y, T g, T gs, bool neg) {
  return neg ? exp_(y) * gs - g : g - exp_(y) * gs;
}
