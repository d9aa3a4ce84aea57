/**
 * Layers against PyTorch (test/fixtures/layers.json from scripts/gen_layer_fixtures.py): the same
 * weights are loaded through loadStateDict (so state dict key names are checked too), then forward,
 * backward (input and parameter gradients), running statistics after the step and str(module).
 * Then float64 gradchecks through every layer's input and parameters, default initialisation and
 * dropout behaviour.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { expectClose, FTensor, loadFixture, toTensor } from '../util/fixtures';
import { distinct, I64, isMissingOp, U } from './helpers';

const { nn } = ignis;

interface LayerCase {
  name: string;
  module: string;
  args: unknown[];
  opts: Record<string, unknown>;
  training: boolean;
  state: Record<string, FTensor>;
  input: FTensor;
  output: FTensor;
  gradOutput: FTensor | null;
  grads: Record<string, FTensor | null>;
  stateAfter: Record<string, FTensor>;
  repr: string;
}

const fixture = loadFixture<{ layers: LayerCase[] }>('layers.json');

function build(c: LayerCase): ignis.nn.Module {
  if (c.module === 'Sequential')
    return new nn.Sequential(
      new nn.Conv2d(1, 2, 3, { padding: 1 }), new nn.BatchNorm2d(2), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(8, 3),
    );
  const Cls = (nn as unknown as Record<string, new (...a: unknown[]) => ignis.nn.Module>)[c.module];
  expect(Cls, `nn.${c.module}`).toBeTypeOf('function');
  return Object.keys(c.opts).length ? new Cls(...c.args, c.opts) : new Cls(...c.args);
}

describe('layers vs PyTorch', () => {
  it.for(fixture.layers.map((c) => [c.name, c] as const))('%s', ([, c], ctx) => {
    const m = build(c);
    expect(String(m)).toBe(c.repr);
    m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, toTensor(v)])));
    m.train(c.training);
    const x = toTensor(c.input);
    if (x.dtype === 'float32' && c.gradOutput) x.requiresGrad = true;
    let y: Tensor;
    try {
      y = m.call(x) as Tensor;
    } catch (e) {
      if (isMissingOp(e)) return ctx.skip();
      throw e;
    }
    expectClose(y, c.output, 1e-4, 1e-5, `${c.name} output`);
    for (const [k, v] of Object.entries(c.stateAfter)) expectClose(m.stateDict()[k], v, 1e-4, 1e-5, `${c.name} ${k} after`);
    if (!c.gradOutput) return;
    y.backward(toTensor(c.gradOutput));
    const params = Object.fromEntries(m.namedParameters());
    for (const [k, g] of Object.entries(c.grads)) {
      if (!g) continue;
      const t = k === 'input' ? x : params[k];
      expect(t, `${c.name}: parameter ${k}`).toBeDefined();
      expect(t.grad, `${c.name}: grad of ${k}`).not.toBeNull();
      expectClose(t.grad!, g, 1e-4, 1e-4, `${c.name} grad ${k}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

type Make = () => [ignis.nn.Module, Tensor];
const f64 = { dtype: 'float64' as const };

const gradcases: [string, Make][] = [
  ['Linear', () => [new nn.Linear(3, 2, f64), U([2, 3])]],
  ['Linear 3-D input, no bias', () => [new nn.Linear(3, 2, { ...f64, bias: false }), U([2, 2, 3])]],
  ['Conv1d', () => [new nn.Conv1d(2, 2, 3, { ...f64, stride: 2, padding: 1 }), U([1, 2, 5])]],
  ['Conv2d', () => [new nn.Conv2d(1, 2, 2, f64), U([1, 1, 3, 3])]],
  ['Conv2d groups/stride/padding', () => [new nn.Conv2d(2, 2, 3, { ...f64, stride: 2, padding: 1, groups: 2 }), U([1, 2, 3, 3])]],
  ['Conv2d dilation', () => [new nn.Conv2d(1, 1, 2, { ...f64, dilation: 2, bias: false }), U([1, 1, 4, 4])]],
  ['ConvTranspose2d', () => [new nn.ConvTranspose2d(2, 1, 2, { ...f64, stride: 2 }), U([1, 2, 2, 2])]],
  ['MaxPool2d', () => [new nn.MaxPool2d(2), distinct([1, 2, 4, 4])]],
  ['MaxPool2d padding', () => [new nn.MaxPool2d(3, { stride: 2, padding: 1 }), distinct([1, 1, 4, 4])]],
  ['AvgPool2d', () => [new nn.AvgPool2d(2, { stride: 1 }), U([1, 2, 3, 3])]],
  ['AvgPool2d countIncludePad false', () => [new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }), U([1, 1, 4, 4])]],
  ['AdaptiveAvgPool2d', () => [new nn.AdaptiveAvgPool2d([2, 3]), U([1, 1, 3, 5])]],
  ['AdaptiveMaxPool2d', () => [new nn.AdaptiveMaxPool2d(2), distinct([1, 1, 5, 5])]],
  ['BatchNorm1d train', () => [new nn.BatchNorm1d(3, f64), U([4, 3])]],
  ['BatchNorm2d train', () => [new nn.BatchNorm2d(2, f64), U([2, 2, 2, 2])]],
  ['BatchNorm2d eval', () => [new nn.BatchNorm2d(2, f64).eval(), U([2, 2, 2, 2])]],
  ['LayerNorm', () => [new nn.LayerNorm(4, f64), U([2, 4])]],
  ['GroupNorm', () => [new nn.GroupNorm(2, 4, f64), U([1, 4, 2, 2])]],
  ['Upsample bilinear', () => [new nn.Upsample({ scaleFactor: 2, mode: 'bilinear' }), U([1, 1, 2, 2])]],
  ['Upsample nearest', () => [new nn.Upsample({ scaleFactor: 2 }), U([1, 1, 2, 2])]],
  ['Flatten + Unflatten', () => [new nn.Sequential(new nn.Flatten(), new nn.Unflatten(1, [2, 2])), U([2, 1, 2, 2])]],
];

describe('gradcheck (float64) through layers: input and parameters', () => {
  it.for(gradcases)('%s', ([, make], ctx) => {
    const [m, x] = make();
    // randomise affine norm parameters away from 1 / 0 so their gradients are exercised
    ignis.noGrad(() => m.parameters().forEach((p) => p.copy_(U(p.shape as number[], -1, 1, false).to(p.dtype))));
    const params = m.parameters();
    const fn = (xx: Tensor): Tensor => {
      if (m instanceof nn.BatchNorm1d || m instanceof nn.BatchNorm2d) m.resetRunningStats();
      return m.call(xx) as Tensor;
    };
    try {
      fn(x);
    } catch (e) {
      if (isMissingOp(e)) return ctx.skip();
      throw e;
    }
    expect(ignis.gradcheck((xx: Tensor) => fn(xx), [x, ...params])).toBe(true);
  });

  it('Embedding (weight, repeated indices)', () => {
    const e = new nn.Embedding(5, 3, f64);
    const idx = I64([0, 1, 4, 4, 1, 2], [2, 3]);
    expect(ignis.gradcheck(() => e.call(idx) as Tensor, [e.weight])).toBe(true);
  });
});

describe('default initialisation', () => {
  it('Linear / Conv weights are kaiming_uniform(a=sqrt(5)): U(-1/sqrt(fanIn), 1/sqrt(fanIn)); bias likewise', () => {
    ignis.manualSeed(0);
    const l = new nn.Linear(64, 200);
    const b = 1 / Math.sqrt(64);
    const w = l.weight.toArray() as number[][];
    const flat = w.flat();
    expect(flat.reduce((a, b) => Math.max(a, b))).toBeLessThanOrEqual(b);
    expect(flat.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(-b);
    expect(flat.reduce((a, b) => Math.max(a, b))).toBeGreaterThan(0.95 * b);
    const bias = l.bias!.toArray() as number[];
    expect(Math.max(...bias.map(Math.abs))).toBeLessThanOrEqual(b);
    const c = new nn.Conv2d(3, 16, 5);
    const bc = 1 / Math.sqrt(3 * 25);
    const cw = (c.weight.abs().amax().item() as number);
    expect(cw).toBeLessThanOrEqual(bc);
    expect(cw).toBeGreaterThan(0.9 * bc);
    const t = new nn.ConvTranspose2d(4, 6, 3, { groups: 2 });
    expect(t.weight.shape).toEqual([4, 3, 3, 3]);
    expect(t.weight.abs().amax().item() as number).toBeLessThanOrEqual(1 / Math.sqrt(27));
  });

  it('is reproducible with manualSeed', () => {
    ignis.manualSeed(42);
    const a = new nn.Conv2d(2, 3, 3);
    ignis.manualSeed(42);
    const b = new nn.Conv2d(2, 3, 3);
    expect(a.weight.toArray()).toEqual(b.weight.toArray());
    expect(a.bias!.toArray()).toEqual(b.bias!.toArray());
  });

  it('norm layers start at weight 1, bias 0, running var 1; Embedding ~ N(0, 1) with a zero padding row', () => {
    const bn = new nn.BatchNorm2d(3);
    expect(bn.weight!.toArray()).toEqual([1, 1, 1]);
    expect(bn.bias!.toArray()).toEqual([0, 0, 0]);
    expect(bn.runningVar!.toArray()).toEqual([1, 1, 1]);
    expect(bn.numBatchesTracked!.item()).toBe(0);
    const nb = new nn.BatchNorm1d(3, { affine: false, trackRunningStats: false });
    expect(nb.parameters()).toHaveLength(0);
    expect(nb.buffers()).toHaveLength(0);
    ignis.manualSeed(0);
    const e = new nn.Embedding(400, 10, { paddingIdx: 3 });
    expect((e.weight.select(0, 3).abs().sum().item() as number)).toBe(0);
    const m = e.weight.mean().item() as number;
    const s = e.weight.std().item() as number;
    expect(Math.abs(m)).toBeLessThan(0.05);
    expect(Math.abs(s - 1)).toBeLessThan(0.05);
  });
});

describe('Embedding', () => {
  it('looks rows up, the padding row gets zero gradient', () => {
    const e = new nn.Embedding(4, 2, { paddingIdx: 0 });
    const y = e.call(I64([0, 2, 2, 3], [2, 2])) as Tensor;
    expect(y.shape).toEqual([2, 2, 2]);
    y.sum().backward();
    expect(e.weight.grad!.toArray()).toEqual([[0, 0], [0, 0], [2, 2], [1, 1]]);
    expect(() => e.call(I64([5], [1]))).toThrow();
    const p = nn.Embedding.fromPretrained(ignis.eye(3));
    expect(p.weight.requiresGrad).toBe(false);
    expect((p.call(I64([1], [1])) as Tensor).toArray()).toEqual([[0, 1, 0]]);
  });
});

describe('Dropout / Dropout2d', () => {
  it('drops about p, scales by 1/(1-p), reproducibly with manualSeed; identity in eval', () => {
    const d = new nn.Dropout(0.3);
    ignis.manualSeed(7);
    const a = d.call(ignis.ones([20000])) as Tensor;
    ignis.manualSeed(7);
    const b = d.call(ignis.ones([20000])) as Tensor;
    expect(a.toArray()).toEqual(b.toArray());
    const v = Array.from(a.dataSync() as Float32Array);
    const zeros = v.filter((x) => x === 0).length / v.length;
    expect(Math.abs(zeros - 0.3)).toBeLessThan(0.02);
    expect(v.filter((x) => x !== 0).every((x) => Math.abs(x - 1 / 0.7) < 1e-6)).toBe(true);
    d.eval();
    const x = ignis.randn([5]);
    expect(d.call(x)).toBe(x);
    expect(ignis.F.dropout(x, 0.5, false)).toBe(x);
    expect((ignis.F.dropout(x, 1) as Tensor).abs().sum().item()).toBe(0);
    expect(() => new nn.Dropout(1.5)).toThrow(ignis.ValueError);
  });

  it('gradient flows through kept elements only', () => {
    ignis.manualSeed(1);
    const x = ignis.ones([100], { requiresGrad: true });
    const y = ignis.F.dropout(x, 0.5);
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual((y.detach().toArray() as number[]));
  });

  it('Dropout2d zeroes whole channels', () => {
    ignis.manualSeed(3);
    const d = new nn.Dropout2d(0.5);
    const y = d.call(ignis.ones([4, 16, 3, 3])) as Tensor;
    const per = y.sum([2, 3]).toArray() as number[][];
    for (const row of per) for (const s of row) expect(s === 0 || Math.abs(s - 18) < 1e-5).toBe(true);
    const dropped = per.flat().filter((s) => s === 0).length;
    expect(dropped).toBeGreaterThan(16);
    expect(dropped).toBeLessThan(48);
    d.eval();
    expect((d.call(ignis.ones([1, 2, 2, 2])) as Tensor).sum().item()).toBe(8);
  });
});

describe('BatchNorm bookkeeping', () => {
  it('counts batches; eval uses running stats', (ctx) => {
    const bn = new nn.BatchNorm1d(2);
    try {
      bn.call(ignis.randn([4, 2]));
    } catch (e) {
      if (isMissingOp(e)) return ctx.skip();
      throw e;
    }
    bn.call(ignis.randn([4, 2]));
    expect(bn.numBatchesTracked!.item()).toBe(2);
    bn.eval();
    bn.call(ignis.randn([4, 2]));
    expect(bn.numBatchesTracked!.item()).toBe(2);
    expect(() => bn.call(ignis.randn([4, 3]))).toThrow(ignis.ShapeError);
    expect(() => new nn.BatchNorm2d(2).call(ignis.randn([4, 2]))).toThrow(/expected 4D input/);
  });
});
