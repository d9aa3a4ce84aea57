/**
 * Normalization (PyTorch semantics): batchNorm over [N, C] and [N, C, *] (native kernels in
 * native/cpu/batchnorm.cpp: oneDNN for float32, loops otherwise; running statistics updated in
 * place in training with the unbiased variance), layerNorm and groupNorm (compositions of
 * reductions, so they have double backward).
 */
import { mode } from '../autograd/mode';
import type { OpDef } from '../dispatch';
import { ShapeError, ValueError } from '../errors';
import * as K from '../kernels';
import { fmtShape } from '../shape';
import { Tensor } from '../tensor';
import { checkFloat } from './conv';
import { checkTensor, dispatch, ops, scoped } from './util';

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

type BnAttrs = { g: K.BnGeom; hasW: boolean; hasB: boolean; hasRm: boolean; hasRv: boolean };

// The native backward (one pass). Higher-order gradients (createGraph) take bnBackwardComposite.
const bnBwdDef: OpDef<{ g: K.BnGeom; wantW: boolean; wantB: boolean }> = {
  name: 'batch_norm_backward',
  forward(_ctx, [x, gy, sm, sv, w], { g, wantW, wantB }) {
    const [dx, dw, db] = K.bnBwd(x, K.contiguous(gy), w ?? null, sm, sv, g, wantW, wantB);
    const r = [dx];
    if (dw) r.push(dw);
    if (db) r.push(db);
    return r;
  },
};

/**
 * Batch norm's backward written with differentiable ops, for double backward (autograd.grad with
 * createGraph): training recomputes the batch statistics from x, so the gradient of the gradient
 * sees them depend on x; eval uses the running statistics as constants. With M = N * S elements
 * per channel, xhat = (x - mean) invstd and gw = gy * w:
 *   dx = invstd / M (M gw - sum(gw) - xhat sum(gw xhat)),  dweight = sum(gy xhat),  dbias = sum(gy).
 */
function bnBackwardComposite(x: Tensor, gy: Tensor, w: Tensor | null, rm: Tensor | null, rv: Tensor | null, g: K.BnGeom): [Tensor, Tensor, Tensor] {
  const o = ops();
  const shape3 = [g.N, g.C, g.S];
  const xs = o.reshape(x, shape3);
  const gs = o.reshape(gy, shape3);
  const dims = [0, 2];
  let xhat: Tensor;
  let invstd: Tensor;
  if (g.training) {
    const xc = o.sub(xs, o.mean(xs, dims, true));
    invstd = o.rsqrt(o.add(o.mean(o.mul(xc, xc), dims, true), g.eps));
    xhat = o.mul(xc, invstd);
  } else {
    invstd = o.reshape(o.rsqrt(o.add(rv!, g.eps)), [1, g.C, 1]);
    xhat = o.mul(o.sub(xs, o.reshape(rm!, [1, g.C, 1])), invstd);
  }
  const gw = w ? o.mul(gs, o.reshape(w, [1, g.C, 1])) : gs;
  let dx: Tensor;
  if (g.training) {
    const M = g.N * g.S;
    const t = o.sub(o.sub(o.mul(gw, M), o.sum(gw, dims, true)), o.mul(xhat, o.sum(o.mul(gw, xhat), dims, true)));
    dx = o.mul(t, o.div(invstd, M));
  } else dx = o.mul(gw, invstd);
  return [o.reshape(dx, x.shape as number[]), o.sum(o.mul(gs, xhat), dims), o.sum(gs, dims)];
}

const bnDef: OpDef<BnAttrs> = {
  name: 'batch_norm',
  forward(ctx, inputs, a) {
    let i = 1;
    const x = K.contiguous(inputs[0]);
    const w = a.hasW ? K.contiguous(inputs[i++]) : null;
    const b = a.hasB ? K.contiguous(inputs[i++]) : null;
    const rm = a.hasRm ? inputs[i++] : null;
    const rv = a.hasRv ? inputs[i++] : null;
    const [y, sm, sv] = K.bnFwd(x, w, b, rm, rv, a.g);
    if (a.g.training) {
      if (rm) rm._storage.version++;
      if (rv) rv._storage.version++;
    }
    ctx.x = x;
    ctx.w = w;
    ctx.rm = rm;
    ctx.rv = rv;
    ctx.sm = sm;
    ctx.sv = sv;
    ctx.a = a;
    return y;
  },
  backward(ctx, [gy]) {
    const a = ctx.a as BnAttrs;
    const need = ctx.needsInputGrad;
    const wantW = a.hasW && need[1];
    const wantB = a.hasB && need[a.hasW ? 2 : 1];
    if (mode.grad) {
      // createGraph: differentiable ops, so the result has a gradient itself
      const [dx, dw, db] = bnBackwardComposite(ctx.x as Tensor, gy!, ctx.w as Tensor | null, ctx.rm as Tensor | null, ctx.rv as Tensor | null, a.g);
      const grads: (Tensor | null)[] = [need[0] ? dx : null];
      if (a.hasW) grads.push(wantW ? dw : null);
      if (a.hasB) grads.push(wantB ? db : null);
      if (a.hasRm) grads.push(null);
      if (a.hasRv) grads.push(null);
      return grads;
    }
    const ins = [ctx.x as Tensor, gy!, ctx.sm as Tensor, ctx.sv as Tensor];
    if (ctx.w) ins.push(ctx.w as Tensor);
    const r = dispatch(bnBwdDef, ins, { g: a.g, wantW, wantB }, true);
    const grads: (Tensor | null)[] = [need[0] ? r[0] : null];
    let k = 1;
    if (a.hasW) grads.push(wantW ? r[k++] : null);
    if (a.hasB) grads.push(wantB ? r[k++] : null);
    if (a.hasRm) grads.push(null);
    if (a.hasRv) grads.push(null);
    return grads;
  },
};

