/**
 * Shape ops. Views share storage (view, reshape when possible, permute, transpose, squeeze,
 * unsqueeze, expand, narrow/slice/select, flatten, split, chunk); cat and stack copy.
 */
import { DType, isFloating } from '../dtype';
import { AutogradError, IndexError, ShapeError, ValueError } from '../errors';
import * as K from '../kernels';
import { checkShape, contiguousStrides, fmtShape, normDim, numel, sameShape } from '../shape';
import { Tensor } from '../tensor';
import { checkInt, checkTensor, dispatch, makeView, ops, reduceGrad, viewBaseOf } from './util';
import type { OpDef } from '../dispatch';

// ---- reshape-like views (element order unchanged) ------------------------------------------

interface ViewAttrs {
  shape: number[];
  strides: number[];
  offset: number;
}

const viewDef: OpDef<ViewAttrs> = {
  name: 'view',
  forward(ctx, [x], at) {
    ctx.inShape = x.shape;
    return makeView(x, at.shape, at.strides, at.offset);
  },
  backward(ctx, [g]) {
    return [reshape(g!, ctx.inShape as number[])];
  },
};

/** Resolves one -1 and checks the element count. */
function inferShape(shape: number[], n: number, op: string, from: readonly number[]): number[] {
  let neg = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const s = shape[i];
    if (s === -1) {
      if (neg >= 0) throw new ShapeError(`${op}: only one dimension can be inferred`);
      neg = i;
    } else if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) {
      throw new ValueError(`${op}: invalid shape dimension ${String(s)} in [${shape.join(', ')}]`);
    } else known *= s;
  }
  const out = shape.slice();
  if (neg >= 0) {
    if (known === 0 || n % known !== 0)
      throw new ShapeError(`${op}: shape [${shape.join(', ')}] is invalid for input of size ${n} (shape ${fmtShape(from)})`);
    out[neg] = n / known;
  } else if (known !== n) {
    throw new ShapeError(`${op}: shape [${shape.join(', ')}] is invalid for input of size ${n} (shape ${fmtShape(from)})`);
  }
  return checkShape(out, op);
}

