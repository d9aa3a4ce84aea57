/**
 * softmax / logSoftmax / softmin along one dim: one dispatched op each ('softmax', 'log_softmax',
 * 'softmin') over native kernels (native/cpu/softmax.cpp, native/cuda/softmax.cu: one pass per row
 * for the max, one for the sum of exp, one to write), with a native backward op computed from the
 * output y:
 *   softmax:     gx = y (g - sum(g y))
 *   logSoftmax:  gx = g - exp(y) sum(g)
 *   softmin:     softmax of -x, read by the kernel as -x (no neg(x) tensor): gx = -(y (g - sum(g y)))
 * Under createGraph the backward is written with differentiable ops on y instead, so that double
 * backward works. NaN / inf follow PyTorch: a row holding a NaN or a +inf (softmin: a -inf), or
 * only -inf (softmin: +inf), is NaN.
 * softmaxComposite / logSoftmaxComposite / softminComposite are the compositions of primitives,
 * kept as the reference the tests compare the kernels against.
 */
import { mode } from '../autograd/mode';
import type { OpDef } from '../dispatch';
import { isFloating } from '../dtype';
import * as K from '../kernels';
import { normDim } from '../shape';
import { Tensor } from '../tensor';
import { checkTensor, dispatch, ops } from './util';

interface SoftmaxAttrs {
  dim: number;
  log: boolean;
  /** of -x (softmin) */
  neg: boolean;
}

function backwardDef(name: string): OpDef<SoftmaxAttrs> {
  return {
    name,
    forward(_ctx, [y, g], a) {
      return K.softmaxBwd(y, K.contiguous(g), a.dim, a.log, name, a.neg);
    },
  };
}
const softmaxBwdDef = backwardDef('softmax_backward');
const logSoftmaxBwdDef = backwardDef('log_softmax_backward');
const softminBwdDef = backwardDef('softmin_backward');

/** The backward as differentiable ops on the output y (double backward); neg: negated, as the kernel writes it. */
function backwardComposite(y: Tensor, g: Tensor, a: SoftmaxAttrs): Tensor {
  const o = ops();
  if (a.log) {
    const t = o.mul(o.exp(y), o.sum(g, a.dim, true));
    return a.neg ? o.sub(t, g) : o.sub(g, t);
  }
  const dot = o.sum(o.mul(g, y), a.dim, true);
  return o.mul(y, a.neg ? o.sub(dot, g) : o.sub(g, dot));
}

function forwardDef(name: string, bwd: OpDef<SoftmaxAttrs>): OpDef<SoftmaxAttrs> {
  return {
    name,
    forward(ctx, [x], a) {
      const y = K.softmaxFwd(K.contiguous(x), a.dim, a.log, name, a.neg);
      ctx.y = y;
      ctx.a = a;
      return y;
    },
    backward(ctx, [g]) {
      const a = ctx.a as SoftmaxAttrs;
      // ctx.y is the op's own output: differentiable ops on it see its dependence on x
      if (mode.grad) return [backwardComposite(ctx.y as Tensor, g!, a)];
      return [dispatch(bwd, [ctx.y as Tensor, g!], a)];
    },
  };
}
const softmaxDef = forwardDef('softmax', softmaxBwdDef);
const logSoftmaxDef = forwardDef('log_softmax', logSoftmaxBwdDef);
const softminDef = forwardDef('softmin', softminBwdDef);

function run(def: OpDef<SoftmaxAttrs>, x: Tensor, dim: number, log: boolean, neg: boolean, op: string): Tensor {
  checkTensor(x, op);
  const xf = isFloating(x.dtype) ? x : ops().to(x, 'float32');
  const d = normDim(dim, x.ndim, op);
  return dispatch(def, [xf], { dim: d, log, neg });
}

/** exp(x_i) / sum_j exp(x_j) along dim (integer inputs are computed in float32). */
export function softmax(x: Tensor, dim: number): Tensor {
  return run(softmaxDef, x, dim, false, false, 'softmax');
}

/** log(softmax(x)) = x_i - log sum_j exp(x_j) along dim, without forming softmax. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return run(logSoftmaxDef, x, dim, true, false, 'logSoftmax');
}

/** softmax(-x) = exp(-x_i) / sum_j exp(-x_j) along dim, without forming -x. */
export function softmin(x: Tensor, dim: number): Tensor {
  return run(softminDef, x, dim, false, true, 'softmin');
}

// ---- the compositions of primitives (reference for the tests) ------------------------------

function prepare(x: Tensor, dim: number, op: string): [Tensor, number] {
  checkTensor(x, op);
  const o = ops();
  const xf = isFloating(x.dtype) ? x : o.to(x, 'float32');
  const d = normDim(dim, x.ndim, op);
  // shift by the (detached) max: softmax is shift-invariant, so the gradient is unchanged
  const m = o.amax(xf, d, true).detach();
  const safe = o.where(o.eq(o.abs(m), Infinity), 0, m);
  return [o.sub(xf, safe), d];
}

/** softmax as max, sub, exp, sum, div (several passes; the reference for the kernel). */
export function softmaxComposite(x: Tensor, dim: number): Tensor {
  const o = ops();
  const [z, d] = prepare(x, dim, 'softmax');
  const e = o.exp(z);
  return o.div(e, o.sum(e, d, true));
}

/** logSoftmax as x - logsumexp(x) from primitives (the reference for the kernel). */
export function logSoftmaxComposite(x: Tensor, dim: number): Tensor {
  const o = ops();
  const [z, d] = prepare(x, dim, 'logSoftmax');
  return o.sub(z, o.log(o.sum(o.exp(z), d, true)));
}

/** softmin as softmaxComposite(neg(x)) (the reference for the kernel). */
export function softminComposite(x: Tensor, dim: number): Tensor {
  checkTensor(x, 'softmin');
  return softmaxComposite(ops().neg(x), dim);
}
