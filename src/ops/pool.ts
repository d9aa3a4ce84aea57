/**
 * 2-D pooling (PyTorch semantics): maxPool2d (padding, dilation, ceil mode, indices), avgPool2d
 * (countIncludePad, divisorOverride, ceil mode), adaptiveAvgPool2d, adaptiveMaxPool2d. Native
 * kernels in native/cpu/pool.cpp: oneDNN for float32 where its semantics match, loops otherwise.
 * Max pooling keeps PyTorch's flat indices (h * W + w) when asked for them, a oneDNN workspace
 * otherwise.
 */
import { mode } from '../autograd/mode';
import type { OpDef } from '../dispatch';
import { ShapeError, ValueError } from '../errors';
import * as K from '../kernels';
import { fmtShape } from '../shape';
import { Tensor } from '../tensor';
import { checkFloat, pair, Pair } from './conv';
import { checkTensor, dispatch, ops } from './util';

export interface MaxPool2dOptions {
  kernelSize: Pair;
  stride?: Pair | null;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
  returnIndices?: boolean;
}

export interface AvgPool2dOptions {
  kernelSize: Pair;
  stride?: Pair | null;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

export type AdaptiveSize = number | null | readonly (number | null)[];

type PoolAttrs = { g: K.PoolGeom; mode: 0 | 1 | 2 };

type PoolBwdAttrs = { g: K.PoolGeom; aux: K.PoolAux; x: Tensor; fwd: OpDef<PoolAttrs> };

/**
 * Pooling's backward is linear in gy (gx = J^T gy, J constant almost everywhere), so its own
 * backward (double backward) is J gg: the same average pooling applied to gg, or for max pooling
 * gg read at the argmax of every window (from the indices, recomputed when the forward kept a
 * oneDNN workspace instead). Its derivative with respect to x is 0, as in PyTorch.
 */
const poolBwdDef: OpDef<PoolBwdAttrs> = {
  name: 'pool2d_backward',
  forward(ctx, [gy], attrs) {
    ctx.attrs = attrs;
    const { g, aux } = attrs;
    return K.poolBwd(K.contiguous(gy), g, aux, g.max ? 'max_pool2d_backward' : 'avg_pool2d_backward');
  },
  backward(ctx, [gg]) {
    const { g, aux, x, fwd } = ctx.attrs as PoolBwdAttrs;
    if (!gg) return [null];
    if (!g.max) return [dispatch(fwd, [gg], { g, mode: 0 })];
    const idx = aux.kind === 1 && aux.aux ? aux.aux : K.poolFwd(K.contiguous(x), g, 1, fwd.name)[1].aux!;
    const o = ops();
    const flat = o.gather(o.reshape(gg, [g.N, g.C, g.H * g.W]), 2, o.reshape(idx, [g.N, g.C, g.OH * g.OW]));
    return [o.reshape(flat, [g.N, g.C, g.OH, g.OW])];
  },
};

function poolDef(name: string): OpDef<PoolAttrs> {
  const def: OpDef<PoolAttrs> = {
    name,
    forward(ctx, [x], { g, mode: m }) {
      const [y, aux] = K.poolFwd(K.contiguous(x), g, m, name);
      ctx.x = x;
      ctx.g = g;
      ctx.auxT = aux.aux;
      ctx.auxKind = aux.kind;
      ctx.wsBytes = aux.wsBytes;
      return m === 1 && aux.aux ? [y, aux.aux] : y;
    },
    backward(ctx, [gy]) {
      if (!gy) return [null];
      const aux: K.PoolAux = { aux: (ctx.auxT as Tensor | null) ?? null, kind: ctx.auxKind as number, wsBytes: ctx.wsBytes as number };
      return [dispatch(poolBwdDef, [gy], { g: ctx.g as K.PoolGeom, aux, x: ctx.x as Tensor, fwd: def })];
    },
  };
  return def;
}
const maxPoolDef = poolDef('max_pool2d');
const avgPoolDef = poolDef('avg_pool2d');
const adaptiveMaxDef = poolDef('adaptive_max_pool2d');
const adaptiveAvgDef = poolDef('adaptive_avg_pool2d');

/** PyTorch's pooling_output_shape. */
function outSize(op: string, inp: number, k: number, pad: number, s: number, d: number, ceil: boolean): number {
  const num = inp + 2 * pad - d * (k - 1) - 1 + (ceil ? s - 1 : 0);
  let out = Math.floor(num / s) + 1;
  if (ceil && (out - 1) * s >= inp + pad) out--;
  if (out < 1) throw new ShapeError(`${op}: output size is too small (input ${inp}, kernel ${k}, padding ${pad}, stride ${s}, dilation ${d})`);
  return out;
}

function as4d(x: Tensor, op: string): [Tensor, boolean] {
  checkTensor(x, op, 'input');
  checkFloat(x, op, 'input');
  if (x.ndim === 3) return [ops().unsqueeze(x, 0), true];
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected a 3-D or 4-D input, got ${fmtShape(x.shape)}`);
  if (x.shape[1] === 0 || x.shape[2] === 0 || x.shape[3] === 0) throw new ShapeError(`${op}: expected non-empty channel and spatial dims, got ${fmtShape(x.shape)}`);
  return [x, false];
}

function geom(op: string, x: Tensor, k: [number, number], s: [number, number], p: [number, number], d: [number, number], ceil: boolean, max: boolean): K.PoolGeom {
  const [N, C, H, W] = x.shape;
  for (let i = 0; i < 2; i++)
    if (p[i] > Math.floor((d[i] * (k[i] - 1) + 1) / 2))
      throw new ValueError(`${op}: padding (${p.join(', ')}) should be at most half of the effective kernel size (${k.join(', ')})`);
  const OH = outSize(op, H, k[0], p[0], s[0], d[0], ceil);
  const OW = outSize(op, W, k[1], p[1], s[1], d[1], ceil);
  return { N, C, H, W, OH, OW, kh: k[0], kw: k[1], sh: s[0], sw: s[1], pt: p[0], pl: p[1], dh: d[0], dw: d[1], max, countIncludePad: true, divisor: 0, adaptive: false };
}

function squeezeBack(r: Tensor, un: boolean): Tensor {
  return un ? ops().squeeze(r, 0) : r;
}

/** Max pooling over [N, C, H, W] (or [C, H, W]); with returnIndices: [output, indices (int64, flat h * W + w)]. */
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor;
export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor | [Tensor, Tensor] {
  const op = 'max_pool2d';
  const [x4, un] = as4d(x, op);
  if (!opts || opts.kernelSize === undefined) throw new ValueError(`${op}: kernelSize is required`);
  const k = pair(opts.kernelSize, op, 'kernelSize', 1);
  const s = opts.stride === undefined || opts.stride === null || (opts.stride as readonly number[]).length === 0 ? k : pair(opts.stride, op, 'stride', 1);
  const g = geom(op, x4, k, s, pair(opts.padding ?? 0, op, 'padding', 0), pair(opts.dilation ?? 1, op, 'dilation', 1), !!opts.ceilMode, true);
  if (opts.returnIndices) {
    const [y, i] = dispatch(maxPoolDef, [x4], { g, mode: 1 }, true);
    return [squeezeBack(y, un), squeezeBack(i, un)];
  }
  const m = mode.grad && x.requiresGrad ? 2 : 0;
  return squeezeBack(dispatch(maxPoolDef, [x4], { g, mode: m }), un);
}

/** Average pooling over [N, C, H, W] (or [C, H, W]). */
export function avgPool2d(x: Tensor, opts: AvgPool2dOptions): Tensor {
  const op = 'avg_pool2d';
  const [x4, un] = as4d(x, op);
  if (!opts || opts.kernelSize === undefined) throw new ValueError(`${op}: kernelSize is required`);
  const k = pair(opts.kernelSize, op, 'kernelSize', 1);
  const s = opts.stride === undefined || opts.stride === null || (opts.stride as readonly number[]).length === 0 ? k : pair(opts.stride, op, 'stride', 1);
  const p = pair(opts.padding ?? 0, op, 'padding', 0);
  for (let i = 0; i < 2; i++) if (p[i] > Math.floor(k[i] / 2)) throw new ValueError(`${op}: padding (${p.join(', ')}) should be at most half of the kernel size (${k.join(', ')})`);
  const g = geom(op, x4, k, s, p, [1, 1], !!opts.ceilMode, false);
  g.countIncludePad = opts.countIncludePad ?? true;
  const dv = opts.divisorOverride ?? 0;
  if (dv !== 0 && (!Number.isInteger(dv) || dv < 0)) throw new ValueError(`${op}: divisorOverride must be a positive integer, got ${String(dv)}`);
  g.divisor = dv;
  return squeezeBack(dispatch(avgPoolDef, [x4], { g, mode: 0 }), un);
}

function adaptiveGeom(op: string, x: Tensor, size: AdaptiveSize, max: boolean): K.PoolGeom {
  const [N, C, H, W] = x.shape;
  const arr = size === null || typeof size === 'number' ? [size, size] : Array.isArray(size) && size.length === 1 ? [size[0], size[0]] : size;
  if (!Array.isArray(arr) || arr.length !== 2) throw new ValueError(`${op}: outputSize must be an integer or a pair, got ${JSON.stringify(size)}`);
  const OH = arr[0] ?? H;
  const OW = arr[1] ?? W;
  for (const v of [OH, OW])
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ValueError(`${op}: outputSize must be positive integers, got ${JSON.stringify(size)}`);
  return { N, C, H, W, OH, OW, kh: 1, kw: 1, sh: 1, sw: 1, pt: 0, pl: 0, dh: 1, dw: 1, max, countIncludePad: true, divisor: 0, adaptive: true };
}

/** Adaptive average pooling to outputSize (an int, or [h, w] where null keeps the input size). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveSize): Tensor {
  const op = 'adaptive_avg_pool2d';
  const [x4, un] = as4d(x, op);
  const g = adaptiveGeom(op, x4, outputSize, false);
  return squeezeBack(dispatch(adaptiveAvgDef, [x4], { g, mode: 0 }), un);
}

/** Adaptive max pooling; with returnIndices: [output, indices]. */
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize, returnIndices: true): [Tensor, Tensor];
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize, returnIndices?: boolean): Tensor;
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveSize, returnIndices = false): Tensor | [Tensor, Tensor] {
  const op = 'adaptive_max_pool2d';
  const [x4, un] = as4d(x, op);
  const g = adaptiveGeom(op, x4, outputSize, true);
  const [y, i] = dispatch(adaptiveMaxDef, [x4], { g, mode: 1 }, true);
  return returnIndices ? [squeezeBack(y, un), squeezeBack(i, un)] : squeezeBack(y, un);
}

// ---- interpolate -------------------------------------------------------------------------------

export interface InterpolateOptions {
  size?: number | readonly number[] | null;
  scaleFactor?: number | readonly number[] | null;
  mode?: 'nearest' | 'bilinear' | 'linear';
  alignCorners?: boolean | null;
}

/** Resizes [N, C, W] / [N, C, H, W] (F.interpolate): nearest, linear (3-D) and bilinear (4-D), PyTorch's index and weight rules. */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  const op = 'interpolate';
  checkTensor(x, op, 'input');
  checkFloat(x, op, 'input');
  const m = opts?.mode ?? 'nearest';
  if (m !== 'nearest' && m !== 'bilinear' && m !== 'linear') throw new ValueError(`${op}: mode must be 'nearest', 'linear' or 'bilinear', got ${String(m)}`);
  const ns = x.ndim - 2;
  if (ns < 1 || ns > 2) throw new ShapeError(`${op}: expected a 3-D or 4-D input, got ${fmtShape(x.shape)}`);
  if (m === 'bilinear' && ns !== 2) throw new ShapeError(`${op}: bilinear mode needs a 4-D input, got ${fmtShape(x.shape)}`);
  if (m === 'linear' && ns !== 1) throw new ShapeError(`${op}: linear mode needs a 3-D input, got ${fmtShape(x.shape)}`);
  if (m === 'nearest' && opts.alignCorners !== undefined && opts.alignCorners !== null)
    throw new ValueError(`${op}: alignCorners can only be set with the linear modes`);
  const align = !!opts.alignCorners;
  const hasSize = opts.size !== undefined && opts.size !== null;
  const hasScale = opts.scaleFactor !== undefined && opts.scaleFactor !== null;
  if (hasSize === hasScale) throw new ValueError(`${op}: give exactly one of size or scaleFactor`);
  const list = (v: number | readonly number[], what: string): number[] => {
    const a = typeof v === 'number' ? new Array<number>(ns).fill(v) : [...v];
    if (a.length !== ns || a.some((n) => typeof n !== 'number' || !(n > 0) || !Number.isFinite(n)))
      throw new ValueError(`${op}: ${what} must be a positive number or ${ns} of them for input ${fmtShape(x.shape)}, got ${JSON.stringify(v)}`);
    return a;
  };
  const inSizes = x.shape.slice(2);
  let outSizes: number[];
  let scales: (number | null)[];
  if (hasSize) {
    outSizes = list(opts.size!, 'size');
    if (outSizes.some((n) => !Number.isInteger(n))) throw new ValueError(`${op}: size must be integers, got ${JSON.stringify(opts.size)}`);
    scales = outSizes.map(() => null);
  } else {
    scales = list(opts.scaleFactor!, 'scaleFactor');
    outSizes = inSizes.map((n, i) => Math.floor(n * scales[i]!));
  }
  if (outSizes.some((n) => n < 1)) throw new ShapeError(`${op}: output size ${fmtShape(outSizes)} is empty for input ${fmtShape(x.shape)}`);
  const f = x.dtype === 'float32' ? Math.fround : (v: number) => v;
  const o = ops();
  let y = x;
  // innermost dim first, like PyTorch's weight order
  for (let i = ns - 1; i >= 0; i--) {
    const d = 2 + i;
    const inp = inSizes[i];
    const out = outSizes[i];
    const sc = scales[i];
    if (m === 'nearest') {
      const s = f(sc ? 1 / sc : inp / out);
      const idx = new BigInt64Array(out);
      for (let k = 0; k < out; k++) idx[k] = BigInt(Math.min(Math.floor(f(k * s)), inp - 1));
      y = o.indexSelect(y, d, o.tensor(idx, { dtype: 'int64', device: y.device }));
      continue;
    }
    const s = align ? (out > 1 ? f((inp - 1) / (out - 1)) : 0) : f(sc ? 1 / sc : inp / out);
    const i0 = new BigInt64Array(out);
    const i1 = new BigInt64Array(out);
    const l0 = new Float64Array(out);
    const l1 = new Float64Array(out);
    for (let k = 0; k < out; k++) {
      let src = align ? f(s * k) : f(f(s * (k + 0.5)) - 0.5);
      if (src < 0) src = 0;
      const a = Math.floor(src);
      const lam = Math.min(f(src - a), 1);
      i0[k] = BigInt(a);
      i1[k] = BigInt(a + (a < inp - 1 ? 1 : 0));
      l1[k] = lam;
      l0[k] = f(1 - lam);
    }
    const wshape = new Array<number>(x.ndim).fill(1);
    wshape[d] = out;
    const w0 = o.tensor(l0, { dtype: x.dtype, shape: wshape, device: x.device });
    const w1 = o.tensor(l1, { dtype: x.dtype, shape: wshape, device: x.device });
    const a0 = o.indexSelect(y, d, o.tensor(i0, { dtype: 'int64', device: y.device }));
    const a1 = o.indexSelect(y, d, o.tensor(i1, { dtype: 'int64', device: y.device }));
    y = o.add(o.mul(a0, w0), o.mul(a1, w1));
  }
  return y;
}