/** Strides for viewing x as `shape` without copying, or null (PyTorch's computeStride). */
function viewStrides(x: Tensor, shape: number[]): number[] | null {
  if (x.isContiguous()) return contiguousStrides(shape);
  const oldShape = x.shape;
  const oldStr = x._strides;
  const n = numel(oldShape);
  if (n === 0) return contiguousStrides(shape);
  const newStr = new Array<number>(shape.length).fill(0);
  let viewD = shape.length - 1;
  let chunkBase = oldStr[oldStr.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d];
    if (d === 0 || (oldShape[d - 1] !== 1 && oldStr[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        newStr[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = oldStr[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStr;
}

export function view(x: Tensor, shape: number[]): Tensor {
  checkTensor(x, 'view');
  const s = inferShape(shape, x.numel, 'view', x.shape);
  const st = viewStrides(x, s);
  if (!st)
    throw new ShapeError(
      `view: size ${fmtShape(s)} is not compatible with input tensor's size ${fmtShape(x.shape)} and stride [${x._strides.join(', ')}]; use reshape() instead`,
    );
  return dispatch(viewDef, [x], { shape: s, strides: st, offset: x._offset });
}

export function reshape(x: Tensor, shape: number[]): Tensor {
  checkTensor(x, 'reshape');
  const s = inferShape(shape, x.numel, 'reshape', x.shape);
  if (sameShape(s, x.shape)) return x;
  const st = viewStrides(x, s);
  if (st) return dispatch(viewDef, [x], { shape: s, strides: st, offset: x._offset });
  const c = contiguous(x);
  return dispatch(viewDef, [c], { shape: s, strides: contiguousStrides(s), offset: c._offset });
}

export function squeeze(x: Tensor, dim?: number | number[]): Tensor {
  checkTensor(x, 'squeeze');
  const dims = dim === undefined || dim === null ? null : new Set((Array.isArray(dim) ? dim : [dim]).map((d) => normDim(d, x.ndim, 'squeeze')));
  const shape: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < x.ndim; i++) {
    if (x.shape[i] === 1 && (!dims || dims.has(i))) continue;
    shape.push(x.shape[i]);
    strides.push(x._strides[i]);
  }
  if (shape.length === x.ndim) return x;
  return dispatch(viewDef, [x], { shape, strides, offset: x._offset });
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor(x, 'unsqueeze');
  const d = normDim(dim, x.ndim + 1, 'unsqueeze');
  const shape = x.shape.slice();
  const strides = x._strides.slice();
  const st = d < x.ndim ? x._strides[d] * x.shape[d] : 1;
  shape.splice(d, 0, 1);
  strides.splice(d, 0, st);
  return dispatch(viewDef, [x], { shape, strides, offset: x._offset });
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor(x, 'flatten');
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim(startDim, x.ndim, 'flatten');
  const e = normDim(endDim, x.ndim, 'flatten');
  if (s > e) throw new IndexError(`flatten: startDim ${startDim} cannot come after endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

export function unflatten(x: Tensor, dim: number, sizes: number[]): Tensor {
  checkTensor(x, 'unflatten');
  const d = normDim(dim, x.ndim, 'unflatten');
  const inner = inferShape(sizes, x.shape[d], 'unflatten', x.shape);
  return view(x, [...x.shape.slice(0, d), ...inner, ...x.shape.slice(d + 1)]);
}

// ---- permute / transpose --------------------------------------------------------------------

const permuteDef: OpDef<{ dims: number[] }> = {
  name: 'permute',
  forward(ctx, [x], { dims }) {
    ctx.dims = dims;
    return makeView(x, dims.map((d) => x.shape[d]), dims.map((d) => x._strides[d]), x._offset);
  },
  backward(ctx, [g]) {
    const dims = ctx.dims as number[];
    const inv = new Array<number>(dims.length);
    dims.forEach((d, i) => (inv[d] = i));
    return [permute(g!, inv)];
  },
};

export function permute(x: Tensor, dims: number[]): Tensor {
  checkTensor(x, 'permute');
  if (!Array.isArray(dims) || dims.length !== x.ndim)
    throw new ShapeError(`permute: number of dims don't match: input has ${x.ndim} dims (shape ${fmtShape(x.shape)}), got [${String(dims)}]`);
  const nd = dims.map((d) => normDim(d, x.ndim, 'permute'));
  if (new Set(nd).size !== nd.length) throw new IndexError(`permute: repeated dim in [${dims.join(', ')}]`);
  return dispatch(permuteDef, [x], { dims: nd });
}

export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  checkTensor(x, 'transpose');
  if (x.ndim === 0) return x;
  const a = normDim(d0, x.ndim, 'transpose');
  const b = normDim(d1, x.ndim, 'transpose');
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return dispatch(permuteDef, [x], { dims });
}

/** 2-D transpose (x.t()); 0-D and 1-D tensors come back as they are. */
export function tT(x: Tensor): Tensor {
  checkTensor(x, 't');
  if (x.ndim > 2) throw new ShapeError(`t: expects a tensor with <= 2 dimensions, but input is ${x.ndim}D`);
  return x.ndim < 2 ? x : transpose(x, 0, 1);
}

// ---- expand -----------------------------------------------------------------------------------

const expandDef: OpDef<{ shape: number[]; strides: number[] }> = {
  name: 'expand',
  forward(ctx, [x], at) {
    ctx.inShape = x.shape;
    ctx.dtype = x.dtype;
    return makeView(x, at.shape, at.strides, x._offset);
  },
  backward(ctx, [g]) {
    return [reduceGrad(g!, ctx.inShape as number[], ctx.dtype as DType)];
  },
};

export function expand(x: Tensor, shape: number[]): Tensor {
  checkTensor(x, 'expand');
  if (!Array.isArray(shape) || shape.length < x.ndim)
    throw new ShapeError(`expand: the number of sizes provided (${Array.isArray(shape) ? shape.length : 0}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`);
  const lead = shape.length - x.ndim;
  const out: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const s = shape[i];
    const j = i - lead;
    const cur = j >= 0 ? x.shape[j] : 1;
    if (s === -1) {
      if (j < 0) throw new ShapeError(`expand: -1 is not allowed in a leading, non-existing dimension`);
      out.push(cur);
      strides.push(x._strides[j]);
    } else {
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) throw new ValueError(`expand: invalid size ${String(s)}`);
      if (cur !== s && cur !== 1)
        throw new ShapeError(`expand: the expanded size of the tensor (${s}) must match the existing size (${cur}) at non-singleton dimension ${i}. Target sizes: ${fmtShape(shape)}. Tensor sizes: ${fmtShape(x.shape)}`);
      out.push(s);
      strides.push(j < 0 || (cur === 1 && s !== 1) ? 0 : x._strides[j]);
    }
  }
  if (sameShape(out, x.shape)) return x;
  return dispatch(expandDef, [x], { shape: out, strides });
}

// ---- slicing ----------------------------------------------------------------------------------

interface SliceAttrs {
  dim: number;
  start: number;
  end: number;
  step: number;
}

function sliceView(x: Tensor, at: SliceAttrs): Tensor {
  const shape = x.shape.slice();
  const strides = x._strides.slice();
  shape[at.dim] = Math.max(0, Math.ceil((at.end - at.start) / at.step));
  strides[at.dim] = x._strides[at.dim] * at.step;
  return makeView(x, shape, strides, x._offset + (shape[at.dim] > 0 ? at.start * x._strides[at.dim] : 0));
}

const sliceBackwardDef: OpDef<SliceAttrs & { inShape: number[] }> = {
  name: 'slice_backward',
  forward(ctx, [g], at) {
    ctx.at = at;
    const z = K.full(0, g.dtype, at.inShape, g.device);
    K.copy(g, g.dtype, g.shape, sliceView(z, at));
    return z;
  },
  backward(ctx, [gg]) {
    return [dispatch(sliceDef, [gg!], ctx.at as SliceAttrs)];
  },
};

const sliceDef: OpDef<SliceAttrs> = {
  name: 'slice',
  forward(ctx, [x], at) {
    ctx.at = at;
    ctx.inShape = x.shape;
    return sliceView(x, at);
  },
  backward(ctx, [g]) {
    return [dispatch(sliceBackwardDef, [g!], { ...(ctx.at as SliceAttrs), inShape: ctx.inShape as number[] })];
  },
};

/** x[start:end:step] along dim (Python slice semantics: clamped, negatives from the end). */
export function slice(x: Tensor, dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
  checkTensor(x, 'slice');
  const d = normDim(dim, x.ndim, 'slice');
  checkInt(step, 'slice', 'step');
  if (step <= 0) throw new ValueError(`slice: step must be greater than zero, got ${step}`);
  const n = x.shape[d];
  const norm = (v: number | null | undefined, dflt: number): number => {
    if (v === undefined || v === null) return dflt;
    checkInt(v, 'slice', 'index');
    if (v < 0) v += n;
    return Math.min(Math.max(v, 0), n);
  };
  const s = norm(start, 0);
  const e = Math.max(norm(end, n), s);
  if (s === 0 && e === n && step === 1) return x;
  return dispatch(sliceDef, [x], { dim: d, start: s, end: e, step });
}

export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  checkTensor(x, 'narrow');
  const d = normDim(dim, x.ndim, 'narrow');
  checkInt(start, 'narrow', 'start');
  checkInt(length, 'narrow', 'length');
  const n = x.shape[d];
  if (start < -n || start > n) throw new IndexError(`narrow: start (${start}) is out of bounds for dimension ${d} of size ${n}`);
  const s = start < 0 ? start + n : start;
  if (length < 0 || s + length > n)
    throw new IndexError(`narrow: start (${s}) + length (${length}) exceeds dimension size (${n}) of shape ${fmtShape(x.shape)}`);
  return dispatch(sliceDef, [x], { dim: d, start: s, end: s + length, step: 1 });
}

export function select(x: Tensor, dim: number, index: number): Tensor {
  checkTensor(x, 'select');
  if (x.ndim === 0) throw new IndexError('select: cannot be applied to a 0-dim tensor');
  const d = normDim(dim, x.ndim, 'select');
  checkInt(index, 'select', 'index');
  const n = x.shape[d];
  if (index < -n || index >= n) throw new IndexError(`select: index ${index} is out of bounds for dimension ${d} with size ${n}`);
  const i = index < 0 ? index + n : index;
  return squeeze(dispatch(sliceDef, [x], { dim: d, start: i, end: i + 1, step: 1 }), d);
}

export type IndexSpec = number | string | null | { start?: number; stop?: number; step?: number };

/** NumPy-style indexing: x.index(0, '1:3', '...', null, '::2'). */
export function index(x: Tensor, spec: IndexSpec[]): Tensor {
  checkTensor(x, 'index');
  const ell = spec.filter((s) => s === '...').length;
  if (ell > 1) throw new IndexError('index: an index can only have a single ellipsis');
  const consumed = spec.filter((s) => s !== null && s !== '...').length;
  if (consumed > x.ndim) throw new IndexError(`index: too many indices for tensor of dimension ${x.ndim}`);
  let r = x;
  let d = 0;
  for (const s of spec) {
    if (s === '...') {
      d += x.ndim - consumed;
    } else if (s === null) {
      r = unsqueeze(r, d);
      d++;
    } else if (typeof s === 'number') {
      r = select(r, d, s);
    } else if (typeof s === 'string') {
      const parts = s.split(':');
      if (parts.length < 2 || parts.length > 3) throw new IndexError(`index: cannot parse slice '${s}'`);
      const num = (p: string | undefined): number | undefined => {
        if (p === undefined || p.trim() === '') return undefined;
        const v = Number(p);
        if (!Number.isInteger(v)) throw new IndexError(`index: cannot parse slice '${s}'`);
        return v;
      };
      r = slice(r, d, num(parts[0]), num(parts[1]), num(parts[2]) ?? 1);
      d++;
    } else if (typeof s === 'object') {
      r = slice(r, d, s.start, s.stop, s.step ?? 1);
      d++;
    } else {
      throw new IndexError(`index: unsupported index ${String(s)}`);
    }
  }
  return r;
}

export function split(x: Tensor, splitSize: number | number[], dim = 0): Tensor[] {
  checkTensor(x, 'split');
  const d = normDim(dim, x.ndim, 'split');
  const n = x.shape[d];
  const sizes: number[] = [];
  if (Array.isArray(splitSize)) {
    if (splitSize.reduce((a, b) => a + b, 0) !== n)
      throw new ShapeError(`split: split sizes [${splitSize.join(', ')}] do not sum to ${n} (dim ${d} of shape ${fmtShape(x.shape)})`);
    sizes.push(...splitSize);
  } else {
    checkInt(splitSize, 'split', 'splitSize');
    if (splitSize <= 0 && n > 0) throw new ValueError(`split: splitSize must be positive, got ${splitSize}`);
    for (let s = 0; s < n; s += splitSize) sizes.push(Math.min(splitSize, n - s));
    if (n === 0) sizes.push(0);
  }
  const out: Tensor[] = [];
  let s = 0;
  for (const len of sizes) {
    out.push(narrow(x, d, s, len));
    s += len;
  }
  return out;
}

export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkTensor(x, 'chunk');
  checkInt(chunks, 'chunk', 'chunks');
  if (chunks <= 0) throw new ValueError(`chunk: chunks must be positive, got ${chunks}`);
  const d = normDim(dim, x.ndim, 'chunk');
  return split(x, Math.max(1, Math.ceil(x.shape[d] / chunks)), d);
}

