/**
 * nn.init: in-place initialisers (PyTorch's torch.nn.init), all under noGrad and drawn from the
 * default generator (reproducible after ignis.manualSeed) or an explicit { generator }.
 */
import { mode } from '../autograd/mode';
import { isFloating } from '../dtype';
import { DTypeError, ValueError } from '../errors';
import * as ops from '../ops/all';
import type { Generator } from '../random';
import { Tensor } from '../tensor';

type Nonlinearity =
  | 'linear' | 'identity' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'leakyRelu' | 'selu'
  | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'convTranspose1d' | 'convTranspose2d' | 'convTranspose3d';

const LINEAR_LIKE = new Set([
  'linear', 'identity', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
  'convTranspose1d', 'convTranspose2d', 'convTranspose3d', 'sigmoid',
]);

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for linear, conv and
 * sigmoid; 5/3 tanh; sqrt(2) relu; sqrt(2 / (1 + slope^2)) leaky_relu (slope default 0.01); 3/4 selu.
 */
export function calculateGain(nonlinearity: Nonlinearity | string, param?: number | null): number {
  if (LINEAR_LIKE.has(nonlinearity)) return 1;
  if (nonlinearity === 'tanh') return 5 / 3;
  if (nonlinearity === 'relu') return Math.SQRT2;
  if (nonlinearity === 'leaky_relu' || nonlinearity === 'leakyRelu') {
    let slope = 0.01;
    if (param !== undefined && param !== null) {
      if (typeof param !== 'number' || Number.isNaN(param)) throw new ValueError(`calculateGain: negative_slope ${String(param)} not a valid number`);
      slope = param;
    }
    return Math.sqrt(2 / (1 + slope * slope));
  }
  if (nonlinearity === 'selu') return 3 / 4;
  throw new ValueError(`calculateGain: unsupported nonlinearity ${String(nonlinearity)}`);
}

/** [fanIn, fanOut] for a weight: dim 1 and dim 0 times the receptive field (dims 2..). */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) throw new ValueError(`init: fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got ${t.ndim})`);
  let rf = 1;
  for (let i = 2; i < t.ndim; i++) rf *= t.shape[i];
  return [t.shape[1] * rf, t.shape[0] * rf];
}

function check(t: Tensor, op: string): void {
  if (!(t instanceof Tensor)) throw new ValueError(`${op}: expected a Tensor`);
  if (!isFloating(t.dtype)) throw new DTypeError(`${op}: expected a floating tensor, got ${t.dtype}`);
}

function quiet<T>(f: () => T): T {
  const prev = mode.grad;
  mode.grad = false;
  try {
    return f();
  } finally {
    mode.grad = prev;
  }
}

interface GenOpt {
  generator?: Generator;
}

export function uniform_<T extends Tensor>(t: T, a = 0, b = 1, opts: GenOpt = {}): T {
  check(t, 'uniform_');
  return quiet(() => ops.uniform_(t, a, b, opts.generator));
}
export function normal_<T extends Tensor>(t: T, mean = 0, std = 1, opts: GenOpt = {}): T {
  check(t, 'normal_');
  return quiet(() => ops.normal_(t, mean, std, opts.generator));
}
export function constant_<T extends Tensor>(t: T, value: number): T {
  check(t, 'constant_');
  return quiet(() => t.fill_(value));
}
export function zeros_<T extends Tensor>(t: T): T {
  return constant_(t, 0);
}
export function ones_<T extends Tensor>(t: T): T {
  return constant_(t, 1);
}
/** The identity matrix into a 2-D tensor. */
export function eye_<T extends Tensor>(t: T): T {
  check(t, 'eye_');
  if (t.ndim !== 2) throw new ValueError('eye_: only tensors with 2 dimensions are supported');
  return quiet(() => t.copy_(ops.eye(t.shape[0], t.shape[1], { dtype: t.dtype })));
}

export function xavierUniform_<T extends Tensor>(t: T, opts: GenOpt & { gain?: number } | number = {}): T {
  const o = typeof opts === 'number' ? { gain: opts } : opts;
  check(t, 'xavierUniform_');
  const [fi, fo] = calculateFanInAndFanOut(t);
  const std = (o.gain ?? 1) * Math.sqrt(2 / (fi + fo));
  const a = Math.sqrt(3) * std;
  return uniform_(t, -a, a, o);
}
export function xavierNormal_<T extends Tensor>(t: T, opts: GenOpt & { gain?: number } | number = {}): T {
  const o = typeof opts === 'number' ? { gain: opts } : opts;
  check(t, 'xavierNormal_');
  const [fi, fo] = calculateFanInAndFanOut(t);
  return normal_(t, 0, (o.gain ?? 1) * Math.sqrt(2 / (fi + fo)), o);
}

export interface KaimingOptions extends GenOpt {
  /** negative slope of the rectifier after this layer (leaky_relu only); default 0 */
  a?: number;
  /** 'fanIn' (default) preserves the forward variance, 'fanOut' the backward one */
  mode?: 'fanIn' | 'fanOut' | 'fan_in' | 'fan_out';
  nonlinearity?: Nonlinearity | string;
}

function kaimingStd(t: Tensor, o: KaimingOptions, op: string): number {
  check(t, op);
  const m = o.mode ?? 'fanIn';
  if (!['fanIn', 'fanOut', 'fan_in', 'fan_out'].includes(m)) throw new ValueError(`${op}: mode ${m} not supported, please use one of fanIn, fanOut`);
  const [fi, fo] = calculateFanInAndFanOut(t);
  const fan = m === 'fanIn' || m === 'fan_in' ? fi : fo;
  const gain = calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0);
  if (fan === 0) return 0;
  return gain / Math.sqrt(fan);
}

