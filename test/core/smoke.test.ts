import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';

describe('smoke', () => {
  it('builds a graph and backpropagates', () => {
    const x = ignis.tensor([[1, 2, 3], [4, 5, 6]], { dtype: "float32", requiresGrad: true });
    x.mul(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([[2, 4, 6], [8, 10, 12]]);
  });
});
