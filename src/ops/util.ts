/** Helpers shared by the op families. */
import { DType, isFloating } from '../dtype';
import { dispatch } from '../dispatch';
import { ValueError } from '../errors';
import { contiguousStrides, sameShape, Shape } from '../shape';
import { mode } from '../autograd/mode';
import { Storage } from '../storage';
import { Tensor } from '../tensor';
import type { Ctx } from '../autograd/node';
import * as all from './all';

export { normDim, normDims } from '../shape';

export type TensorOrScalar = Tensor | number;

export function isTensor(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

export function checkTensor(x: unknown, op: string, what = 'input'): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${op}: expected ${what} to be a Tensor, got ${describe(x)}`);
  return x;
}

export function checkNumber(x: unknown, op: string, what: string): number {
  if (typeof x !== 'number' || Number.isNaN(x)) throw new ValueError(`${op}: expected ${what} to be a number, got ${describe(x)}`);
  return x;
}

export function checkInt(x: unknown, op: string, what: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw new ValueError(`${op}: expected ${what} to be an integer, got ${describe(x)}`);
  return x;
}

export function describe(x: unknown): string {
  if (x instanceof Tensor) return `Tensor(${x.dtype} [${x.shape.join(', ')}])`;
  if (Array.isArray(x)) return `array(${x.length})`;
  return typeof x === 'number' ? String(x) : typeof x;
}

/** The tensor each view was made from (its base is never itself a view), for in-place on views. */
const viewBases = new WeakMap<Tensor, Tensor>();
export function viewBaseOf(x: Tensor): Tensor | undefined {
  return viewBases.get(x);
}

/** A view over x's storage. */
export function makeView(x: Tensor, shape: readonly number[], strides: number[], offset: number): Tensor {
  const v = new Tensor(x._storage, shape, strides, offset, x.dtype);
  viewBases.set(v, viewBases.get(x) ?? x);
  return v;
}

/** A contiguous tensor's metadata reshaped (no copy). */
export function reshapeContiguous(x: Tensor, shape: readonly number[]): Tensor {
  return new Tensor(x._storage, shape, contiguousStrides(shape), x._offset, x.dtype);
}

/** Sums a broadcast gradient back to `shape` and casts it to `dtype`. */
export function reduceGrad(g: Tensor, shape: Shape, dtype: DType): Tensor {
  let r = g;
  if (!sameShape(g.shape, shape)) {
    const lead = g.ndim - shape.length;
    const dims: number[] = [];
    for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
    if (dims.length) r = ops().sum(r, dims, true);
    if (lead > 0 || r.ndim !== shape.length) r = ops().reshape(r, shape as number[]);
  }
  if (r.dtype !== dtype && isFloating(dtype)) r = ops().to(r, dtype);
  return r;
}

// Late-bound access to the full op set: the namespace is complete by the time any op runs,
// even though the op modules import each other.
export const ops = (): typeof all => all;

export { dispatch };
export type { Ctx };

/** Whether an op on `inputs` is recorded for autograd now: grad mode on and an input requiring grad. */
export function recording(inputs: readonly (Tensor | null | undefined)[]): boolean {
  return mode.grad && inputs.some((t) => t && t.requiresGrad);
}

/**
 * Runs the body of a composite op (logsumexp, var, layerNorm, ...). When no autograd graph can keep
 * its intermediates (grad mode off, or no input requires grad) every storage the body made is freed
 * as soon as it returns, except the result's: PyTorch's reference counting frees them the same way,
 * where leaving them to V8's garbage collector costs fresh memory and page faults on large tensors.
 */
export function scoped<T extends Tensor>(inputs: readonly (Tensor | null | undefined)[], fn: () => T): T {
  if (recording(inputs)) return fn();
  const outer = Storage.scope;
  const mine: Storage[] = [];
  Storage.scope = mine;
  let r: T;
  try {
    r = fn();
  } finally {
    Storage.scope = outer;
  }
  for (const st of mine) {
    if (st === r._storage) outer?.push(st);
    else st.dispose();
  }
  return r;
}

