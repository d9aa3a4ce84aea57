/** Autograd semantics, checked against PyTorch's behaviour. */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';

const f64 = (data: number[] | number[][], requiresGrad = false) => ignis.tensor(data, { dtype: 'float64', requiresGrad });
const arr = (t: Tensor | null) => t!.toArray();
type FnCtx = { saveForBackward(...t: Tensor[]): void; readonly savedTensors: Tensor[] };
const close = (a: unknown, b: unknown, tol = 1e-9) => {
  const fa = [a].flat(Infinity) as number[];
  const fb = [b].flat(Infinity) as number[];
  expect(fa.length).toBe(fb.length);
  fa.forEach((v, i) => expect(Math.abs(v - fb[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(fb[i]))));
};

describe('leaves and graph', () => {
  it('isLeaf, requiresGrad, gradFn', () => {
    const x = f64([1, 2], true);
    const c = f64([3, 4]);
    const y = x.mul(c);
    expect(x.isLeaf).toBe(true);
    expect(c.isLeaf).toBe(true);
    expect(y.isLeaf).toBe(false);
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn!.name).toBe('mul');
    expect(c.mul(2).isLeaf).toBe(true); // nothing requires grad: no graph
    expect(c.mul(2).requiresGrad).toBe(false);
    y.sum().backward();
    expect(arr(x.grad)).toEqual([3, 4]);
    expect(c.grad).toBeNull();
    expect(y.grad).toBeNull(); // non-leaf: not retained
  });

  it('gradients accumulate over two backward calls, zero_ resets', () => {
    const x = f64([1, 2, 3], true);
    x.mul(x).sum().backward();
    x.mul(x).sum().backward();
    expect(arr(x.grad)).toEqual([4, 8, 12]);
    x.grad!.zero_();
    x.mul(3).sum().backward();
    expect(arr(x.grad)).toEqual([3, 3, 3]);
  });

  it('retainGrad keeps a non-leaf gradient', () => {
    const x = f64([1, 2], true);
    const h = x.mul(2);
    h.retainGrad();
    expect(h.retainsGrad).toBe(true);
    h.mul(h).sum().backward();
    expect(arr(h.grad)).toEqual([4, 8]);
    expect(arr(x.grad)).toEqual([8, 16]);
  });

  it('requiresGrad_ chains and returns the same tensor', () => {
    const x = ignis.ones([2], { dtype: 'float64' });
    const r = x.requiresGrad_();
    expect(r).toBe(x);
    expect(x.requiresGrad).toBe(true);
    expect(x.requiresGrad_(false).requiresGrad).toBe(false);
    const y = ignis.ones([3]).requiresGrad_().mul(2).sum();
    y.backward();
    expect(y.requiresGrad).toBe(true);
  });
});

describe('hooks', () => {
  it('a hook on a leaf can replace the gradient; remove() detaches it', () => {
    const x = f64([1, 2], true);
    const seen: number[][] = [];
    const h = x.registerHook((g) => {
      seen.push(g.toArray() as number[]);
      return g.mul(10);
    });
    x.mul(3).sum().backward();
    expect(seen).toEqual([[3, 3]]);
    expect(arr(x.grad)).toEqual([30, 30]);
    h.remove();
    x.grad = null;
    x.mul(3).sum().backward();
    expect(arr(x.grad)).toEqual([3, 3]);
    expect(seen.length).toBe(1);
  });

  it('a hook on a non-leaf changes what flows to the inputs', () => {
    const x = f64([1, 2], true);
    const h = x.mul(2);
    let calls = 0;
    const handle = h.registerHook((g) => {
      calls++;
      return g.mul(-1);
    });
    h.sum().backward();
    expect(calls).toBe(1);
    expect(arr(x.grad)).toEqual([-2, -2]);
    handle.remove();
    x.grad = null;
    x.mul(2).sum().backward();
    expect(arr(x.grad)).toEqual([2, 2]);
  });

  it('a hook returning nothing leaves the gradient unchanged', () => {
    const x = f64([1, 2], true);
    let got: unknown = null;
    x.registerHook((g) => {
      got = g.toArray();
    });
    x.square().sum().backward();
    expect(got).toEqual([2, 4]);
    expect(arr(x.grad)).toEqual([2, 4]);
  });
});

