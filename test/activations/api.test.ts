/**
 * The activation API surface: F functions, Tensor methods, in-place variants, nn modules built
 * from the table (constructors, printing), nn.activation(name) with aliases and errors,
 * activations.info, RReLU train/eval, the learnable PReLU / Swish / ActivationMix parameters.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';

const { F, nn } = ignis;
const { ACTIVATIONS } = ignis.activations;

const vals = (t: Tensor): number[] => Array.from(t.dataSync() as unknown as ArrayLike<number>, Number);
const t32 = (v: number[], shape?: number[], requiresGrad = false): Tensor =>
  ignis.tensor(Float32Array.from(v), { dtype: 'float32', shape: shape ?? [v.length], requiresGrad });
const t64 = (v: number[], shape?: number[], requiresGrad = false): Tensor =>
  ignis.tensor(Float64Array.from(v), { dtype: 'float64', shape: shape ?? [v.length], requiresGrad });
function close(a: number[], b: number[], tol = 1e-6): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(Math.abs(x - b[i]), `[${i}] ${x} vs ${b[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i]))));
}
const X = [-2.5, -1, -0.25, 0.5, 1.5, 7];
const sig = (x: number): number => 1 / (1 + Math.exp(-x));

describe('F functions', () => {
  it('compute the textbook formulas', () => {
    const x = t64(X);
    close(vals(F.relu(x)), X.map((v) => Math.max(v, 0)), 1e-15);
    close(vals(F.relu6(x)), X.map((v) => Math.min(Math.max(v, 0), 6)), 1e-15);
    close(vals(F.leakyRelu(x, 0.2)), X.map((v) => (v > 0 ? v : 0.2 * v)), 1e-15);
    close(vals(F.leakyRelu(x, { negativeSlope: 0.2 })), X.map((v) => (v > 0 ? v : 0.2 * v)), 1e-15);
    close(vals(F.elu(x, { alpha: 2 })), X.map((v) => (v > 0 ? v : 2 * Math.expm1(v))), 1e-14);
    close(vals(F.silu(x)), X.map((v) => v * sig(v)), 1e-14);
    close(vals(F.swish(x, { beta: 1.5 })), X.map((v) => v * sig(1.5 * v)), 1e-14);
    close(vals(F.softplus(x, { beta: 2, threshold: 5 })), X.map((v) => (2 * v > 5 ? v : Math.log1p(Math.exp(2 * v)) / 2)), 1e-14);
    close(vals(F.hardtanh(x, { minVal: -2, maxVal: 0.5 })), X.map((v) => Math.min(Math.max(v, -2), 0.5)), 1e-15);
    close(vals(F.threshold(x, { threshold: 0.5, value: -9 })), X.map((v) => (v > 0.5 ? v : -9)), 1e-15);
    close(vals(F.threshold(x, 0.5, -9)), X.map((v) => (v > 0.5 ? v : -9)), 1e-15);
    close(vals(F.gelu(x, { approximate: 'tanh' })),
      X.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))), 1e-14);
  });

  it('validate their options', () => {
    const x = t32(X);
    expect(() => F.gelu(x, { approximate: 'exact' })).toThrow(ignis.ValueError);
    expect(() => F.leakyRelu(x, { slope: 0.2 })).toThrow(/unknown option 'slope'/);
    expect(() => F.threshold(x)).toThrow(/threshold and value are required/);
    expect(() => F.hardtanh(x, { minVal: 1, maxVal: -1 })).toThrow(ignis.ValueError);
    expect(() => F.softshrink(x, { lambd: -1 })).toThrow(ignis.ValueError);
    expect(() => F.softmax(x)).toThrow(/dim is required/);
    expect(() => F.gelu(x, { inplace: true })).toThrow(/no in-place variant/);
    expect(() => F.relu(ignis.tensor([1, -2], { dtype: 'int32' }))).toThrow(ignis.DTypeError);
    expect(() => F.prelu(x, 0.25)).toThrow(/weight tensor/);
  });

  it('every table row is reachable as F.<fn> and returns the input dtype and shape', () => {
    const x = t32(Array.from({ length: 24 }, (_, i) => i / 5 - 2.3), [2, 3, 4]);
    const extra: Record<string, unknown[]> = {
      threshold: [{ threshold: 0, value: 0 }],
      softmax: [{ dim: 1 }],
      log_softmax: [{ dim: 1 }],
      softmin: [{ dim: 1 }],
      prelu: [t32([0.25])],
    };
    for (const r of ACTIVATIONS) {
      const fn = (F as unknown as Record<string, (x: Tensor, ...a: unknown[]) => Tensor>)[r.fn];
      const y = fn(x, ...(extra[r.name] ?? []));
      expect(y.dtype, r.name).toBe('float32');
      expect([...y.shape], r.name).toEqual(r.name === 'glu' ? [2, 3, 2] : [2, 3, 4]);
    }
  });
});

describe('Tensor methods and in-place variants', () => {
  it('x.relu(), x.gelu({approximate}), x.leakyRelu(0.2) equal F', () => {
    const x = t32(X);
    expect(vals(x.relu())).toEqual(vals(F.relu(x)));
    expect(vals(x.gelu({ approximate: 'tanh' }))).toEqual(vals(F.gelu(x, { approximate: 'tanh' })));
    expect(vals(x.gelu())).toEqual(vals(F.gelu(x)));
    expect(vals(x.leakyRelu(0.2))).toEqual(vals(F.leakyRelu(x, 0.2)));
    expect(vals(x.hardtanh(-0.5, 0.5))).toEqual(vals(F.hardtanh(x, -0.5, 0.5)));
    expect(vals(x.softmin(0))).toEqual(vals(F.softmin(x, { dim: 0 })));
  });

  it('x.relu_() and F.relu(x, {inplace: true}) overwrite x and return it', () => {
    const x = t32(X);
    const r = x.relu_();
    expect(r).toBe(x);
    expect(vals(x)).toEqual(X.map((v) => Math.max(v, 0)));
    const y = t32(X);
    const z = F.relu(y, { inplace: true });
    expect(z).toBe(y);
    expect(vals(y)).toEqual(X.map((v) => Math.max(v, 0)));
    const w = t64(X);
    expect(F.leakyRelu(w, 0.1, { inplace: true })).toBe(w);
    close(vals(w), X.map((v) => (v > 0 ? v : 0.1 * v)), 1e-15);
  });

  it('every row with inplace: true has a Tensor method <fn>_ that writes into x', () => {
    for (const r of ACTIVATIONS.filter((row) => row.inplace)) {
      const x = t64([-1.5, -0.5, 0.25, 2]);
      const method = (x as unknown as Record<string, (...a: unknown[]) => Tensor>)[`${r.fn}_`];
      expect(typeof method, `${r.fn}_`).toBe('function');
      const args = r.name === 'threshold' ? [0, 0] : r.name === 'rrelu' ? [{ training: false }] : [];
      const expected = vals((F as unknown as Record<string, (x: Tensor, ...a: unknown[]) => Tensor>)[r.fn](t64([-1.5, -0.5, 0.25, 2]), ...args));
      expect(method.apply(x, args), r.name).toBe(x);
      expect(vals(x), r.name).toEqual(expected);
    }
  });

  it('autograd through an in-place activation on a non-leaf', () => {
    const a = t64([-2, -0.5, 0.5, 3], undefined, true);
    const h = a.mul(2); // non-leaf
    const out = F.relu(h, { inplace: true });
    expect(out).toBe(h);
    out.sum().backward();
    expect(vals(a.grad!)).toEqual([0, 0, 2, 2]);

    const b = t64([-2, -0.5, 0.5, 3], undefined, true);
    const hb = b.mul(1);
    hb.silu_();
    hb.mul(hb).sum().backward();
    const s = [-2, -0.5, 0.5, 3].map((v) => ({ y: v * sig(v), d: sig(v) * (1 + v * (1 - sig(v))) }));
    close(vals(b.grad!), s.map(({ y, d }) => 2 * y * d), 1e-12);
  });

  it('an in-place activation on a leaf that requires grad is refused', () => {
    const a = t64([1, -1], undefined, true);
    expect(() => a.relu_()).toThrow(ignis.AutogradError);
    ignis.noGrad(() => a.relu_()); // allowed without recording
    expect(vals(a)).toEqual([1, 0]);
  });
});

describe('nn modules', () => {
  it('new nn.ReLU(), LeakyReLU(0.2) and LeakyReLU({negativeSlope: 0.2})', () => {
    const x = t32(X);
    const relu = new nn.ReLU();
    expect(relu).toBeInstanceOf(nn.Module);
    expect(vals(relu.call(x))).toEqual(vals(F.relu(x)));
    const a = new nn.LeakyReLU(0.2);
    const b = new nn.LeakyReLU({ negativeSlope: 0.2 });
    expect(vals(a.call(x))).toEqual(vals(F.leakyRelu(x, 0.2)));
    expect(vals(b.call(x))).toEqual(vals(a.call(x)));
    expect(vals(new nn.LeakyReLU().call(x))).toEqual(vals(F.leakyRelu(x, 0.01)));
    expect(() => new nn.LeakyReLU({ slope: 0.2 })).toThrow(ignis.ValueError);
    expect(relu.parameters()).toEqual([]);
  });

  it('print like PyTorch: toString and extraRepr', () => {
    expect(new nn.ReLU().toString()).toBe('ReLU()');
    expect(new nn.LeakyReLU(0.2).extraRepr()).toBe('negativeSlope=0.2');
    expect(new nn.LeakyReLU(0.2).toString()).toBe('LeakyReLU(negativeSlope=0.2)');
    expect(new nn.GELU({ approximate: 'tanh' }).toString()).toBe("GELU(approximate='tanh')");
    expect(new nn.ReLU({ inplace: true }).toString()).toBe('ReLU(inplace=true)');
    expect(new nn.Hardtanh(-2, 2).toString()).toBe('Hardtanh(minVal=-2, maxVal=2)');
    expect(new nn.PReLU({ numParameters: 3 }).toString()).toBe('PReLU(numParameters=3)');
    expect(new nn.Swish({ beta: 1.5 }).toString()).toBe('Swish(beta=1.5)');
    expect(new nn.Swish({ learnable: true }).toString()).toBe('Swish(beta=1.0000, learnable=true)');
    expect(new nn.ActivationMix(['relu', 'gelu']).extraRepr()).toBe("['relu', 'gelu']");
  });

  it('modules with inplace: true modify their input', () => {
    const x = t32(X);
    const y = new nn.ReLU({ inplace: true }).call(x);
    expect(y).toBe(x);
    expect(vals(x)).toEqual(X.map((v) => Math.max(v, 0)));
  });

  it("nn.activation('gelu', {approximate: 'tanh'}) builds a working module", () => {
    const m = nn.activation('gelu', { approximate: 'tanh' });
    expect(m).toBeInstanceOf(nn.GELU);
    const x = t32(X);
    expect(vals(m.call(x) as Tensor)).toEqual(vals(F.gelu(x, { approximate: 'tanh' })));
    expect(nn.activation('prelu', { numParameters: 2 })).toBeInstanceOf(nn.PReLU);
    expect(nn.activation('swish', { learnable: true }).parameters().length).toBe(1);
  });

  it('nn.activation builds every table row', () => {
    const x = t32(Array.from({ length: 24 }, (_, i) => i / 5 - 2.3), [2, 3, 4]);
    const opts: Record<string, Record<string, unknown>> = {
      threshold: { threshold: 0, value: 0 },
      softmax: { dim: 1 },
      log_softmax: { dim: 1 },
      softmin: { dim: 1 },
    };
    for (const r of ACTIVATIONS) {
      const m = nn.activation(r.name, opts[r.name] ?? {});
      expect(m.constructor.name, r.name).toBe(r.module);
      const y = m.call(x) as Tensor;
      expect(y.dtype).toBe('float32');
    }
  });

  it('unknown names raise an error listing the valid ones', () => {
    let err: unknown;
    try {
      nn.activation('reluu');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ignis.ValueError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/unknown activation 'reluu'/);
    for (const r of ACTIVATIONS) expect(msg).toContain(r.name);
    expect(() => ignis.activations.info('nope')).toThrow(/valid names: relu, relu6/);
  });

  it("name aliases: 'leaky_relu', 'leakyRelu', 'LeakyReLU' (and case / underscores)", () => {
    for (const n of ['leaky_relu', 'leakyRelu', 'LeakyReLU', 'leakyrelu', 'LEAKY_RELU']) {
      expect(nn.activation(n, { negativeSlope: 0.3 })).toBeInstanceOf(nn.LeakyReLU);
      expect(ignis.activations.info(n).name).toBe('leaky_relu');
    }
    expect(ignis.activations.info('LogSoftmax').name).toBe('log_softmax');
    expect(ignis.activations.info('logSoftmax').name).toBe('log_softmax');
    expect(ignis.activations.info('SiLU').name).toBe('silu');
  });

  it("activations.info('gelu') returns the table row", () => {
    const row = ignis.activations.info('gelu');
    expect(row).toBe(ACTIVATIONS.find((r) => r.name === 'gelu'));
    expect(row.module).toBe('GELU');
    expect(row.params.map((p) => p.name)).toEqual(['approximate']);
    expect(row.kernel).toBe('gelu');
    expect(row.paper).toMatch(/Hendrycks/);
    expect(ignis.activations.list()).toEqual(expect.arrayContaining(ACTIVATIONS.map((r) => r.name)));
  });
});

describe('RReLU', () => {
  const neg = Array.from({ length: 2000 }, (_, i) => -1 - (i % 7));
  it('is random in training: slopes uniform in [lower, upper]', () => {
    const m = new nn.RReLU({ lower: 0.1, upper: 0.3 });
    expect(m.training).toBe(true);
    const x = t64([...neg, 2, 3]);
    const y = vals(m.call(x));
    const slopes = neg.map((v, i) => y[i] / v);
    for (const s of slopes) expect(s >= 0.1 - 1e-12 && s <= 0.3 + 1e-12).toBe(true);
    expect(new Set(slopes.map((s) => s.toFixed(6))).size).toBeGreaterThan(100);
    const mean = slopes.reduce((a, b) => a + b, 0) / slopes.length;
    expect(Math.abs(mean - 0.2)).toBeLessThan(0.01);
    expect(y.slice(-2)).toEqual([2, 3]);
    // another call draws other slopes
    expect(vals(m.call(x))).not.toEqual(y);
  });

  it('uses the mean slope (lower + upper) / 2 in eval', () => {
    const m = new nn.RReLU({ lower: 0.1, upper: 0.3 }).eval();
    expect(m.training).toBe(false);
    const x = t64([-2, -1, 0.5]);
    close(vals(m.call(x)), [-0.4, -0.2, 0.5], 1e-15);
    m.train();
    expect(m.training).toBe(true);
    close(vals(F.rrelu(x, { training: false })), [-2 * (1 / 8 + 1 / 3) / 2, -(1 / 8 + 1 / 3) / 2, 0.5], 1e-15);
  });

  it('train()/eval() propagate into a container', () => {
    class Net extends nn.Module {
      act = new nn.RReLU();
      forward(x: Tensor): Tensor {
        return this.act.call(x);
      }
    }
    const net = new Net().eval();
    expect(net.act.training).toBe(false);
    net.train();
    expect(net.act.training).toBe(true);
  });

  it('in place in training on a non-leaf: writes x and backpropagates the sampled slopes', () => {
    const a = t64([-1, -2, -3, 4], undefined, true);
    const h = a.mul(1);
    const y = new nn.RReLU({ inplace: true }).call(h);
    expect(y).toBe(h);
    const yv = vals(h);
    for (const [i, v] of [-1, -2, -3].entries()) expect(yv[i] / v >= 1 / 8 && yv[i] / v <= 1 / 3).toBe(true);
    h.sum().backward();
    close(vals(a.grad!), [yv[0] / -1, yv[1] / -2, yv[2] / -3, 1], 1e-12);
  });

  it('its gradient is the slope used in the forward pass', () => {
    const x = t64([-1, -2, -3, 4], undefined, true);
    const y = new nn.RReLU().call(x);
    y.sum().backward();
    const yv = vals(y);
    close(vals(x.grad!), [yv[0] / -1, yv[1] / -2, yv[2] / -3, 1], 1e-12);
  });
});

describe('learnable activations', () => {
  it('PReLU weight is a parameter and gets .grad', () => {
    const m = new nn.PReLU({ numParameters: 3, init: 0.25 });
    expect(m.parameters()).toEqual([m.weight]);
    expect([...m.weight.shape]).toEqual([3]);
    expect(m.weight.requiresGrad).toBe(true);
    const x = t32([-1, 2, -3, 4, -5, 6], [2, 3]);
    const y = m.call(x);
    close(vals(y), [-0.25, 2, -0.75, 4, -1.25, 6]);
    y.sum().backward();
    // d/da_c = sum over x < 0 in channel c of x
    close(vals(m.weight.grad!), [-1, -5, -3]);
    expect(() => m.call(t32([1, 2, 3, 4], [2, 2]))).toThrow(ignis.ShapeError);
    expect(new nn.PReLU().parameters()[0].numel).toBe(1);
    expect(new nn.PReLU(4, 0.1).weight.numel).toBe(4);
  });

  it('Swish learnable beta is a parameter and gets .grad', () => {
    const m = new nn.Swish({ learnable: true, beta: 1.5 });
    const beta = m.beta as ignis.nn.Parameter;
    expect(m.parameters()).toEqual([beta]);
    const xs = [-2, -0.5, 1, 3];
    const y = m.call(t32(xs));
    close(vals(y), xs.map((v) => v * sig(1.5 * v)));
    y.sum().backward();
    // d/dbeta x sigmoid(beta x) = x^2 s (1 - s)
    close(vals(beta.grad!), [xs.reduce((a, v) => a + v * v * sig(1.5 * v) * (1 - sig(1.5 * v)), 0)], 1e-5);
    expect(new nn.Swish().parameters()).toEqual([]);
  });

  it("ActivationMix(['relu','gelu','silu']) is the gate-weighted sum and its gate gets a gradient", () => {
    const m = new nn.ActivationMix(['relu', 'gelu', 'silu'], { dtype: 'float64' });
    expect(m.parameters()).toContain(m.gate);
    ignis.noGrad(() => m.gate.copy_(t64([0.5, -1, 2])));
    const x = t64([-2, -0.3, 0.4, 1.7, 5], undefined, true);
    const y = m.call(x);
    const e = [0.5, -1, 2].map(Math.exp);
    const w = e.map((v) => v / (e[0] + e[1] + e[2]));
    close(vals(m.weights()), w, 1e-15);
    const expected = vals(F.relu(x).mul(w[0]).add(F.gelu(x).mul(w[1])).add(F.silu(x).mul(w[2])));
    close(vals(y), expected, 1e-14);
    y.sum().backward();
    expect(m.gate.grad).not.toBeNull();
    // d sum(y) / d g_i = w_i (A_i - sum_j w_j A_j), A_i = sum(act_i(x))
    const A = [F.relu(x), F.gelu(x), F.silu(x)].map((t) => vals(t.sum())[0]);
    const mix = A.reduce((s, a, i) => s + w[i] * a, 0);
    close(vals(m.gate.grad!), A.map((a, i) => w[i] * (a - mix)), 1e-12);
    expect(x.grad).not.toBeNull();
  });

  it('ActivationMix per channel holds one gate row per channel', () => {
    const m = new nn.ActivationMix(['relu', 'tanh'], { perChannel: true, numChannels: 3 });
    expect([...m.gate.shape]).toEqual([3, 2]);
    expect(m.extraRepr()).toBe("['relu', 'tanh'], perChannel=true");
    const y = m.call(t32(Array.from({ length: 12 }, (_, i) => i - 6), [2, 3, 2]));
    expect([...y.shape]).toEqual([2, 3, 2]);
    y.sum().backward();
    expect([...m.gate.grad!.shape]).toEqual([3, 2]);
    expect(() => m.call(t32([1, 2, 3, 4], [2, 2]))).toThrow(ignis.ShapeError);
    expect(() => new nn.ActivationMix(['relu'], { perChannel: true })).toThrow(ignis.ValueError);
    expect(() => new nn.ActivationMix([])).toThrow(ignis.ValueError);
    expect(() => new nn.ActivationMix(['relu', 'nope'])).toThrow(/unknown activation 'nope'/);
  });

  it('ActivationMix over a learnable activation exposes its parameters too', () => {
    const m = new nn.ActivationMix(['relu', 'prelu']);
    const ps = m.parameters();
    expect(ps).toContain(m.gate);
    expect(ps.length).toBe(2);
  });
});
