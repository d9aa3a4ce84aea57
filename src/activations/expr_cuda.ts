/**
 * Expression activations on CUDA: the expression's AST printed as one CUDA C++ translation unit
 * that NVRTC compiles at first use (native/binding/nvrtc.cpp) and the addon caches per (source,
 * device). One source holds four kernels (forward and backward, float32 and float64); the
 * parameters are kernel arguments, so new parameter values reuse the compiled kernels.
 *
 * Semantics follow the CPU interpreter (native/cpu/expr.cpp) op for op, on the same tree (see
 * define.ts: the derivative is taken before the parameters are bound): every subexpression is
 * evaluated (selects pick, they do not skip), comparisons give 1 or 0, min/max propagate NaN,
 * sign(NaN) = 0, literals are T(double). Subexpressions free of x (parameters and numbers) are
 * computed once per thread in double and then rounded to T, as bind() folds them in double on the
 * CPU. Kernels are grid-stride and move 16-byte packs when the pointers allow (as activations.cu).
 *
 * The output is a pure function of (AST, parameter names), so it can be cached by its hash.
 * `IGNIS_EXTERN_C` and the `IG_*` qualifiers are macros so that the same text also compiles as
 * host C++ (the tests evaluate it with g++ against the CPU interpreter).
 */
import { createHash } from 'crypto';
import { ValueError } from '../errors';
import { backwardExpr, Node, toString } from './expr';

/** The kernels every expression source defines (extern "C", so NVRTC keeps these names). */
export const EXPR_KERNELS = ['ignis_expr_fwd_f32', 'ignis_expr_bwd_f32', 'ignis_expr_fwd_f64', 'ignis_expr_bwd_f64'] as const;
/** Most parameters an expression activation passes to its CUDA kernels. */
export const MAX_CUDA_PARAMS = 16;

export interface CudaExprSource {
  /** the CUDA C++ translation unit (no #include: NVRTC needs no headers for it) */
  source: string;
  /** sha-256 of source, hex: the cache key */
  hash: string;
  /** parameter names in kernel-argument order (p0, p1, ...) */
  params: string[];
}

// Helpers for the ops that are not plain C operators; the same formulas as cpu/expr.cpp.
const PRELUDE = `#ifndef IGNIS_EXTERN_C
#define IGNIS_EXTERN_C extern "C"
#endif
#ifndef IG_GLOBAL
#define IG_GLOBAL __global__
#define IG_D __device__ __forceinline__
#endif
template <class T> IG_D T ig_sigmoid(T x) { return T(1) / (T(1) + exp(-x)); }
template <class T> IG_D T ig_softplus(T x) { return (x > T(0) ? x : T(0)) + log1p(exp(-fabs(x))); }
template <class T> IG_D T ig_sign(T x) { return T((T(0) < x) - (x < T(0))); }
template <class T> IG_D T ig_min(T a, T b) { if (a != a) return a; if (b != b) return b; return a < b ? a : b; }
template <class T> IG_D T ig_max(T a, T b) { if (a != a) return a; if (b != b) return b; return a > b ? a : b; }
template <class T, int V> struct alignas(16) ig_pack { T v[V]; };
`;