describe('detach and grad modes', () => {
  it('detach shares storage and cuts the graph', () => {
    const x = f64([1, 2, 3], true);
    const y = x.mul(2);
    const d = y.detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    d.add_(100); // same memory as y
    expect(arr(y)).toEqual([102, 104, 106]);
    expect(d.version).toBe(y.version);
    const xd = x.detach();
    xd.mul_(0.5);
    expect(arr(x)).toEqual([0.5, 1, 1.5]);
  });

  it('noGrad / enableGrad nest and restore', () => {
    const x = f64([1], true);
    expect(ignis.isGradEnabled()).toBe(true);
    const r = ignis.noGrad(() => {
      expect(ignis.isGradEnabled()).toBe(false);
      const a = x.mul(2);
      const b = ignis.enableGrad(() => {
        expect(ignis.isGradEnabled()).toBe(true);
        const inner = ignis.noGrad(() => x.mul(4));
        expect(inner.requiresGrad).toBe(false);
        return x.mul(3);
      });
      expect(ignis.isGradEnabled()).toBe(false);
      return [a, b];
    });
    expect(ignis.isGradEnabled()).toBe(true);
    expect(r[0].requiresGrad).toBe(false);
    expect(r[1].requiresGrad).toBe(true);
    r[1].sum().backward();
    expect(arr(x.grad)).toEqual([3]);
  });

  it('noGrad restores the mode when fn throws', () => {
    expect(() =>
      ignis.noGrad(() => {
        throw new Error('x');
      }),
    ).toThrow('x');
    expect(ignis.isGradEnabled()).toBe(true);
  });
});

describe('retainGraph and higher order', () => {
  it('retainGraph allows a second backward; without it the second one throws', () => {
    const x = f64([1, 2], true);
    const y = x.mul(x).sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(arr(x.grad)).toEqual([4, 8]);
    expect(() => y.backward()).toThrow(ignis.AutogradError);
    expect(() => y.backward()).toThrow(/second time/);
  });

  it('graphs that saved no tensors can be walked twice (like PyTorch)', () => {
    const x = f64([1, 2], true);
    const y = x.add(1).sum();
    y.backward();
    y.backward();
    expect(arr(x.grad)).toEqual([2, 2]);
  });

  it('grad with createGraph: d2/dx2 of x^3 is 6x', () => {
    const x = f64([1, 2, -3], true);
    const y = x.pow(3).sum();
    const [g] = ignis.autograd.grad(y, x, { createGraph: true });
    close(g!.toArray(), [3, 12, 27]);
    expect(g!.requiresGrad).toBe(true);
    const [g2] = ignis.autograd.grad(g!.sum(), x);
    close(g2!.toArray(), [6, 12, -18]);
    expect(x.grad).toBeNull(); // grad() does not touch .grad
  });

  it('third derivative of x^3 is 6 (x * x * x)', () => {
    const x = f64([0.5, 2], true);
    const [g1] = ignis.autograd.grad(x.mul(x).mul(x).sum(), x, { createGraph: true });
    const [g2] = ignis.autograd.grad(g1!.sum(), x, { createGraph: true });
    const [g3] = ignis.autograd.grad(g2!.sum(), x);
    close(g3!.toArray(), [6, 6]);
  });

  it('allowUnused returns null for an unused input', () => {
    const x = f64([1], true);
    const w = f64([2], true);
    const r = ignis.autograd.grad(x.mul(5).sum(), [x, w], { allowUnused: true });
    expect(arr(r[0])).toEqual([5]);
    expect(r[1]).toBeNull();
  });

  it('backward through createGraph accumulates a differentiable .grad', () => {
    const x = f64([2], true);
    x.pow(3).sum().backward(undefined, { createGraph: true });
    expect(arr(x.grad)).toEqual([12]);
    expect(x.grad!.requiresGrad).toBe(true);
  });
});

