/** matmul with NumPy/PyTorch rank rules and batch broadcasting, over one bmm kernel. */
import { DTypeError, ShapeError } from '../errors';
import * as K from '../kernels';
import { broadcastShapes, fmtShape } from '../shape';
import { Tensor } from '../tensor';
import { checkTensor, dispatch, ops } from './util';
import type { OpDef } from '../dispatch';

/**
 * oneDNN takes any row- or column-major matrix view; broadcast (stride 0) or doubly strided
 * operands would drop to the slow reference loop, so they are made contiguous first.
 */
function gemmReady(t: Tensor): Tensor {
  const [s0, s1, s2] = t._strides;
  const [n0, n1, n2] = t.shape;
  const broadcast = (s0 === 0 && n0 > 1) || (s1 === 0 && n1 > 1) || (s2 === 0 && n2 > 1);
  return broadcast || (s1 !== 1 && s2 !== 1) ? K.contiguous(t) : t;
}

const bmmDef: OpDef<null> = {
  name: 'bmm',
  forward(ctx, [a, b]) {
    ctx.a = a;
    ctx.b = b;
    return K.bmm(gemmReady(a), gemmReady(b));
  },
  backward(ctx, [g]) {
    const o = ops();
    const a = ctx.a as Tensor;
    const b = ctx.b as Tensor;
    return [
      ctx.needsInputGrad[0] ? bmmRaw(g!, o.transpose(b, 1, 2)) : null,
      ctx.needsInputGrad[1] ? bmmRaw(o.transpose(a, 1, 2), g!) : null,
    ];
  },
};

function bmmRaw(a: Tensor, b: Tensor): Tensor {
  return dispatch(bmmDef, [a, b], null);
}

function checkPair(a: Tensor, b: Tensor, op: string): void {
  checkTensor(a, op, 'input');
  checkTensor(b, op, 'other');
  if (a.dtype !== b.dtype)
    throw new DTypeError(`${op}: expected both operands to have the same dtype, but got ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}`);
  if (a.dtype === 'bool') throw new DTypeError(`${op}: bool tensors are not supported`);
}

/** Matrix product with PyTorch's rules for 1-D, 2-D and batched (broadcast) operands. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkPair(a, b, 'matmul');
  const o = ops();
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError(`matmul: both arguments need at least 1 dimension, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  const aVec = a.ndim === 1;
  const bVec = b.ndim === 1;
  const A = aVec ? o.unsqueeze(a, 0) : a;
  const B = bVec ? o.unsqueeze(b, 1) : b;
  const M = A.shape[A.ndim - 2];
  const Ka = A.shape[A.ndim - 1];
  const Kb = B.shape[B.ndim - 2];
  const N = B.shape[B.ndim - 1];
  if (Ka !== Kb)
    throw new ShapeError(`matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be multiplied (${M}x${Ka} and ${Kb}x${N})`);
  const batch = broadcastShapes(A.shape.slice(0, -2), B.shape.slice(0, -2), 'matmul');
  const nb = batch.reduce((x, y) => x * y, 1);
  const A3 = o.reshape(o.expand(A, [...batch, M, Ka]), [nb, M, Ka]);
  const B3 = o.reshape(o.expand(B, [...batch, Kb, N]), [nb, Kb, N]);
  let r = o.reshape(bmmRaw(A3, B3), [...batch, M, N]);
  if (aVec) r = o.squeeze(r, -2);
  if (bVec) r = o.squeeze(r, -1);
  return r;
}

export function mm(a: Tensor, b: Tensor): Tensor {
  checkPair(a, b, 'mm');
  if (a.ndim !== 2 || b.ndim !== 2) throw new ShapeError(`mm: expected 2-D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  return matmul(a, b);
}

export function bmm(a: Tensor, b: Tensor): Tensor {
  checkPair(a, b, 'bmm');
  if (a.ndim !== 3 || b.ndim !== 3) throw new ShapeError(`bmm: expected 3-D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  if (a.shape[0] !== b.shape[0] || a.shape[2] !== b.shape[1])
    throw new ShapeError(`bmm: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be multiplied`);
  return bmmRaw(a, b);
}

export function dot(a: Tensor, b: Tensor): Tensor {
  checkPair(a, b, 'dot');
  if (a.ndim !== 1 || b.ndim !== 1 || a.shape[0] !== b.shape[0])
    throw new ShapeError(`dot: expected 1-D tensors of the same size, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  return matmul(a, b);
}