export function unbind(x: Tensor, dim = 0): Tensor[] {
  checkTensor(x, 'unbind');
  const d = normDim(dim, x.ndim, 'unbind');
  return Array.from({ length: x.shape[d] }, (_, i) => select(x, d, i));
}

// ---- copies -----------------------------------------------------------------------------------

const cloneDef: OpDef<null> = {
  name: 'clone',
  forward(_ctx, [x]) {
    return K.copy(x, x.dtype, x.shape);
  },
  backward(_ctx, [g]) {
    return [g];
  },
};

export function clone(x: Tensor): Tensor {
  checkTensor(x, 'clone');
  return dispatch(cloneDef, [x], null);
}

export function contiguous(x: Tensor): Tensor {
  checkTensor(x, 'contiguous');
  return x.isContiguous() ? x : dispatch(cloneDef, [x], null);
}

const catDef: OpDef<{ dim: number; shape: number[]; dtype: DType }> = {
  name: 'cat',
  forward(ctx, inputs, at) {
    const out = K.empty(at.shape, at.dtype, inputs[0].device);
    let off = 0;
    const sizes: number[] = [];
    for (const t of inputs) {
      const len = t.ndim === 1 && t.shape[0] === 0 && at.shape.length !== 1 ? 0 : t.shape[at.dim];
      sizes.push(len);
      if (len === 0) continue;
      K.copy(t, at.dtype, t.shape, sliceView(out, { dim: at.dim, start: off, end: off + len, step: 1 }));
      off += len;
    }
    ctx.sizes = sizes;
    ctx.dim = at.dim;
    ctx.dtypes = inputs.map((t) => t.dtype);
    return out;
  },
  backward(ctx, [g]) {
    const sizes = ctx.sizes as number[];
    const dtypes = ctx.dtypes as DType[];
    let off = 0;
    return sizes.map((len, i) => {
      const r = narrow(g!, ctx.dim as number, off, len);
      off += len;
      return isFloating(dtypes[i]) && dtypes[i] !== r.dtype ? ops().to(r, dtypes[i]) : r;
    });
  },
};

