/** nn.utils: clipGradNorm_ (vs PyTorch), clipGradValue_, vector conversion, penalties, pruning. */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { nn, optim, ValueError } from '../../src';
import type { Tensor } from '../../src';
import { fixture, tol } from '../optim/helpers';
import { decode, expectClose, FTensor, toTensor, values } from '../util/fixtures';

const { prune } = nn.utils;

class TinyLinear extends nn.Module {
  weight: Tensor;
  bias: Tensor;
  constructor(inF: number, outF: number) {
    super();
    this.weight = new nn.Parameter(ignis.randn([outF, inF], { dtype: 'float64' }));
    this.bias = new nn.Parameter(ignis.randn([outF], { dtype: 'float64' }));
  }
  forward(x: Tensor): Tensor {
    return x.matmul(this.weight.t()).add(this.bias);
  }
}
class TinyNet extends nn.Module {
  fc1 = new TinyLinear(6, 8);
  fc2 = new TinyLinear(8, 3);
  forward(x: Tensor): Tensor {
    return this.fc2.call(this.fc1.call(x).tanh());
  }
}

interface ClipCase {
  name: string;
  dtype: 'float32' | 'float64';
  maxNorm: number;
  normType: number | string;
  grads: FTensor[];
  totalNorm: number;
  clipped: FTensor[];
}

describe('clipGradNorm_ matches PyTorch', () => {
  for (const c of fixture.clip as ClipCase[]) {
    it(c.name, () => {
      const ps = c.grads.map((g) => {
        const p = ignis.zeros(g.shape, { dtype: c.dtype, requiresGrad: true });
        p.grad = toTensor(g);
        return p;
      });
      const total = nn.utils.clipGradNorm_(ps, c.maxNorm, decode(c.normType));
      expect(total.ndim).toBe(0);
      const [rtol, atol] = tol(c.dtype);
      expectClose([Number(total.item())], [c.totalNorm], rtol * 5, atol, `${c.name} total`);
      ps.forEach((p, i) => expectClose(p.grad!, c.clipped[i], rtol * 5, atol, `${c.name} grad ${i}`));
    });
  }

  it('accepts a Module, skips parameters without grad, returns 0 with none', () => {
    const net = new TinyNet();
    expect(Number(nn.utils.clipGradNorm_(net, 1).item())).toBe(0);
    net.fc1.weight.grad = ignis.full([8, 6], 1, { dtype: 'float64' });
    const total = nn.utils.clipGradNorm_(net, 1);
    expect(Number(total.item())).toBeCloseTo(Math.sqrt(48), 12);
    expect(Number(net.fc1.weight.grad.norm().item())).toBeCloseTo(1, 5);
  });

  it('errorIfNonfinite throws ValueError on an infinite norm', () => {
    const p = ignis.zeros([2], { requiresGrad: true });
    p.grad = ignis.tensor([Infinity, 1]);
    expect(() => nn.utils.clipGradNorm_([p], 1, 2, { errorIfNonfinite: true })).toThrow(ValueError);
    expect(() => nn.utils.clipGradNorm_([p], 1, 2)).not.toThrow();
  });
});

describe('clipGradValue_, vector conversion, penalties', () => {
  it('clipGradValue_ clamps every gradient', () => {
    const p = ignis.zeros([4], { requiresGrad: true });
    p.grad = ignis.tensor([-3, -0.5, 0.5, 3]);
    nn.utils.clipGradValue_([p], 1);
    expect(p.grad.toArray()).toEqual([-1, -0.5, 0.5, 1]);
  });

  it('parametersToVector / vectorToParameters round trip', () => {
    const net = new TinyNet();
    const v = nn.utils.parametersToVector(net.parameters());
    expect(v.shape).toEqual([6 * 8 + 8 + 8 * 3 + 3]);
    expect(values(v).slice(0, 48)).toEqual(values(net.fc1.weight));
    const doubled = v.mul(2);
    const before = net.fc2.bias.version;
    nn.utils.vectorToParameters(doubled, net.parameters());
    expect(values(nn.utils.parametersToVector(net))).toEqual(values(doubled));
    expect(net.fc2.bias.version).toBeGreaterThan(before);
    expect(net.fc2.bias.isLeaf).toBe(true);
    expect(() => nn.utils.vectorToParameters(v.narrow(0, 0, 5), net.parameters())).toThrow(ignis.ShapeError);
  });

  it('l1Penalty / l2Penalty are differentiable scalars', () => {
    const a = ignis.tensor([1, -2], { dtype: 'float64', requiresGrad: true });
    const b = ignis.tensor([[3]], { dtype: 'float64', requiresGrad: true });
    const l1 = nn.utils.l1Penalty([a, b]);
    expect(Number(l1.item())).toBe(6);
    l1.backward();
    expect(a.grad!.toArray()).toEqual([1, -1]);
    a.grad = null;
    const l2 = nn.utils.l2Penalty([a, b]);
    expect(Number(l2.item())).toBe(14);
    l2.backward();
    expect(a.grad!.toArray()).toEqual([2, -4]);
  });
});

