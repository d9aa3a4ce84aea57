/** Optimizer stateDict round trips and typed errors for bad options. */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { optim, ValueError } from '../../src';
import type { Tensor } from '../../src';
import { values } from '../util/fixtures';

function setup(seed: number): Tensor[] {
  ignis.manualSeed(seed);
  return [ignis.randn([3, 4], { dtype: 'float64' }).requiresGrad_(), ignis.randn([5], { dtype: 'float64' }).requiresGrad_()];
}
function grads(step: number): Tensor[] {
  ignis.manualSeed(100 + step);
  return [ignis.randn([3, 4], { dtype: 'float64' }), ignis.randn([5], { dtype: 'float64' })];
}
function run(opt: optim.Optimizer<any>, ps: Tensor[], from: number, to: number): void {
  for (let s = from; s < to; s++) {
    const gs = grads(s);
    ps.forEach((p, i) => (p.grad = gs[i]));
    opt.step();
  }
}

const makers: [string, (ps: Tensor[]) => optim.Optimizer<any>][] = [
  ['SGD', (ps) => new optim.SGD([{ params: [ps[0]], lr: 0.1 }, { params: [ps[1]] }], { lr: 0.01, momentum: 0.9, nesterov: true })],
  ['Adam', (ps) => new optim.Adam(ps, { lr: 0.01, amsgrad: true })],
  ['AdamW', (ps) => new optim.AdamW([{ params: [ps[1]], weightDecay: 0.5 }, { params: [ps[0]] }])],
  ['RMSprop', (ps) => new optim.RMSprop(ps, { centered: true, momentum: 0.5 })],
  ['Adagrad', (ps) => new optim.Adagrad(ps, { lrDecay: 0.1, initialAccumulatorValue: 0.2 })],
];

describe('stateDict / loadStateDict', () => {
  for (const [name, make] of makers) {
    it(`${name}: a restored optimizer continues exactly like the original`, () => {
      const a = setup(1);
      const optA = make(a);
      run(optA, a, 0, 3);
      const sd = optA.stateDict();
      // PyTorch layout: state by parameter index, groups listing indices
      expect(Object.keys(sd.state).sort()).toEqual(['0', '1']);
      expect(sd.paramGroups.flatMap((g) => g.params).sort()).toEqual([0, 1]);
      expect(typeof sd.state[0].step === 'number' || name === 'SGD').toBe(true);

      const b = setup(1);
      // bring b to a's current values, then load the optimizer state into a fresh optimizer
      b.forEach((p, i) => ignis.noGrad(() => p.copy_(a[i])));
      const optB = make(b);
      optB.loadStateDict(sd);
      // state was copied, not shared
      for (const [k, v] of Object.entries(optB.stateDict().state[0])) if (typeof v !== 'number') expect(v).not.toBe(sd.state[0][k]);
      run(optA, a, 3, 6);
      run(optB, b, 3, 6);
      a.forEach((p, i) => expect(values(b[i])).toEqual(values(p)));
    });
  }

  it('restores per-group options (e.g. lr changed by a scheduler)', () => {
    const ps = setup(2);
    const opt = new optim.SGD([{ params: [ps[0]] }, { params: [ps[1]], lr: 0.5 }], { lr: 0.1 });
    opt.paramGroups[0].lr = 0.033;
    const sd = JSON.parse(JSON.stringify(opt.stateDict()));
    const opt2 = new optim.SGD([{ params: [ps[0]] }, { params: [ps[1]] }], { lr: 0.1 });
    opt2.loadStateDict(sd);
    expect(opt2.paramGroups.map((g) => g.lr)).toEqual([0.033, 0.5]);
    expect(opt2.paramGroups[1].params[0]).toBe(ps[1]);
  });

  it('rejects a state dict of another shape', () => {
    const ps = setup(3);
    const opt = new optim.Adam(ps);
    const other = new optim.Adam([ps[0]]);
    expect(() => other.loadStateDict(opt.stateDict())).toThrow(ValueError);
    const two = new optim.Adam([{ params: [ps[0]] }, { params: [ps[1]] }]);
    expect(() => two.loadStateDict(opt.stateDict())).toThrow(/parameter groups/);
  });
});

