/**
 * The PyTorch fixture format shared by every parity test (test/fixtures/*.json, written by
 * scripts/gen_*.py through scripts/fixture_util.py): reading a file, turning its tensors into
 * Ignis tensors and back into numbers, and an elementwise closeness check.
 *
 * A fixture TENSOR is { shape, dtype, data: flat row-major values }; non-finite floats are the
 * strings "nan", "inf", "-inf" and booleans are true / false.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import * as ignis from '../../src';
import type { DType, Tensor } from '../../src';

export type Num = number | string | boolean;
export interface FTensor {
  shape: number[];
  dtype: DType;
  data: Num[];
}

/**
 * One op case of core.json, activations.json and nn.json: the op run on `inputs` with `attrs`,
 * its output(s), the upstream gradient(s) and the input gradients (null: not differentiable).
 */
export interface FCase {
  name: string;
  op: string;
  inputs: FTensor[];
  attrs: Record<string, any>;
  output?: FTensor;
  outputs?: FTensor[];
  gradOutput: FTensor | null;
  /** one upstream gradient per output (split / chunk) */
  gradOutputs?: FTensor[];
  grads: (FTensor | null)[];
  /** batchNorm in training: running mean and var after the call */
  runningAfter?: FTensor[];
}

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Parses test/fixtures/<name>. */
export function loadFixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
}

/** A fixture value as a number: "nan" / "inf" / "-inf" as themselves, booleans as 1 / 0. */
export function decode(v: Num): number {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v as number;
}

/** A fixture tensor as an Ignis tensor of the same dtype and shape. */
export function toTensor(t: FTensor, requiresGrad = false): Tensor {
  const vals = t.data.map(decode);
  let arr: ArrayBufferView;
  switch (t.dtype) {
    case 'float32': arr = Float32Array.from(vals); break;
    case 'float64': arr = Float64Array.from(vals); break;
    case 'int32': arr = Int32Array.from(vals); break;
    case 'int64': arr = BigInt64Array.from(vals.map((v) => BigInt(v))); break;
    case 'bool': arr = Uint8Array.from(vals); break;
  }
  return ignis.tensor(arr, { dtype: t.dtype, shape: t.shape, requiresGrad });
}

/** A tensor's elements as numbers (int64 included), row-major. */
export function values(t: Tensor): number[] {
  return Array.from(t.dataSync() as unknown as ArrayLike<number | bigint>, Number);
}

const isFTensor = (x: unknown): x is FTensor => typeof x === 'object' && x !== null && 'data' in x && Array.isArray((x as FTensor).data);

/**
 * Elementwise |actual - expected| <= atol + rtol |expected|; equal values (±inf) and NaN against
 * NaN pass. Shapes must agree where both sides have one, lengths always. The failure names the
 * worst element and how many are off.
 */
export function expectClose(
  actual: Tensor | number[],
  expected: Tensor | FTensor | number[],
  rtol: number,
  atol: number,
  what = '',
): void {
  const a = Array.isArray(actual) ? actual : values(actual);
  const e = Array.isArray(expected) ? expected : isFTensor(expected) ? expected.data.map(decode) : values(expected);
  if (!Array.isArray(actual) && !Array.isArray(expected)) expect([...actual.shape], `${what}: shape`).toEqual([...expected.shape]);
  expect(a.length, `${what}: numel`).toBe(e.length);
  let bad = 0;
  let worst = -1;
  let excess = 0;
  for (let i = 0; i < e.length; i++) {
    if (a[i] === e[i] || (Number.isNaN(a[i]) && Number.isNaN(e[i]))) continue;
    const over = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
    if (over <= 0) continue;
    bad++;
    // NaN on either side is as bad as it gets
    if (worst < 0 || !(over <= excess)) {
      worst = i;
      excess = Number.isNaN(over) ? Infinity : over;
    }
  }
  if (bad) expect.fail(`${what}: ${bad} of ${e.length} elements off; worst [${worst}]: got ${a[worst]}, expected ${e[worst]} (rtol ${rtol}, atol ${atol})`);
}
