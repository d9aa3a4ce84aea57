/** Tensor creation, random numbers, views, readback, printing and dtype conversion. */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';

const mean = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
};
const std = (a: ArrayLike<number>) => {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - m) ** 2;
  return Math.sqrt(s / a.length);
};

describe('creation from data', () => {
  it('infers dtype like PyTorch: ints -> int64, floats -> float32, booleans -> bool', () => {
    const i = ignis.tensor([[1, 2], [3, 4]]);
    expect(i.dtype).toBe('int64');
    expect(i.shape).toEqual([2, 2]);
    expect(i.toArray()).toEqual([[1, 2], [3, 4]]);
    const f = ignis.tensor([1, 2.5]);
    expect(f.dtype).toBe('float32');
    expect(f.toArray()).toEqual([1, 2.5]);
    const b = ignis.tensor([true, false]);
    expect(b.dtype).toBe('bool');
    expect(b.toArray()).toEqual([true, false]);
    expect(ignis.tensor([true, 2]).dtype).toBe('int64');
    expect(ignis.tensor(3.5).shape).toEqual([]);
    expect(ignis.tensor(3.5).item()).toBe(3.5);
    expect(ignis.tensor([]).dtype).toBe('float32');
    expect(ignis.tensor([]).shape).toEqual([0]);
  });

  it('explicit dtype wins', () => {
    const t = ignis.tensor([1, 2], { dtype: 'float64' });
    expect(t.dtype).toBe('float64');
    expect(ignis.tensor([1.7, -1.7], { dtype: 'int32' }).toArray()).toEqual([1, -1]);
    expect(ignis.tensor([0, 2], { dtype: 'bool' }).toArray()).toEqual([false, true]);
  });

  it('typed arrays keep their dtype and can be reshaped by the shape option', () => {
    expect(ignis.tensor(new Float32Array([1, 2])).dtype).toBe('float32');
    expect(ignis.tensor(new Float64Array([1, 2])).dtype).toBe('float64');
    expect(ignis.tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(ignis.tensor(new BigInt64Array([1n, 2n])).dtype).toBe('int64');
    expect(ignis.tensor(new Uint8Array([1, 0])).dtype).toBe('bool');
    const t = ignis.tensor(new Float64Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    // the shape option applies to (nested) arrays as well, and must match the element count
    expect(ignis.tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2] }).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(ignis.tensor([[1, 2], [3, 4]], { shape: [4] }).toArray()).toEqual([1, 2, 3, 4]);
    expect(() => ignis.tensor([1, 2, 3], { shape: [2, 2] })).toThrow(ignis.ShapeError);
    expect(() => ignis.tensor(new Float32Array(3), { shape: [2, 2] })).toThrow(/does not match 3 elements/);
    // a typed array that is a view into a larger buffer
    const buf = new Float32Array([9, 1, 2, 3, 9]);
    expect(ignis.tensor(buf.subarray(1, 4)).toArray()).toEqual([1, 2, 3]);
    // the tensor copies: later writes to the source do not show
    const src = new Float32Array([1, 2]);
    const c = ignis.tensor(src);
    src[0] = 100;
    expect(c.toArray()).toEqual([1, 2]);
  });

  it('tensor(tensor) copies', () => {
    const a = ignis.tensor([1, 2]);
    const b = ignis.tensor(a);
    b.add_(1);
    expect(a.toArray()).toEqual([1, 2]);
    expect(b.toArray()).toEqual([2, 3]);
  });
});

