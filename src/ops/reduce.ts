/** Reductions over any dims with keepdim; composites (mean, var, std, logsumexp, norm) on top. */
import { DType, isFloating } from '../dtype';
import { DTypeError, ValueError } from '../errors';
import * as K from '../kernels';
import { contiguousStrides, fmtShape, normDim, normDims } from '../shape';
import { Tensor } from '../tensor';
import { checkTensor, dispatch, ops, scoped } from './util';
import type { OpDef } from '../dispatch';

interface RedAttrs {
  dims: number[];
  keepdim: boolean;
  outDtype: DType;
}

function keptShape(shape: readonly number[], dims: number[], keepdim: boolean): number[] {
  const s = new Set(dims);
  const out: number[] = [];
  shape.forEach((v, i) => {
    if (!s.has(i)) out.push(v);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** Runs the reduce kernel and gives the result its keepdim shape (a metadata change). */
function runReduce(op: string, x: Tensor, at: RedAttrs): Tensor {
  const r = K.reduce(op, x, at.dims, at.outDtype);
  const shape = keptShape(x.shape, at.dims, at.keepdim);
  return new Tensor(r._storage, shape, contiguousStrides(shape), 0, r.dtype);
}

/** g with the reduced dims restored as size 1, then expanded to the input shape. */
function expandBack(g: Tensor, inShape: readonly number[], at: RedAttrs): Tensor {
  const o = ops();
  const kshape = keptShape(inShape, at.dims, true);
  return o.expand(o.reshape(g, kshape), inShape as number[]);
}

const sumDef: OpDef<RedAttrs> = {
  name: 'sum',
  forward(ctx, [x], at) {
    ctx.inShape = x.shape;
    ctx.at = at;
    ctx.dtype = x.dtype;
    return runReduce('sum', x, at);
  },
  backward(ctx, [g]) {
    const e = expandBack(g!, ctx.inShape as number[], ctx.at as RedAttrs);
    return [e.dtype === ctx.dtype ? e : ops().to(e, ctx.dtype as DType)];
  },
};

/** The forward of a reduction whose backward needs its input and its result (prod, amax, amin). */
function savingForward(kernel: string): OpDef<RedAttrs>['forward'] {
  return (ctx, [x], at) => {
    const out = runReduce(kernel, x, at);
    ctx.x = x;
    ctx.out = out;
    ctx.at = at;
    return out;
  };
}

const prodDef: OpDef<RedAttrs> = {
  name: 'prod',
  forward: savingForward('prod'),
  backward(ctx, [g]) {
    const o = ops();
    const x = ctx.x as Tensor;
    const at = ctx.at as RedAttrs;
    // product of the others = out / x where x != 0; exact for inputs without zeros
    const out = expandBack(ctx.out as Tensor, x.shape, at);
    return [o.mul(expandBack(g!, x.shape, at), o.div(out, x))];
  },
};

function extremeDef(name: 'amax' | 'amin'): OpDef<RedAttrs> {
  return {
    name,
    forward: savingForward(name === 'amax' ? 'max' : 'min'),
    backward(ctx, [g]) {
      // the gradient is shared evenly between tied extremes (PyTorch's amax/amin)
      const o = ops();
      const x = ctx.x as Tensor;
      const at = ctx.at as RedAttrs;
      const mask = o.eq(x, expandBack(ctx.out as Tensor, x.shape, at)).to(x.dtype);
      const count = o.sum(mask, at.dims, true);
      return [o.div(o.mul(expandBack(g!, x.shape, at), mask), count)];
    },
  };
}
const amaxDef = extremeDef('amax');
const aminDef = extremeDef('amin');

function dimOutDef(name: 'max' | 'min'): OpDef<{ dim: number; keepdim: boolean }> {
  return {
    name,
    forward(ctx, [x], at) {
      const a: RedAttrs = { dims: [at.dim], keepdim: at.keepdim, outDtype: x.dtype };
      const values = runReduce(name, x, a);
      const indices = runReduce(name === 'max' ? 'argmax' : 'argmin', x, { ...a, outDtype: 'int64' });
      ctx.inShape = x.shape;
      ctx.indices = indices;
      ctx.at = at;
      return [values, indices];
    },
    backward(ctx, [g]) {
      const o = ops();
      const at = ctx.at as { dim: number; keepdim: boolean };
      let idx = ctx.indices as Tensor;
      let gg = g!;
      if (!at.keepdim) {
        idx = o.unsqueeze(idx, at.dim);
        gg = o.unsqueeze(gg, at.dim);
      }
      const z = o.zeros(ctx.inShape as number[], { dtype: gg.dtype, device: gg.device });
      return [o.scatter(z, at.dim, idx, gg)];
    },
  };
}
const maxDimDef = dimOutDef('max');
const minDimDef = dimOutDef('min');

function argDef(name: 'argmax' | 'argmin'): OpDef<RedAttrs> {
  return { name, forward: (_c, [x], at) => runReduce(name, x, at) };
}
const argmaxDef = argDef('argmax');
const argminDef = argDef('argmin');

function prep(x: Tensor, op: string): Tensor {
  checkTensor(x, op);
  return x;
}

function sumDtype(d: DType): DType {
  return isFloating(d) ? d : 'int64';
}

export function sum(x: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  prep(x, 'sum');
  const dims = normDims(dim, x.ndim, 'sum');
  return dispatch(sumDef, [x], { dims, keepdim, outDtype: sumDtype(x.dtype) });
}

export function prod(x: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  prep(x, 'prod');
  const dims = normDims(dim, x.ndim, 'prod');
  return dispatch(prodDef, [x], { dims, keepdim, outDtype: sumDtype(x.dtype) });
}

function countOf(x: Tensor, dims: number[]): number {
  return dims.reduce((n, d) => n * x.shape[d], 1);
}

export function mean(x: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  prep(x, 'mean');
  if (!isFloating(x.dtype))
    throw new DTypeError(`mean: could not infer output dtype. Input dtype must be a floating point dtype, got ${x.dtype}`);
  const dims = normDims(dim, x.ndim, 'mean');
  return ops().div(sum(x, dims, keepdim), countOf(x, dims));
}

function checkNonEmpty(x: Tensor, dims: number[], op: string): void {
  if (x.numel === 0 && (dims.length === 0 || dims.some((d) => x.shape[d] === 0)))
    throw new ValueError(`${op}: expected reduction dim to be specified for input.numel() == 0 (input shape ${fmtShape(x.shape)})`);
  if (x.numel === 0 && dims.length === x.ndim)
    throw new ValueError(`${op}: cannot reduce over an empty tensor (shape ${fmtShape(x.shape)})`);
}

export function amax(x: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  prep(x, 'amax');
  const dims = normDims(dim, x.ndim, 'amax');
  checkNonEmpty(x, dims, 'amax');
  return dispatch(amaxDef, [x], { dims, keepdim, outDtype: x.dtype });
}

export function amin(x: Tensor, dim?: number | number[] | null, keepdim = false): Tensor {
  prep(x, 'amin');
  const dims = normDims(dim, x.ndim, 'amin');
  checkNonEmpty(x, dims, 'amin');
  return dispatch(aminDef, [x], { dims, keepdim, outDtype: x.dtype });
}

/** `[values, indices]`, also readable as `.values` / `.indices` (PyTorch's namedtuple). */
export type ValuesIndices = [Tensor, Tensor] & { values: Tensor; indices: Tensor };

function valuesIndices(v: Tensor, i: Tensor): ValuesIndices {
  return Object.assign([v, i] as [Tensor, Tensor], { values: v, indices: i });
}

function maxMin(name: 'max' | 'min', x: Tensor, dim?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
  prep(x, name);
  if (dim instanceof Tensor) return name === 'max' ? ops().maximum(x, dim) : ops().minimum(x, dim);
  if (dim === undefined || dim === null) return name === 'max' ? amax(x) : amin(x);
  const d = normDim(dim, x.ndim, name);
  checkNonEmpty(x, [d], name);
  const [v, i] = dispatch(name === 'max' ? maxDimDef : minDimDef, [x], { dim: d, keepdim }, true);
  return valuesIndices(v, i);
}

export function max(x: Tensor, dim?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
  return maxMin('max', x, dim, keepdim);
}
export function min(x: Tensor, dim?: number | Tensor, keepdim = false): Tensor | ValuesIndices {
  return maxMin('min', x, dim, keepdim);
}

function argReduce(name: 'argmax' | 'argmin', x: Tensor, dim: number | null | undefined, keepdim: boolean): Tensor {
  prep(x, name);
  if (dim === undefined || dim === null) {
    checkNonEmpty(x, normDims(null, x.ndim, name), name);
    const flat = ops().reshape(x, [-1]);
    const r = dispatch(name === 'argmax' ? argmaxDef : argminDef, [flat], { dims: [0], keepdim: false, outDtype: 'int64' });
    return keepdim ? ops().reshape(r, x.shape.map(() => 1)) : r;
  }
  const d = normDim(dim, x.ndim, name);
  checkNonEmpty(x, [d], name);
  return dispatch(name === 'argmax' ? argmaxDef : argminDef, [x], { dims: [d], keepdim, outDtype: 'int64' });
}

export const argmax = (x: Tensor, dim?: number | null, keepdim = false): Tensor => argReduce('argmax', x, dim, keepdim);
export const argmin = (x: Tensor, dim?: number | null, keepdim = false): Tensor => argReduce('argmin', x, dim, keepdim);

/** Variance with Bessel-style `correction` (1 by default, as in PyTorch). */
export function var_(x: Tensor, dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
  prep(x, 'var');
  if (!isFloating(x.dtype)) throw new DTypeError(`var: expected a floating point tensor, got ${x.dtype}`);
  const o = ops();
  const dims = normDims(dim, x.ndim, 'var');
  const correction = opts.correction ?? 1;
  const n = countOf(x, dims);
  return scoped([x], () => {
    const d = o.sub(x, mean(x, dims, true));
    return o.div(sum(o.mul(d, d), dims, opts.keepdim ?? false), Math.max(0, n - correction));
  });
}

export function std(x: Tensor, dim?: number | number[] | null, opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
  return ops().sqrt(var_(x, dim, opts));
}

/** log(sum(exp(x))) computed stably (the max is subtracted first). */
export function logsumexp(x: Tensor, dim: number | number[], keepdim = false): Tensor {
  prep(x, 'logsumexp');
  const o = ops();
  if (!isFloating(x.dtype)) x = o.to(x, 'float32');
  const dims = normDims(dim, x.ndim, 'logsumexp');
  return scoped([x], () => {
    const m = amax(x, dims, true).detach();
    const mFinite = o.where(o.eq(o.abs(m), Infinity), 0, m);
    const r = o.add(o.log(sum(o.exp(o.sub(x, mFinite)), dims, true)), mFinite);
    return keepdim ? r : o.squeeze(r, dims);
  });
}

/** Vector p-norm over dims (all by default): p = 2, 1, Infinity, or any positive number. */
export function norm(x: Tensor, p = 2, dim?: number | number[] | null, keepdim = false): Tensor {
  prep(x, 'norm');
  if (!isFloating(x.dtype)) throw new DTypeError(`norm: expected a floating point tensor, got ${x.dtype}`);
  const o = ops();
  const dims = normDims(dim, x.ndim, 'norm');
  if (!(p > 0)) throw new ValueError(`norm: p must be positive, got ${p}`);
  return scoped([x], () => {
    if (p === Infinity) return amax(o.abs(x), dims, keepdim);
    if (p === 1) return sum(o.abs(x), dims, keepdim);
    if (p === 2) return o.sqrt(sum(o.mul(x, x), dims, keepdim));
    return o.pow(sum(o.pow(o.abs(x), p), dims, keepdim), 1 / p);
  });
}

export function all(x: Tensor): Tensor {
  prep(x, 'all');
  return ops().eq(sum(ops().ne(x, 0)), x.numel);
}

export function any(x: Tensor): Tensor {
  prep(x, 'any');
  return ops().gt(sum(ops().ne(x, 0)), 0);
}
