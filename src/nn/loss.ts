/**
 * Loss functions (F.crossEntropy, F.nllLoss, F.mseLoss, ...) and their modules (nn.CrossEntropyLoss, ...).
 *
 * Cross entropy with class-index targets is one dispatched op ('cross_entropy'): a fused
 * log-softmax (the native logSoftmax kernel) + NLL forward over raw kernels, and a backward (softmax - onehot) * weight * g that
 * stays differentiable for double backward. Label smoothing and probability targets take the
 * composite path (logSoftmax + reductions). BCE-with-logits is built on logsigmoid (stable for
 * any logit).
 */
import { mode } from '../autograd/mode';
import type { OpDef } from '../dispatch';
import { isFloating } from '../dtype';
import { DTypeError, ShapeError, ValueError } from '../errors';
import { functional as act } from '../activations/functional';
import * as K from '../kernels';
import * as ops from '../ops/all';
import { hook } from '../profiler/hook';
import { dispatch } from '../ops/util';
import { contiguousStrides, fmtShape, sameShape } from '../shape';
import { Tensor } from '../tensor';
import { Module } from './module';

export type Reduction = 'mean' | 'sum' | 'none';

function checkReduction(r: unknown, op: string): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new ValueError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${JSON.stringify(r)}`);
  return r;
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? ops.sum(loss) : ops.mean(loss);
}

function checkFloat(x: unknown, op: string, what: string): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: expected ${what} to be a Tensor`);
  if (!isFloating(x.dtype)) throw new DTypeError(`${op}: expected ${what} to be a floating tensor, got ${x.dtype}`);
  return x;
}

function checkSameShape(input: Tensor, target: Tensor, op: string): void {
  if (!sameShape(input.shape, target.shape))
    throw new ShapeError(`${op}: target size ${fmtShape(target.shape)} must be the same as input size ${fmtShape(input.shape)}`);
}

/** A raw (non-dispatched) metadata reshape of a contiguous tensor. */
function raw(t: Tensor, shape: number[]): Tensor {
  return new Tensor(t._storage, shape, contiguousStrides(shape), t._offset, t.dtype);
}

// ---- cross entropy / nll --------------------------------------------------------------------

interface CEAttrs {
  ignoreIndex: number;
  reduction: Reduction;
  hasWeight: boolean;
}

/** x [N, C, d...] -> [M, C] with the class dim last (contiguous), plus the permuted shape. */
function classLast(x: Tensor): [Tensor, number[]] {
  const C = x.shape[1];
  if (x.ndim === 2) return [x, x.shape as number[]];
  const perm = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2), 1];
  const pshape = perm.map((d) => x.shape[d]);
  const pview = new Tensor(x._storage, pshape, perm.map((d) => x._strides[d]), x._offset, x.dtype);
  const c = K.contiguous(pview);
  return [raw(c, [c.numel / C || 0, C]), pshape];
}

/**
 * Cross entropy with class-index targets as one op: log_softmax over the classes, then one kernel
 * for the rows' picked log-probabilities and weights and their sum or weighted mean (K.nllFwd:
 * one launch up to 4096 rows, two above); backward one kernel, exp(logp) minus the one-hot target
 * times each row's coefficient (K.ceBwd). PyTorch runs log_softmax + nll_loss the same way, two
 * kernels forward, two backward.
 */
