/** Shared helpers for the nn tests: fixture tensors, closeness, deterministic inputs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';

export interface FxTensor {
  shape: number[];
  dtype: 'float32' | 'float64' | 'int64' | 'int32' | 'bool';
  data: (number | string | boolean)[];
}

export function fx(t: FxTensor): Tensor {
  const vals = t.data.map((v) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v));
  if (t.dtype === 'int64') return ignis.tensor(BigInt64Array.from(vals.map((v) => BigInt(v as number))), { dtype: 'int64', shape: t.shape });
  if (t.dtype === 'float64') return ignis.tensor(Float64Array.from(vals as number[]), { dtype: 'float64', shape: t.shape });
  if (t.dtype === 'float32') return ignis.tensor(Float32Array.from(vals as number[]), { dtype: 'float32', shape: t.shape });
  return ignis.tensor(vals as number[], { dtype: t.dtype, shape: t.shape } as never);
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', name), 'utf8')) as T;
}

/** Elementwise |a - b| <= atol + rtol |b|, with a message naming the first bad element. */
export function expectClose(actual: Tensor, expected: Tensor | FxTensor, what: string, atol = 1e-5, rtol = 1e-4): void {
  const e = expected instanceof ignis.Tensor ? expected : fx(expected);
  expect(actual.shape, `${what}: shape`).toEqual(e.shape);
  const a = Array.from(ignis.tensor(actual.detach()).double().dataSync() as Float64Array);
  const b = Array.from(e.double().dataSync() as Float64Array);
  for (let i = 0; i < b.length; i++) {
    const ok = (Number.isNaN(b[i]) && Number.isNaN(a[i])) || a[i] === b[i] || Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]);
    if (!ok) expect.fail(`${what}: element ${i} is ${a[i]}, expected ${b[i]}`);
  }
}

// deterministic inputs independent of the library's generator (mulberry32)
let seed = 987654;
export function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
export const numelOf = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** float64 leaf, uniform in [lo, hi). */
export function U(shape: number[], lo = -1, hi = 1, requiresGrad = true): Tensor {
  const v = Float64Array.from({ length: numelOf(shape) }, () => lo + (hi - lo) * rnd());
  return ignis.tensor(v, { dtype: 'float64', shape, requiresGrad });
}
/** float64 leaf with distinct values (no ties for max pooling). */
export function distinct(shape: number[], requiresGrad = true): Tensor {
  const n = numelOf(shape);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  const v = Float64Array.from(idx, (k) => (k - n / 2) * 0.1 + 0.01 * rnd());
  return ignis.tensor(v, { dtype: 'float64', shape, requiresGrad });
}
export function I64(data: number[], shape: number[]): Tensor {
  return ignis.tensor(BigInt64Array.from(data.map(BigInt)), { dtype: 'int64', shape });
}

/** Whether an error says an op family is not in this build (the native conv/pool/norm ops). */
export function isMissingOp(e: unknown): boolean {
  return e instanceof Error && /is not available in this build/.test(e.message);
}
