/**
 * Finite-difference gradient checks (ignis.gradcheck, float64 central differences) for every row
 * of ignis.activations.ACTIVATIONS, with default and non-default parameters, plus the learnable
 * parameters: PReLU weight (shared and per channel), Swish's learnable beta, ActivationMix gate
 * logits (shared and per channel). Inputs are kept away from kinks (0, ±3, 6, ±lambd, minVal,
 * maxVal, threshold, softplus's switch point).
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { mulberry32, numel } from '../util/inputs';

const { F, nn } = ignis;
const { ACTIVATIONS } = ignis.activations;
type Fn = (x: Tensor, ...a: unknown[]) => Tensor;
const FN = F as unknown as Record<string, Fn>;

// deterministic inputs independent of the library's generator
const rnd = mulberry32(2024);

/** float64 leaf with values uniform in [lo, hi), at least `margin` away from every kink. */
function input(shape: number[], kinks: number[] = [], lo = -4, hi = 8, margin = 0.05, requiresGrad = true): Tensor {
  const v = Float64Array.from({ length: numel(shape) }, () => {
    for (;;) {
      const x = lo + (hi - lo) * rnd();
      if (kinks.every((k) => Math.abs(x - k) > margin)) return x;
    }
  });
  return ignis.tensor(v, { dtype: 'float64', shape, requiresGrad });
}

interface Case {
  label: string;
  args: Record<string, unknown>;
  shape?: number[];
}

/** Non-default parameter sets per row; rows with required parameters list them here. */
const PARAMS: Record<string, Record<string, unknown>[]> = {
  leaky_relu: [{ negativeSlope: 0.2 }, { negativeSlope: 1.5 }],
  rrelu: [{ lower: 0.1, upper: 0.5 }],
  elu: [{ alpha: 0.5 }, { alpha: 2 }],
  celu: [{ alpha: 0.5 }, { alpha: 2 }],
  gelu: [{ approximate: 'tanh' }],
  swish: [{ beta: 1.7 }, { beta: 0.5 }],
  hardtanh: [{ minVal: -2, maxVal: 0.5 }, { minVal: 0, maxVal: 6 }],
  softplus: [{ beta: 2, threshold: 5 }, { beta: 0.5 }],
  softshrink: [{ lambd: 1 }],
  hardshrink: [{ lambd: 1 }],
  threshold: [{ threshold: 1, value: 0 }, { threshold: -0.5, value: 2 }],
  glu: [{ dim: 0 }],
  softmax: [{ dim: -1 }, { dim: 1 }],
  log_softmax: [{ dim: -1 }, { dim: 1 }],
  softmin: [{ dim: -1 }, { dim: 1 }],
};
/** rows whose defaults are not a valid call (required parameters) */
const NO_DEFAULT = new Set(['threshold', 'softmax', 'log_softmax', 'softmin', 'prelu']);

function kinks(name: string, a: Record<string, unknown>): number[] {
  const n = (k: string, d: number): number => (typeof a[k] === 'number' ? (a[k] as number) : d);
  switch (name) {
    case 'relu6': return [0, 6];
    case 'hardtanh': return [n('minVal', -1), n('maxVal', 1)];
    case 'hardsigmoid':
    case 'hardswish': return [-3, 3];
    case 'softplus': return [n('threshold', 20) / n('beta', 1)];
    case 'softshrink':
    case 'hardshrink': return [-n('lambd', 0.5), n('lambd', 0.5)];
    case 'threshold': return [n('threshold', 0)];
    default: return [0];
  }
}

function casesFor(name: string): Case[] {
  const out: Case[] = [];
  if (!NO_DEFAULT.has(name)) out.push({ label: 'defaults', args: {} });
  for (const p of PARAMS[name] ?? []) out.push({ label: JSON.stringify(p), args: p });
  return out;
}

/** The input (away from the row's kinks) and the function to check for one table case. */
function setup(name: string, row: (typeof ACTIVATIONS)[number], c: Case, elementwiseShape: number[]): [Tensor, (t: Tensor) => Tensor] {
  const fn = FN[row.fn];
  let shape = elementwiseShape;
  if (name === 'glu') shape = c.args.dim === 0 ? [4, 3] : [3, 6];
  else if (!row.elementwise) shape = [2, 3, 4];
  // softplus: the branch switch at beta*x = threshold is a (tiny) kink; stay inside the smooth
  // part, but do cross it when the threshold is small enough to be reached
  const x = input(shape, kinks(name, c.args));
  const run = name === 'rrelu'
    ? (t: Tensor) => {
        // training-mode rrelu draws its slopes from the generator: reseed so every evaluation
        // of the finite differences sees the same slopes
        ignis.manualSeed(7);
        return fn(t, { ...c.args, training: true });
      }
    : (t: Tensor) => fn(t, c.args);
  return [x, run];
}

const rows = ACTIVATIONS.filter((r) => r.name !== 'prelu');
const table = rows.flatMap((r) => casesFor(r.name).map((c) => [r.name, c.label, r, c] as const));