describe('bad options raise ValueError naming the optimizer', () => {
  const p = () => [ignis.zeros([2], { requiresGrad: true })];
  const bad: [string, () => unknown, RegExp][] = [
    ['SGD lr < 0', () => new optim.SGD(p(), { lr: -0.1 }), /SGD: Invalid learning rate: -0.1/],
    ['SGD momentum < 0', () => new optim.SGD(p(), { momentum: -1 }), /SGD: Invalid momentum/],
    ['SGD weightDecay < 0', () => new optim.SGD(p(), { weightDecay: -1 }), /SGD: Invalid weightDecay/],
    ['SGD nesterov without momentum', () => new optim.SGD(p(), { nesterov: true }), /SGD: Nesterov momentum requires a momentum and zero dampening/],
    ['SGD unknown option', () => new optim.SGD(p(), { weight_decay: 0.1 } as never), /SGD: unknown option 'weight_decay'/],
    ['Adam lr < 0', () => new optim.Adam(p(), { lr: -1 }), /Adam: Invalid learning rate/],
    ['Adam beta1 = 1', () => new optim.Adam(p(), { betas: [1, 0.9] }), /Adam: Invalid beta parameter at index 0/],
    ['Adam beta2 < 0', () => new optim.Adam(p(), { betas: [0.9, -0.1] }), /Adam: Invalid beta parameter at index 1/],
    ['Adam eps < 0', () => new optim.Adam(p(), { eps: -1e-8 }), /Adam: Invalid epsilon/],
    ['AdamW weightDecay < 0', () => new optim.AdamW(p(), { weightDecay: -1 }), /AdamW: Invalid weightDecay/],
    ['RMSprop alpha < 0', () => new optim.RMSprop(p(), { alpha: -0.5 }), /RMSprop: Invalid alpha/],
    ['RMSprop momentum < 0', () => new optim.RMSprop(p(), { momentum: -0.5 }), /RMSprop: Invalid momentum/],
    ['Adagrad lrDecay < 0', () => new optim.Adagrad(p(), { lrDecay: -1 }), /Adagrad: Invalid lrDecay/],
    ['Adagrad initialAccumulatorValue < 0', () => new optim.Adagrad(p(), { initialAccumulatorValue: -1 }), /Adagrad: Invalid initialAccumulatorValue/],
    ['group lr < 0', () => new optim.SGD([{ params: p(), lr: -1 }], { lr: 0.1 }), /SGD: Invalid learning rate: -1 \(must be >= 0\) \(param group 0\)/],
    ['empty parameter list', () => new optim.SGD([]), /SGD: optimizer got an empty parameter list/],
    ['a Tensor instead of a list', () => new optim.SGD(p()[0] as never), /SGD: params argument/],
    ['non-leaf parameter', () => new optim.SGD([p()[0].mul(2)]), /SGD: can't optimize a non-leaf Tensor/],
    ['lr as a string', () => new optim.Adam(p(), { lr: '0.1' as never }), /Adam: learning rate must be a number/],
  ];
  for (const [name, f, re] of bad)
    it(name, () => {
      expect(f).toThrow(ValueError);
      expect(f).toThrow(re);
    });

  it('an integer parameter is a DTypeError', () => {
    expect(() => new optim.SGD([ignis.zeros([2], { dtype: 'int32' })])).toThrow(ignis.DTypeError);
  });
  it('a gradient of the wrong shape is a ShapeError', () => {
    const w = ignis.zeros([2], { requiresGrad: true });
    const opt = new optim.SGD([w]);
    w.grad = ignis.zeros([3]);
    expect(() => opt.step()).toThrow(ignis.ShapeError);
  });
  it('a disposed parameter is a DisposedError, not a crash', () => {
    const w = ignis.zeros([2], { requiresGrad: true });
    const opt = new optim.SGD([w]);
    w.grad = ignis.zeros([2]);
    w.dispose();
    expect(() => opt.step()).toThrow(ignis.DisposedError);
  });
});