/** Concatenates along an existing dim (PyTorch promotes dtypes; legacy empty 1-D tensors are skipped). */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ValueError('cat: expected a non-empty list of Tensors');
  tensors.forEach((t, i) => checkTensor(t, 'cat', `tensors[${i}]`));
  const ref = tensors.find((t) => !(t.ndim === 1 && t.shape[0] === 0)) ?? tensors[0];
  const d = normDim(dim, ref.ndim, 'cat');
  let dtype = tensors[0].dtype;
  const shape = ref.shape.slice();
  shape[d] = 0;
  for (const t of tensors) {
    dtype = ops().promoteTypes(dtype, t.dtype);
    if (t.ndim === 1 && t.shape[0] === 0 && ref.ndim !== 1) continue;
    if (t.ndim !== ref.ndim)
      throw new ShapeError(`cat: tensors must have the same number of dimensions: got ${fmtShape(ref.shape)} and ${fmtShape(t.shape)}`);
    for (let i = 0; i < t.ndim; i++)
      if (i !== d && t.shape[i] !== ref.shape[i])
        throw new ShapeError(`cat: sizes of tensors must match except in dimension ${d}: got ${fmtShape(ref.shape)} and ${fmtShape(t.shape)}`);
    shape[d] += t.shape[d];
  }
  return dispatch(catDef, tensors, { dim: d, shape, dtype });
}