describe('pruning', () => {
  it('l1Unstructured keeps the largest |w|, moves the Parameter to weight_orig and adds weight_mask', () => {
    ignis.manualSeed(0);
    const m = new TinyLinear(4, 3);
    const w = m.weight;
    const wv = values(w);
    prune.l1Unstructured(m, 'weight', 0.5);
    const r = m as unknown as Record<string, Tensor>;
    expect(r.weight_orig).toBe(w); // same Parameter object
    const mask = values(r.weight_mask);
    expect(mask.filter((x) => x === 0).length).toBe(6);
    const sorted = wv.map(Math.abs).sort((x, y) => x - y);
    wv.forEach((x, i) => expect(mask[i]).toBe(Math.abs(x) <= sorted[5] ? 0 : 1));
    expect(values(r.weight)).toEqual(wv.map((x, i) => x * mask[i]));
    const names = m.parameters().length;
    expect(names).toBe(2);
    expect(Object.keys(m.stateDict()).sort()).toEqual(['bias', 'weight_mask', 'weight_orig']);
    expect(prune.isPruned(m)).toBe(true);
  });

  it('amount as a count, Python rounding of fractions, and bad amounts', () => {
    const m = new TinyLinear(5, 1);
    prune.l1Unstructured(m, 'weight', 2);
    expect(values((m as any).weight_mask).filter((x) => x === 0).length).toBe(2);
    const m2 = new TinyLinear(5, 1);
    prune.l1Unstructured(m2, 'weight', 0.5); // round(2.5) = 2 in Python
    expect(values((m2 as any).weight_mask).filter((x) => x === 0).length).toBe(2);
    expect(() => prune.l1Unstructured(new TinyLinear(5, 1), 'weight', 6)).toThrow(ValueError);
    expect(() => prune.l1Unstructured(new TinyLinear(5, 1), 'weight', -0.5)).toThrow(ValueError);
    expect(() => prune.l1Unstructured(new TinyLinear(5, 1), 'nope', 0.5)).toThrow(/no parameter/);
  });

  it('iterative pruning prunes among the remaining entries', () => {
    const m = new TinyLinear(10, 1);
    prune.l1Unstructured(m, 'weight', 0.5);
    prune.l1Unstructured(m, 'weight', 0.4); // 40 % of the 5 remaining = 2
    expect(values((m as any).weight_mask).filter((x) => x === 0).length).toBe(7);
    expect(prune.pruningHistory(m).weight).toEqual(['l1Unstructured', 'l1Unstructured']);
  });

  it('randomUnstructured prunes the requested number', () => {
    ignis.manualSeed(3);
    const m = new TinyLinear(10, 4);
    prune.randomUnstructured(m, 'weight', 0.25);
    expect(values((m as any).weight_mask).filter((x) => x === 0).length).toBe(10);
  });

  it('lnStructured prunes whole channels by L_n norm', () => {
    const m = new TinyLinear(3, 4); // weight [4, 3]: rows are output channels
    ignis.noGrad(() =>
      m.weight.copy_(ignis.tensor([[1, 1, 1], [0.1, 0.2, 0.1], [5, 0, 0], [0.5, 0.5, 0.5]], { dtype: 'float64' })),
    );
    prune.lnStructured(m, 'weight', 0.5, 2, 0); // prune 2 of 4 rows: norms 1.73, 0.24, 5, 0.87
    expect((m as any).weight_mask.toArray()).toEqual([[1, 1, 1], [0, 0, 0], [1, 1, 1], [0, 0, 0]]);
    const m1 = new TinyLinear(3, 4);
    ignis.noGrad(() => m1.weight.copy_(ignis.tensor([[1, 1, 1], [0.1, 0.2, 0.1], [5, 0, 0], [0.5, 0.5, 0.5]], { dtype: 'float64' })));
    prune.lnStructured(m1, 'weight', 1, 1, 1); // one column by L1 norm: 6.6, 1.7, 1.6 -> column 2
    expect((m1 as any).weight_mask.toArray()).toEqual([[1, 1, 0], [1, 1, 0], [1, 1, 0], [1, 1, 0]]);
    prune.lnStructured(m1, 'weight', 1, Infinity, 1); // among columns 0, 1 by max: 5, 1 -> column 1
    expect((m1 as any).weight_mask.toArray()).toEqual([[1, 0, 0], [1, 0, 0], [1, 0, 0], [1, 0, 0]]);
  });

  it('globalUnstructured prunes the smallest entries across parameters', () => {
    const net = new TinyNet();
    ignis.noGrad(() => {
      net.fc1.weight.fill_(100);
      net.fc2.weight.copy_(ignis.arange(24, { dtype: 'float64' }).reshape([3, 8]));
    });
    prune.globalUnstructured([[net.fc1, 'weight'], [net.fc2, 'weight']], 'l1Unstructured', 20);
    expect(values((net.fc1 as any).weight_mask).every((x) => x === 1)).toBe(true);
    expect(values((net.fc2 as any).weight_mask)).toEqual(Array.from({ length: 24 }, (_, i) => (i < 20 ? 0 : 1)));
    const rep = prune.sparsityReport(net);
    const row = rep.rows.find((r) => r.name === 'fc2.weight')!;
    expect(row).toMatchObject({ pruned: true, numel: 24, zeros: 20 });
    expect(rep.rows.find((r) => r.name === 'fc1.weight')!.zeros).toBe(0);
    expect(rep.total.numel).toBe(net.parameters().reduce((n, p) => n + p.numel, 0));
    expect(rep.toString()).toMatch(/fc2\.weight \*\s+24\s+20\s+83\.33%/);
  });

  it('masks persist through training: pruned gradients are zero and pruned weights stay zero', () => {
    ignis.manualSeed(1);
    const net = new TinyNet();
    prune.l1Unstructured(net.fc1, 'weight', 0.6);
    prune.lnStructured(net.fc2, 'weight', 1, 2, 0);
    const opt = new optim.Adam(net.parameters(), { lr: 0.05, weightDecay: 0.01 });
    const x = ignis.randn([16, 6], { dtype: 'float64' });
    const y = ignis.randn([16, 3], { dtype: 'float64' });
    const mask1 = values((net.fc1 as any).weight_mask);
    const mask2 = values((net.fc2 as any).weight_mask);
    let first = 0;
    let last = 0;
    for (let i = 0; i < 10; i++) {
      opt.zeroGrad();
      const loss = net.call(x).sub(y).pow(2).mean();
      loss.backward();
      if (i === 0) first = Number(loss.item());
      last = Number(loss.item());
      const g1 = values((net.fc1 as any).weight_orig.grad);
      mask1.forEach((mk, j) => mk === 0 && expect(g1[j] === 0).toBe(true));
      const g2 = values((net.fc2 as any).weight_orig.grad);
      mask2.forEach((mk, j) => mk === 0 && expect(g2[j] === 0).toBe(true));
      opt.step();
    }
    expect(last).toBeLessThan(first);
    net.call(x); // the pre-hook recomputes the effective weights
    const w1 = values((net.fc1 as any).weight);
    mask1.forEach((mk, j) => mk === 0 && expect(w1[j] === 0).toBe(true));
    expect(prune.sparsityReport(net).rows.find((r) => r.name === 'fc1.weight')!.sparsity).toBeCloseTo(29 / 48, 10); // round(0.6 · 48) = 29
  });

  it('lnStructured on nn.Conv2d output channels: pruned channels output only their bias; SGD keeps them pruned', () => {
    ignis.manualSeed(5);
    const conv = new nn.Conv2d(3, 6, 3);
    prune.lnStructured(conv, 'weight', 0.5, 2, 0);
    const mask = (conv as any).weight_mask as Tensor;
    expect(mask.shape).toEqual([6, 3, 3, 3]);
    const perChannel = values(mask.sum([1, 2, 3]));
    expect(perChannel.filter((v) => v === 0).length).toBe(3);
    expect(perChannel.filter((v) => v === 27).length).toBe(3);
    const opt = new optim.SGD(conv.parameters(), { lr: 0.1, momentum: 0.9 });
    const x = ignis.randn([2, 3, 8, 8]);
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      conv.call(x).pow(2).mean().backward();
      opt.step();
    }
    const y = conv.call(x) as Tensor;
    const bias = values(conv.bias as Tensor);
    perChannel.forEach((v, c) => {
      if (v !== 0) return;
      const ch = values(y.select(1, c));
      expect(ch.every((e) => Math.abs(e - bias[c]) < 1e-6)).toBe(true);
    });
  });

  it('remove makes the pruning permanent and keeps the Parameter object', () => {
    const m = new TinyLinear(4, 2);
    const w = m.weight;
    prune.l1Unstructured(m, 'weight', 0.5);
    const mask = values((m as any).weight_mask);
    prune.remove(m, 'weight');
    expect(m.weight).toBe(w);
    expect(m.weight).toBeInstanceOf(nn.Parameter);
    expect((m as any).weight_orig).toBeUndefined();
    expect((m as any).weight_mask).toBeUndefined();
    expect(Object.keys(m.stateDict()).sort()).toEqual(['bias', 'weight']);
    expect(prune.isPruned(m)).toBe(false);
    values(m.weight).forEach((v, i) => mask[i] === 0 && expect(v === 0).toBe(true));
    // no hook left: changing the weight sticks through forward
    ignis.noGrad(() => m.weight.fill_(1));
    m.call(ignis.ones([1, 4], { dtype: 'float64' }));
    expect(values(m.weight).every((v) => v === 1)).toBe(true);
    expect(() => prune.remove(m, 'weight')).toThrow(/has to be pruned/);
  });
});
