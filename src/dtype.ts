import { DTypeError } from './errors';

/** The dtypes a Tensor can hold. `bool` is stored as one byte per element. */
export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'int64', 'bool'];
/** Codes shared with native/core/dtype.h. */
export const DTYPE_CODE: Record<DType, number> = { float32: 0, float64: 1, int32: 2, int64: 3, bool: 4 };
export const DTYPE_SIZE: Record<DType, number> = { float32: 4, float64: 8, int32: 4, int64: 8, bool: 1 };
const RANK: Record<DType, number> = { bool: 0, int32: 1, int64: 2, float32: 3, float64: 4 };

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : D extends 'int64'
        ? BigInt64Array
        : Uint8Array;
export type AnyTypedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export const isFloating = (d: DType): boolean => d === 'float32' || d === 'float64';
export const isIntegral = (d: DType): boolean => d === 'int32' || d === 'int64';

/** PyTorch's promotion between two tensors: bool < int32 < int64 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/**
 * Promotion of a tensor dtype with a JS number. A number is an integer scalar when
 * Number.isInteger(v) (JS cannot tell 2 from 2.0), else a float scalar; like PyTorch, a scalar
 * only raises the category (bool -> int -> float), never the width.
 */
export function promoteScalar(d: DType, v: number | boolean): DType {
  if (typeof v === 'boolean') return d;
  if (Number.isInteger(v)) return d === 'bool' ? 'int64' : d;
  return isFloating(d) ? d : 'float32';
}

/** Whether a value of dtype `from` may be written into a tensor of dtype `to` (in-place ops). */
export function canCast(from: DType, to: DType): boolean {
  if (isFloating(from)) return isFloating(to);
  if (isIntegral(from)) return to !== 'bool';
  return true;
}

export function checkDType(d: unknown, op: string): DType {
  if (typeof d === 'string' && (DTYPES as readonly string[]).includes(d)) return d as DType;
  throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(d)}; expected one of ${DTYPES.join(', ')}`);
}