const crossEntropyDef: OpDef<CEAttrs> = {
  name: 'cross_entropy',
  forward(ctx, inputs, at) {
    const [x, t] = inputs;
    const w = at.hasWeight ? K.contiguous(inputs[2]) : null;
    const [x2, pshape] = classLast(x);
    const M = x2.shape[0];
    const logp = K.softmaxFwd(K.contiguous(x2), 1, true, 'cross_entropy');
    const tf = raw(K.contiguous(K.cast(t, 'int64')), [M]);
    checkTargetRange(t, x.shape[1], at.ignoreIndex, 'crossEntropy');
    const [loss, wi, denom] = K.nllFwd(logp, tf, w, at.ignoreIndex, at.reduction);
    ctx.logp = logp;
    ctx.wi = wi;
    ctx.t = tf;
    ctx.pshape = pshape;
    ctx.at = at;
    ctx.x = x;
    if (at.reduction === 'mean') ctx.denom = denom;
    return at.reduction === 'none' ? raw(loss, t.shape as number[]) : loss;
  },
  backward(ctx, [g]) {
    const at = ctx.at as CEAttrs;
    const x = ctx.x as Tensor;
    const pshape = ctx.pshape as number[];
    const C = x.shape[1];
    const M = (ctx.wi as Tensor).shape[0];
    let gx: Tensor;
    if (mode.grad) {
      // double backward: the softmax must be a function of x in the graph
      let sx = ops.softmax(x, 1);
      if (x.ndim > 2) sx = ops.permute(sx, [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2), 1]);
      const p = ops.reshape(sx, [M, C]);
      const tl = ctx.t as Tensor;
      const valid = ops.ne(tl, at.ignoreIndex);
      let coef: Tensor;
      if (at.reduction === 'none') coef = ops.mul(ops.reshape(g!, [M]), ctx.wi as Tensor);
      else if (at.reduction === 'sum') coef = ops.mul(ctx.wi as Tensor, g!);
      // ignored rows stay 0 when every row is (the mean's 0 / 0), as the kernel's
      else coef = ops.where(valid, ops.mul(ctx.wi as Tensor, ops.div(g!, ctx.denom as Tensor)), 0);
      const c1 = ops.unsqueeze(coef, 1);
      const tsafe = ops.where(valid, tl, 0);
      K.markValidIndex(tsafe, C);  // in range by the forward's check: CUDA's scatter skips its own
      gx = ops.scatterAdd(ops.mul(p, c1), 1, ops.unsqueeze(tsafe, 1), ops.neg(c1));
    } else {
      const logp = ctx.logp as Tensor;
      // g: [M] values for 'none', one otherwise; a profiled op of its own (no dispatch records it)
      const run = () => K.ceBwd(logp, ctx.t as Tensor, ctx.wi as Tensor, K.contiguous(g!), at.reduction === 'mean' ? (ctx.denom as Tensor) : null, at.ignoreIndex);
      gx = hook.on ? hook.run('cross_entropy_backward', [logp], run) : run();
    }
    if (x.ndim > 2) {
      const nd = x.ndim;
      gx = ops.reshape(gx, pshape);
      // inverse of [0, 2, ..., nd-1, 1]
      gx = ops.permute(gx, [0, nd - 1, ...Array.from({ length: nd - 2 }, (_, i) => i + 1)]);
    }
    return at.hasWeight ? [gx, null, null] : [gx, null];
  },
};

export interface NLLOptions {
  /** a manual rescaling weight per class [C] */
  weight?: Tensor | null;
  /** target value that is ignored and does not contribute to the gradient (default -100) */
  ignoreIndex?: number;
  reduction?: Reduction;
}
export interface CrossEntropyOptions extends NLLOptions {
  /** in [0, 1]: mixes the target with the uniform distribution (Szegedy et al. 2016) */
  labelSmoothing?: number;
}

/** Validates (input, target) for class-index losses; returns them with a batch dim. */
function prepClassIndex(input: Tensor, target: Tensor, weight: Tensor | null | undefined, op: string): [Tensor, Tensor, boolean] {
  checkFloat(input, op, 'input');
  if (!(target instanceof Tensor)) throw new ValueError(`${op}: expected target to be a Tensor`);
  if (input.ndim < 1) throw new ShapeError(`${op}: input must have at least 1 dimension`);
  let x = input;
  let t = target;
  let unbatched = false;
  if (input.ndim === 1) {
    if (target.ndim !== 0) throw new ShapeError(`${op}: for an unbatched input ${fmtShape(input.shape)} the target must be 0-D, got ${fmtShape(target.shape)}`);
    x = ops.unsqueeze(input, 0);
    t = ops.unsqueeze(target, 0);
    unbatched = true;
  }
  if (t.dtype !== 'int64' && t.dtype !== 'int32') throw new DTypeError(`${op}: expected target to hold class indices (int64), got ${t.dtype}`);
  const want = [x.shape[0], ...x.shape.slice(2)];
  if (!sameShape(t.shape, want))
    throw new ShapeError(`${op}: expected target of shape ${fmtShape(want)} for input ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`);
  if (weight !== undefined && weight !== null) {
    if (!(weight instanceof Tensor) || weight.ndim !== 1 || weight.shape[0] !== x.shape[1])
      throw new ShapeError(`${op}: weight tensor should be defined either for all ${x.shape[1]} classes or no classes but got weight tensor of shape ${weight instanceof Tensor ? fmtShape(weight.shape) : typeof weight}`);
    if (weight.dtype !== x.dtype) throw new DTypeError(`${op}: weight dtype ${weight.dtype} does not match input dtype ${x.dtype}`);
  }
  return [x, t, unbatched];
}