/** A double literal that C++ reads back as exactly v. */
function lit(v: number): string {
  if (Number.isNaN(v)) return '(0.0 / 0.0)';
  if (v === Infinity) return '(1.0 / 0.0)';
  if (v === -Infinity) return '(-1.0 / 0.0)';
  if (Object.is(v, -0)) return '-0.0';
  const s = String(v); // shortest round-trip form
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

const BINOP: Record<string, string> = { add: '+', sub: '-', mul: '*', div: '/' };
const CMP: Record<string, string> = { lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=' };
const FN1: Record<string, string> = {
  exp: 'exp', log: 'log', tanh: 'tanh', erf: 'erf', sqrt: 'sqrt', log1p: 'log1p', expm1: 'expm1', abs: 'fabs',
  sigmoid: 'ig_sigmoid', softplus: 'ig_softplus', sign: 'ig_sign',
};
const FN2: Record<string, string> = { pow: 'pow', min: 'ig_min', max: 'ig_max' };

/** One operation of `o` on already printed operands `a`, in type `T`. */
function apply(o: string, a: string[], T: string): string {
  if (BINOP[o]) return `${a[0]} ${BINOP[o]} ${a[1]}`;
  if (CMP[o]) return `${T}(${a[0]} ${CMP[o]} ${a[1]})`;
  if (o === 'neg') return `-${a[0]}`;
  if (o === 'select') return `${a[0]} != ${T}(0) ? ${a[1]} : ${a[2]}`;
  if (FN1[o]) return FN1[o].startsWith('ig_') ? `${FN1[o]}<${T}>(${a[0]})` : `${FN1[o]}(${a[0]})`;
  if (FN2[o]) return FN2[o].startsWith('ig_') ? `${FN2[o]}<${T}>(${a[0]}, ${a[1]})` : `${FN2[o]}(${a[0]}, ${a[1]})`;
  throw new ValueError(`expression: no CUDA form for ${o}`);
}

const dependsOnInput = (n: Node): boolean =>
  n.k === 'x' || (n.k === 'op' && (n.op === 'grad' || n.args.some(dependsOnInput)));

/**
 * The body of one elementwise function: statements computing `x` (and `g`) -> result in type T,
 * and the constants it needs (x-free subtrees, computed in double from p0.. once per thread).
 */
function body(root: Node, params: readonly string[]): { consts: string[]; stmts: string[]; result: string } {
  const consts: string[] = [];
  const constOf = new Map<string, string>();
  const stmts: string[] = [];
  const memo = new Map<string, string>();
  // an x-free subtree printed as a double expression (nested; evaluated once per thread)
  const dbl = (n: Node): string => {
    if (n.k === 'num') return lit(n.v);
    if (n.k === 'param') return `p${params.indexOf(n.name)}`;
    if (n.k === 'x') throw new ValueError('expression: internal error (x in a constant)');
    return `(${apply(n.op, n.args.map(dbl), 'double')})`;
  };
  const emit = (n: Node): string => {
    if (n.k === 'x') return 'x';
    if (n.k === 'op' && n.op === 'grad') return 'g';
    if (n.k === 'num') return `T(${lit(n.v)})`;
    if (n.k === 'param' || !dependsOnInput(n)) {
      const key = toString(n);
      let c = constOf.get(key);
      if (!c) {
        c = `k${consts.length}`;
        consts.push(`const T ${c} = T(${dbl(n)});`);
        constOf.set(key, c);
      }
      return c;
    }
    const key = toString(n);
    const hit = memo.get(key);
    if (hit) return hit;
    const args = n.args.map(emit);
    const t = `t${stmts.length}`;
    stmts.push(`const T ${t} = ${apply(n.op, args, 'T')};`);
    memo.set(key, t);
    return t;
  };
  const result = emit(root);
  return { consts, stmts, result };
}

function kernelPair(kind: 'fwd' | 'bwd', root: Node, params: readonly string[]): string {
  const { consts, stmts, result } = body(root, params);
  const pargs = params.map((_, i) => `, double p${i}`).join('');
  const pnames = params.map((_, i) => `, p${i}`).join('');
  const bwd = kind === 'bwd';
  const ins = bwd ? 'const T* __restrict__ xp, const T* __restrict__ gp' : 'const T* __restrict__ xp';
  const ind = (s: string[], pad: string) => s.map((l) => pad + l).join('\n');
  const fargs = bwd ? 'T x, T g' : 'T x';
  const call = (xs: string, gs: string) => (bwd ? `f(${xs}, ${gs})` : `f(${xs})`);
  const fn = `template <class T>
IG_D void ig_${kind}(T* __restrict__ yp, ${ins}, long long n, int vec${pargs}) {
${ind(consts, '  ')}
  auto f = [&](${fargs}) -> T {
${ind(stmts, '    ')}
    return ${result};
  };
  const long long stride = (long long)blockDim.x * gridDim.x;
  const long long i0 = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  long long done = 0;
  if (vec) {  // every pointer 16-byte aligned: whole packs, then the tail
    constexpr int V = 16 / sizeof(T);
    typedef ig_pack<T, V> P;
    const long long np = n / V;
    for (long long p = i0; p < np; p += stride) {
      const P a = reinterpret_cast<const P*>(xp)[p];${bwd ? '\n      const P b = reinterpret_cast<const P*>(gp)[p];' : ''}
      P r;
#pragma unroll
      for (int j = 0; j < V; ++j) r.v[j] = ${call('a.v[j]', 'b.v[j]')};
      reinterpret_cast<P*>(yp)[p] = r;
    }
    done = np * V;
  }
  for (long long e = done + i0; e < n; e += stride) yp[e] = ${call('xp[e]', 'gp[e]')};
}
`;
  const k = (suffix: string, T: string) =>
    `IGNIS_EXTERN_C IG_GLOBAL void ignis_expr_${kind}_${suffix}(${T}* yp, ${ins.replace(/\bT\b/g, T)}, long long n, int vec${pargs}) {
  ig_${kind}<${T}>(yp, xp${bwd ? ', gp' : ''}, n, vec${pnames});
}
`;
  return fn + k('f32', 'float') + k('f64', 'double');
}

/**
 * The CUDA source of an expression activation: forward f(x) and backward g * f'(x) for float32 and
 * float64, parameters (in `params` order) as double kernel arguments. `ast` is the parsed,
 * unbound expression.
 */
export function cudaSource(name: string, ast: Node, params: readonly string[]): CudaExprSource {
  if (params.length > MAX_CUDA_PARAMS)
    throw new ValueError(`${name}: at most ${MAX_CUDA_PARAMS} parameters on CUDA, got ${params.length}`);
  const fwd = kernelPair('fwd', ast, params);
  const bwd = kernelPair('bwd', backwardExpr(ast), params);
  // the name is not part of the text: two activations with one formula share their kernels
  const head = `// ignis expression activation (generated): f(x) = ${toString(ast)}; parameters: ${params.join(', ') || 'none'}\n`;
  const source = head + PRELUDE + fwd + bwd;
  return { source, hash: createHash('sha256').update(source).digest('hex'), params: [...params] };
}
