/**
 * The native PReLU / GLU kernels (native/cpu/gated.cpp, src/activations/gated.ts) against their
 * compositions of primitives (preluComposite, gluComposite: the CUDA path), forward and every
 * gradient, float32 and float64, special values, non-contiguous inputs and sizes large enough to
 * split over threads; RReLU in training (one op each way: y = x noise, gradient = noise) against
 * PyTorch's rrelu_with_noise semantics. PyTorch parity is in parity.test.ts (prelu_*, glu_* fixtures).
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { gluComposite, preluComposite } from '../../src/activations/gated';
import { mulberry32, numel } from '../util/inputs';

const { F } = ignis;
const rnd = mulberry32(77);
const SPECIAL = [0, -0, 1e-30, -1e-30, 1, -1, 50, -50, 1e4, -1e4, Infinity, -Infinity, NaN];

type DT = 'float32' | 'float64';

/** random values in [-4, 4) with some special values sprinkled in */
function values(n: number, special = true): number[] {
  return Array.from({ length: n }, (_, i) => (special && i % 7 === 3 ? SPECIAL[(i * 5) % SPECIAL.length] : 8 * rnd() - 4));
}

function leaf(shape: number[], dtype: DT, grad = true, special = true): Tensor {
  return ignis.tensor(values(numel(shape), special), { shape, dtype, requiresGrad: grad });
}

const vals = (t: Tensor): number[] => Array.from(t.toArray() as ArrayLike<number>, Number);

/**
 * same values up to `rel` relative; `sum`: the values are sums (the slope gradient), where the
 * order of the additions shows, so the bound is relative to max(1, |y|)
 */
function expectClose(a: Tensor, b: Tensor, rel: number, what: string, sum = false): void {
  expect([...a.shape], what).toEqual([...b.shape]);
  const x = vals(a), y = vals(b);
  const bad: string[] = [];
  for (let i = 0; i < x.length; i++) {
    const tol = rel * (sum ? Math.max(1, Math.abs(y[i])) : Math.abs(y[i]));
    if (Number.isNaN(y[i]) ? Number.isNaN(x[i]) : x[i] === y[i] || Math.abs(x[i] - y[i]) <= tol) continue;
    if (bad.length < 5) bad.push(`[${i}] ${x[i]} vs ${y[i]}`);
    else break;
  }
  expect(bad, what).toEqual([]);
}

/** forward and the gradients of every input that requires one, under g */
function run(f: (...t: Tensor[]) => Tensor, ins: Tensor[], g: Tensor): [Tensor, (Tensor | null)[]] {
  const y = f(...ins);
  const wrt = ins.filter((t) => t.requiresGrad);
  const gs = ignis.autograd.grad(y, wrt, { gradOutputs: g });
  let k = 0;
  return [y, ins.map((t) => (t.requiresGrad ? gs[k++] : null))];
}

/**
 * forward and gradients of the native op and the composition: elementwise results within a rounding
 * or two (the same formula, its products grouped differently), prelu's slope gradient (input 1, a
 * sum accumulated in double natively) within `sumRel`
 */
function compare(native: (...t: Tensor[]) => Tensor, composite: (...t: Tensor[]) => Tensor, ins: Tensor[], label: string, sumRel: number): void {
  const probe = native(...ins.map((t) => t.detach()));
  const g = ignis.tensor(values(probe.numel, false), { shape: [...probe.shape], dtype: probe.dtype });
  const [y1, g1] = run(native, ins, g);
  const [y2, g2] = run(composite, ins, g);
  const rel = probe.dtype === 'float32' ? 5e-7 : 1e-15;
  expectClose(y1, y2, rel, `${label} forward`);
  g1.forEach((t, i) => {
    if (t === null) expect(g2[i], label).toBeNull();
    else if (i === 1) expectClose(t, g2[i]!, sumRel, `${label} gradient ${i}`, true);
    else expectClose(t, g2[i]!, rel, `${label} gradient ${i}`);
  });
}

