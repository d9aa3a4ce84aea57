/**
 * Losses against PyTorch (test/fixtures/layers.json: functional and module forms, forward and
 * input gradient), float64 gradchecks, double backward through the fused cross entropy, numerical
 * stability and argument errors.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { expectClose, FTensor, loadFixture, toTensor } from '../util/fixtures';
import { I64, U } from './helpers';

const { nn, F } = ignis;

interface LossCase {
  name: string;
  fn: string;
  module: string;
  input: FTensor;
  target: FTensor;
  opts: Record<string, unknown>;
  output: FTensor;
  gradOutput: FTensor;
  grad: FTensor;
  repr: string;
}
const fixture = loadFixture<{ losses: LossCase[] }>('layers.json');

function opts(c: LossCase): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(c.opts).map(([k, v]) => [k, v && typeof v === 'object' && 'shape' in (v as object) ? toTensor(v as FTensor) : v]),
  );
}

describe('losses vs PyTorch', () => {
  it.each(fixture.losses.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const fn = (F as unknown as Record<string, (a: Tensor, b: Tensor, o: unknown) => Tensor>)[c.fn];
    for (const form of ['functional', 'module']) {
      const x = toTensor(c.input).requiresGrad_();
      const t = toTensor(c.target);
      let y: Tensor;
      if (form === 'functional') y = fn(x, t, opts(c));
      else {
        const Cls = (nn as unknown as Record<string, new (o: unknown) => ignis.nn.Module>)[c.module];
        const m = new Cls(opts(c));
        expect(String(m)).toBe(c.repr);
        y = m.call(x, t) as Tensor;
      }
      expectClose(y, c.output, 1e-5, 1e-5, `${c.name} (${form}) output`);
      y.backward(toTensor(c.gradOutput));
      expectClose(x.grad!, c.grad, 1e-4, 1e-6, `${c.name} (${form}) grad`);
    }
  });
});

const R = (shape: number[], lo = -2, hi = 2): Tensor => U(shape, lo, hi);
const targets = (n: number[], C: number, data?: number[]): Tensor =>
  I64(data ?? Array.from({ length: n.reduce((a, b) => a * b, 1) }, (_, i) => (i * 7 + 3) % C), n);

type Case = [string, () => Tensor[], (...xs: Tensor[]) => Tensor];
const w4 = (): Tensor => ignis.tensor([0.5, 1.5, 1, 2], { dtype: 'float64' });

const gradcases: Case[] = [
  ['crossEntropy mean', () => [R([3, 4])], (x) => F.crossEntropy(x, targets([3], 4))],
  ['crossEntropy sum + weight', () => [R([3, 4])], (x) => F.crossEntropy(x, targets([3], 4), { weight: w4(), reduction: 'sum' })],
  ['crossEntropy none + ignoreIndex', () => [R([3, 4])], (x) => F.crossEntropy(x, targets([3], 4, [1, -100, 3]), { reduction: 'none' })],
  ['crossEntropy weight + ignoreIndex mean', () => [R([4, 4])], (x) => F.crossEntropy(x, targets([4], 4, [1, 2, 2, 0]), { weight: w4(), ignoreIndex: 2 })],
  ['crossEntropy NCHW', () => [R([2, 3, 2, 2])], (x) => F.crossEntropy(x, targets([2, 2, 2], 3))],
  ['crossEntropy NCHW none', () => [R([2, 3, 1, 2])], (x) => F.crossEntropy(x, targets([2, 1, 2], 3), { reduction: 'none' })],
  ['crossEntropy labelSmoothing + weight + ignore', () => [R([3, 4])], (x) => F.crossEntropy(x, targets([3], 4, [0, -100, 3]), { labelSmoothing: 0.2, weight: w4() })],
  ['crossEntropy probability targets', () => [R([3, 4]), ignis.softmax(U([3, 4], -1, 1, false), 1)], (x, p) => F.crossEntropy(x, p, { labelSmoothing: 0.1 })],
  ['crossEntropy unbatched', () => [R([4])], (x) => F.crossEntropy(x, I64([2], []).reshape([]))],
  ['nllLoss weight', () => [R([3, 4])], (x) => F.nllLoss(x, targets([3], 4), { weight: w4() })],
  ['mseLoss', () => [R([2, 3]), R([2, 3])], (a, b) => F.mseLoss(a, b)],
  ['l1Loss', () => [R([2, 3], 0.5, 1), R([2, 3], -1, -0.5)], (a, b) => F.l1Loss(a, b, { reduction: 'sum' })],
  ['smoothL1Loss', () => [R([2, 3]), R([2, 3])], (a, b) => F.smoothL1Loss(a, b, { beta: 0.7 })],
  ['huberLoss', () => [R([2, 3]), R([2, 3])], (a, b) => F.huberLoss(a, b, { delta: 0.6, reduction: 'none' })],
  ['binaryCrossEntropy', () => [R([2, 3], 0.1, 0.9), R([2, 3], 0, 1)], (a, b) => F.binaryCrossEntropy(a, b, { weight: ignis.tensor([1, 2, 0.5], { dtype: 'float64' }) })],
  ['binaryCrossEntropyWithLogits', () => [R([2, 3]), R([2, 3], 0, 1)], (a, b) => F.binaryCrossEntropyWithLogits(a, b, { posWeight: ignis.tensor([1, 2, 0.5], { dtype: 'float64' }) })],
];

describe('gradcheck (float64) through losses', () => {
  it.each(gradcases)('%s', (_n, make, fn) => {
    expect(ignis.gradcheck(fn, make())).toBe(true);
  });

  it('double backward through the fused cross entropy', () => {
    const x = R([3, 4]);
    const t = targets([3], 4);
    const w = w4();
    // gradient of the gradient: d/dx sum(dL/dx * v) checked numerically
    const v = U([3, 4], -1, 1, false);
    const gfn = (xx: Tensor): Tensor => {
      const [g] = ignis.autograd.grad(F.crossEntropy(xx, t, { weight: w }), xx, { createGraph: true });
      return g!.mul(v).sum();
    };
    expect(ignis.gradcheck(gfn, [x])).toBe(true);
  });
});

describe('stability and errors', () => {
  it('cross entropy and BCE-with-logits stay finite for huge logits (float32)', () => {
    const x = ignis.tensor([[1e4, -1e4, 0], [-1e4, 1e4, 1e4 - 1]], { dtype: 'float32', requiresGrad: true });
    const l = F.crossEntropy(x, I64([1, 2], [2]));
    expect(Number.isFinite(l.item() as number)).toBe(true);
    expect(l.item() as number).toBeCloseTo((2e4 + 1 + Math.log1p(Math.exp(-1))) / 2, 1);
    l.backward();
    expect((x.grad!.abs().sum().item() as number)).toBeLessThan(10);
    const z = ignis.tensor([1e4, -1e4, 100], { dtype: 'float32', requiresGrad: true });
    const b = F.binaryCrossEntropyWithLogits(z, ignis.tensor([0, 1, 1], { dtype: 'float32' }), { reduction: 'none' });
    const bv = b.toArray() as number[];
    expect(bv.slice(0, 2)).toEqual([1e4, 1e4]);
    expect(bv[2]).toBeLessThan(1e-30);
    b.sum().backward();
    const gv = z.grad!.toArray() as number[];
    expect(gv.slice(0, 2)).toEqual([1, -1]);
    expect(Math.abs(gv[2])).toBeLessThan(1e-30);
  });

  it('argument errors name the problem', () => {
    const x = ignis.randn([3, 4]);
    expect(() => F.crossEntropy(x, I64([0, 1, 4], [3]))).toThrow(/out of bounds for 4 classes/);
    expect(() => F.crossEntropy(x, I64([0, 1], [2]))).toThrow(ignis.ShapeError);
    expect(() => F.crossEntropy(x, I64([0, 1, 2], [3]), { reduction: 'avg' as never })).toThrow(/reduction must be/);
    expect(() => F.crossEntropy(x, I64([0, 1, 2], [3]), { weight: ignis.ones([3]) })).toThrow(/weight tensor should be defined/);
    expect(() => F.mseLoss(x, ignis.randn([4, 3]))).toThrow(/target size \[4, 3\] must be the same as input size \[3, 4\]/);
    expect(() => F.binaryCrossEntropy(ignis.tensor([1.5]), ignis.tensor([1], { dtype: 'float32' }))).toThrow(/between 0 and 1/);
    expect(() => F.crossEntropy(x, I64([0, 1, 2], [3]), { labelSmoothing: 2 })).toThrow(/labelSmoothing/);
  });

  it('CrossEntropyLoss keeps its class weights as a buffer', () => {
    const m = new nn.CrossEntropyLoss({ weight: ignis.ones([3]) });
    expect(Object.keys(m.stateDict())).toEqual(['weight']);
    expect(new nn.CrossEntropyLoss().buffers()).toHaveLength(0);
  });
});
