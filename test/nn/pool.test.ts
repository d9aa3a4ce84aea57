/**
 * maxPool2d / avgPool2d / adaptive pools / interpolate: PyTorch parity (fixtures, both dtypes,
 * oneDNN on and off), oneDNN vs reference, float64 gradchecks, typed errors.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import * as ops from '../../src/ops/all';
import { expectClose, values } from '../util/fixtures';
import { distinct, paritySuite, U, withOnednn } from './nn_fixtures';

paritySuite('pool', ['maxPool2d', 'avgPool2d', 'adaptiveAvgPool2d', 'adaptiveMaxPool2d', 'interpolate'], 50, { f32: 1e-5, f64: 1e-10 });

describe('pool: oneDNN vs reference', () => {
  const cfgs: [string, (x: ignis.Tensor) => ignis.Tensor][] = [
    ['max 2x2', (x) => ops.maxPool2d(x, { kernelSize: 2 })],
    ['max 3x3 s2 p1', (x) => ops.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 })],
    ['max ceil dilation', (x) => ops.maxPool2d(x, { kernelSize: 2, stride: 2, dilation: 2, ceilMode: true })],
    ['avg 3x3 s2 p1', (x) => ops.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 })],
    ['avg exclude ceil', (x) => ops.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false })],
    ['avg include ceil', (x) => ops.avgPool2d(x, { kernelSize: 2, stride: 2, ceilMode: true })],
  ];
  it.each(cfgs)('%s', (_n, f) => {
    const x = distinct([2, 5, 11, 13], 'float32');
    const run = (on: boolean) =>
      withOnednn(on, () => {
        x.grad = null;
        const y = f(x);
        y.mul(y).sum().backward();
        return [y, x.grad!];
      });
    const [a, ga] = run(true);
    const [b, gb] = run(false);
    expectClose(a, b, 1e-6, 1e-6, 'output');
    expectClose(ga, gb, 1e-5, 1e-5, 'grad');
  });
  it('max pool indices are flat h * W + w like PyTorch', () => {
    const x = ignis.tensor([[[[1, 5, 2], [7, 3, 9], [4, 8, 6]]]], { dtype: 'float32' });
    const [y, i] = ops.maxPool2d(x, { kernelSize: 2, stride: 1, returnIndices: true });
    expect(values(y)).toEqual([7, 9, 8, 9]);
    expect(values(i)).toEqual([3, 5, 7, 5]);
    expect(i.dtype).toBe('int64');
  });
  it('max pool propagates NaN', () => {
    const x = ignis.tensor([[[[1, NaN], [3, 2]]]], { dtype: 'float64' });
    expect(Number.isNaN(values(ops.maxPool2d(x, { kernelSize: 2 }))[0])).toBe(true);
  });
  it('float32 2x2 / stride 2 max pool (SSE2 loop) equals the generic loop (float64): values and indices, ties, NaN, -inf, odd sizes and tails', () => {
    const vals = [0, 1, -1, NaN, -Infinity, 2, 2, 1, Infinity, -0.5, 1];
    for (const [H, W] of [[2, 2], [5, 9], [8, 16], [13, 13], [6, 11], [4, 30]]) {
      const data = Array.from({ length: 3 * H * W }, (_, i) => vals[(i * 7 + Math.floor(i / 5)) % vals.length]);
      const x32 = ignis.tensor(data, { dtype: 'float32' }).reshape([1, 3, H, W]);
      const x64 = ignis.tensor(data, { dtype: 'float64' }).reshape([1, 3, H, W]);
      const [y32, i32] = ops.maxPool2d(x32, { kernelSize: 2, returnIndices: true });
      const [y64, i64] = ops.maxPool2d(x64, { kernelSize: 2, returnIndices: true });
      const show = (v: number[]) => v.map((e) => (Number.isNaN(e) ? 'NaN' : e));
      expect(show(values(y32)), `${H}x${W}`).toEqual(show(values(y64)));
      expect(values(i32), `${H}x${W}`).toEqual(values(i64));
      // training takes the same loop (its backward scatters through these indices)
      const xg = x32.detach().requiresGrad_(true);
      ops.maxPool2d(xg, { kernelSize: 2 }).sum().backward();
      const g = values(xg.grad!);
      const want = new Array(g.length).fill(0);
      values(i64).forEach((ix, k) => (want[Math.floor(k / (y64.shape[2] * y64.shape[3])) * H * W + ix] += 1));
      expect(g, `${H}x${W} grad`).toEqual(want);
    }
  });
  it('float32 max pool propagates NaN with oneDNN on too (its pooling drops NaNs: such inputs take the loops), gradient to the NaN', () => {
    for (const on of [true, false])
      for (let pos = 0; pos < 4; pos++) {
        const win = [1, 2, 3, 4];
        win[pos] = NaN;
        // 16 channels of one 2x2 window, NaN at `pos` in channel 5 only; a second, NaN-free window per channel
        const data = Array.from({ length: 16 * 2 * 4 }, (_, i) => {
          const c = Math.floor(i / 8), r = Math.floor((i % 8) / 4), col = i % 4;
          return c === 5 && col < 2 ? win[r * 2 + col] : 10 + i;
        });
        const x = ignis.tensor(data, { dtype: 'float32' }).reshape([1, 16, 2, 4]).requiresGrad_(true);
        const y = withOnednn(on, () => {
          const out = ops.maxPool2d(x, { kernelSize: 2 });
          out.sum().backward();
          return out;
        });
        const v = values(y);
        const what = `oneDNN ${on ? 'on' : 'off'}, NaN at ${pos}`;
        expect(Number.isNaN(v[10]), what).toBe(true);
        expect(v.filter((e) => Number.isNaN(e)).length, what).toBe(1);
        expect([v[0], v[1]], what).toEqual([10 + 5, 10 + 7]); // NaN-free windows: their max
        const g = values(x.grad!);
        const at = 5 * 8 + Math.floor(pos / 2) * 4 + (pos % 2); // the NaN's flat position
        expect(g[at], what).toBe(1);
        expect(g.reduce((s, e) => s + e, 0), what).toBe(32);
      }
  });
});

describe('pool: gradcheck (float64)', () => {
  const gc = (fn: (x: ignis.Tensor) => ignis.Tensor, x: ignis.Tensor) => expect(ignis.gradcheck(fn, [x])).toBe(true);
  it('maxPool2d', () => gc((x) => ops.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }), distinct([2, 2, 6, 5])));
  it('maxPool2d dilation + indices', () => gc((x) => ops.maxPool2d(x, { kernelSize: 2, dilation: 2, stride: 1, returnIndices: true })[0], distinct([1, 2, 5, 5])));
  it('avgPool2d', () => gc((x) => ops.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false, ceilMode: true }), U([2, 2, 6, 5])));
  it('avgPool2d divisor', () => gc((x) => ops.avgPool2d(x, { kernelSize: 2, divisorOverride: 3 }), U([1, 2, 4, 4])));
  it('adaptiveAvgPool2d', () => gc((x) => ops.adaptiveAvgPool2d(x, [3, 2]), U([2, 2, 7, 5])));
  it('adaptiveMaxPool2d', () => gc((x) => ops.adaptiveMaxPool2d(x, [3, 2]), distinct([2, 2, 7, 5])));
  it('interpolate nearest / bilinear', () => {
    gc((x) => ops.interpolate(x, { size: [5, 7], mode: 'nearest' }), U([1, 2, 3, 4]));
    gc((x) => ops.interpolate(x, { scaleFactor: 1.5, mode: 'bilinear' }), U([1, 2, 3, 4]));
    gc((x) => ops.interpolate(x, { size: [5, 2], mode: 'bilinear', alignCorners: true }), U([1, 2, 3, 4]));
  });
});

describe('pool: double backward (gradgradcheck, float64; oneDNN workspace path in float32)', () => {
  const ggc = (fn: (x: ignis.Tensor) => ignis.Tensor, x: ignis.Tensor) => {
    const y = fn(x);
    const go = ignis.tensor(Float64Array.from({ length: y.numel }, (_, i) => Math.sin(i + 1)), { dtype: 'float64', shape: y.shape as number[], requiresGrad: true });
    expect(ignis.autograd.gradgradcheck(fn, [x], [go])).toBe(true);
  };
  it('maxPool2d', () => ggc((x) => ops.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }), distinct([2, 2, 6, 5])));
  it('avgPool2d', () => ggc((x) => ops.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false }), U([1, 2, 5, 6])));
  it('adaptiveAvgPool2d / adaptiveMaxPool2d', () => {
    ggc((x) => ops.adaptiveAvgPool2d(x, [3, 2]), U([1, 2, 7, 5]));
    ggc((x) => ops.adaptiveMaxPool2d(x, [3, 2]), distinct([1, 2, 7, 5]));
  });
  it('float32 max pool: gradient of the gradient with oneDNN (workspace) equals the reference (indices)', () => {
    const x = distinct([2, 3, 8, 7], 'float32');
    const run = (on: boolean) =>
      withOnednn(on, () => {
        const xx = x.detach().requiresGrad_(true);
        const y = ops.maxPool2d(xx, { kernelSize: 2, stride: 2 });
        const [g] = ignis.autograd.grad(y.mul(y).sum(), [xx], { createGraph: true });
        // d/dx of sum(g * x) = g + x * dg/dx; dg/dx through pooling: g = 2 y at the argmax
        const [gg] = ignis.autograd.grad(g!.mul(xx).sum(), [xx]);
        return gg!;
      });
    expectClose(run(true), run(false), 1e-6, 1e-6, 'grad of grad');
  });
});

describe('pool: typed errors', () => {
  const x = U([2, 3, 6, 6], 'float32', false);
  it('errors name the op', () => {
    expect(() => ops.maxPool2d(x, { kernelSize: 2, padding: 2 })).toThrow(/max_pool2d: padding/);
    expect(() => ops.maxPool2d(x, { kernelSize: 0 })).toThrow(ignis.ValueError);
    expect(() => ops.maxPool2d(x, {} as never)).toThrow(ignis.ValueError);
    expect(() => ops.maxPool2d(U([6, 6], 'float32'), { kernelSize: 2 })).toThrow(ignis.ShapeError);
    expect(() => ops.maxPool2d(x, { kernelSize: 7 })).toThrow(ignis.ShapeError);
    expect(() => ops.avgPool2d(x, { kernelSize: 2, divisorOverride: -1 })).toThrow(ignis.ValueError);
    expect(() => ops.adaptiveAvgPool2d(x, 0)).toThrow(ignis.ValueError);
    expect(() => ops.maxPool2d(ignis.zeros([1, 1, 4, 4], { dtype: 'int64' }), { kernelSize: 2 })).toThrow(ignis.DTypeError);
    expect(() => ops.interpolate(x, { size: 3, scaleFactor: 2 })).toThrow(ignis.ValueError);
    expect(() => ops.interpolate(x, { size: 3, alignCorners: true })).toThrow(ignis.ValueError);
    expect(() => ops.interpolate(U([2, 3], 'float32'), { size: 3 })).toThrow(ignis.ShapeError);
  });
  it('unbatched input', () => {
    expect(ops.maxPool2d(U([3, 6, 6], 'float32', false), { kernelSize: 2 }).shape).toEqual([3, 3, 3]);
    expect(ops.adaptiveAvgPool2d(U([3, 6, 6], 'float32', false), 1).shape).toEqual([3, 1, 1]);
  });
  it('non-contiguous input', () => {
    const xt = distinct([2, 3, 6, 7], 'float32', false).transpose(2, 3);
    expectClose(ops.maxPool2d(xt, { kernelSize: 2 }), ops.maxPool2d(xt.contiguous(), { kernelSize: 2 }), 0, 0, 'transposed');
  });
});