describe('creation functions', () => {
  it('zeros / ones / full / empty', () => {
    expect(ignis.zeros([2, 3]).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(ignis.zeros(2, 3).shape).toEqual([2, 3]);
    expect(ignis.zeros([2]).dtype).toBe('float32');
    expect(ignis.ones([2], { dtype: 'int32' }).toArray()).toEqual([1, 1]);
    expect(ignis.ones(3, { dtype: 'float64' }).dtype).toBe('float64');
    expect(ignis.full([2], 7).toArray()).toEqual([7, 7]);
    expect(ignis.full([2], 7).dtype).toBe('int64');
    expect(ignis.full([2], 0.5).dtype).toBe('float32');
    expect(ignis.full([2], true).dtype).toBe('bool');
    const e = ignis.empty([4, 5], { dtype: 'float64' });
    expect(e.shape).toEqual([4, 5]);
    expect(e.dtype).toBe('float64');
    expect(ignis.zeros([0, 3]).numel).toBe(0);
    expect(ignis.zeros([]).shape).toEqual([]);
    expect(ignis.zeros([]).item()).toBe(0);
  });

  it('*Like variants copy shape and dtype, options override', () => {
    const x = ignis.ones([2, 3], { dtype: 'float64' });
    for (const t of [ignis.zerosLike(x), ignis.onesLike(x), ignis.emptyLike(x), ignis.fullLike(x, 4), ignis.randLike(x), ignis.randnLike(x)]) {
      expect(t.shape).toEqual([2, 3]);
      expect(t.dtype).toBe('float64');
    }
    expect(ignis.zerosLike(x).sum().item()).toBe(0);
    expect(ignis.onesLike(x).sum().item()).toBe(6);
    expect(ignis.fullLike(x, 4).sum().item()).toBe(24);
    expect(ignis.zerosLike(x, { dtype: 'int32' }).dtype).toBe('int32');
  });

  it('arange / linspace / eye', () => {
    expect(ignis.arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(ignis.arange(5).dtype).toBe('int64');
    expect(ignis.arange(1, 7, 2).toArray()).toEqual([1, 3, 5]);
    expect(ignis.arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    const fa = ignis.arange(0, 1, 0.25);
    expect(fa.dtype).toBe('float32');
    expect(fa.toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(ignis.arange(3, { dtype: 'float64' }).dtype).toBe('float64');
    expect(ignis.linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(ignis.linspace(2, 2, 1).toArray()).toEqual([2]);
    expect(ignis.linspace(0, 1, 0).numel).toBe(0);
    expect(ignis.eye(3).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  });

  it('rand / randn / randint / normal_ / uniform_ / bernoulli shapes, dtypes and ranges', () => {
    const r = ignis.rand([1000]);
    expect(r.dtype).toBe('float32');
    const rv = r.dataSync() as Float32Array;
    expect(Math.min(...rv)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...rv)).toBeLessThan(1);
    expect(ignis.randn(2, 3).shape).toEqual([2, 3]);
    expect(ignis.randn([2], { dtype: 'float64' }).dtype).toBe('float64');
    const ri = ignis.randint(3, 7, [2000]);
    expect(ri.dtype).toBe('int64');
    const iv = Array.from(ri.dataSync() as BigInt64Array, Number);
    expect(Math.min(...iv)).toBe(3);
    expect(Math.max(...iv)).toBe(6);
    const ri2 = ignis.randint(4, [100]);
    expect(Math.max(...Array.from(ri2.dataSync() as BigInt64Array, Number))).toBeLessThan(4);
    const u = ignis.empty([1000]).uniform_(-2, -1);
    const uv = u.dataSync() as Float32Array;
    expect(Math.min(...uv)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...uv)).toBeLessThan(-1);
    const n = ignis.empty([20000], { dtype: 'float64' }).normal_(5, 0.5);
    expect(Math.abs(mean(n.dataSync() as Float64Array) - 5)).toBeLessThan(0.02);
    expect(Math.abs(std(n.dataSync() as Float64Array) - 0.5)).toBeLessThan(0.02);
    const bern = ignis.bernoulli([10000], 0.3);
    expect(Math.abs((bern.mean().item() as number) - 0.3)).toBeLessThan(0.03);
  });
});

describe('random reproducibility', () => {
  it('the same seed gives identical rand / randn / randint, a different seed does not', () => {
    const draw = () => [ignis.rand([64]).toArray(), ignis.randn([64]).toArray(), ignis.randint(0, 1000, [64]).toArray()];
    ignis.manualSeed(1234);
    const a = draw();
    ignis.manualSeed(1234);
    const b = draw();
    expect(b).toEqual(a);
    ignis.manualSeed(4321);
    const c = draw();
    expect(c[0]).not.toEqual(a[0]);
    expect(c[1]).not.toEqual(a[1]);
    expect(c[2]).not.toEqual(a[2]);
    // consecutive draws differ
    ignis.manualSeed(1234);
    expect(ignis.rand([64]).toArray()).not.toEqual(ignis.rand([64]).toArray());
  });

  it('a separate Generator is independent of the global seed', () => {
    const g1 = new ignis.Generator(7);
    const g2 = new ignis.Generator(7);
    ignis.manualSeed(99);
    const x = ignis.randn([16], { generator: g1 }).toArray();
    ignis.rand([100]);
    expect(ignis.randn([16], { generator: g2 }).toArray()).toEqual(x);
  });

  it('randn over 100k: mean ~ 0, std ~ 1; rand: mean ~ 0.5, var ~ 1/12', () => {
    ignis.manualSeed(0);
    const n = ignis.randn([100_000]).dataSync() as Float32Array;
    expect(Math.abs(mean(n))).toBeLessThan(0.02);
    expect(Math.abs(std(n) - 1)).toBeLessThan(0.02);
    const inOneSigma = Array.prototype.filter.call(n, (v: number) => Math.abs(v) < 1).length / n.length;
    expect(Math.abs(inOneSigma - 0.6827)).toBeLessThan(0.01);
    const u = ignis.rand([100_000]).dataSync() as Float32Array;
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(std(u) ** 2 - 1 / 12)).toBeLessThan(0.005);
  });
});

describe('views', () => {
  it('views share storage: in-place writes through a view show in the base', () => {
    const base = ignis.zeros([3, 4]);
    const row = base.select(0, 1);
    const col = base.slice(1, 2, 3);
    const tr = base.t();
    const flat = base.view([12]);
    row.fill_(1);
    col.add_(10);
    tr.select(0, 0).sub_(1); // column 0
    flat.narrow(0, 11, 1).fill_(99);
    expect(base.toArray()).toEqual([
      [-1, 0, 10, 0],
      [0, 1, 11, 1],
      [-1, 0, 10, 99],
    ]);
    expect(base.version).toBe(4);
    expect(row.version).toBe(4);
    expect(flat.version).toBe(4);
  });

  it('strides, offsets and contiguity', () => {
    const x = ignis.arange(12).reshape([3, 4]);
    expect(x.stride()).toEqual([4, 1]);
    expect(x.isContiguous()).toBe(true);
    const t = x.t();
    expect(t.stride()).toEqual([1, 4]);
    expect(t.isContiguous()).toBe(false);
    const c = t.contiguous();
    expect(c.isContiguous()).toBe(true);
    expect(c.stride()).toEqual([3, 1]);
    expect(c.toArray()).toEqual(t.toArray());
    expect(x.contiguous()).toBe(x); // already contiguous: same tensor
    const s = x.select(0, 2);
    expect(s.storageOffset).toBe(8);
    expect(s.toArray()).toEqual([8, 9, 10, 11]);
    // contiguous() copies: writes no longer reach the base
    c.fill_(0);
    expect(x.sum().item()).toBe(66);
  });

  it('expand is a stride-0 view', () => {
    const x = ignis.tensor([[1], [2]]);
    const e = x.expand([2, 3]);
    expect(e.stride()).toEqual([1, 0]);
    expect(e.toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
  });
});

describe('readback', () => {
  it('toArray / dataSync / data() / item', async () => {
    const x = ignis.tensor([[1.5, 2], [3, 4]]);
    expect(x.toArray()).toEqual([[1.5, 2], [3, 4]]);
    const d = x.dataSync();
    expect(d).toBeInstanceOf(Float32Array);
    expect(Array.from(d as Float32Array)).toEqual([1.5, 2, 3, 4]);
    const p = await x.data();
    expect(Array.from(p as Float32Array)).toEqual([1.5, 2, 3, 4]);
    expect(x.t().dataSync()).toEqual(new Float32Array([1.5, 3, 2, 4])); // row-major of the view
    expect(x.sum().item()).toBe(10.5);
    expect(ignis.tensor([true]).item()).toBe(true);
    expect(ignis.tensor([7]).item()).toBe(7);
    expect(ignis.ones([1, 1, 1]).item()).toBe(1);
  });

  it('dtypes read back as the matching typed array; int64 as BigInt64Array', () => {
    expect(ignis.zeros([2], { dtype: 'float64' }).dataSync()).toBeInstanceOf(Float64Array);
    expect(ignis.zeros([2], { dtype: 'int32' }).dataSync()).toBeInstanceOf(Int32Array);
    expect(ignis.zeros([2], { dtype: 'bool' }).dataSync()).toBeInstanceOf(Uint8Array);
    const big = ignis.tensor(new BigInt64Array([2n ** 40n, -3n]));
    const d = big.dataSync();
    expect(d).toBeInstanceOf(BigInt64Array);
    expect(Array.from(d as BigInt64Array)).toEqual([2n ** 40n, -3n]);
    expect(big.toArray()).toEqual([2 ** 40, -3]);
    // a copy: writing to it does not change the tensor
    (d as BigInt64Array)[1] = 0n;
    expect(big.toArray()).toEqual([2 ** 40, -3]);
  });
});

describe('printing', () => {
  it('prints like PyTorch with shape, dtype and device', () => {
    const s = ignis.tensor([[1, 2], [3, 4]], { dtype: 'float32' }).toString();
    expect(s).toContain('tensor(');
    expect(s).toContain('[[1., 2.],');
    expect(s).toContain('shape=[2, 2]');
    expect(s).toContain('dtype=float32');
    expect(s).toContain('device=cpu');
    expect(ignis.tensor([1, 2]).toString()).toBe('tensor([1, 2], shape=[2], dtype=int64, device=cpu)');
    expect(ignis.tensor([true, false]).toString()).toContain('[ True, False]');
    expect(ignis.tensor([0.5, 1.25]).toString()).toContain('[0.5000, 1.2500]');
    expect(ignis.tensor(3).toString()).toContain('tensor(3,');
    const g = ignis.ones([2], { requiresGrad: true });
    expect(g.toString()).toContain('requiresGrad=true');
    expect(g.mul(2).toString()).toContain('gradFn=<mulBackward>');
  });

  it('summarises with ... beyond 1000 elements', () => {
    const big = ignis.arange(2000).reshape([40, 50]);
    const s = big.toString();
    expect(s).toContain('...');
    expect(s).toContain('shape=[40, 50]');
    expect(s.length).toBeLessThan(2000);
    expect(s).toContain('1999');
    expect(s).not.toContain(' 500,');
    const small = ignis.arange(1000).toString();
    expect(small).not.toContain('...');
  });
});

describe('dtype conversion', () => {
  it('to / float / double / int / long / bool', () => {
    const x = ignis.tensor([1.7, -2.2, 0]);
    expect(x.double().dtype).toBe('float64');
    expect(x.int().toArray()).toEqual([1, -2, 0]);
    expect(x.long().dtype).toBe('int64');
    expect(x.long().toArray()).toEqual([1, -2, 0]);
    expect(x.bool().toArray()).toEqual([true, true, false]);
    expect(ignis.tensor([true, false]).float().toArray()).toEqual([1, 0]);
    expect(x.to('float32')).toBe(x); // no-op returns self
    expect(x.to({ dtype: 'float64', device: 'cpu' }).dtype).toBe('float64');
    expect(x.to('cpu')).toBe(x);
    const d = x.double();
    d.fill_(5); // a copy
    expect(x.toArray()).not.toEqual([5, 5, 5]);
  });

  it('conversion is differentiable between float dtypes', () => {
    const x = ignis.tensor([1, 2], { dtype: 'float64', requiresGrad: true });
    x.float().mul(3).sum().backward();
    expect(x.grad!.dtype).toBe('float64');
    expect(x.grad!.toArray()).toEqual([3, 3]);
  });
});

describe('in-place arithmetic and copy_ (one kernel into self when nothing is recorded)', () => {
  const arr = (t: ignis.Tensor): unknown => t.toArray();

  it('add_/sub_/mul_/div_ with tensors (broadcast) and numbers, values and version counter', () => {
    const x = ignis.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float32' });
    const v0 = x._storage.version;
    x.add_(ignis.tensor([10, 20, 30], { dtype: 'float32' }));
    expect(arr(x)).toEqual([[11, 22, 33], [14, 25, 36]]);
    x.sub_(1).mul_(2).div_(ignis.tensor([[2], [4]], { dtype: 'float32' }));
    expect(arr(x)).toEqual([[10, 21, 32], [6.5, 12, 17.5]]);
    x.add_(ignis.ones([2, 3]), { alpha: 2 });
    expect(arr(x)).toEqual([[12, 23, 34], [8.5, 14, 19.5]]);
    expect(x._storage.version).toBe(v0 + 5);
    // integer tensors keep their dtype; a float result cannot be written back (as PyTorch)
    const i = ignis.tensor([1, 2, 3], { dtype: 'int32' });
    i.mul_(3).add_(1);
    expect(arr(i)).toEqual([4, 7, 10]);
    expect(i.dtype).toBe('int32');
    expect(() => i.div_(2)).toThrow(ignis.DTypeError);
    expect(() => i.mul_(1.5)).toThrow(ignis.DTypeError);
    // another dtype (general path) and a broadcast that would grow self
    const f = ignis.tensor([1, 2], { dtype: 'float32' });
    f.add_(ignis.tensor([0.5, 0.25], { dtype: 'float64' }));
    expect(arr(f)).toEqual([1.5, 2.25]);
    expect(() => f.add_(ignis.ones([3, 2]))).toThrow(ignis.ShapeError);
  });

  it('operands that share self\'s memory give the out-of-place result', () => {
    const x = ignis.tensor([[1, 2], [3, 4]], { dtype: 'float32' });
    x.add_(x.t());
    expect(arr(x)).toEqual([[2, 5], [5, 8]]);
    const y = ignis.tensor([1, 2, 3, 4], { dtype: 'float32' });
    y.narrow(0, 1, 3).copy_(y.narrow(0, 0, 3));
    expect(arr(y)).toEqual([1, 1, 2, 3]);
  });

  it('copy_ casts and broadcasts; writes through views; records autograd when needed', () => {
    const x = ignis.zeros([2, 3]);
    x.copy_(ignis.tensor([1, 2, 3], { dtype: 'int64' }));
    expect(arr(x)).toEqual([[1, 2, 3], [1, 2, 3]]);
    x.select(0, 1).copy_(ignis.tensor([7, 8, 9], { dtype: 'float64' }));
    expect(arr(x)).toEqual([[1, 2, 3], [7, 8, 9]]);
    const w = ignis.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    const h = ignis.zeros([3], { dtype: 'float64' }).mul(1);
    h.copy_(w.mul(2));
    h.sum().backward();
    expect(arr(w.grad!)).toEqual([2, 2, 2]);
    const leaf = ignis.zeros([3], { requiresGrad: true });
    expect(() => leaf.add_(1)).toThrow(ignis.AutogradError);
    ignis.noGrad(() => leaf.add_(1).mul_(3));
    expect(arr(leaf)).toEqual([3, 3, 3]);
  });

  it('in-place ops leave no temporaries behind (1M elements, 300 iterations)', () => {
    const x = ignis.zeros([1_000_000]);
    const y = ignis.ones([1_000_000]);
    const before = ignis.memory().cpu.tensors;
    for (let i = 0; i < 100; i++) {
      x.add_(y);
      x.mul_(0.5);
      x.copy_(y);
    }
    expect(ignis.memory().cpu.tensors - before).toBeLessThan(5);
    expect(x.sum().item()).toBe(1_000_000);
  });
});