describe('prelu: native kernel vs composition', () => {
  const cases: [string, number[], number][] = [
    ['per channel [2, 3, 4]', [2, 3, 4], 3],
    ['one slope [2, 3, 4]', [2, 3, 4], 1],
    ['per channel [5, 4] (no inner dims)', [5, 4], 4],
    ['one slope 1-D', [37], 1],
    ['one slope 0-d', [], 1],
    ['per channel [2, 8, 3, 5]', [2, 8, 3, 5], 8],
    ['threads: per channel [3, 5, 40000]', [3, 5, 40000], 5],
    ['threads: one slope [1, 300000]', [1, 300000], 1],
    ['threads: per channel, one sample [1, 3, 100000]', [1, 3, 100000], 3],
    ['empty [0, 3, 4]', [0, 3, 4], 3],
  ];
  for (const dtype of ['float32', 'float64'] as const)
    for (const [label, shape, C] of cases)
      it(`${label} ${dtype}`, () => {
        const x = leaf(shape, dtype);
        const w = ignis.tensor(values(C, false), { dtype, requiresGrad: true });
        compare(F.prelu, preluComposite, [x, w], label, dtype === 'float32' ? 2e-5 : 1e-12);
      });

  it('only the input or only the weight requires a gradient', () => {
    for (const [gx, gw] of [[true, false], [false, true]]) {
      const x = leaf([2, 3, 5], 'float64', gx);
      const w = ignis.tensor([0.1, -0.2, 2], { dtype: 'float64', requiresGrad: gw });
      compare(F.prelu, preluComposite, [x, w], `x ${gx} w ${gw}`, 1e-12);
    }
  });

  it('a non-contiguous input and weight', () => {
    const x = leaf([4, 3, 6], 'float32').transpose(0, 2); // [6, 3, 4], strided
    const w = ignis.tensor(values(6, false), { dtype: 'float32' }).reshape([3, 2]).select(1, 0); // 3 slopes, stride 2
    w.requiresGrad_(false);
    compare(F.prelu, preluComposite, [x, w], 'strided', 2e-5);
  });

  it('is one op forward and one backward', () => {
    const x = leaf([2, 3, 4], 'float32');
    const w = ignis.tensor([0.1, 0.2, 0.3], { requiresGrad: true });
    const y = F.prelu(x, w);
    expect(y.gradFn?.name).toBe('prelu');
  });

  it('float64 gradcheck and gradgradcheck (input and per-channel weight)', () => {
    const x = ignis.tensor(values(24, false).map((v) => (Math.abs(v) < 0.05 ? 0.5 : v)), { dtype: 'float64', shape: [2, 3, 4], requiresGrad: true });
    const w = ignis.tensor([0.1, -0.3, 1.2], { dtype: 'float64', requiresGrad: true });
    expect(ignis.gradcheck((a: Tensor, b: Tensor) => F.prelu(a, b), [x, w])).toBe(true);
    const go = ignis.tensor(values(24, false), { dtype: 'float64', shape: [2, 3, 4], requiresGrad: true });
    expect(ignis.autograd.gradgradcheck((a: Tensor, b: Tensor) => F.prelu(a, b), [x, w], [go])).toBe(true);
  });
});

describe('glu: native kernel vs composition', () => {
  const cases: [string, number[], number][] = [
    ['[3, 6] dim -1', [3, 6], -1],
    ['[4, 2, 3] dim 0', [4, 2, 3], 0],
    ['[2, 6, 5] dim 1', [2, 6, 5], 1],
    ['[8] 1-D', [8], 0],
    ['threads: [300, 2048] dim -1', [300, 2048], -1],
    ['threads: [2, 100000] dim 0', [2, 100000], 0],
    ['empty [0, 4]', [0, 4], 1],
  ];
  for (const dtype of ['float32', 'float64'] as const)
    for (const [label, shape, dim] of cases)
      it(`${label} ${dtype}`, () => {
        const d = dim < 0 ? dim + shape.length : dim;
        compare((t) => F.glu(t, { dim }), (t) => gluComposite(t, d), [leaf(shape, dtype)], label, 0);
      });

  it('a non-contiguous input', () => {
    const x = leaf([6, 4], 'float64').transpose(0, 1); // [4, 6]
    compare((t) => F.glu(t, { dim: 1 }), (t) => gluComposite(t, 1), [x], 'strided', 0);
  });

  it('is one op forward and one backward; float64 gradcheck and gradgradcheck', () => {
    const x = ignis.tensor(values(24, false), { dtype: 'float64', shape: [3, 8], requiresGrad: true });
    expect(F.glu(x, { dim: -1 }).gradFn?.name).toBe('glu');
    expect(ignis.gradcheck((t: Tensor) => F.glu(t, { dim: -1 }), [x])).toBe(true);
    const go = ignis.tensor(values(12, false), { dtype: 'float64', shape: [3, 4], requiresGrad: true });
    expect(ignis.autograd.gradgradcheck((t: Tensor) => F.glu(t, { dim: -1 }), [x], [go])).toBe(true);
  });
});