/**
 * Class indices must lie in [0, C) except ignoreIndex (raw kernels: no dispatch, no autograd). One
 * read in the common case (on CUDA, one wait for the stream): whether any target is out of range.
 */
function checkTargetRange(t: Tensor, C: number, ignoreIndex: number, op: string): void {
  if (t.numel === 0) return;
  const known = K.rangeOf(t); // made by randint or copied from the host: no kernels, no readback
  if (known && known.lo >= 0 && known.hi < C) return;
  const shape = t.shape as number[];
  const tl = K.cast(t, 'int64');
  const ts = K.where(K.binary('ne', tl, ignoreIndex, 'int64', shape, 'bool'), tl, 0, 'int64', shape);
  const dims = shape.map((_, i) => i);
  const out = K.binary('logical_or', K.binary('lt', ts, 0, 'int64', shape, 'bool'), K.binary('ge', ts, C, 'int64', shape, 'bool'), 'bool', shape, 'bool');
  if (!(K.read(K.reduce('max', out, dims, 'bool')) as Uint8Array)[0]) return;
  const lo = Number((K.read(K.reduce('min', ts, dims, 'int64')) as BigInt64Array)[0]);
  const hi = Number((K.read(K.reduce('max', ts, dims, 'int64')) as BigInt64Array)[0]);
  if (lo < 0 || hi >= C) throw new ValueError(`${op}: target ${lo < 0 ? lo : hi} is out of bounds for ${C} classes`);
}

