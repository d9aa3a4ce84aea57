/**
 * batchNorm / layerNorm / groupNorm: PyTorch parity (fixtures incl. running statistics, both
 * dtypes, oneDNN on and off), oneDNN vs reference, float64 gradchecks, typed errors.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import * as ops from '../../src/ops/all';
import { expectClose, values } from '../util/fixtures';
import { paritySuite, U, withOnednn as withOnednnBase } from './nn_fixtures';

// batch norm takes oneDNN only with IGNIS_ONEDNN_BNORM=1 (native/cpu/batchnorm.cpp): set it for the oneDNN runs
function withOnednn<T>(on: boolean, fn: () => T): T {
  const prev = process.env.IGNIS_ONEDNN_BNORM;
  process.env.IGNIS_ONEDNN_BNORM = on ? '1' : '0';
  try {
    return withOnednnBase(on, fn);
  } finally {
    if (prev === undefined) delete process.env.IGNIS_ONEDNN_BNORM;
    else process.env.IGNIS_ONEDNN_BNORM = prev;
  }
}

paritySuite('norm', ['batchNorm', 'layerNorm', 'groupNorm'], 20, { f32: 2e-5, f64: 1e-10 }, withOnednn);

describe('norm: oneDNN vs reference', () => {
  for (const training of [true, false])
    it(`batchNorm training=${training}`, () => {
      const x = U([8, 6, 9, 7], 'float32', true, -2, 3);
      const w = U([6], 'float32');
      const b = U([6], 'float32');
      const rm0 = U([6], 'float32', false);
      const rv0 = U([6], 'float32', false, 0.5, 1.5);
      const run = (on: boolean) =>
        withOnednn(on, () => {
          for (const t of [x, w, b]) t.grad = null;
          const rm = rm0.clone();
          const rv = rv0.clone();
          const y = ops.batchNorm(x, rm, rv, w, b, { training, momentum: 0.2 });
          y.mul(y).sum().backward();
          return [y, rm, rv, x.grad!, w.grad!, b.grad!];
        });
      const A = run(true);
      const B = run(false);
      A.forEach((t, i) => expectClose(t, B[i], 1e-4, 1e-4, `tensor ${i}`));
    });
  it('running stats: unbiased variance, in place, version bumped', () => {
    const x = ignis.tensor([[1, 2], [3, 6]], { dtype: 'float64' });
    const rm = ignis.zeros([2], { dtype: 'float64' });
    const rv = ignis.ones([2], { dtype: 'float64' });
    const v0 = rm.version;
    ops.batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5 });
    expect(values(rm)).toEqual([1, 2]);
    expect(values(rv)).toEqual([1.5, 4.5]);
    expect(rm.version).toBeGreaterThan(v0);
  });
});

describe('norm: gradcheck (float64)', () => {
  const gc = (fn: (...t: ignis.Tensor[]) => ignis.Tensor, ins: ignis.Tensor[]) => expect(ignis.gradcheck(fn, ins)).toBe(true);
  it('batchNorm training x, w, b', () => gc((x, w, b) => ops.batchNorm(x, null, null, w, b, { training: true }), [U([3, 2, 2, 2]), U([2]), U([2])]));
  it('batchNorm training [N, C]', () => gc((x, w, b) => ops.batchNorm(x, null, null, w, b, { training: true, eps: 1e-3 }), [U([4, 3]), U([3]), U([3])]));
  it('batchNorm eval', () => {
    const rm = U([3], 'float64', false);
    const rv = U([3], 'float64', false, 0.5, 1.5);
    gc((x, w, b) => ops.batchNorm(x, rm, rv, w, b, { training: false }), [U([2, 3, 4]), U([3]), U([3])]);
  });
  it('batchNorm without affine', () => gc((x) => ops.batchNorm(x, null, null, null, null, { training: true }), [U([3, 2, 3])]));
  it('layerNorm', () => gc((x, w, b) => ops.layerNorm(x, [3, 2], w, b), [U([2, 3, 2]), U([3, 2]), U([3, 2])]));
  it('groupNorm', () => gc((x, w, b) => ops.groupNorm(x, 2, w, b), [U([2, 4, 3]), U([4]), U([4])]));
});

describe('norm: double backward (gradgradcheck, float64)', () => {
  const go = (shape: number[]) =>
    ignis.tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i + 0.5)), { dtype: 'float64', shape, requiresGrad: true });
  const ggc = (fn: (...t: ignis.Tensor[]) => ignis.Tensor, ins: ignis.Tensor[], outShape: number[]) =>
    expect(ignis.autograd.gradgradcheck(fn, ins, [go(outShape)])).toBe(true);
  it('batchNorm training x, w, b', () => ggc((x, w, b) => ops.batchNorm(x, null, null, w, b, { training: true }), [U([3, 2, 2, 2]), U([2]), U([2])], [3, 2, 2, 2]));
  it('batchNorm eval', () => {
    const rm = U([3], 'float64', false);
    const rv = U([3], 'float64', false, 0.5, 1.5);
    ggc((x, w, b) => ops.batchNorm(x, rm, rv, w, b, { training: false }), [U([2, 3, 4]), U([3]), U([3])], [2, 3, 4]);
  });
  it('batchNorm without affine [N, C]', () => ggc((x) => ops.batchNorm(x, null, null, null, null, { training: true }), [U([5, 3])], [5, 3]));
  it('the composite first derivative equals the native one', () => {
    const x = U([4, 3, 2, 2]);
    const w = U([3]);
    const b = U([3]);
    const [g1] = ignis.autograd.grad(ops.batchNorm(x, null, null, w, b, { training: true }).pow(2).sum(), [x]);
    const [g2] = ignis.autograd.grad(ops.batchNorm(x, null, null, w, b, { training: true }).pow(2).sum(), [x], { createGraph: true });
    expectClose(g2!, g1!, 1e-12, 1e-10, 'dx');
  });
});

describe('norm: typed errors', () => {
  const x = U([2, 3, 4, 4], 'float32', false);
  it('batchNorm', () => {
    expect(() => ops.batchNorm(x, null, null)).toThrow(/running_mean and running_var must be defined/);
    expect(() => ops.batchNorm(x, null, null, U([4], 'float32'), null, { training: true })).toThrow(ignis.ShapeError);
    expect(() => ops.batchNorm(U([1, 3], 'float32'), null, null, null, null, { training: true })).toThrow(/more than 1 value per channel/);
    expect(() => ops.batchNorm(U([3], 'float32'), null, null, null, null, { training: true })).toThrow(ignis.ShapeError);
    expect(() => ops.batchNorm(x, null, null, U([3], 'float64'), null, { training: true })).toThrow(ignis.ValueError);
    expect(() => ops.batchNorm(ignis.zeros([2, 3], { dtype: 'int32' }), null, null, null, null, { training: true })).toThrow(ignis.DTypeError);
  });
  it('layerNorm / groupNorm', () => {
    expect(() => ops.layerNorm(x, [5])).toThrow(/layer_norm: normalizedShape \[5\]/);
    expect(() => ops.layerNorm(x, [4], U([3], 'float32'))).toThrow(ignis.ShapeError);
    expect(() => ops.groupNorm(x, 2)).toThrow(/group_norm: expected the number of channels \(3/);
    expect(() => ops.groupNorm(x, 0)).toThrow(ignis.ValueError);
  });
});