export function stack(tensors: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ValueError('stack: expected a non-empty list of Tensors');
  tensors.forEach((t, i) => checkTensor(t, 'stack', `tensors[${i}]`));
  const ref = tensors[0].shape;
  for (const t of tensors)
    if (!sameShape(t.shape, ref))
      throw new ShapeError(`stack: expects each tensor to be equal size, but got ${fmtShape(ref)} and ${fmtShape(t.shape)}`);
  const d = normDim(dim, ref.length + 1, 'stack');
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

// ---- in-place writes through a view (PyTorch's CopySlices) ------------------------------------

interface CopySlicesAttrs {
  shape: readonly number[];
  strides: number[];
  offset: number; // of the view, relative to its (contiguous) base
}

/**
 * Gradient routing for a base tensor after an in-place op wrote into one of its views: the
 * base's gradient outside the view goes to the base's previous history, the part inside the
 * view goes to the in-place op (input 1, the view with its new history). Not twice differentiable.
 */
const copySlicesDef: OpDef<CopySlicesAttrs> = {
  name: 'copy_slices',
  forward(ctx, [base], at) {
    ctx.at = at;
    return new Tensor(base._storage, base.shape, base._strides, base._offset, base.dtype);
  },
  backward(ctx, [g]) {
    const at = ctx.at as CopySlicesAttrs;
    const gb = K.copy(g!, g!.dtype, g!.shape);
    const region = new Tensor(gb._storage, at.shape, at.strides, gb._offset + at.offset, gb.dtype);
    const gv = K.copy(region, gb.dtype, at.shape);
    K.copy(0, gb.dtype, at.shape, region, 'float64');
    return [gb, gv];
  },
};

/** Before an in-place op on `self` (with autograd recording): a view of a leaf that requires grad may not be written. */
export function checkInplaceView(self: Tensor, op: string): void {
  const base = viewBaseOf(self);
  if (base && base !== self && base.requiresGrad && base.isLeaf)
    throw new AutogradError(`${op}: a view of a leaf Variable that requires grad is being used in an in-place operation.`);
}

/**
 * After an in-place op on `self` recorded a graph node: if self is a view, its base takes a new
 * history (copy_slices) so gradients of the base see the write, as in PyTorch.
 */
export function rebaseInplaceView(self: Tensor): void {
  const base = viewBaseOf(self);
  if (!base || base === self || base._storage !== self._storage || !base.isContiguous()) return;
  if (!base.requiresGrad && !self.requiresGrad) return;
  const at: CopySlicesAttrs = { shape: self.shape, strides: self._strides.slice(), offset: self._offset - base._offset };
  const alias = dispatch(copySlicesDef, [base, self], at);
  if (!alias.requiresGrad) return;
  base.gradFn = alias.gradFn;
  base._outIndex = alias._outIndex;
  base._requiresGrad = true;
}
