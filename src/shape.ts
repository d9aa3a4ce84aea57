import { IndexError, ShapeError, ValueError } from './errors';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let st = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = st;
    st *= shape[i];
  }
  return s;
}

export const fmtShape = (s: Shape): string => `[${s.join(', ')}]`;

/** Validates a user-given size list: non-negative integers, at most 16 dims. */
export function checkShape(shape: unknown, op: string): number[] {
  if (typeof shape === 'number') shape = [shape];
  if (!Array.isArray(shape)) throw new ValueError(`${op}: expected a shape (array of sizes), got ${String(shape)}`);
  if (shape.length > 16) throw new ShapeError(`${op}: at most 16 dims are supported, got ${shape.length}`);
  for (const s of shape) {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0)
      throw new ValueError(`${op}: sizes must be non-negative integers, got ${fmtShapeAny(shape)}`);
  }
  const n = numel(shape);
  if (n > 2 ** 46) throw new ValueError(`${op}: shape ${fmtShapeAny(shape)} has too many elements (${n})`);
  return shape.slice() as number[];
}

const fmtShapeAny = (s: unknown[]): string => `[${s.map((v) => String(v)).join(', ')}]`;

/** Normalises a possibly negative dim; raises IndexError like PyTorch. */
export function normDim(dim: number, ndim: number, op: string): number {
  const n = Math.max(ndim, 1);
  if (typeof dim !== 'number' || !Number.isInteger(dim) || dim < -n || dim >= n)
    throw new IndexError(`${op}: dimension out of range (expected to be in range of [${-n}, ${n - 1}], but got ${String(dim)})`);
  return dim < 0 ? dim + n : dim;
}

export function normDims(dims: number | readonly number[] | null | undefined, ndim: number, op: string): number[] {
  if (dims === undefined || dims === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dims === 'number' ? [dims] : dims;
  const out = list.map((d) => normDim(d, ndim, op));
  if (new Set(out).size !== out.length) throw new IndexError(`${op}: dim ${out.join(', ')} appears multiple times in the list of dims`);
  return out.sort((a, b) => a - b);
}

export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x = i < n - a.length ? 1 : a[i - (n - a.length)];
    const y = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (x !== y && x !== 1 && y !== 1)
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} are not broadcastable (size ${x} vs ${y} at dim ${i})`);
    out[i] = x === 1 ? y : x;
  }
  return out;
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