describe('gradcheck: every activation table row (float64)', () => {
  it('covers every row of the table', () => {
    const covered = new Set(table.map(([n]) => n));
    expect(ACTIVATIONS.map((r) => r.name).filter((n) => !covered.has(n) && n !== 'prelu')).toEqual([]);
  });

  it.each(table)('%s %s', (name, _label, row, c) => {
    const [x, run] = setup(name, row, c, [3, 5]);
    expect(ignis.gradcheck(run, [x])).toBe(true);
    if (name === 'rrelu') expect(ignis.gradcheck((t: Tensor) => FN[row.fn](t, { ...c.args, training: false }), [x])).toBe(true);
  });

  it('prelu: input and weight (one and per channel) through F.prelu', () => {
    const x = input([2, 3, 4], [0]);
    const w1 = ignis.tensor([0.3], { dtype: 'float64', requiresGrad: true });
    expect(ignis.gradcheck((a: Tensor, w: Tensor) => F.prelu(a, w), [x, w1])).toBe(true);
    const w3 = ignis.tensor([0.1, -0.4, 1.5], { dtype: 'float64', requiresGrad: true });
    expect(ignis.gradcheck((a: Tensor, w: Tensor) => F.prelu(a, w), [x, w3])).toBe(true);
  });

  it('Tensor-valued swish beta through F.swish', () => {
    const x = input([3, 4], [0]);
    const beta = ignis.tensor([1.3], { dtype: 'float64', requiresGrad: true });
    expect(ignis.gradcheck((a: Tensor, b: Tensor) => F.swish(a, { beta: b }), [x, beta])).toBe(true);
  });
});

/** deterministic float64 gradOutputs for gradgradcheck (requiring grad: they are inputs of the check) */
function gradOut(shape: readonly number[]): Tensor {
  const v = Float64Array.from({ length: numel(shape as number[]) }, () => rnd() * 2 - 1);
  return ignis.tensor(v, { dtype: 'float64', shape: shape as number[], requiresGrad: true });
}

describe('gradgradcheck: second derivatives of every activation table row (float64)', () => {
  it.each(table)('%s %s', (name, _label, row, c) => {
    const [x, run] = setup(name, row, c, [2, 5]);
    const y = run(x);
    expect(ignis.autograd.gradgradcheck(run, [x], [gradOut(y.shape)])).toBe(true);
  });

  it('prelu: input and per-channel weight', () => {
    const x = input([2, 3, 4], [0]);
    const w = ignis.tensor([0.1, -0.4, 1.5], { dtype: 'float64', requiresGrad: true });
    expect(ignis.autograd.gradgradcheck((a: Tensor, b: Tensor) => F.prelu(a, b), [x, w], [gradOut([2, 3, 4])])).toBe(true);
  });

  it('Tensor-valued swish beta', () => {
    const x = input([3, 4], [0]);
    const beta = ignis.tensor([1.3], { dtype: 'float64', requiresGrad: true });
    expect(ignis.autograd.gradgradcheck((a: Tensor, b: Tensor) => F.swish(a, { beta: b }), [x, beta], [gradOut([3, 4])])).toBe(true);
  });

  it('third order through a native kernel: d3/dx3 of sum(tanh(x)) = sum(-2 + 6 tanh^2 - ... ) by hand', () => {
    const x = input([6], [], -2, 2);
    const [g1] = ignis.autograd.grad(F.tanh(x).sum(), [x], { createGraph: true });
    const [g2] = ignis.autograd.grad(g1!.sum(), [x], { createGraph: true });
    const [g3] = ignis.autograd.grad(g2!.sum(), [x]);
    const xs = x.toArray() as number[];
    const got = g3!.toArray() as number[];
    xs.forEach((v, i) => {
      const t = Math.tanh(v);
      const want = (1 - t * t) * (6 * t * t - 2); // d3/dx3 tanh = -2 sech^2 (1 - 3 tanh^2)
      expect(got[i]).toBeCloseTo(want, 10);
    });
  });
});

describe('gradcheck: learnable activation parameters (float64)', () => {
  it('nn.PReLU weight, one parameter', () => {
    const m = new nn.PReLU({ dtype: 'float64', init: 0.3 });
    const x = input([2, 3, 4], [0]);
    expect(m.parameters()).toEqual([m.weight]);
    expect(ignis.gradcheck((a: Tensor, _w: Tensor) => m.call(a), [x, m.weight])).toBe(true);
  });

  it('nn.PReLU weight, one per channel', () => {
    const m = new nn.PReLU({ numParameters: 3, dtype: 'float64' });
    ignis.noGrad(() => m.weight.copy_(ignis.tensor([0.1, 0.5, -0.7], { dtype: 'float64' })));
    const x = input([2, 3, 4], [0]);
    expect(ignis.gradcheck((a: Tensor, _w: Tensor) => m.call(a), [x, m.weight])).toBe(true);
  });

  it('nn.Swish with learnable beta', () => {
    const m = new nn.Swish({ learnable: true, beta: 1.3, dtype: 'float64' });
    const beta = m.beta as Tensor;
    expect(m.parameters()).toEqual([beta]);
    const x = input([3, 4], [], -4, 4);
    expect(ignis.gradcheck((a: Tensor, _b: Tensor) => m.call(a), [x, beta])).toBe(true);
  });

  it('nn.ActivationMix gate logits, shared', () => {
    const m = new nn.ActivationMix(['relu', 'gelu', 'silu'], { dtype: 'float64' });
    ignis.noGrad(() => m.gate.copy_(ignis.tensor([0.2, -0.5, 0.9], { dtype: 'float64' })));
    const x = input([2, 3, 4], [0], -3, 3);
    expect(ignis.gradcheck((a: Tensor, _g: Tensor) => m.call(a), [x, m.gate])).toBe(true);
  });

  it('nn.ActivationMix gate logits, per channel', () => {
    const m = new nn.ActivationMix(['tanh', 'softplus', 'elu', 'mish'], { perChannel: true, numChannels: 3, dtype: 'float64' });
    const g = Float64Array.from({ length: 12 }, () => rnd() * 2 - 1);
    ignis.noGrad(() => m.gate.copy_(ignis.tensor(g, { dtype: 'float64', shape: [3, 4] })));
    const x = input([2, 3, 5], [0], -3, 3);
    expect(ignis.gradcheck((a: Tensor, _g: Tensor) => m.call(a), [x, m.gate])).toBe(true);
  });
});
