/**
 * The shared test helpers themselves: a helper that silently passes or drifts would weaken every
 * parity and gradient test that uses it.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { decode, expectClose, FTensor, toTensor, values } from './fixtures';
import { inputs, mulberry32 } from './inputs';

describe('test/util/fixtures', () => {
  it('decodes the non-finite strings and booleans', () => {
    expect(['nan', 'inf', '-inf', true, false, -0, 2.5].map(decode)).toEqual([NaN, Infinity, -Infinity, 1, 0, -0, 2.5]);
  });

  it('builds a tensor of every dtype from a fixture tensor and reads it back', () => {
    const cases: FTensor[] = [
      { shape: [2, 2], dtype: 'float32', data: [0.5, 'nan', '-inf', -0] },
      { shape: [3], dtype: 'float64', data: [1e-300, 'inf', 0.1] },
      { shape: [2], dtype: 'int32', data: [-7, 2147483647] },
      { shape: [1, 2], dtype: 'int64', data: [-3, 9007199254740991] },
      { shape: [3], dtype: 'bool', data: [true, false, true] },
    ];
    for (const f of cases) {
      const t = toTensor(f);
      expect([t.dtype, ...t.shape]).toEqual([f.dtype, ...f.shape]);
      expect(values(t)).toEqual(f.data.map(decode));
    }
    expect(toTensor(cases[0], true).requiresGrad).toBe(true);
  });

  it('expectClose passes within tolerance, on equal infinities and on NaN against NaN', () => {
    const f: FTensor = { shape: [4], dtype: 'float64', data: [1, 'inf', 'nan', -2] };
    expectClose(ignis.tensor(Float64Array.from([1 + 1e-7, Infinity, NaN, -2])), f, 1e-6, 0, 'within');
    expectClose([1, 2], [1.01, 2], 0, 0.02, 'arrays');
  });

  it('expectClose fails outside tolerance, on NaN, and on a shape or length mismatch', () => {
    const f: FTensor = { shape: [2], dtype: 'float64', data: [1, 'inf'] };
    const t = (a: number[], shape = [a.length]): ignis.Tensor => ignis.tensor(Float64Array.from(a), { shape });
    expect(() => expectClose(t([1.1, Infinity]), f, 1e-3, 1e-3, 'x')).toThrow(/x: 1 of 2 elements off; worst \[0\]: got 1.1, expected 1/);
    expect(() => expectClose(t([1, -Infinity]), f, 1, 1, 'x')).toThrow(/worst \[1\]/);
    expect(() => expectClose(t([NaN, Infinity]), f, 1, 1, 'x')).toThrow(/worst \[0\]: got NaN/);
    expect(() => expectClose(t([1, 2]), [1, NaN], 1, 1, 'x')).toThrow(/worst \[1\]: got 2, expected NaN/);
    expect(() => expectClose(t([1, 1.5, 2.9]), [1, 2, 3.5], 0, 0.1, 'x')).toThrow(/2 of 3 elements off; worst \[2\]/);
    expect(() => expectClose(t([1, Infinity], [2, 1]), f, 1, 1, 'x')).toThrow(/x: shape/);
    expect(() => expectClose([1], [1, 2], 1, 1, 'x')).toThrow(/x: numel/);
  });
});

describe('test/util/inputs', () => {
  it('pins the mulberry32 streams the test files are seeded with (their inputs must not change)', () => {
    const first3 = (seed: number): number[] => {
      const r = mulberry32(seed);
      return [r(), r(), r()];
    };
    expect(first3(12345)).toEqual([0.9797282677609473, 0.3067522644996643, 0.484205421525985]);
    expect(first3(2024)).toEqual([0.811762373894453, 0.7108214949257672, 0.6505258858669549]);
    expect(first3(987654)).toEqual([0.0030432657804340124, 0.42931586457416415, 0.6121121516916901]);
  });

  it('U and distinct draw from one sequence, in [lo, hi) and without ties', () => {
    const a = inputs(7);
    const r = mulberry32(7);
    const u = a.U([2, 3], 2, 5, false, 'float32');
    expect([u.dtype, u.requiresGrad, ...u.shape]).toEqual(['float32', false, 2, 3]);
    expect(values(u)).toEqual(Array.from({ length: 6 }, () => Math.fround(2 + 3 * r())));
    const d = values(a.distinct([50]));
    expect(new Set(d).size).toBe(50);
    expect(a.U([1]).requiresGrad).toBe(true);
  });
});