describe('rrelu in training: rrelu_with_noise', () => {
  it('slopes in [lower, upper] where x <= 0, identity elsewhere; the gradient is the slope', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const xs = [...values(2000, false), 0, -0, Infinity, -Infinity, NaN, 3, -3];
      const x = ignis.tensor(xs, { dtype, requiresGrad: true });
      const y = F.rrelu(x, { lower: 0.1, upper: 0.3, training: true });
      expect(y.gradFn?.name).toBe('rrelu_with_noise');
      const [gx] = ignis.autograd.grad(y, [x], { gradOutputs: ignis.onesLike(y) });
      const yv = vals(y), gv = vals(gx);
      const xr = vals(x);
      const slopes = new Set<number>();
      for (let i = 0; i < xr.length; i++) {
        const v = xr[i];
        if (v > 0 || Number.isNaN(v)) {
          expect(gv[i], `x = ${v}`).toBe(1); // PyTorch: noise 1 where !(x <= 0), NaN included
          expect(Object.is(yv[i], v) || (Number.isNaN(v) && Number.isNaN(yv[i]))).toBe(true);
        } else {
          expect(gv[i]).toBeGreaterThanOrEqual(0.1 - 1e-7);
          expect(gv[i]).toBeLessThanOrEqual(0.3 + 1e-7);
          if (Number.isFinite(v) && v !== 0) expect(Math.abs(yv[i] - v * gv[i])).toBeLessThanOrEqual(1e-6 * Math.abs(v));
          if (v === -Infinity) expect(yv[i]).toBe(-Infinity);
          slopes.add(gv[i]);
        }
      }
      expect(slopes.size).toBeGreaterThan(500); // a fresh slope per element
    }
  });

  it('the same seed gives the same slopes; in place matches out of place', () => {
    const x = ignis.tensor(values(100, false));
    ignis.manualSeed(3);
    const a = vals(F.rrelu(x, { training: true }));
    ignis.manualSeed(3);
    const b = x.clone();
    F.rrelu(b, { training: true, inplace: true });
    expect(vals(b)).toEqual(a);
    // through autograd: the in-place result on a non-leaf differentiates like the out-of-place one
    const leafX = ignis.tensor(values(50, false), { requiresGrad: true });
    ignis.manualSeed(4);
    const h = leafX.mul(1);
    const r = F.rrelu(h, { training: true, inplace: true });
    expect(r).toBe(h);
    r.sum().backward();
    ignis.manualSeed(4);
    const [g2] = ignis.autograd.grad(F.rrelu(leafX.mul(1), { training: true }).sum(), [leafX]);
    expect(vals(leafX.grad!)).toEqual(vals(g2));
  });

  it('double backward: the gradient is linear in g', () => {
    const x = ignis.tensor(values(12, false), { dtype: 'float64', requiresGrad: true });
    const go = ignis.tensor(values(12, false), { dtype: 'float64', requiresGrad: true });
    expect(
      ignis.autograd.gradgradcheck((t: Tensor) => {
        ignis.manualSeed(9);
        return F.rrelu(t, { training: true });
      }, [x], [go]),
    ).toBe(true);
  });
});
