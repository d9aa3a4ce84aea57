/** gather / scatter / indexSelect / oneHot along one dim (int64 indices, bounds-checked). */
import { DTypeError, IndexError, ShapeError, ValueError } from '../errors';
import * as K from '../kernels';
import { fmtShape, normDim } from '../shape';
import { Tensor } from '../tensor';
import { checkInt, checkTensor, dispatch, ops, TensorOrScalar } from './util';
import type { OpDef } from '../dispatch';

function checkIndex(x: Tensor, dim: number, index: Tensor, op: string, src?: Tensor): number {
  checkTensor(x, op);
  checkTensor(index, op, 'index');
  if (index.dtype !== 'int64') throw new DTypeError(`${op}: expected index to be int64, got ${index.dtype}`);
  const d = normDim(dim, x.ndim, op);
  if (index.ndim !== x.ndim && !(x.ndim === 0 && index.ndim <= 1))
    throw new ShapeError(`${op}: index ${fmtShape(index.shape)} and input ${fmtShape(x.shape)} must have the same number of dimensions`);
  for (let i = 0; i < index.ndim; i++) {
    if (i !== d && index.shape[i] > x.shape[i])
      throw new ShapeError(`${op}: size of index ${fmtShape(index.shape)} exceeds input ${fmtShape(x.shape)} at dimension ${i}`);
    if (src && index.shape[i] > src.shape[i])
      throw new ShapeError(`${op}: size of index ${fmtShape(index.shape)} exceeds src ${fmtShape(src.shape)} at dimension ${i}`);
  }
  return d;
}

const gatherDef: OpDef<{ dim: number }> = {
  name: 'gather',
  forward(ctx, [x, index], { dim }) {
    ctx.inShape = x.shape;
    ctx.index = index;
    ctx.dim = dim;
    return K.gather(x, dim, index);
  },
  backward(ctx, [g]) {
    const z = ops().zeros(ctx.inShape as number[], { dtype: g!.dtype, device: g!.device });
    return [scatterAdd(z, ctx.dim as number, ctx.index as Tensor, g!), null];
  },
};

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = checkIndex(x, dim, index, 'gather');
  return dispatch(gatherDef, [x, index], { dim: d });
}

interface ScatterAttrs {
  dim: number;
  reduce: 0 | 1;
  value: number | null;
}

/** src restricted to index's shape (scatter reads src only where index has entries). */
function srcView(src: Tensor, index: Tensor): Tensor {
  let r = src;
  for (let i = 0; i < index.ndim; i++) if (r.shape[i] !== index.shape[i]) r = ops().narrow(r, i, 0, index.shape[i]);
  return r;
}

const scatterDef: OpDef<ScatterAttrs> = {
  name: 'scatter',
  forward(ctx, inputs, at) {
    const [x, index] = inputs;
    const out = K.copy(x, x.dtype, x.shape);
    const src = at.value === null ? K.cast(srcView(inputs[2], index), x.dtype) : at.value;
    K.scatter(out, at.dim, index, src, at.reduce);
    ctx.index = index;
    ctx.at = at;
    ctx.srcShape = inputs[2]?.shape;
    return out;
  },
  backward(ctx, [g]) {
    const o = ops();
    const at = ctx.at as ScatterAttrs;
    const index = ctx.index as Tensor;
    const gx = at.reduce === 0 ? scatter(g!, at.dim, index, 0) : g!;
    const res: (Tensor | null)[] = [gx, null];
    if (at.value === null) {
      const gs = gather(g!, at.dim, index);
      const shape = ctx.srcShape as number[];
      // src entries outside index's shape get zero gradient
      if (gs.shape.some((s, i) => s !== shape[i])) {
        const z = o.zeros(shape, { dtype: g!.dtype, device: g!.device });
        let view = z;
        for (let i = 0; i < gs.ndim; i++) view = o.narrow(view, i, 0, gs.shape[i]);
        o.noGrad(() => K.copy(gs, gs.dtype, gs.shape, view));
        res.push(z);
      } else res.push(gs);
    }
    return res;
  },
};