function checkParam(op: string, x: Tensor, t: Tensor | null | undefined, what: string, n: number): Tensor | null {
  if (t === undefined || t === null) return null;
  checkTensor(t, op, what);
  if (t.dtype !== x.dtype) throw new ValueError(`${op}: expected ${what} (${t.dtype}) to have the input's dtype ${x.dtype}`);
  if (t.numel !== n) throw new ShapeError(`${op}: expected ${what} with ${n} elements, got ${fmtShape(t.shape)} for input ${fmtShape(x.shape)}`);
  return t;
}

/**
 * Batch normalization (F.batch_norm): x [N, C, *]; running statistics (C elements each) are
 * updated in place when training; eval mode (training false, the default like PyTorch) needs them.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormOptions = {},
): Tensor {
  const op = 'batch_norm';
  checkTensor(x, op, 'input');
  checkFloat(x, op, 'input');
  if (x.ndim < 2) throw new ShapeError(`${op}: expected at least a 2-D input [N, C, *], got ${fmtShape(x.shape)}`);
  const training = opts.training ?? false;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (typeof momentum !== 'number' || Number.isNaN(momentum)) throw new ValueError(`${op}: momentum must be a number, got ${String(momentum)}`);
  if (typeof eps !== 'number' || !(eps >= 0)) throw new ValueError(`${op}: eps must be a non-negative number, got ${String(eps)}`);
  const N = x.shape[0];
  const C = x.shape[1];
  if (C === 0) throw new ShapeError(`${op}: input ${fmtShape(x.shape)} has no channels`);
  const S = x.shape.slice(2).reduce((p, q) => p * q, 1);
  const w = checkParam(op, x, weight, 'weight', C);
  const b = checkParam(op, x, bias, 'bias', C);
  const rm = checkParam(op, x, runningMean, 'running_mean', C);
  const rv = checkParam(op, x, runningVar, 'running_var', C);
  for (const [t, what] of [[rm, 'running_mean'], [rv, 'running_var']] as const)
    if (t && !t.isContiguous()) throw new ValueError(`${op}: ${what} must be contiguous (it is updated in place)`);
  if (!training && (!rm || !rv)) throw new ValueError(`${op}: running_mean and running_var must be defined in evaluation mode`);
  if (training && N * S <= 1) throw new ValueError(`${op}: expected more than 1 value per channel when training, got input size ${fmtShape(x.shape)}`);
  const inputs = [x];
  if (w) inputs.push(w);
  if (b) inputs.push(b);
  if (rm) inputs.push(rm);
  if (rv) inputs.push(rv);
  const g: K.BnGeom = { N, C, S, eps, momentum, training };
  return dispatch(bnDef, inputs, { g, hasW: !!w, hasB: !!b, hasRm: !!rm, hasRv: !!rv });
}

/** Layer normalization over the trailing dims `normalizedShape`. */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const op = 'layer_norm';
  checkTensor(x, op, 'input');
  checkFloat(x, op, 'input');
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const k = ns.length;
  if (k === 0 || k > x.ndim || ns.some((n, i) => n !== x.shape[x.ndim - k + i]))
    throw new ShapeError(`${op}: normalizedShape ${fmtShape(ns)} does not match the trailing dims of input ${fmtShape(x.shape)}`);
  const n = ns.reduce((p, q) => p * q, 1);
  const w = checkParam(op, x, weight, 'weight', n);
  const b = checkParam(op, x, bias, 'bias', n);
  for (const [t, what] of [[w, 'weight'], [b, 'bias']] as const)
    if (t && (t.ndim !== k || t.shape.some((v, i) => v !== ns[i]))) throw new ShapeError(`${op}: expected ${what} of shape ${fmtShape(ns)}, got ${fmtShape(t.shape)}`);
  const o = ops();
  const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  return scoped([x, w, b], () => {
    const xc = o.sub(x, o.mean(x, dims, true));
    const v = o.mean(o.mul(xc, xc), dims, true);
    let y = o.mul(xc, o.rsqrt(o.add(v, eps)));
    if (w) y = o.mul(y, w);
    if (b) y = o.add(y, b);
    return y;
  });
}

/** Group normalization: x [N, C, *], channels split into numGroups groups; per-channel affine. */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const op = 'group_norm';
  checkTensor(x, op, 'input');
  checkFloat(x, op, 'input');
  if (x.ndim < 2) throw new ShapeError(`${op}: expected at least a 2-D input [N, C, *], got ${fmtShape(x.shape)}`);
  if (!Number.isInteger(numGroups) || numGroups < 1) throw new ValueError(`${op}: numGroups must be a positive integer, got ${String(numGroups)}`);
  const [N, C] = x.shape;
  if (C % numGroups !== 0) throw new ShapeError(`${op}: expected the number of channels (${C}, input ${fmtShape(x.shape)}) to be divisible by numGroups (${numGroups})`);
  const w = checkParam(op, x, weight, 'weight', C);
  const b = checkParam(op, x, bias, 'bias', C);
  const o = ops();
  return scoped([x, w, b], () => {
    const xg = o.reshape(x, [N, numGroups, -1]);
    const xc = o.sub(xg, o.mean(xg, [2], true));
    const v = o.mean(o.mul(xc, xc), [2], true);
    let y = o.reshape(o.mul(xc, o.rsqrt(o.add(v, eps))), x.shape as number[]);
    const pshape = x.shape.map((s, i) => (i === 1 ? C : 1));
    if (w) y = o.mul(y, o.reshape(w, pshape));
    if (b) y = o.add(y, o.reshape(b, pshape));
    return y;
  });
}