/** U(-b, b) with b = gain * sqrt(3 / fan) (He et al. 2015). */
export function kaimingUniform_<T extends Tensor>(t: T, opts: KaimingOptions = {}): T {
  if (t.numel === 0) return t;
  const bound = Math.sqrt(3) * kaimingStd(t, opts, 'kaimingUniform_');
  return uniform_(t, -bound, bound, opts);
}
/** N(0, std^2) with std = gain / sqrt(fan). */
export function kaimingNormal_<T extends Tensor>(t: T, opts: KaimingOptions = {}): T {
  if (t.numel === 0) return t;
  return normal_(t, 0, kaimingStd(t, opts, 'kaimingNormal_'), opts);
}

/** Normal N(mean, std) redrawn until inside [a, b] (torch.nn.init.trunc_normal_). */
export function truncNormal_<T extends Tensor>(t: T, opts: GenOpt & { mean?: number; std?: number; a?: number; b?: number } = {}): T {
  check(t, 'truncNormal_');
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  const a = opts.a ?? -2;
  const b = opts.b ?? 2;
  const n = t.numel;
  const out = new Float64Array(n);
  let filled = 0;
  for (let round = 0; filled < n && round < 100; round++) {
    const draw = ops.readTyped(ops.randn([Math.max(16, 2 * (n - filled))], { dtype: 'float64', generator: opts.generator })) as Float64Array;
    for (let i = 0; i < draw.length && filled < n; i++) {
      const v = mean + std * draw[i];
      if (v >= a && v <= b) out[filled++] = v;
    }
  }
  for (; filled < n; filled++) out[filled] = Math.min(b, Math.max(a, mean));
  return quiet(() => t.copy_(ops.tensor(out, { dtype: 'float64', shape: t.shape as number[] })));
}

/**
 * A (semi-)orthogonal matrix (Saxe et al. 2013): the Q of a QR decomposition of a standard normal
 * matrix, signs fixed so R has a positive diagonal, times gain. Dims after the first are flattened.
 */
export function orthogonal_<T extends Tensor>(t: T, opts: GenOpt & { gain?: number } | number = {}): T {
  const o = typeof opts === 'number' ? { gain: opts } : opts;
  check(t, 'orthogonal_');
  if (t.ndim < 2) throw new ValueError('orthogonal_: only tensors with 2 or more dimensions are supported');
  if (t.numel === 0) return t;
  const rows = t.shape[0];
  const cols = t.numel / rows;
  const g = ops.readTyped(ops.randn([rows, cols], { dtype: 'float64', generator: o.generator })) as Float64Array;
  // work on A = (rows >= cols ? flat : flat^T), m x n with m >= n: columns orthonormalised
  const tall = rows >= cols;
  const m = tall ? rows : cols;
  const n = tall ? cols : rows;
  const A = new Float64Array(m * n); // column-major: A[j * m + i]
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      if (tall) A[j * m + i] = g[i * cols + j];
      else A[i * m + j] = g[i * cols + j];
    }
  // modified Gram-Schmidt, twice (reorthogonalisation): Q with R's diagonal positive
  for (let j = 0; j < n; j++) {
    const cj = j * m;
    for (let pass = 0; pass < 2; pass++)
      for (let k = 0; k < j; k++) {
        const ck = k * m;
        let d = 0;
        for (let i = 0; i < m; i++) d += A[ck + i] * A[cj + i];
        for (let i = 0; i < m; i++) A[cj + i] -= d * A[ck + i];
      }
    let nrm = 0;
    for (let i = 0; i < m; i++) nrm += A[cj + i] * A[cj + i];
    nrm = Math.sqrt(nrm) || 1;
    for (let i = 0; i < m; i++) A[cj + i] /= nrm;
  }
  const gain = o.gain ?? 1;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (tall ? A[j * m + i] : A[i * m + j]);
  return quiet(() => t.copy_(ops.tensor(out, { dtype: 'float64', shape: t.shape as number[] })));
}

/** Dirac delta into a conv weight [out, in, k...]: preserves the input of the identity channels. */
export function dirac_<T extends Tensor>(t: T, groups = 1): T {
  check(t, 'dirac_');
  if (t.ndim < 3 || t.ndim > 5) throw new ValueError('dirac_: only tensors with 3, 4, or 5 dimensions are supported');
  const sh = t.shape;
  const outPerGroup = sh[0] / groups;
  if (!Number.isInteger(outPerGroup)) throw new ValueError('dirac_: dim 0 must be divisible by groups');
  const minDim = Math.min(outPerGroup, sh[1]);
  const n = t.numel;
  const out = new Float64Array(n);
  const strides = sh.map((_, i) => sh.slice(i + 1).reduce((a, b) => a * b, 1));
  for (let gi = 0; gi < groups; gi++)
    for (let d = 0; d < minDim; d++) {
      let off = (gi * outPerGroup + d) * strides[0] + d * strides[1];
      for (let k = 2; k < sh.length; k++) off += Math.floor(sh[k] / 2) * strides[k];
      out[off] = 1;
    }
  return quiet(() => t.copy_(ops.tensor(out, { dtype: 'float64', shape: sh as number[] })));
}

// snake_case aliases, as in torch.nn.init
export {
  xavierUniform_ as xavier_uniform_,
  xavierNormal_ as xavier_normal_,
  kaimingUniform_ as kaiming_uniform_,
  kaimingNormal_ as kaiming_normal_,
  calculateGain as calculate_gain,
  truncNormal_ as trunc_normal_,
};
