/** Shared fixture loading for the optim / nn.utils tests (test/fixtures/optim.json). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import * as ignis from '../../src';
import type { DType, Tensor } from '../../src';

export type Num = number | string;
export interface FTensor {
  shape: number[];
  dtype: DType;
  data: Num[];
}

const here = dirname(fileURLToPath(import.meta.url));
export const fixture = JSON.parse(readFileSync(join(here, '..', 'fixtures', 'optim.json'), 'utf8'));

export function decode(v: Num): number {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return v as number;
}

export function build(t: FTensor, requiresGrad = false): Tensor {
  const vals = t.data.map(decode);
  const arr = t.dtype === 'float32' ? Float32Array.from(vals) : Float64Array.from(vals);
  return ignis.tensor(arr, { dtype: t.dtype, shape: t.shape, requiresGrad });
}

export function values(t: Tensor): number[] {
  return Array.from(t.dataSync() as unknown as ArrayLike<number>, Number);
}

/** Elementwise |a − b| ≤ atol + rtol·|b|. */
export function expectClose(actual: Tensor | number[], expected: FTensor | number[], rtol: number, atol: number, what = ''): void {
  const a = Array.isArray(actual) ? actual : values(actual);
  const e = Array.isArray(expected) ? expected : expected.data.map(decode);
  if (!Array.isArray(actual) && !Array.isArray(expected)) expect(actual.shape, what).toEqual(expected.shape);
  expect(a.length, what).toBe(e.length);
  for (let i = 0; i < a.length; i++) {
    const ok = Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]) || (Number.isNaN(a[i]) && Number.isNaN(e[i]));
    if (!ok) expect.fail(`${what}[${i}]: got ${a[i]}, expected ${e[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

export function tol(dtype: DType): [number, number] {
  return dtype === 'float64' ? [1e-11, 1e-12] : [2e-5, 2e-6];
}