/**
 * The negative log likelihood loss over log-probabilities (torch.nn.functional.nll_loss).
 * input [N, C] / [N, C, d...] / [C]; target [N] / [N, d...] / [] class indices.
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NLLOptions = {}): Tensor {
  const reduction = checkReduction(opts.reduction ?? 'mean', 'nllLoss');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const [x, t, unbatched] = prepClassIndex(input, target, opts.weight, 'nllLoss');
  const C = x.shape[1];
  checkTargetRange(t, C, ignoreIndex, 'nllLoss');
  const tl = ops.to(t, 'int64');
  const valid = ops.ne(tl, ignoreIndex);
  const tsafe = ops.where(valid, tl, 0);
  K.markValidIndex(tsafe, C);  // in range by the check above: CUDA's gather / scatter skip theirs
  const picked = ops.squeeze(ops.gather(x, 1, ops.unsqueeze(tsafe, 1)), 1);
  const wi = opts.weight
    ? ops.where(valid, ops.reshape(ops.indexSelect(opts.weight, 0, ops.reshape(tsafe, [-1])), tsafe.shape as number[]), 0)
    : ops.to(valid, x.dtype);
  let loss = ops.neg(ops.mul(picked, wi));
  if (reduction === 'none') return unbatched ? ops.squeeze(loss, 0) : loss;
  loss = ops.sum(loss);
  return reduction === 'sum' ? loss : ops.div(loss, ops.sum(wi));
}

/**
 * Cross entropy between logits and class indices or class probabilities
 * (torch.nn.functional.cross_entropy): class weights, ignoreIndex, labelSmoothing, reductions;
 * input [N, C] or [N, C, d...] (targets [N, d...]) or unbatched [C].
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const reduction = checkReduction(opts.reduction ?? 'mean', op);
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const ls = opts.labelSmoothing ?? 0;
  if (typeof ls !== 'number' || !(ls >= 0 && ls <= 1)) throw new ValueError(`${op}: labelSmoothing must be between 0.0 and 1.0, got ${String(ls)}`);
  checkFloat(input, op, 'input');
  if (!(target instanceof Tensor)) throw new ValueError(`${op}: expected target to be a Tensor`);
  const weight = opts.weight ?? null;
  if (isFloating(target.dtype)) return crossEntropyProbs(input, target, weight, reduction, ls);
  const [x, t, unbatched] = prepClassIndex(input, target, weight, op);
  const C = x.shape[1];
  if (ls === 0) {  // the op checks the targets' range itself
    const inputs = weight ? [x, t, weight] : [x, t];
    const r = dispatch(crossEntropyDef, inputs, { ignoreIndex, reduction, hasWeight: !!weight });
    return unbatched && reduction === 'none' ? ops.squeeze(r, 0) : r;
  }
  // label smoothing: (1 - ls) * nll + ls / C * smooth, PyTorch's normalisation
  const logp = ops.logSoftmax(x, 1);
  const nll = nllLoss(logp, t, { weight, ignoreIndex, reduction });
  const tl = ops.to(t, 'int64');
  const valid = ops.ne(tl, ignoreIndex);
  const wv = weight ? ops.reshape(weight, [1, C, ...x.shape.slice(2).map(() => 1)]) : null;
  let smooth = ops.neg(ops.sum(wv ? ops.mul(logp, wv) : logp, 1));
  smooth = ops.where(valid, smooth, 0);
  let sm: Tensor;
  if (reduction === 'none') sm = smooth;
  else if (reduction === 'sum') sm = ops.sum(smooth);
  else {
    const tsafe = ops.where(valid, tl, 0);
    const denom = weight ? ops.sum(ops.where(valid, ops.reshape(ops.indexSelect(weight, 0, ops.reshape(tsafe, [-1])), tl.shape as number[]), 0)) : ops.sum(ops.to(valid, x.dtype));
    sm = ops.div(ops.sum(smooth), denom);
  }
  const r = ops.add(ops.mul(nll, 1 - ls), ops.mul(sm, ls / C));
  return unbatched && reduction === 'none' ? ops.squeeze(r, 0) : r;
}

function crossEntropyProbs(input: Tensor, target: Tensor, weight: Tensor | null, reduction: Reduction, ls: number): Tensor {
  const op = 'crossEntropy';
  checkSameShape(input, target, op);
  if (target.dtype !== input.dtype) throw new DTypeError(`${op}: probability targets must have the input's dtype ${input.dtype}, got ${target.dtype}`);
  const cdim = input.ndim === 1 ? 0 : 1;
  const C = input.shape[cdim];
  let t = target;
  if (ls > 0) t = ops.add(ops.mul(t, 1 - ls), ls / C);
  const logp = ops.logSoftmax(input, cdim);
  let prod = ops.mul(logp, t);
  if (weight) {
    if (weight.ndim !== 1 || weight.shape[0] !== C) throw new ShapeError(`${op}: weight must have shape [${C}], got ${fmtShape(weight.shape)}`);
    prod = ops.mul(prod, ops.reshape(weight, input.shape.map((s, i) => (i === cdim ? C : 1))));
  }
  const loss = ops.neg(ops.sum(prod, cdim));
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return ops.sum(loss);
  return ops.div(ops.sum(loss), input.numel / C);
}

// ---- regression ----------------------------------------------------------------------------

export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const r = checkReduction(opts.reduction ?? 'mean', 'mseLoss');
  checkFloat(input, 'mseLoss', 'input');
  checkFloat(target, 'mseLoss', 'target');
  checkSameShape(input, target, 'mseLoss');
  return reduce(ops.square(ops.sub(input, target)), r);
}

export function l1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const r = checkReduction(opts.reduction ?? 'mean', 'l1Loss');
  checkFloat(input, 'l1Loss', 'input');
  checkFloat(target, 'l1Loss', 'target');
  checkSameShape(input, target, 'l1Loss');
  return reduce(ops.abs(ops.sub(input, target)), r);
}

/** 0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0 is L1). */
export function smoothL1Loss(input: Tensor, target: Tensor, opts: { reduction?: Reduction; beta?: number } = {}): Tensor {
  const r = checkReduction(opts.reduction ?? 'mean', 'smoothL1Loss');
  const beta = opts.beta ?? 1;
  if (typeof beta !== 'number' || !(beta >= 0)) throw new ValueError(`smoothL1Loss: beta must be non-negative, got ${String(beta)}`);
  checkFloat(input, 'smoothL1Loss', 'input');
  checkFloat(target, 'smoothL1Loss', 'target');
  checkSameShape(input, target, 'smoothL1Loss');
  const d = ops.abs(ops.sub(input, target));
  if (beta === 0) return reduce(d, r);
  const loss = ops.where(ops.lt(d, beta), ops.mul(ops.square(d), 0.5 / beta), ops.sub(d, 0.5 * beta));
  return reduce(loss, r);
}

/** 0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta). */
export function huberLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction; delta?: number } = {}): Tensor {
  const r = checkReduction(opts.reduction ?? 'mean', 'huberLoss');
  const delta = opts.delta ?? 1;
  if (typeof delta !== 'number' || !(delta > 0)) throw new ValueError(`huberLoss: delta must be positive, got ${String(delta)}`);
  checkFloat(input, 'huberLoss', 'input');
  checkFloat(target, 'huberLoss', 'target');
  checkSameShape(input, target, 'huberLoss');
  const d = ops.abs(ops.sub(input, target));
  const loss = ops.where(ops.le(d, delta), ops.mul(ops.square(d), 0.5), ops.mul(ops.sub(d, 0.5 * delta), delta));
  return reduce(loss, r);
}

