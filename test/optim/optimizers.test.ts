/**
 * Every optimizer and option against PyTorch (test/fixtures/optim.json, scripts/gen_optim_fixtures.py):
 * fixed gradients over 6 steps in float64 and float32, param groups, the final state, and a
 * linear model trained with autograd.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { optim } from '../../src';
import type { Tensor } from '../../src';
import { expectClose, FTensor, toTensor } from '../util/fixtures';
import { fixture, tol } from './helpers';

interface OptCase {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad';
  dtype: 'float32' | 'float64';
  options: Record<string, unknown>;
  groups: (Record<string, unknown> & { params: number[] })[] | null;
  params: FTensor[];
  grads: FTensor[][];
  expected: FTensor[][];
  state: Record<string, Record<string, FTensor | number>>;
}

export function makeOptimizer(name: string, params: Tensor[], options: Record<string, unknown>, groups?: OptCase['groups']): optim.Optimizer<any> {
  const Cls = (optim as unknown as Record<string, new (p: unknown, o: unknown) => optim.Optimizer<any>>)[name];
  const arg = groups ? groups.map((g) => ({ ...g, params: g.params.map((i) => params[i]) })) : params;
  return new Cls(arg, options);
}

const cases = fixture.optimizers as OptCase[];

describe('optimizers match PyTorch (fixed gradients, 6 steps)', () => {
  it('has the fixture cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });
  for (const c of cases) {
    it(c.name, () => {
      const params = c.params.map((t) => toTensor(t, true));
      const opt = makeOptimizer(c.optimizer, params, c.options, c.groups);
      const [rtol, atol] = tol(c.dtype);
      c.grads.forEach((gs, step) => {
        params.forEach((p, i) => (p.grad = toTensor(gs[i])));
        const versions = params.map((p) => p.version);
        opt.step();
        params.forEach((p, i) => {
          expectClose(p, c.expected[step][i], rtol * (step + 1), atol * (step + 1), `${c.name} step ${step} param ${i}`);
          expect(p.version).toBe(versions[i] + 1);
          expect(p.requiresGrad).toBe(true);
          expect(p.isLeaf).toBe(true);
        });
      });
      // final state: same names (camelCase) and values as PyTorch's
      const sd = opt.stateDict();
      for (const [idx, st] of Object.entries(c.state)) {
        const mine = sd.state[Number(idx)] ?? {};
        expect(Object.keys(mine).sort(), `${c.name} state keys of ${idx}`).toEqual(Object.keys(st).sort());
        for (const [k, v] of Object.entries(st)) {
          if (typeof v === 'number') expect(mine[k]).toBe(v);
          else expectClose(mine[k] as Tensor, v, rtol * 10, atol * 10, `${c.name} state ${idx}.${k}`);
        }
      }
    });
  }
});

interface ModelCase {
  name: string;
  optimizer: string;
  options: Record<string, unknown>;
  x: FTensor;
  y: FTensor;
  weight: FTensor;
  bias: FTensor;
  losses: number[];
  weightAfter: FTensor;
  biasAfter: FTensor;
}

describe('training a linear model with autograd matches PyTorch', () => {
  for (const c of fixture.models as ModelCase[]) {
    it(c.name, () => {
      const x = toTensor(c.x);
      const y = toTensor(c.y);
      const w = new ignis.nn.Parameter(toTensor(c.weight));
      const b = new ignis.nn.Parameter(toTensor(c.bias));
      const opt = makeOptimizer(c.optimizer, [w, b], c.options);
      const losses: number[] = [];
      for (let i = 0; i < c.losses.length; i++) {
        opt.zeroGrad();
        const loss = x.matmul(w.t()).add(b).sub(y).pow(2).mean();
        loss.backward();
        losses.push(Number(loss.item()));
        opt.step();
      }
      expectClose(losses, c.losses, 1e-10, 1e-12, `${c.name} losses`);
      expectClose(w, c.weightAfter, 1e-10, 1e-12, `${c.name} weight`);
      expectClose(b, c.biasAfter, 1e-10, 1e-12, `${c.name} bias`);
    });
  }
});

describe('step mechanics', () => {
  it('step(closure) evaluates the closure with grad enabled and returns its loss', () => {
    const w = ignis.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 0.1 });
    const loss = ignis.noGrad(() =>
      opt.step(() => {
        opt.zeroGrad();
        const l = w.mul(w).sum();
        l.backward();
        return l;
      }),
    );
    expect(Number(loss!.item())).toBe(14);
    expectClose(w, [0.8, 1.6, 2.4], 1e-15, 1e-15);
  });

  it('does not record autograd and skips parameters without gradients', () => {
    const a = ignis.tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const b = ignis.tensor([3, 4], { dtype: 'float32', requiresGrad: true });
    const opt = new optim.Adam([a, b], { lr: 0.1 });
    a.grad = ignis.tensor([1, 1], { dtype: 'float32' });
    opt.step();
    expect(a.gradFn).toBeNull();
    expect(a.isLeaf).toBe(true);
    expect(b.toArray()).toEqual([3, 4]);
    expect(opt.state.has(b)).toBe(false);
    expect(b.version).toBe(0);
    expect(a.version).toBe(1);
  });

  it('mixes float32 and float64 parameters in one group', () => {
    const a = ignis.tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const b = ignis.tensor([3, 4], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([a, b], { lr: 0.5 });
    a.grad = ignis.tensor([1, 2], { dtype: 'float32' });
    b.grad = ignis.tensor([2, 2], { dtype: 'float64' });
    opt.step();
    expect(a.toArray()).toEqual([0.5, 1]);
    expect(b.toArray()).toEqual([2, 3]);
  });

  it('updates a non-contiguous parameter view in place', () => {
    const base = ignis.tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    const p = base.t();
    p.requiresGrad = true;
    const opt = new optim.SGD([p], { lr: 1 });
    p.grad = ignis.ones([2, 2], { dtype: 'float64' });
    opt.step();
    expect(base.toArray()).toEqual([[0, 1], [2, 3]]);
  });

  it('zeroGrad sets gradients to null by default, or to zeros', () => {
    const w = ignis.tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 0.1 });
    w.grad = ignis.tensor([5, 6], { dtype: 'float32' });
    opt.zeroGrad({ setToNone: false });
    expect(w.grad!.toArray()).toEqual([0, 0]);
    opt.zeroGrad();
    expect(w.grad).toBeNull();
  });

  it('a large parameter set is updated in one native call per group (1M float32, several threads)', () => {
    const n = 1 << 20;
    const p = ignis.zeros([n], { dtype: 'float32', requiresGrad: true });
    const q = ignis.zeros([1000], { dtype: 'float32', requiresGrad: true });
    p.grad = ignis.ones([n], { dtype: 'float32' });
    q.grad = ignis.ones([1000], { dtype: 'float32' });
    const opt = new optim.Adam([p, q], { lr: 0.01 });
    opt.step();
    // first Adam step moves every element by -lr (m̂ / sqrt(v̂) = 1)
    const v = p.dataSync() as Float32Array;
    expect(Math.abs(v[0] + 0.01)).toBeLessThan(1e-6);
    expect(Math.abs(v[n - 1] + 0.01)).toBeLessThan(1e-6);
    expect(v.every((x) => Math.abs(x + 0.01) < 1e-6)).toBe(true);
  });
});

describe('param groups', () => {
  it('per-group options override the defaults; addParamGroup appends', () => {
    const a = ignis.zeros([2], { requiresGrad: true });
    const b = ignis.zeros([2], { requiresGrad: true });
    const c = ignis.zeros([2], { requiresGrad: true });
    const opt = new optim.SGD([{ params: a, lr: 0.1 }, { params: [b] }], { lr: 0.01, momentum: 0.9 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.01]);
    expect(opt.paramGroups[0].momentum).toBe(0.9);
    opt.addParamGroup({ params: [c], lr: 1, momentum: 0 });
    expect(opt.paramGroups.length).toBe(3);
    for (const t of [a, b, c]) t.grad = ignis.ones([2]);
    opt.step();
    expect(a.toArray()).toEqual([-0.1, -0.1].map(Math.fround));
    expect(b.toArray()).toEqual([-0.01, -0.01].map(Math.fround));
    expect(c.toArray()).toEqual([-1, -1]);
    expect(() => opt.addParamGroup({ params: [a] })).toThrow(/more than one parameter group/);
  });
});
