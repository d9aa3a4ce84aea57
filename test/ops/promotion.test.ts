/**
 * PyTorch type promotion, broadcasting, and in-place cast rules.
 * Reference: https://pytorch.org/docs/stable/tensor_attributes.html#type-promotion-doc
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { DType, Tensor } from '../../src';

function T(dtype: DType, shape: number[] = [2]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => (i % 3) + 1);
  switch (dtype) {
    case 'float32': return ignis.tensor(Float32Array.from(v), { shape });
    case 'float64': return ignis.tensor(Float64Array.from(v), { shape });
    case 'int32': return ignis.tensor(Int32Array.from(v), { shape });
    case 'int64': return ignis.tensor(BigInt64Array.from(v.map(BigInt)), { shape });
    case 'bool': return ignis.tensor(Uint8Array.from(v.map((x) => x % 2)), { shape });
  }
}

describe('tensor-tensor promotion', () => {
  const table: [DType, DType, DType][] = [
    ['int64', 'float32', 'float32'],
    ['float32', 'int64', 'float32'],
    ['float32', 'float64', 'float64'],
    ['float64', 'float32', 'float64'],
    ['int32', 'int64', 'int64'],
    ['int32', 'float32', 'float32'],
    ['int64', 'float64', 'float64'],
    ['bool', 'int32', 'int32'],
    ['bool', 'int64', 'int64'],
    ['bool', 'float32', 'float32'],
    ['bool', 'float64', 'float64'],
    ['int32', 'int32', 'int32'],
    ['bool', 'bool', 'bool'],
  ];
  it.each(table)('add(%s, %s) -> %s', (a, b, r) => {
    expect(ignis.add(T(a), T(b)).dtype).toBe(r);
    expect(ignis.add(T(b), T(a)).dtype).toBe(r);
  });
  it.each(table)('mul(%s, %s) -> %s', (a, b, r) => {
    expect(ignis.mul(T(a), T(b)).dtype).toBe(r);
  });
  it.each(table.filter(([a, b]) => a !== 'bool' || b !== 'bool'))('sub(%s, %s) -> %s', (a, b, r) => {
    expect(ignis.sub(T(a), T(b)).dtype).toBe(r);
  });
  it('bool + bool is a logical or kept as bool', () => {
    const r = ignis.add(ignis.tensor([true, true, false, false]), ignis.tensor([true, false, true, false]));
    expect(r.dtype).toBe('bool');
    expect(r.toArray()).toEqual([true, true, true, false]);
  });
  it('bool * bool is bool', () => {
    const r = ignis.mul(ignis.tensor([true, true, false]), ignis.tensor([true, false, false]));
    expect(r.dtype).toBe('bool');
    expect(r.toArray()).toEqual([true, false, false]);
  });
  it('bool - bool raises DTypeError', () => {
    expect(() => ignis.sub(T('bool'), T('bool'))).toThrow(ignis.DTypeError);
  });
  it('int / int is float32 (true division)', () => {
    const r = ignis.div(ignis.tensor([7, -7, 1]), ignis.tensor([2, 2, 3]));
    expect(r.dtype).toBe('float32');
    const v = r.toArray() as number[];
    expect(v[0]).toBe(3.5);
    expect(v[1]).toBe(-3.5);
    expect(v[2]).toBeCloseTo(1 / 3, 6);
    expect(ignis.div(T('int32'), T('int32')).dtype).toBe('float32');
    expect(ignis.div(T('bool'), T('bool')).dtype).toBe('float32');
    expect(ignis.div(T('int64'), T('float64')).dtype).toBe('float64');
  });
  it('int64 + float32 values are exact', () => {
    const r = ignis.add(ignis.tensor([1, 2]), ignis.tensor([0.5, 0.25], { dtype: 'float32' }));
    expect(r.toArray()).toEqual([1.5, 2.25]);
  });
  it('pow / maximum / minimum / fmod promote', () => {
    expect(ignis.pow(T('int64'), T('int64')).dtype).toBe('int64');
    expect(ignis.pow(T('int64'), T('float32')).dtype).toBe('float32');
    expect(ignis.maximum(T('int32'), T('float64')).dtype).toBe('float64');
    expect(ignis.minimum(T('float32'), T('int64')).dtype).toBe('float32');
    expect(ignis.fmod(T('int32'), T('int64')).dtype).toBe('int64');
  });
  it('where promotes its value operands', () => {
    const c = ignis.tensor([true, false]);
    expect(ignis.where(c, T('int64'), T('float32')).dtype).toBe('float32');
    expect(ignis.where(c, T('float32'), T('float64')).dtype).toBe('float64');
    expect(ignis.where(c, T('int32'), 1.5).dtype).toBe('float32');
    expect(ignis.where(c, T('int32'), 2).dtype).toBe('int32');
  });
  it('cat promotes', () => {
    expect(ignis.cat([T('int64'), T('float32')]).dtype).toBe('float32');
    expect(ignis.cat([T('float32'), T('float64')]).dtype).toBe('float64');
  });
});

describe('zero-dim tensors take part like scalars within a category', () => {
  const z = (d: DType): Tensor => T(d, []);
  it('a 0-d tensor of the same category does not widen a dimensioned one', () => {
    expect(ignis.add(T('float32'), z('float64')).dtype).toBe('float32');
    expect(ignis.add(z('float64'), T('float32')).dtype).toBe('float32');
    expect(ignis.mul(T('int32'), z('int64')).dtype).toBe('int32');
  });
  it('a 0-d tensor of a higher category decides the dtype', () => {
    expect(ignis.add(T('int32'), z('float64')).dtype).toBe('float64');
    expect(ignis.add(T('bool'), z('int64')).dtype).toBe('int64');
    expect(ignis.add(T('int64'), z('float32')).dtype).toBe('float32');
  });
  it('where follows the same rule', () => {
    const c = ignis.tensor([true, false]);
    expect(ignis.where(c, T('float32'), z('float64')).dtype).toBe('float32');
    expect(ignis.where(c, T('int64'), z('float32')).dtype).toBe('float32');
  });
  it('two 0-d tensors promote normally', () => {
    expect(ignis.add(z('float32'), z('float64')).dtype).toBe('float64');
    expect(ignis.add(z('int32'), z('int64')).dtype).toBe('int64');
  });
});

describe('tensor-scalar promotion', () => {
  it('int tensor + float scalar -> float32', () => {
    const r = ignis.add(ignis.tensor([1, 2]), 2.5);
    expect(r.dtype).toBe('float32');
    expect(r.toArray()).toEqual([3.5, 4.5]);
    expect(ignis.mul(T('int32'), 0.5).dtype).toBe('float32');
    expect(ignis.add(T('int64'), 2.5).dtype).toBe('float32');
  });
  it('int tensor + int scalar keeps the tensor dtype', () => {
    const r = ignis.add(ignis.tensor([1, 2]), 2);
    expect(r.dtype).toBe('int64');
    expect(r.toArray()).toEqual([3, 4]);
    expect(ignis.add(T('int32'), 2).dtype).toBe('int32');
    expect(ignis.mul(3, T('int32')).dtype).toBe('int32');
  });
  it('a scalar never widens a float tensor', () => {
    expect(ignis.add(T('float32'), 2.5).dtype).toBe('float32');
    expect(ignis.add(T('float32'), 2).dtype).toBe('float32');
    expect(ignis.mul(1e10, T('float32')).dtype).toBe('float32');
    expect(ignis.add(T('float64'), 2.5).dtype).toBe('float64');
  });
  it('bool tensor with scalars', () => {
    expect(ignis.add(T('bool'), 2).dtype).toBe('int64');
    expect(ignis.add(T('bool'), 2.5).dtype).toBe('float32');
    expect(ignis.add(T('bool'), true as unknown as number).dtype).toBe('bool');
  });
  it('int tensor / int scalar -> float32', () => {
    const r = ignis.div(ignis.tensor([3, 4]), 2);
    expect(r.dtype).toBe('float32');
    expect(r.toArray()).toEqual([1.5, 2]);
    expect(ignis.div(6, ignis.tensor([4])).toArray()).toEqual([1.5]);
  });
  it('scalar first operand', () => {
    expect(ignis.sub(1, T('int32')).dtype).toBe('int32');
    expect(ignis.sub(1.5, T('int32')).dtype).toBe('float32');
    expect(ignis.pow(2, T('int64')).dtype).toBe('int64');
    expect(ignis.pow(2.5, T('int64')).dtype).toBe('float32');
  });
});

describe('comparisons and logical ops give bool', () => {
  const ops = ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
  it.each(ops)('%s', (op) => {
    expect(ignis[op](T('float32'), T('float64')).dtype).toBe('bool');
    expect(ignis[op](T('int64'), T('float32')).dtype).toBe('bool');
    expect(ignis[op](T('int32'), 1.5).dtype).toBe('bool');
    expect(ignis[op](T('bool'), T('bool')).dtype).toBe('bool');
    expect(T('int64')[op](2).dtype).toBe('bool');
  });
  it('mixed int/float comparison compares values, not truncated ones', () => {
    expect(ignis.lt(ignis.tensor([1, 2]), 1.5).toArray()).toEqual([true, false]);
    expect(ignis.eq(ignis.tensor([1, 2]), ignis.tensor([1, 2.5], { dtype: 'float32' })).toArray()).toEqual([true, false]);
  });
  it('logical ops', () => {
    expect(ignis.logicalAnd(T('float32'), T('int64')).dtype).toBe('bool');
    expect(ignis.logicalOr(T('int32'), T('bool')).dtype).toBe('bool');
    expect(ignis.logicalXor(T('float64'), 0).dtype).toBe('bool');
    expect(ignis.logicalNot(T('float32')).dtype).toBe('bool');
  });
});

describe('unary and reduction result dtypes', () => {
  it('float unary ops on integer tensors give float32', () => {
    for (const f of [ignis.exp, ignis.log, ignis.sqrt, ignis.sin, ignis.tanh, ignis.sigmoid])
      expect(f(T('int64')).dtype).toBe('float32');
  });
  it('neg / abs keep integer dtypes', () => {
    expect(ignis.neg(T('int32')).dtype).toBe('int32');
    expect(ignis.abs(T('int64')).dtype).toBe('int64');
  });
  it('sum / prod of integers and bools are int64', () => {
    expect(ignis.sum(T('int32')).dtype).toBe('int64');
    expect(ignis.sum(T('bool')).dtype).toBe('int64');
    expect(ignis.prod(T('int32')).dtype).toBe('int64');
    expect(ignis.sum(T('float32')).dtype).toBe('float32');
  });
  it('mean of integers raises', () => {
    expect(() => ignis.mean(T('int64'))).toThrow(ignis.DTypeError);
  });
});

describe('broadcasting shapes', () => {
  const cases: [number[], number[], number[]][] = [
    [[2, 3], [2, 3], [2, 3]],
    [[2, 3], [3], [2, 3]],
    [[2, 1, 4], [3, 1], [2, 3, 4]],
    [[], [3], [3]],
    [[3], [], [3]],
    [[], [], []],
    [[1], [2, 3], [2, 3]],
    [[5, 1, 1], [1, 4, 1], [5, 4, 1]],
    [[0, 3], [1, 3], [0, 3]],
    [[2, 1], [1, 0], [2, 0]],
    [[1, 1, 1, 2], [3, 1], [1, 1, 3, 2]],
  ];
  it.each(cases)('[%s] + [%s] -> [%s]', (a, b, r) => {
    expect([...ignis.add(ignis.zeros(a), ignis.ones(b)).shape]).toEqual(r);
    expect([...ignis.mul(ignis.zeros(b), ignis.ones(a)).shape]).toEqual(r);
    expect([...ignis.lt(ignis.zeros(a), ignis.ones(b)).shape]).toEqual(r);
    expect([...ignis.where(ignis.zeros(a).eq(0), ignis.ones(b), 2).shape]).toEqual(r);
  });
  it('broadcast values', () => {
    const a = ignis.tensor([[1], [2]]);
    const b = ignis.tensor([10, 20, 30]);
    expect(ignis.add(a, b).toArray()).toEqual([[11, 21, 31], [12, 22, 32]]);
  });
  const bad: [number[], number[]][] = [
    [[2, 3], [2]],
    [[2, 3], [3, 2]],
    [[4, 2, 3], [3, 3]],
    [[0], [2]],
  ];
  it.each(bad)('[%s] and [%s] are not broadcastable', (a, b) => {
    expect(() => ignis.add(ignis.zeros(a), ignis.zeros(b))).toThrow(ignis.ShapeError);
  });
  it('in-place results must keep self shape', () => {
    expect(() => ignis.zeros([3]).add_(ignis.ones([2, 3]))).toThrow(ignis.ShapeError);
    const r = ignis.zeros([2, 3]).add_(ignis.ones([3]));
    expect([...r.shape]).toEqual([2, 3]);
  });
});

describe('in-place casting rules', () => {
  it('int tensor .add_(1.5) raises DTypeError', () => {
    const x = ignis.tensor([1, 2, 3]);
    expect(() => x.add_(1.5)).toThrow(ignis.DTypeError);
    expect(x.toArray()).toEqual([1, 2, 3]); // unchanged
  });
  it('int tensor in-place with a float tensor raises', () => {
    expect(() => T('int64').add_(T('float32'))).toThrow(ignis.DTypeError);
    expect(() => T('int32').mul_(T('float64'))).toThrow(ignis.DTypeError);
  });
  it('int tensor .div_ raises (true division gives float)', () => {
    expect(() => T('int64').div_(2)).toThrow(ignis.DTypeError);
  });
  it('bool tensor in-place arithmetic with ints raises', () => {
    expect(() => T('bool').add_(1)).toThrow(ignis.DTypeError);
    expect(() => T('bool').add_(T('int64'))).toThrow(ignis.DTypeError);
  });
  it('int tensor .add_(int) and .mul_(int) keep the dtype', () => {
    const x = ignis.tensor([1, 2, 3]);
    x.add_(2).mul_(3);
    expect(x.dtype).toBe('int64');
    expect(x.toArray()).toEqual([9, 12, 15]);
    const y = T('int32');
    y.add_(T('int64'));
    expect(y.dtype).toBe('int32');
  });
  it('float32 in-place with float64 / int operands keeps float32', () => {
    const x = ignis.tensor([1, 2], { dtype: 'float32' });
    x.add_(ignis.tensor([0.5, 0.5], { dtype: 'float64' }));
    x.mul_(ignis.tensor([2, 2]));
    expect(x.dtype).toBe('float32');
    expect(x.toArray()).toEqual([3, 5]);
  });
  it('bool tensor in-place with bool operand stays bool', () => {
    const x = ignis.tensor([true, false]);
    x.mul_(ignis.tensor([true, true]));
    expect(x.dtype).toBe('bool');
    expect(x.toArray()).toEqual([true, false]);
  });
  it('int fill_ with a fractional value raises; maskedFill likewise', () => {
    expect(() => T('int64').fill_(0.5)).toThrow(ignis.DTypeError);
    expect(() => T('int64').maskedFill(T('bool'), 0.5)).toThrow(ignis.DTypeError);
  });
  it('copy_ casts any dtype into self', () => {
    const x = T('int32');
    x.copy_(ignis.tensor([1.7, -2.7], { dtype: 'float64' }));
    expect(x.dtype).toBe('int32');
    expect(x.toArray()).toEqual([1, -2]);
  });
});