// ---- binary -------------------------------------------------------------------------------

/** Binary cross entropy on probabilities in [0, 1]; logs clamped at -100 like PyTorch. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: { weight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  const op = 'binaryCrossEntropy';
  const r = checkReduction(opts.reduction ?? 'mean', op);
  checkFloat(input, op, 'input');
  checkFloat(target, op, 'target');
  checkSameShape(input, target, op);
  if (input.numel > 0) {
    // one read (on CUDA one wait for the stream) for both ends
    const x = input.detach();
    const [lo, hi] = Array.from(ops.stack([ops.amin(x), ops.amax(x)]).dataSync() as Float64Array);
    if (!(lo >= 0 && hi <= 1)) throw new ValueError(`${op}: all elements of input should be between 0 and 1`);
  }
  const logx = ops.clamp(ops.log(input), -100);
  const log1mx = ops.clamp(ops.log1p(ops.neg(input)), -100);
  // -(t log x + (1 - t) log(1 - x)) = -(log1mx + t (logx - log1mx))
  let loss = ops.neg(ops.add(log1mx, ops.mul(target, ops.sub(logx, log1mx))));
  if (opts.weight) loss = ops.mul(loss, opts.weight);
  return reduce(loss, r);
}

/**
 * Sigmoid + binary cross entropy in one stable expression:
 * (1 - t) x - (1 + (posWeight - 1) t) logsigmoid(x), times weight.
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  const r = checkReduction(opts.reduction ?? 'mean', op);
  checkFloat(input, op, 'input');
  checkFloat(target, op, 'target');
  checkSameShape(input, target, op);
  const ls = act.logsigmoid(input);
  const coef = opts.posWeight ? ops.add(ops.mul(ops.sub(opts.posWeight, 1), target), 1) : null;
  let loss = ops.sub(ops.mul(ops.sub(1, target), input), coef ? ops.mul(coef, ls) : ls);
  if (opts.weight) loss = ops.mul(loss, opts.weight);
  return reduce(loss, r);
}

// ---- modules ------------------------------------------------------------------------------

abstract class Loss extends Module {
  readonly reduction: Reduction;
  constructor(reduction: Reduction | undefined, name: string) {
    super();
    this.reduction = checkReduction(reduction ?? 'mean', name);
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
}

export class CrossEntropyLoss extends Loss {
  declare weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(opts: CrossEntropyOptions = {}) {
    super(opts.reduction, 'CrossEntropyLoss');
    this.registerBuffer('weight', opts.weight ?? null);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }
}

export class NLLLoss extends Loss {
  declare weight: Tensor | null;
  readonly ignoreIndex: number;
  constructor(opts: NLLOptions = {}) {
    super(opts.reduction, 'NLLLoss');
    this.registerBuffer('weight', opts.weight ?? null);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

export class MSELoss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super(opts.reduction, 'MSELoss');
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

export class L1Loss extends Loss {
  constructor(opts: { reduction?: Reduction } = {}) {
    super(opts.reduction, 'L1Loss');
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

export class SmoothL1Loss extends Loss {
  readonly beta: number;
  constructor(opts: { reduction?: Reduction; beta?: number } = {}) {
    super(opts.reduction, 'SmoothL1Loss');
    this.beta = opts.beta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

export class HuberLoss extends Loss {
  readonly delta: number;
  constructor(opts: { reduction?: Reduction; delta?: number } = {}) {
    super(opts.reduction, 'HuberLoss');
    this.delta = opts.delta ?? 1;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

export class BCELoss extends Loss {
  declare weight: Tensor | null;
  constructor(opts: { weight?: Tensor | null; reduction?: Reduction } = {}) {
    super(opts.reduction, 'BCELoss');
    this.registerBuffer('weight', opts.weight ?? null);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

export class BCEWithLogitsLoss extends Loss {
  declare weight: Tensor | null;
  declare posWeight: Tensor | null;
  constructor(opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {}) {
    super(opts.reduction, 'BCEWithLogitsLoss');
    this.registerBuffer('weight', opts.weight ?? null);
    this.registerBuffer('posWeight', opts.posWeight ?? null);
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.posWeight, reduction: this.reduction });
  }
}

export { binaryCrossEntropy as bce, binaryCrossEntropyWithLogits as bceWithLogits };
