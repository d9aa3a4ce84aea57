/** softmax / logSoftmax / softmin along one dim, composed from stable primitives. */
import { isFloating } from '../dtype';
import { Tensor } from '../tensor';
import { normDim } from '../shape';
import { checkTensor, ops } from './util';

function prepare(x: Tensor, dim: number, op: string): [Tensor, number, Tensor] {
  checkTensor(x, op);
  const o = ops();
  const xf = isFloating(x.dtype) ? x : o.to(x, 'float32');
  const d = normDim(dim, x.ndim, op);
  // shift by the (detached) max: softmax is shift-invariant, so the gradient is unchanged
  const m = o.amax(xf, d, true).detach();
  const safe = o.where(o.eq(o.abs(m), Infinity), 0, m);
  return [o.sub(xf, safe), d, safe];
}

/** exp(x_i) / sum_j exp(x_j) along dim. */
export function softmax(x: Tensor, dim: number): Tensor {
  const o = ops();
  const [z, d] = prepare(x, dim, 'softmax');
  const e = o.exp(z);
  return o.div(e, o.sum(e, d, true));
}

/** log(softmax(x)) computed as x - logsumexp(x). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  const o = ops();
  const [z, d] = prepare(x, dim, 'logSoftmax');
  return o.sub(z, o.log(o.sum(o.exp(z), d, true)));
}

/** softmax(-x). */
export function softmin(x: Tensor, dim: number): Tensor {
  return softmax(ops().neg(checkTensor(x, 'softmin')), dim);
}
