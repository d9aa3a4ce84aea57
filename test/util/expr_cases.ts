/**
 * Expressions for the expression-activation backends (CPU interpreter, generated CUDA source run
 * on the host, NVRTC, the GPU): the formulas of test/activations/custom.test.ts plus edge cases
 * (parameters of value 0, NaN tests, division by zero, an x-free expression), and inputs that
 * include NaN, infinities, signed zeros and overflow points.
 */
export const EXPR_CASES: [string, Record<string, number>][] = [
  ['x * sigmoid(beta * x)', { beta: 1.7 }],
  ['x > 0 ? x : alpha * (exp(x) - 1)', { alpha: 1.3 }],
  ['select(x < 0, x * slope, x)', { slope: 0.1 }],
  ['min(max(x, lo), hi)', { lo: -1, hi: 2 }],
  ['pow(abs(x) + 1, p) - x ^ 2 / 4 + x ** 3 / 10', { p: 1.5 }],
  ['0.5 * x * (1 + erf(x / sqrt(2)))', {}],
  ['softplus(x) - log(2)', {}],
  ['x * tanh(softplus(x))', {}],
  ['(x != 0) * sign(x) * log1p(abs(x)) + (x == 0) * 7', {}],
  ['expm1(-abs(x)) / 2 + sqrt(x * x + 1) - tanh(x) * e / pi', {}],
  ['-x ^ 2 + 2 ^ 3 ^ 2 - --x', {}],
  ['log(sigmoid(x)) * c', { c: -2 }],
  // edges: a parameter of 0 (no folding of 0 * f), NaN tests, x / 0, log and sqrt of negatives
  ['x * sigmoid(beta * x)', { beta: 0 }],
  ['max(x, a) + min(x, -a) + sign(x) + (x >= a) - (x <= a)', { a: 0 }],
  ['x != x ? 7 : x / 0', {}],
  // (q = 0.5 would cancel sqrt(x) to the ulp, where glibc's pow and CUDA's differ: 1e30 gives 70.125 and 70)
  ['log(x) + sqrt(x) - pow(x, q) + x / (x - 1)', { q: 0.25 }],
  ['erf(k) * x + tanh(x) * (k > 1) + exp(k * 50) * 1e-300 * x', { k: 2 }],
  ['c + 1', { c: 3 }],
];

/** x values: a sweep plus NaN, ±Infinity, ±0, tiny and huge values and exp's overflow points. */
export function exprInputs(): number[] {
  const v: number[] = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, 2, 1e-30, -1e-30, 1e30, -1e30, 88.8, -88.8, 710, -710, 3e38, 1e-45];
  for (let i = 0; i < 80; i++) v.push(-7 + (14 * i) / 79 + 0.013);
  return v; // 99 values: not a multiple of 4 or 2 (the vector paths' tails)
}

/** upstream gradients for the backward: mostly ordinary values, some 0 and one NaN */
export function exprGrads(n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i === 7 ? NaN : i % 11 === 0 ? 0 : Math.sin(i * 1.3) * 2 + 0.1));
}