function scatterImpl(x: Tensor, dim: number, index: Tensor, src: TensorOrScalar, reduce: 0 | 1, op: string): Tensor {
  const srcT = src instanceof Tensor ? src : undefined;
  const d = checkIndex(x, dim, index, op, srcT);
  if (srcT) {
    if (srcT.ndim !== index.ndim) throw new ShapeError(`${op}: index ${fmtShape(index.shape)} and src ${fmtShape(srcT.shape)} must have the same number of dimensions`);
    return dispatch(scatterDef, [x, index, srcT], { dim: d, reduce, value: null });
  }
  if (typeof src !== 'number') throw new ValueError(`${op}: src must be a Tensor or a number`);
  return dispatch(scatterDef, [x, index], { dim: d, reduce, value: src });
}

/** Out of place: a copy of x with x[..index..] = src along dim. */
export const scatter = (x: Tensor, dim: number, index: Tensor, src: TensorOrScalar): Tensor =>
  scatterImpl(x, dim, index, src, 0, 'scatter');
/** Out of place: a copy of x with src added at index along dim (duplicates accumulate). */
export const scatterAdd = (x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor =>
  scatterImpl(x, dim, index, src, 1, 'scatterAdd');

export function scatter_<T extends Tensor>(self: T, dim: number, index: Tensor, src: TensorOrScalar, reduce: 0 | 1): T {
  const op = reduce ? 'scatterAdd_' : 'scatter_';
  return ops().inplace(self, op, (s) => scatterImpl(s, dim, index, src, reduce, op));
}

export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor(x, 'indexSelect');
  checkTensor(index, 'indexSelect', 'index');
  if (index.dtype !== 'int64' && index.dtype !== 'int32') throw new DTypeError(`indexSelect: expected an integer index, got ${index.dtype}`);
  if (index.ndim > 1) throw new ShapeError(`indexSelect: index must be 0-D or 1-D, got ${fmtShape(index.shape)}`);
  const o = ops();
  const d = normDim(dim, x.ndim, 'indexSelect');
  const idx = o.to(o.reshape(index, [-1]), 'int64');
  const shape = x.shape.slice();
  shape[d] = idx.shape[0];
  const view = x.shape.map((_, i) => (i === d ? -1 : 1));
  if (x.ndim === 0) return gather(x, 0, idx);
  const full = o.expand(o.reshape(idx, view), shape);
  // gather reads along dim only; other dims of x may be larger than shape - they are equal here
  return gather(x, d, full);
}

/** One-hot int64 encoding; numClasses = -1 infers max + 1. */
export function oneHot(x: Tensor, numClasses = -1): Tensor {
  checkTensor(x, 'oneHot');
  if (x.dtype !== 'int64' && x.dtype !== 'int32') throw new DTypeError(`oneHot: expected an integer tensor, got ${x.dtype}`);
  checkInt(numClasses, 'oneHot', 'numClasses');
  const o = ops();
  if (x.numel > 0) {
    // one read (on CUDA one wait for the stream) for both ends
    const [lo, hi] = Array.from(o.stack([o.amin(x), o.amax(x)]).dataSync() as unknown as ArrayLike<number | bigint>, Number);
    if (lo < 0) throw new IndexError('oneHot: class values must be non-negative');
    if (numClasses === -1) numClasses = hi + 1;
    else if (hi >= numClasses) throw new IndexError(`oneHot: class values must be smaller than numClasses (${numClasses}), got ${hi}`);
  } else if (numClasses === -1) throw new ValueError('oneHot: cannot infer the number of classes from an empty tensor');
  const classes = o.to(o.arange(numClasses, { dtype: x.dtype }), x.device);
  return o.to(o.eq(o.unsqueeze(x, -1), classes), 'int64');
}