describe('custom autograd.Function', () => {
  let backwardCalls = 0;
  class MyExp extends ignis.autograd.Function {
    static override forward(ctx: FnCtx, x: Tensor): Tensor {
      const y = x.exp();
      ctx.saveForBackward(y);
      return y;
    }
    static override backward(ctx: FnCtx, g: Tensor | null): Tensor {
      backwardCalls++;
      const [y] = ctx.savedTensors;
      return g!.mul(y); // reuses the output: no second exp
    }
  }

  it('forward/backward with saveForBackward, checked by gradcheck', () => {
    const x = ignis.tensor([[0.1, -0.4, 1.2], [0.0, 2.0, -1.5]], { dtype: 'float64', requiresGrad: true });
    const y = MyExp.apply(x) as Tensor;
    close(y.toArray(), (x.exp().toArray() as number[][]));
    expect(y.gradFn!.name).toBe('MyExp');
    expect(ignis.gradcheck((t) => MyExp.apply(t) as Tensor, [x])).toBe(true);
    expect(backwardCalls).toBeGreaterThan(0);
  });

  it('composes with built-in ops', () => {
    const x = f64([0.5, 1], true);
    (MyExp.apply(x.mul(2)) as Tensor).sum().backward();
    close(arr(x.grad), [2 * Math.exp(1), 2 * Math.exp(2)]);
  });

  it('saved tensors modified in place are detected', () => {
    const x = f64([0.5, 1], true);
    const y = MyExp.apply(x.mul(1)) as Tensor;
    y.add_(1);
    expect(() => y.sum().backward()).toThrow(/modified by an inplace operation/);
  });
});

describe('in-place and version counters', () => {
  it('the version counter catches a saved tensor modified before backward', () => {
    const x = f64([1, 2], true);
    const a = x.mul(1);
    const y = a.mul(a).sum();
    expect(a.version).toBe(0);
    a.add_(1);
    expect(a.version).toBe(1);
    expect(() => y.backward()).toThrow(ignis.AutogradError);
    expect(() => y.backward()).toThrow(/is at version 1; expected version 0/);
  });

  it('in-place ops on non-leaf tensors give correct gradients', () => {
    const x = f64([1, 2, 3], true);
    const h = x.mul(2); // 2x
    h.add_(1).mul_(x); // (2x + 1) * x  -> d/dx = 4x + 1
    expect(h.isLeaf).toBe(false);
    h.sum().backward();
    expect(arr(x.grad)).toEqual([5, 9, 13]);
  });

  it('exp_ on a non-leaf differentiates through the in-place result', () => {
    const x = f64([0, 1], true);
    const h = x.mul(1);
    h.exp_();
    h.sum().backward();
    close(arr(x.grad), [1, Math.E]);
  });

  it('in-place on a tensor without grad, with an operand that requires grad', () => {
    const a = f64([3, 3]);
    const w = f64([2, 5], true);
    a.mul_(w);
    expect(a.requiresGrad).toBe(true);
    a.sum().backward();
    expect(arr(w.grad)).toEqual([3, 3]); // d(a0 * w)/dw = a0, the value before mul_
  });

  it('a view shares the version counter with its base', () => {
    const b = ignis.zeros([2, 3]);
    const v = b.select(0, 1);
    v.add_(5);
    expect(b.version).toBe(1);
    expect(v.version).toBe(1);
    expect(arr(b)).toEqual([[0, 0, 0], [5, 5, 5]]);
  });
});

describe('gradients through views', () => {
  it('slice / select / narrow sum into the right places', () => {
    const x = ignis.arange(12, { dtype: 'float64' }).reshape([3, 4]).requiresGrad_();
    const y = x.slice(1, 1, 3).sum().add(x.select(0, 2).mul(2).sum()).add(x.narrow(0, 0, 1).sum());
    y.backward();
    expect(arr(x.grad)).toEqual([
      [1, 2, 2, 1],
      [0, 1, 1, 0],
      [2, 3, 3, 2],
    ]);
  });

  it('expand sums the broadcast gradient back', () => {
    const x = f64([[1], [2]], true); // [2, 1]
    const y = x.expand([2, 3]).mul(f64([[1, 2, 3], [4, 5, 6]]));
    y.sum().backward();
    expect(arr(x.grad)).toEqual([[6], [15]]);
  });

  it('broadcasting in binary ops reduces the gradient to the input shape', () => {
    const a = f64([[1, 2, 3]], true); // [1, 3]
    const b = f64([[1], [2]], true); // [2, 1]
    a.mul(b).sum().backward();
    expect(arr(a.grad)).toEqual([[3, 3, 3]]);
    expect(arr(b.grad)).toEqual([[6], [6]]);
  });

  it('transpose / permute / reshape route gradients', () => {
    const x = ignis.arange(6, { dtype: 'float64' }).reshape([2, 3]).requiresGrad_();
    const w = ignis.arange(6, { dtype: 'float64' }).reshape([3, 2]);
    x.t().mul(w).sum().backward();
    expect(arr(x.grad)).toEqual(arr(w.t().contiguous()));
  });
});
