/**
 * softmax / logSoftmax / softmin native kernels (native/cpu/softmax.cpp): against the compositions
 * of primitives they replaced (random, large and small magnitudes, any dim, non-contiguous inputs,
 * row blocks), PyTorch's NaN / inf semantics, one dispatched op each way, float64 gradcheck and
 * gradgradcheck, and typed errors. softmin (the kernel reading -x) is also held bit for bit to
 * softmax(neg(x)), forward and backward. PyTorch parity fixtures are in test/activations.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import * as ops from '../../src/ops/all';
import { expectClose, values } from '../util/fixtures';

const { softmax, logSoftmax, softmin, softmaxComposite, logSoftmaxComposite, softminComposite } = ops;

function sample(shape: number[], dtype: 'float32' | 'float64', scale = 4, seed = 1): Tensor {
  ignis.manualSeed(seed);
  return ignis.randn(shape, { dtype }).mul(scale);
}

const TOL = { float32: [2e-6, 1e-7], float64: [1e-13, 1e-15] } as const;

describe('softmax kernels vs the composite', () => {
  const cases: [number[], number][] = [
    [[7, 33], 1], [[7, 33], 0], [[3, 5, 4], 0], [[3, 5, 4], 1], [[3, 5, 4], -1], [[2, 3, 130], 1], [[1], 0], [[4, 5000], 1], [[5000, 3], 0],
  ];
  for (const dt of ['float32', 'float64'] as const) {
    const [rt, at] = TOL[dt];
    it(`forward, ${dt}: shapes x dims, magnitudes`, () => {
      for (const [shape, d] of cases)
        for (const scale of [1e-6, 1, 30, dt === 'float64' ? 1e30 : 1e4]) {
          const x = sample(shape, dt, scale);
          expectClose(softmax(x, d), softmaxComposite(x, d), rt, at, `softmax ${shape} dim ${d} scale ${scale}`);
          expectClose(logSoftmax(x, d), logSoftmaxComposite(x, d), rt, at * scale, `logSoftmax ${shape} dim ${d} scale ${scale}`);
          expectClose(softmin(x, d), softminComposite(x, d), rt, at, `softmin ${shape} dim ${d} scale ${scale}`);
        }
    });
    it(`backward, ${dt}: native gradient = the composite's`, () => {
      for (const [shape, d] of cases) {
        const x = sample(shape, dt).requiresGrad_(true);
        const go = sample(shape, dt, 1, 7);
        for (const [f, c] of [[softmax, softmaxComposite], [logSoftmax, logSoftmaxComposite], [softmin, softminComposite]] as const) {
          const [g1] = ignis.autograd.grad(f(x, d).mul(go).sum(), [x]);
          const [g2] = ignis.autograd.grad(c(x, d).mul(go).sum(), [x]);
          // float32: sum(g) over up to 5000 terms in a different order on each side
          const [brt, bat] = dt === 'float32' ? [1e-4, 1e-5] : [rt * 10, at * 10];
          expectClose(g1!, g2!, brt, bat, `${f.name} grad ${shape} dim ${d}`);
        }
      }
    });
  }

  it('non-contiguous inputs (transposed, strided slices) give the contiguous result', () => {
    const base = sample([6, 10, 8], 'float32');
    const views = [base.permute([2, 0, 1]), base.transpose(0, 2), ops.slice(base, 1, 1, 10, 3)];
    for (const v of views)
      for (const d of [0, 1, 2]) {
        const c = v.contiguous();
        expect(values(softmax(v, d))).toEqual(values(softmax(c, d)));
        expect(values(logSoftmax(v, d))).toEqual(values(logSoftmax(c, d)));
        expect(values(softmin(v, d))).toEqual(values(softmin(c, d)));
      }
  });

  it('integer inputs compute in float32; 0-d and empty tensors', () => {
    const xi = ignis.tensor([[1, 2, 3], [0, 0, 0]], { dtype: 'int32' });
    const y = softmax(xi, 1);
    expect(y.dtype).toBe('float32');
    expectClose(y, softmaxComposite(xi.to('float32'), 1), 1e-6, 1e-7);
    expect(softmax(ignis.tensor(3.5), 0).item()).toBe(1);
    expect(logSoftmax(ignis.tensor(3.5), -1).item()).toBe(0);
    expect(softmax(ignis.zeros([0, 4]), 1).shape).toEqual([0, 4]);
    expect(logSoftmax(ignis.zeros([3, 0]), 1).shape).toEqual([3, 0]);
    expect(softmax(ignis.zeros([3, 0, 2]), 2).shape).toEqual([3, 0, 2]);
  });
});

describe('softmin: the kernel on -x is softmax(neg(x)), bit for bit', () => {
  const inf = Infinity;
  // negation is exact, so the kernel reading -x must give exactly what softmax gives on neg(x), and
  // its gradient exactly the negated softmax gradient that autograd forms through neg
  const same = (a: Tensor, b: Tensor, what: string): void => {
    expect(a.shape, what).toEqual(b.shape);
    expect(values(a).map((v) => (Object.is(v, -0) ? 0 : v)), what).toEqual(values(b).map((v) => (Object.is(v, -0) ? 0 : v)));
  };
  const special = (dt: 'float32' | 'float64'): Tensor => {
    const rows = [[1, inf, 0, 2], [-inf, 3, 0, 1], [1, NaN, 2, 0], [-inf, -inf, -inf, -inf], [inf, inf, 1, 1], [-inf, inf, 0, 0], [0, 0, 0, 0]];
    return ignis.tensor(rows, { dtype: dt });
  };
  for (const dt of ['float32', 'float64'] as const) {
    it(`forward and backward, ${dt}: random, large magnitudes, inf / NaN rows, every dim`, () => {
      const inputs: [Tensor, number][] = [];
      for (const [shape, d] of [[[7, 33], 1], [[7, 33], 0], [[3, 5, 4], 1], [[2, 3, 130], -1], [[4, 5000], 1], [[300, 3], 0]] as [number[], number][])
        for (const scale of [1e-6, 1, 30, dt === 'float64' ? 1e300 : 1e30]) inputs.push([sample(shape, dt, scale), d]);
      const sp = special(dt);
      inputs.push([sp, 1], [sp.t().contiguous(), 0]);
      for (const [x0, d] of inputs) {
        const what = `${x0.shape} dim ${d}`;
        const x = x0.detach().requiresGrad_(true);
        const go = ignis.randnLike(x0);
        const y1 = softmin(x, d);
        const y2 = softmax(ops.neg(x), d);
        same(y1, y2, `softmin ${what}`);
        const [g1] = ignis.autograd.grad(y1, [x], { gradOutputs: go });
        const [g2] = ignis.autograd.grad(y2, [x], { gradOutputs: go });
        same(g1!, g2!, `softmin grad ${what}`);
      }
    });
  }
  it('inf / NaN rows give PyTorch values (torch.nn.functional.softmin, 2.x)', () => {
    const x = ignis.tensor([[1, inf], [-inf, -inf], [1, NaN], [inf, inf], [-inf, inf], [1, -inf], [inf, 2]]);
    const want = [1, 0, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, NaN, 0, 1];
    expectClose(softmin(x, 1), want, 0, 0, 'softmin rows');
    expectClose(softmin(x.t().contiguous(), 0).t(), want, 0, 0, 'softmin columns');
  });
});

describe('softmax: NaN / inf as PyTorch', () => {
  const inf = Infinity;
  // torch.softmax / torch.log_softmax (2.x) of each row
  const rows: [number[], number[], number[]][] = [
    [[1, inf], [NaN, NaN], [NaN, NaN]],
    [[-inf, -inf], [NaN, NaN], [NaN, NaN]],
    [[1, NaN], [NaN, NaN], [NaN, NaN]],
    [[inf, inf], [NaN, NaN], [NaN, NaN]],
    [[-inf, inf], [NaN, NaN], [NaN, NaN]],
    [[1, -inf], [1, 0], [0, -inf]],
  ];
  for (const dt of ['float32', 'float64'] as const)
    it(`special rows, last dim and dim 0, ${dt}`, () => {
      const x = ignis.tensor(rows.map((r) => r[0]), { dtype: dt });
      const sm = rows.flatMap((r) => r[1]);
      const lsm = rows.flatMap((r) => r[2]);
      expectClose(softmax(x, 1), sm, 0, 1e-7, 'softmax');
      expectClose(logSoftmax(x, -1), lsm, 0, 1e-7, 'logSoftmax');
      // the same rows as columns: the strided path
      const xt = x.t().contiguous();
      expectClose(softmax(xt, 0).t(), sm, 0, 1e-7, 'softmax dim 0');
      expectClose(logSoftmax(xt, 0).t(), lsm, 0, 1e-7, 'logSoftmax dim 0');
      // a long row (several vector widths) with one NaN / +inf far from the start
      for (const v of [NaN, inf]) {
        const long = ignis.zeros([1, 100], { dtype: dt });
        const a = values(long);
        a[77] = v;
        const t = ignis.tensor(a, { dtype: dt, shape: [1, 100] });
        expect(values(softmax(t, 1)).every(Number.isNaN)).toBe(true);
        expect(values(logSoftmax(t, 1)).every(Number.isNaN)).toBe(true);
      }
    });
});

describe('softmax / softmin backward on large tensors (streaming stores from 8 MiB of output)', () => {
  // the streamed path must give the ordinary path's values bit for bit: the same rows computed as
  // small tensors (below the threshold) are the reference; D = 1000 is not a vector multiple (the
  // ordinary loop), a row offset by one element is not aligned (also the ordinary loop)
  for (const [dt, rows, D] of [['float32', 2304, 1024], ['float64', 1100, 1024], ['float32', 2200, 1000]] as const)
    it(`${dt} [${rows}, ${D}]`, () => {
      for (const f of [softmax, softmin]) {
        const x = sample([rows, D], dt, 3, 7).requiresGrad_(true);
        const go = sample([rows, D], dt, 1, 8);
        const y = f(x, 1);
        const [gx] = ignis.autograd.grad(y, [x], { gradOutputs: go });
        const part = 100;
        for (const r0 of [0, 37, rows - part]) {
          const xs = x.detach().narrow(0, r0, part).contiguous().requiresGrad_(true);
          const [gs] = ignis.autograd.grad(f(xs, 1), [xs], { gradOutputs: go.narrow(0, r0, part).contiguous() });
          expect(values(gx.narrow(0, r0, part).contiguous()), `${f.name} rows ${r0}..`).toEqual(values(gs));
        }
      }
    });
});

describe('softmax: one dispatched op each way', () => {
  it('forward and backward are single ops', () => {
    const seen: string[] = [];
    const x = sample([4, 6], 'float32').requiresGrad_(true);
    const off = ignis.addListener({ before: (op) => void seen.push(op), after: () => {} });
    try {
      ignis.autograd.grad(softmax(x, 1), [x], { gradOutputs: ignis.onesLike(x) });
      ignis.autograd.grad(logSoftmax(x, 0), [x], { gradOutputs: ignis.onesLike(x) });
      ignis.autograd.grad(softmin(x, 1), [x], { gradOutputs: ignis.onesLike(x) });
    } finally {
      off();
    }
    expect(seen).toEqual(['softmax', 'softmax_backward', 'log_softmax', 'log_softmax_backward', 'softmin', 'softmin_backward']);
  });
});

describe('softmax: gradcheck and gradgradcheck (float64)', () => {
  const U = (shape: number[]) => sample(shape, 'float64', 1.5, 3).requiresGrad_(true);
  const go = (shape: number[]) =>
    ignis.tensor(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i + 0.5)), { dtype: 'float64', shape, requiresGrad: true });
  const fns = { softmax, logSoftmax, softmin };
  for (const [name, f] of Object.entries(fns))
    for (const [shape, d] of [[[3, 5], 1], [[3, 5], 0], [[2, 3, 4], 1]] as [number[], number][]) {
      it(`${name} ${JSON.stringify(shape)} dim ${d}`, () => {
        expect(ignis.gradcheck((x) => f(x, d), [U(shape)])).toBe(true);
        expect(ignis.autograd.gradgradcheck((x) => f(x, d), [U(shape)], [go(shape)])).toBe(true);
      });
    }
  it('the createGraph first derivative equals the native one', () => {
    const x = U([4, 7]);
    for (const f of [softmax, logSoftmax, softmin]) {
      const [g1] = ignis.autograd.grad(f(x, 1).pow(2).sum(), [x]);
      const [g2] = ignis.autograd.grad(f(x, 1).pow(2).sum(), [x], { createGraph: true });
      expectClose(g2!, g1!, 1e-12, 1e-14, f.name);
    }
  });
});

describe('softmax: typed errors', () => {
  it('bad dim and non-tensors', () => {
    const x = sample([2, 3], 'float32');
    expect(() => softmax(x, 2)).toThrow(ignis.IndexError);
    expect(() => logSoftmax(x, -3)).toThrow(/logSoftmax: dimension out of range/);
    expect(() => softmax([1, 2] as unknown as Tensor, 0)).toThrow(ignis.ValueError);
    expect(() => softmin(x, 1.5)).toThrow(ignis.IndexError);
  });
});
