/**
 * Deterministic test inputs, independent of the library's own generator (ignis.manualSeed), so
 * that a change in ignis.rand cannot change what a test feeds in. Each test file makes its own
 * generator with its own seed: `const { rnd, U, distinct } = inputs(12345)`.
 */
import * as ignis from '../../src';
import type { DType, Tensor } from '../../src';

/** mulberry32: a 32-bit seeded generator of uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

export interface Inputs {
  /** the next uniform number in [0, 1) */
  rnd: () => number;
  /** a leaf with values uniform in [lo, hi) (drawn in float64, then cast to `dtype`) */
  U(shape: number[], lo?: number, hi?: number, requiresGrad?: boolean, dtype?: DType): Tensor;
  /**
   * a leaf with distinct values, a shuffled grid 0.1 apart plus jitter under 0.01: no ties for
   * max / min / pooling
   */
  distinct(shape: number[], requiresGrad?: boolean, dtype?: DType): Tensor;
}

/** A generator of test inputs seeded with `seed`; every draw advances one shared sequence. */
export function inputs(seed: number): Inputs {
  const rnd = mulberry32(seed);
  return {
    rnd,
    U(shape, lo = -1, hi = 1, requiresGrad = true, dtype = 'float64') {
      const v = Float64Array.from({ length: numel(shape) }, () => lo + (hi - lo) * rnd());
      return ignis.tensor(v, { dtype, shape, requiresGrad });
    },
    distinct(shape, requiresGrad = true, dtype = 'float64') {
      const n = numel(shape);
      const idx = Array.from({ length: n }, (_, i) => i);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [idx[i], idx[j]] = [idx[j], idx[i]];
      }
      const v = Float64Array.from(idx, (k) => (k - n / 2) * 0.1 + 0.01 * rnd());
      return ignis.tensor(v, { dtype, shape, requiresGrad });
    },
  };
}

/** An int64 tensor (indices, class targets). */
export function I64(data: number[], shape: number[]): Tensor {
  return ignis.tensor(BigInt64Array.from(data.map(BigInt)), { dtype: 'int64', shape });
}
