/**
 * conv2d / conv1d / convTranspose2d / pad: PyTorch parity (fixtures, float32 and float64, with
 * oneDNN and with the reference kernels), oneDNN vs reference on larger shapes, fused activations
 * vs conv + activation, float64 gradchecks, typed errors.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import * as ops from '../../src/ops/all';
import { expectClose } from '../util/fixtures';
import { paritySuite, U, withOnednn } from './nn_fixtures';

paritySuite('conv', ['conv2d', 'conv1d', 'convTranspose2d', 'pad'], 40, { f32: 1e-4, f64: 1e-10 });

describe('conv: oneDNN vs reference', () => {
  const shapes: [string, number[], number[], ignis.Tensor | null | boolean, Parameters<typeof ops.conv2d>[3]][] = [
    ['3x3 pad 1', [4, 16, 12, 12], [24, 16, 3, 3], true, { padding: 1 }],
    ['stride 2 dil 2', [2, 8, 15, 13], [8, 8, 3, 3], true, { stride: 2, dilation: 2, padding: 2 }],
    ['depthwise', [2, 32, 10, 10], [32, 1, 3, 3], true, { groups: 32, padding: 1 }],
    ['groups 4 same', [2, 16, 9, 9], [16, 4, 4, 4], false, { groups: 4, padding: 'same' }],
  ];
  it.each(shapes)('%s', (_n, xs, ws, hasB, opts) => {
    const x = U(xs, 'float32');
    const w = U(ws, 'float32', true, -0.3, 0.3);
    const b = hasB ? U([ws[0]], 'float32') : null;
    const run = (on: boolean) =>
      withOnednn(on, () => {
        for (const t of [x, w, b]) if (t) t.grad = null;
        const y = ops.conv2d(x, w, b, opts);
        y.mul(y).sum().backward();
        return [y, x.grad!, w.grad!, b ? b.grad! : null] as const;
      });
    const A = run(true);
    const B = run(false);
    for (let i = 0; i < 4; i++) if (A[i]) expectClose(A[i]!, B[i]!, 1e-4, 1e-4, `output ${i}`);
  });
  it('convTranspose2d', () => {
    const x = U([2, 8, 7, 7], 'float32');
    const w = U([8, 6, 3, 3], 'float32');
    const f = (on: boolean) => withOnednn(on, () => ops.convTranspose2d(x, w, null, { stride: 2, padding: 1, outputPadding: 1 }));
    expectClose(f(true), f(false), 1e-4, 1e-4, 'convT');
  });
});

describe('conv: fused activation', () => {
  const acts: [string, Record<string, unknown> | undefined, string][] = [
    ['relu', undefined, 'relu'],
    ['leaky_relu', { negativeSlope: 0.2 }, 'leakyRelu'],
    ['elu', undefined, 'elu'],
    ['gelu', undefined, 'gelu'],
    ['gelu', { approximate: 'tanh' }, 'gelu'],
    ['silu', undefined, 'silu'],
    ['mish', undefined, 'mish'],
    ['hardswish', undefined, 'hardswish'],
    ['sigmoid', undefined, 'sigmoid'],
    ['tanh', undefined, 'tanh'],
    ['softplus', undefined, 'softplus'],
    ['relu6', undefined, 'relu6'],
    ['hardtanh', { minVal: -0.5, maxVal: 0.5 }, 'hardtanh'],
    ['selu', undefined, 'selu'],
    ['softsign', undefined, 'softsign'],
  ];
  for (const dtype of ['float32', 'float64'] as const)
    for (const on of [true, false])
      it.each(acts.map((a) => [`${a[0]}${a[1] ? ' ' + JSON.stringify(a[1]) : ''}`, ...a] as const))(`%s ${dtype} oneDNN ${on}`, (_n, name, params, fn) => {
        const x = U([2, 4, 7, 7], dtype, false);
        const w = U([6, 4, 3, 3], dtype, false, -0.4, 0.4);
        const b = U([6], dtype, false);
        withOnednn(on, () => {
          const fused = ops.conv2d(x, w, b, { padding: 1, activation: name, activationParams: params });
          const F = ignis.F as unknown as Record<string, (t: ignis.Tensor, p?: unknown) => ignis.Tensor>;
          const ref = F[fn](ops.conv2d(x, w, b, { padding: 1 }), params);
          expectClose(fused, ref, dtype === 'float32' ? 2e-5 : 1e-12, dtype === 'float32' ? 2e-5 : 1e-12, name);
        });
      });
  // training: conv2d_act (forward keeps the pre-activation; backward = bias_act_backward, one sweep
  // for the activation and bias gradients, then the convolution's data and weight gradients)
  for (const dtype of ['float32', 'float64'] as const)
    it.each(acts.map((a) => [`${a[0]}${a[1] ? ' ' + JSON.stringify(a[1]) : ''}`, ...a] as const))(`training %s ${dtype}: gradients as conv then activation`, (_n, name, params, fn) => {
      const F = ignis.F as unknown as Record<string, (t: ignis.Tensor, p?: unknown) => ignis.Tensor>;
      const x0 = U([2, 4, 7, 7], dtype, false);
      const w0 = U([6, 4, 3, 3], dtype, false, -0.4, 0.4);
      const b0 = U([6], dtype, false);
      const go = U([2, 6, 4, 7], dtype, false);
      const run = (fused: boolean, withBias: boolean) => {
        const [x, w, b] = [x0, w0, b0].map((t) => t.clone().requiresGrad_(true));
        const opts = { padding: 1, stride: [2, 1] as [number, number] };
        const y = fused ? ops.conv2d(x, w, withBias ? b : null, { ...opts, activation: name, activationParams: params }) : F[fn](ops.conv2d(x, w, withBias ? b : null, opts), params);
        const gs = ignis.autograd.grad(y, withBias ? [x, w, b] : [x, w], { gradOutputs: go });
        return { y, gs };
      };
      for (const withBias of [true, false]) {
        const a = run(true, withBias);
        const r = run(false, withBias);
        expect(a.y.gradFn?.name).toBe('conv2d_act');
        const tol = dtype === 'float32' ? 2e-5 : 1e-12;
        expectClose(a.y, r.y, tol, tol, `${name} output`);
        a.gs.forEach((g, i) => expectClose(g, r.gs[i], tol * 5, tol * 5, `${name} gradient ${i} bias ${withBias}`));
      }
    });
  it('training: float64 gradcheck and gradgradcheck through the fused op (input, weight, bias)', () => {
    for (const [activation, activationParams] of [['tanh', undefined], ['elu', { alpha: 0.7 }], ['sigmoid', undefined], ['softplus', undefined]] as const) {
      const f = (a: ignis.Tensor, w: ignis.Tensor, b: ignis.Tensor) => ops.conv2d(a, w, b, { padding: 1, activation, activationParams });
      const ins = [U([1, 2, 4, 4]), U([3, 2, 3, 3]), U([3])];
      expect(ignis.gradcheck(f, ins), activation).toBe(true);
      expect(ignis.autograd.gradgradcheck(f, ins, [U([1, 3, 4, 4])]), activation).toBe(true);
    }
  });
  it('records autograd through conv + activation', () => {
    const x = U([1, 2, 5, 5]);
    const w = U([3, 2, 3, 3]);
    expect(ignis.gradcheck((a, b) => ops.conv2d(a, b, null, { activation: 'tanh' }), [x, w])).toBe(true);
  });
  it('unknown activation is a ValueError', () => {
    expect(() => ops.conv2d(U([1, 2, 5, 5]), U([3, 2, 3, 3]), null, { activation: 'nope' })).toThrow(ignis.ValueError);
  });
});

describe('conv: gradcheck (float64)', () => {
  const gc = (fn: (...t: ignis.Tensor[]) => ignis.Tensor, ins: ignis.Tensor[]) => {
    for (const on of [true, false]) withOnednn(on, () => expect(ignis.gradcheck(fn, ins)).toBe(true));
  };
  it('conv2d x, w, b', () => gc((x, w, b) => ops.conv2d(x, w, b, { stride: 2, padding: 1 }), [U([2, 3, 5, 5]), U([4, 3, 3, 3]), U([4])]));
  it('conv2d groups + dilation', () => gc((x, w, b) => ops.conv2d(x, w, b, { groups: 2, dilation: 2, padding: 'same' }), [U([1, 4, 6, 6]), U([4, 2, 3, 2]), U([4])]));
  it('conv2d depthwise', () => gc((x, w) => ops.conv2d(x, w, null, { groups: 3, padding: 1 }), [U([1, 3, 4, 4]), U([3, 1, 3, 3])]));
  it('conv2d reflect padding', () => gc((x, w) => ops.conv2d(x, w, null, { padding: 1, paddingMode: 'reflect' }), [U([1, 2, 4, 4]), U([2, 2, 3, 3])]));
  it('conv1d', () => gc((x, w, b) => ops.conv1d(x, w, b, { stride: 2, padding: 1 }), [U([2, 2, 7]), U([3, 2, 3]), U([3])]));
  it('convTranspose2d', () =>
    gc((x, w, b) => ops.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }), [U([1, 4, 3, 3]), U([4, 1, 3, 3]), U([2])]));
  it('conv2d double backward', () => {
    const x = U([1, 2, 4, 4]);
    const w = U([2, 2, 3, 3]);
    const f = (a: ignis.Tensor, b: ignis.Tensor) => {
      const y = ops.conv2d(a, b, null, { padding: 1 });
      const [gx] = ignis.autograd.grad(y.square().sum(), [a], { createGraph: true }) as ignis.Tensor[];
      return gx;
    };
    expect(ignis.gradcheck(f, [x, w])).toBe(true);
  });
  it('pad constant / reflect / replicate / circular', () => {
    gc((x) => ops.pad(x, [1, -1, 2, 0], 'constant', 0.5), [U([1, 2, 3, 4])]);
    gc((x) => ops.pad(x, [2, 1, 1, 2], 'reflect'), [U([1, 2, 3, 4])]);
    gc((x) => ops.pad(x, [2, 1, 1, 2], 'replicate'), [U([1, 2, 3, 4])]);
    gc((x) => ops.pad(x, [2, 1], 'circular'), [U([2, 3, 4])]);
  });
});

describe('conv: typed errors', () => {
  const x = U([2, 3, 5, 5], 'float32', false);
  const w = U([4, 3, 3, 3], 'float32', false);
  it('shape errors name op and shapes', () => {
    expect(() => ops.conv2d(x, U([4, 2, 3, 3], 'float32'))).toThrow(/conv2d: input \[2, 3, 5, 5\] has 3 channels but weight \[4, 2, 3, 3\]/);
    expect(() => ops.conv2d(U([5, 5], 'float32'), w)).toThrow(ignis.ShapeError);
    expect(() => ops.conv2d(x, U([4, 3, 3], 'float32'))).toThrow(ignis.ShapeError);
    expect(() => ops.conv2d(x, U([4, 3, 7, 7], 'float32'))).toThrow(ignis.ShapeError);
    expect(() => ops.conv2d(x, w, U([3], 'float32'))).toThrow(ignis.ShapeError);
    expect(() => ops.conv2d(x, U([4, 1, 3, 3], 'float32'), null, { groups: 2 })).toThrow(ignis.ShapeError);
    expect(() => ops.convTranspose2d(x, U([4, 3, 3, 3], 'float32'))).toThrow(ignis.ShapeError);
    expect(() => ops.conv1d(x, w)).toThrow(ignis.ShapeError);
  });
  it('value errors', () => {
    expect(() => ops.conv2d(x, w, null, { stride: 0 })).toThrow(ignis.ValueError);
    expect(() => ops.conv2d(x, w, null, { padding: -1 })).toThrow(ignis.ValueError);
    expect(() => ops.conv2d(x, w, null, { padding: 'same', stride: 2 })).toThrow(ignis.ValueError);
    expect(() => ops.conv2d(x, w, null, { groups: 0 })).toThrow(ignis.ValueError);
    expect(() => ops.conv2d(x, w, null, { paddingMode: 'bogus' as never, padding: 1 })).toThrow(ignis.ValueError);
    expect(() => ops.convTranspose2d(x, U([3, 2, 3, 3], 'float32'), null, { stride: 2, outputPadding: 2 })).toThrow(ignis.ValueError);
    expect(() => ops.pad(x, [1])).toThrow(ignis.ValueError);
    expect(() => ops.pad(x, [5, 5], 'reflect')).toThrow(ignis.ValueError);
    expect(() => ops.conv2d(null as never, w)).toThrow(ignis.ValueError);
  });
  it('dtype errors', () => {
    expect(() => ops.conv2d(x, U([4, 3, 3, 3], 'float64'))).toThrow(ignis.DTypeError);
    expect(() => ops.conv2d(ignis.zeros([1, 3, 5, 5], { dtype: 'int32' }), w)).toThrow(ignis.DTypeError);
  });
  it('empty batch and unbatched input', () => {
    expect(ops.conv2d(U([0, 3, 5, 5], 'float32', false), w).shape).toEqual([0, 4, 3, 3]);
    expect(ops.conv2d(U([3, 5, 5], 'float32', false), w).shape).toEqual([4, 3, 3]);
  });
  it('non-contiguous inputs', () => {
    const xt = U([2, 3, 5, 5], 'float32', false).transpose(2, 3);
    const ref = ops.conv2d(xt.contiguous(), w);
    expectClose(ops.conv2d(xt, w), ref, 1e-6, 1e-6, 'transposed input');
  });
});
