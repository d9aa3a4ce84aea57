/**
 * The `activation` option of F.linear, nn.Linear, nn.Conv1d, nn.Conv2d and (F.)convTranspose2d (issue 6, fusion): the
 * fused output pass (bias + activation in one sweep, the native bias_act kernel) against the layer
 * followed by the activation, without and with autograd (the training form keeps the pre-activation
 * and runs bias_act_backward), float64 gradcheck / gradgradcheck, the kernel's [N, C, S] layouts, and
 * typed errors. PyTorch parity of the layers with an activation: test/nn/layers.test.ts (fixtures
 * `linear_act_*`, `conv*_act_*`, made by scripts/gen_layer_fixtures.py).
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import * as K from '../../src/kernels';
import { expectClose } from '../util/fixtures';
import { U } from './nn_fixtures';

const { F, nn } = ignis;
const Fx = F as unknown as Record<string, (t: Tensor, p?: unknown) => Tensor>;

// [activation name, its params, the F function that applies it]
const acts: [string, Record<string, unknown> | undefined, string][] = [
  ['relu', undefined, 'relu'],
  ['leaky_relu', { negativeSlope: 0.2 }, 'leakyRelu'],
  ['elu', { alpha: 0.7 }, 'elu'],
  ['gelu', undefined, 'gelu'],
  ['gelu', { approximate: 'tanh' }, 'gelu'],
  ['silu', undefined, 'silu'],
  ['mish', undefined, 'mish'],
  ['sigmoid', undefined, 'sigmoid'],
  ['tanh', undefined, 'tanh'],
  ['softplus', undefined, 'softplus'],
  ['hardswish', undefined, 'hardswish'],
  ['selu', undefined, 'selu'],
];
const label = (a: (typeof acts)[number]) => [`${a[0]}${a[1] ? ' ' + JSON.stringify(a[1]) : ''}`, ...a] as const;
const tolOf = (dtype: string) => (dtype === 'float32' ? 2e-6 : 1e-13);

// input shapes: 2-D, 3-D (leading dims flattened), 1-D, and one large enough for the kernel's threads
const shapes: [string, number[], number, boolean][] = [
  ['2-D', [5, 7], 6, true],
  ['3-D no bias', [2, 3, 7], 8, false],
  ['1-D', [7], 4, true],
  ['large', [513, 33], 130, true],
];

describe('F.linear with an activation: the fused pass vs linear then the activation', () => {
  for (const dtype of ['float32', 'float64'] as const)
    it.each(acts.map(label))(`%s ${dtype}`, (_n, name, params, fn) => {
      for (const [what, xs, out, withBias] of shapes) {
        const x = U(xs, dtype, false);
        const w = U([out, xs[xs.length - 1]], dtype, false, -0.5, 0.5);
        const b = withBias ? U([out], dtype, false) : null;
        const fused = F.linear(x, w, b, { activation: name, activationParams: params });
        const ref = Fx[fn](F.linear(x, w, b), params);
        expect(fused.shape, what).toEqual(ref.shape);
        expectClose(fused, ref, tolOf(dtype), tolOf(dtype), `${name} ${what}`);
      }
    });

  for (const dtype of ['float32', 'float64'] as const)
    it.each(acts.map(label))(`training %s ${dtype}: linear_act's gradients as linear then the activation`, (_n, name, params, fn) => {
      for (const [what, xs, out, withBias] of shapes) {
        const x0 = U(xs, dtype, false);
        const w0 = U([out, xs[xs.length - 1]], dtype, false, -0.5, 0.5);
        const b0 = U([out], dtype, false);
        const run = (fused: boolean) => {
          const x = x0.clone().requiresGrad_(true), w = w0.clone().requiresGrad_(true), b = b0.clone().requiresGrad_(true);
          const y = fused ? F.linear(x, w, withBias ? b : null, { activation: name, activationParams: params }) : Fx[fn](F.linear(x, w, withBias ? b : null), params);
          const go = ignis.manualSeed(7) && ignis.randn(y.shape as number[], { dtype });
          const gs = ignis.autograd.grad(y, withBias ? [x, w, b] : [x, w], { gradOutputs: go });
          return { y, gs };
        };
        const a = run(true);
        const r = run(false);
        expect(a.y.gradFn?.name).toBe(xs.length > 1 ? 'linear_act' : 'view'); // 1-D: squeezed
        const tol = tolOf(dtype) * 5;
        expectClose(a.y, r.y, tol, tol, `${name} ${what} output`);
        a.gs.forEach((g, i) => expectClose(g!, r.gs[i]!, tol * 4, tol * 4, `${name} ${what} gradient ${i}`));
      }
    });

  it('float64 gradcheck and gradgradcheck through the fused op (input, weight, bias)', () => {
    for (const [activation, activationParams] of [['tanh', undefined], ['elu', { alpha: 0.7 }], ['sigmoid', undefined], ['softplus', undefined], ['gelu', undefined]] as const) {
      const f = (x: Tensor, w: Tensor, b: Tensor) => F.linear(x, w, b, { activation, activationParams });
      const ins = [U([3, 2, 4]), U([5, 4]), U([5])];
      expect(ignis.gradcheck(f, ins), activation).toBe(true);
      expect(ignis.autograd.gradgradcheck(f, ins, [U([3, 2, 5])]), activation).toBe(true);
    }
  });

  it('an activation with no single kernel (a composed custom one) is applied after the layer', () => {
    const name = `lin_cube_${Date.now()}`;
    ignis.defineActivation({ name, forward: (x) => x.mul(x).mul(x) });
    const x = U([3, 4]), w = U([2, 4]), b = U([2]);
    const y = F.linear(x, w, b, { activation: name });
    const r = F.linear(x, w, b);
    expectClose(y, r.mul(r).mul(r), 1e-14, 1e-14, 'cube');
    expect(ignis.gradcheck((a: Tensor, c: Tensor) => F.linear(a, c, null, { activation: name }), [x, w])).toBe(true);
  });

  it('with a 1-D weight (a dot product) the activation follows the matmul', () => {
    const x = U([3, 4]), w = U([4]);
    expectClose(F.linear(x, w, null, { activation: 'tanh' }), F.linear(x, w).tanh(), 1e-14, 1e-14, '1-D weight');
  });

  it('bad activations are typed errors naming the op', () => {
    const x = U([2, 3]), w = U([4, 3]);
    expect(() => F.linear(x, w, null, { activation: 'nope' })).toThrow(ignis.ValueError);
    expect(() => F.linear(x, w, null, { activation: 'nope' })).toThrow(/^linear: unknown activation 'nope'/);
    expect(() => F.linear(x, w, null, { activation: 'gelu', activationParams: { approximate: 'cubic' } })).toThrow(/linear: gelu approximate/);
    expect(() => new nn.Linear(3, 4, { activation: 'nope' })).toThrow(/^Linear: unknown activation 'nope'/);
    expect(() => new nn.Linear(3, 4, { activation: 3 as unknown as string })).toThrow(/Linear: activation must be a name/);
    expect(() => new nn.Conv2d(3, 4, 3, { activation: 'nope' })).toThrow(/^Conv2d: unknown activation 'nope'/);
    // option errors name the layer and the activation, at construction
    expect(() => new nn.Linear(3, 4, { activation: 'relu', activationParams: { foo: 1 } })).toThrow(/^Linear: relu: unknown option 'foo'/);
    expect(() => new nn.Conv2d(3, 4, 3, { activation: 'elu', activationParams: { alpha: 'a' } })).toThrow(/^Conv2d: elu: alpha must be a number, got a/);
    // activations that are not one elementwise kernel fail at the forward, naming the op
    expect(() => F.linear(x, w, null, { activation: 'softmax' })).toThrow(/^linear: softmax: dim is required/);
    expectClose(F.linear(x, w, null, { activation: 'softmax', activationParams: { dim: -1 } }), F.softmax(F.linear(x, w), { dim: -1 }), 1e-14, 1e-14, 'softmax');
  });
});

describe('the bias + activation kernel over [N, C, S]', () => {
  // the layouts a convolution's output has (S > 1) and a linear layer's (S = 1), in place and keeping z
  for (const dtype of ['float32', 'float64'] as const)
    it.each([
      [3, 5, 7],
      [4, 6, 1],
      [130, 257, 1],
      [2, 3, 4096],
      [0, 3, 5],
    ])(`N %i C %i S %i ${dtype}`, (N, C, S) => {
      const y0 = U([N, C, S], dtype, false);
      const b = U([C], dtype, false);
      const pre = y0.add(b.reshape([C, 1]));
      for (const act of [null, { kernel: 'gelu', params: [] }, { kernel: 'leaky_relu', params: [0.3] }]) {
        const want = act ? (act.kernel === 'gelu' ? F.gelu(pre) : F.leakyRelu(pre, { negativeSlope: 0.3 })) : pre;
        const inPlace = y0.clone();
        expect(K.biasAct(inPlace, b, N, C, S, act, false)).toBe(inPlace);
        expectClose(inPlace, want, tolOf(dtype), tolOf(dtype), `in place ${act?.kernel}`);
        const z = y0.clone();
        const out = K.biasAct(z, b, N, C, S, act, true);
        expectClose(out, want, tolOf(dtype), tolOf(dtype), `kept ${act?.kernel}`);
        expectClose(z, pre, tolOf(dtype), tolOf(dtype), `pre-activation ${act?.kernel}`);
        const noBias = y0.clone();
        K.biasAct(noBias, null, N, C, S, act, false);
        const wantNoBias = act ? (act.kernel === 'gelu' ? F.gelu(y0) : F.leakyRelu(y0, { negativeSlope: 0.3 })) : y0;
        expectClose(noBias, wantNoBias, tolOf(dtype), tolOf(dtype), `no bias ${act?.kernel}`);
      }
      // the backward's bias gradient over the same layout
      const dy = U([N, C, S], dtype, false);
      const [dz, db] = K.biasActBwd(pre, dy, N, C, S, { kernel: 'silu', params: [] }, true);
      const p = pre.detach().requiresGrad_(true);
      const [dzRef] = ignis.autograd.grad(F.silu(p), [p], { gradOutputs: dy });
      expectClose(dz, dzRef, tolOf(dtype) * 4, tolOf(dtype) * 4, 'dz');
      expectClose(db!, dzRef!.sum([0, 2]), 1e-5, 1e-5, 'db');
    });
});

describe('convTranspose2d with an activation', () => {
  for (const dtype of ['float32', 'float64'] as const)
    it.each(acts.map(label))(`%s ${dtype}: no grad (bias + activation in one pass) and training (composed) as convTranspose2d then the activation`, (_n, name, params, fn) => {
      const x0 = U([2, 3, 4, 5], dtype, false);
      const w0 = U([3, 4, 3, 3], dtype, false, -0.5, 0.5);
      const b0 = U([4], dtype, false);
      const opts = { stride: 2, padding: 1, outputPadding: 1 };
      const tol = tolOf(dtype) * 5;
      for (const withBias of [true, false]) {
        const b = withBias ? b0 : null;
        const fused = ignis.noGrad(() => F.convTranspose2d(x0, w0, b, { ...opts, activation: name, activationParams: params }));
        const ref = Fx[fn](F.convTranspose2d(x0, w0, b, opts), params);
        expectClose(fused, ref, tol, tol, `${name} no grad, bias ${withBias}`);
        const ins = [x0, w0, b0].map((t) => t.clone().requiresGrad_(true));
        const y = F.convTranspose2d(ins[0], ins[1], withBias ? ins[2] : null, { ...opts, activation: name, activationParams: params });
        expectClose(y, ref, tol, tol, `${name} training, bias ${withBias}`);
        const gs = ignis.autograd.grad(y.square().sum(), withBias ? ins : ins.slice(0, 2));
        const insR = [x0, w0, b0].map((t) => t.clone().requiresGrad_(true));
        const gr = ignis.autograd.grad(Fx[fn](F.convTranspose2d(insR[0], insR[1], withBias ? insR[2] : null, opts), params).square().sum(), withBias ? insR : insR.slice(0, 2));
        gs.forEach((g, i) => expectClose(g!, gr[i]!, tol, tol, `${name} gradient ${i}, bias ${withBias}`));
      }
    });
  it('nn.ConvTranspose2d takes the option; bad names fail when it is made', () => {
    const m = new nn.ConvTranspose2d(3, 2, 3, { stride: 2, activation: 'tanh' });
    const x = U([1, 3, 4, 4], 'float32', false);
    expectClose(m.call(x) as Tensor, F.convTranspose2d(x, m.weight, m.bias, { stride: 2 }).tanh(), 1e-6, 1e-6, 'layer');
    expect(String(m)).toBe('ConvTranspose2d(3, 2, kernel_size=(3, 3), stride=(2, 2), activation=tanh)');
    expect(() => new nn.ConvTranspose2d(3, 2, 3, { activation: 'nope' })).toThrow(/^ConvTranspose2d: unknown activation 'nope'/);
    expect(() => F.convTranspose2d(x, m.weight, null, { activation: 'nope' })).toThrow(/^conv_transpose2d: unknown activation 'nope'/);
  });
});

describe('conv2d_act: where the bias gradient comes from', () => {
  // on the CPU with a weight gradient wanted, the weight-gradient kernel sums it; with a frozen
  // weight, the activation's backward sweep does
  for (const frozen of [false, true])
    it(`weight ${frozen ? 'frozen' : 'trained'}: gradients as conv2d then gelu`, () => {
      const x0 = U([2, 3, 6, 6]), w0 = U([4, 3, 3, 3], 'float64', false, -0.4, 0.4), b0 = U([4]);
      const run = (fused: boolean) => {
        const x = x0.detach().requiresGrad_(true), w = w0.clone().requiresGrad_(!frozen), b = b0.detach().requiresGrad_(true);
        const y = fused ? F.conv2d(x, w, b, { padding: 1, activation: 'gelu' }) : F.gelu(F.conv2d(x, w, b, { padding: 1 }));
        if (fused) expect(y.gradFn?.name).toBe('conv2d_act');
        return ignis.autograd.grad(y.square().sum(), frozen ? [x, b] : [x, w, b]);
      };
      const a = run(true), r = run(false);
      a.forEach((g, i) => expectClose(g!, r[i]!, 1e-12, 1e-12, `gradient ${i}`));
    });
});

describe('layers with an activation option', () => {
  it('nn.Linear: output and gradients as the layer then the activation; state keys unchanged', () => {
    ignis.manualSeed(3);
    const m = new nn.Linear(6, 4, { activation: 'leaky_relu', activationParams: { negativeSlope: 0.1 } });
    const plain = new nn.Linear(6, 4);
    plain.loadStateDict(m.stateDict());
    expect(Object.keys(m.stateDict())).toEqual(['weight', 'bias']);
    const x = U([3, 6], 'float32', false);
    const y = m.call(x) as Tensor;
    expectClose(y, F.leakyRelu(plain.call(x) as Tensor, { negativeSlope: 0.1 }), 1e-6, 1e-6, 'output');
    expect(y.gradFn?.name).toBe('linear_act');
    y.sum().backward();
    (F.leakyRelu(plain.call(x) as Tensor, { negativeSlope: 0.1 })).sum().backward();
    expectClose(m.weight.grad!, plain.weight.grad!, 1e-6, 1e-6, 'weight grad');
    expectClose(m.bias!.grad!, plain.bias!.grad!, 1e-6, 1e-6, 'bias grad');
    expect(String(m)).toBe('Linear(in_features=6, out_features=4, bias=True, activation=leaky_relu(negativeSlope=0.1))');
    expect(m.activation).toBe('leaky_relu');
    expect(String(new nn.Linear(2, 2))).toBe('Linear(in_features=2, out_features=2, bias=True)');
  });

  it('nn.Conv2d and nn.Conv1d: the fused convolution (conv2d_act in training)', () => {
    ignis.manualSeed(4);
    const m = new nn.Conv2d(2, 3, 3, { padding: 1, activation: 'silu' });
    const x = U([2, 2, 5, 5], 'float32', false);
    const y = m.call(x) as Tensor;
    expectClose(y, F.silu(F.conv2d(x, m.weight, m.bias, { padding: 1 })), 1e-6, 1e-6, 'conv2d');
    expect(y.gradFn?.name).toBe('conv2d_act');
    const c1 = new nn.Conv1d(2, 3, 3, { activation: 'tanh' });
    const x1 = U([2, 2, 7], 'float32', false);
    expectClose(c1.call(x1) as Tensor, F.conv1d(x1, c1.weight, c1.bias).tanh(), 1e-6, 1e-6, 'conv1d');
    expect(String(m)).toBe('Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), activation=silu)');
  });

  it('in a Sequential: a small MLP trains with fused layers', () => {
    ignis.manualSeed(5);
    const net = new nn.Sequential(new nn.Linear(4, 16, { activation: 'gelu' }), new nn.Linear(16, 1));
    const opt = new ignis.optim.Adam(net.parameters(), { lr: 0.02 });
    const x = ignis.randn([64, 4]);
    const t = x.sum(1, true).sin();
    let first = 0, last = 0;
    for (let i = 0; i < 150; i++) {
      opt.zeroGrad();
      const loss = F.mseLoss(net.call(x) as Tensor, t);
      loss.backward();
      opt.step();
      if (i === 0) first = loss.item();
      last = loss.item();
    }
    expect(last).toBeLessThan(first * 0.2);
  });
});
