/**
 * Fast approximations (issue 3 section 5): `approx: 'fast'`.
 * - Error: every fast kernel (table.ts rows with `approx.fast`, and their variants) against the
 *   float64 exact kernel over the float32 range: a dense sweep of [-30, 30] (every 2^11-th float
 *   plus a 1e-4 grid), random bit patterns and the edge values ±0, ±inf, nan, ±1e4, ±88, ±FLT_MAX.
 *   The max abs error must not exceed the bound the table documents (`maxAbsError`, scaled for
 *   non-default parameters as `scaling` says); nan propagates; at -inf the fast forms give the
 *   limit (0) where the exact kernels, like PyTorch, give nan (-inf * 0).
 * - Backward: the exact derivative (the exact row's backward kernel at x; sigmoid, tanh at the fast
 *   output), checked against the exact path and by central differences of the fast forward.
 * - API: F, Tensor methods (also in place), modules, nn.activation, activations.info, errors.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { ValueError } from '../../src/errors';
import { ignis as cli } from '../cli/helpers';
import { mulberry32 } from '../util/inputs';

const { F, nn } = ignis;
const { ACTIVATIONS } = ignis.activations;
type Fn = (x: Tensor, ...a: unknown[]) => Tensor;
const FN = F as unknown as Record<string, Fn>;

interface Case {
  label: string;
  fn: string;
  opts: Record<string, unknown>;
  /** documented bound for these parameters */
  bound: number;
  /** the value at x = -inf, where the exact kernel may give nan */
  atNegInf?: number;
}

const row = (n: string) => ACTIVATIONS.find((r) => r.name === n)!;
const fastBound = (n: string) => row(n).approx!.fast!.maxAbsError;

const CASES: Case[] = [];
for (const r of ACTIVATIONS) {
  const fast = r.approx?.fast;
  if (!fast) continue;
  CASES.push({ label: r.name, fn: r.fn, opts: {}, bound: fast.maxAbsError });
  for (const [k, b] of Object.entries(fast.variants ?? {})) {
    expect(k).toBe('gelu_tanh');  // the only variant; a new one needs its options here
    CASES.push({ label: "gelu approximate='tanh'", fn: 'gelu', opts: { approximate: 'tanh' }, bound: b });
  }
}
// non-default parameters: the documented scaling
CASES.push({ label: 'elu alpha=2', fn: 'elu', opts: { alpha: 2 }, bound: 2 * fastBound('elu') });
CASES.push({ label: 'swish beta=0.5', fn: 'swish', opts: { beta: 0.5 }, bound: 2 * fastBound('swish') });
CASES.push({ label: 'swish beta=3', fn: 'swish', opts: { beta: 3 }, bound: fastBound('swish') });
CASES.push({ label: 'softplus beta=0.5', fn: 'softplus', opts: { beta: 0.5 }, bound: 2 * fastBound('softplus') });
CASES.push({ label: 'softplus beta=2 threshold=10', fn: 'softplus', opts: { beta: 2, threshold: 10 }, bound: fastBound('softplus') / 2 });

const EDGES = [0, -0, Infinity, -Infinity, NaN, 1e4, -1e4, 88, -88, 3.4028234663852886e38, -3.4028234663852886e38, 1e-30, -1e-30];

/** float32 inputs: the sweep of [-30, 30], random bit patterns, edge values */
function sweep(): Float32Array {
  const out: number[] = [];
  const bits = new Uint32Array(1);
  const f = new Float32Array(bits.buffer);
  const top = 0x41f00000; // 30.0f
  for (let b = 0; b <= top; b += 2048) {
    bits[0] = b;
    out.push(f[0], -f[0]);
  }
  for (let x = -30; x <= 30; x += 1e-4) out.push(x);
  const rnd = mulberry32(77);
  for (let i = 0; i < 200000; i++) {
    bits[0] = Math.floor(rnd() * 4294967296);
    out.push(f[0]);
  }
  out.push(...EDGES);
  return Float32Array.from(out);
}

const X = sweep();
const X32 = ignis.tensor(X, { dtype: 'float32' });
const X64 = ignis.tensor(Float64Array.from(X), { dtype: 'float64' });

describe("approx: 'fast' - max abs error over the float32 range", () => {
  it.each(CASES.map((c) => [c.label, c]))('%s', (_label, c) => {
    const f = FN[c.fn];
    const exact = f(X64, c.opts).dataSync() as Float64Array;
    const fast = f(X32, { ...c.opts, approx: 'fast' }).dataSync() as Float32Array;
    let worst = 0;
    let worstX = 0;
    const wrong: string[] = []; // special values that disagree (one expect at the end: fast)
    for (let i = 0; i < X.length; i++) {
      const x = X[i];
      const e = exact[i];
      const y = fast[i];
      if (Number.isNaN(x)) {
        if (!Number.isNaN(y)) wrong.push(`f(nan) = ${y}`);
      } else if (x === -Infinity && Number.isNaN(e)) {
        // the exact kernel's -inf * 0; the fast form returns the limit
        if (!(Math.abs(y) <= c.bound)) wrong.push(`f(-inf) = ${y}, expected the limit 0`);
      } else if (Number.isNaN(e) || Number.isNaN(y) || !Number.isFinite(e) || !Number.isFinite(y)) {
        if (!Object.is(y, e) && !(y === e)) wrong.push(`f(${x}) = ${y}, exact ${e}`);
      } else {
        const err = Math.abs(y - e);
        if (err > worst) {
          worst = err;
          worstX = x;
        }
      }
    }
    expect(wrong.slice(0, 5), c.label).toEqual([]);
    console.log(`approx fast ${c.label}: max abs error ${worst.toExponential(3)} at x = ${worstX} (bound ${c.bound.toExponential(2)}, ${X.length} inputs)`);
    expect(worst, `${c.label}: max abs error at x = ${worstX}`).toBeLessThanOrEqual(c.bound);
    // the documented bound is tight (measured, rounded up): not 10x looser than what it bounds
    if (Object.keys(c.opts).length === 0 || c.label.startsWith('gelu')) expect(worst).toBeGreaterThan(c.bound / 10);
  });

  it('fast and exact differ (the fast kernels run) and the edge values agree with the exact limits', () => {
    const x = ignis.tensor([0.3, -1.7, 2.9], { dtype: 'float32' });
    for (const c of CASES) {
      const f = FN[c.fn];
      const a = f(x, { ...c.opts, approx: 'fast' }).toArray() as number[];
      const b = f(x, c.opts).toArray() as number[];
      expect(a.some((v, i) => v !== b[i]), c.label).toBe(true);
    }
    const edge = ignis.tensor([Infinity, -Infinity, 1e30, -1e30], { dtype: 'float32' });
    expect(F.gelu(edge, { approx: 'fast' }).toArray()).toEqual([Infinity, -0, Math.fround(1e30), -0]);
    expect(F.silu(edge, { approx: 'fast' }).toArray()).toEqual([Infinity, 0, Math.fround(1e30), 0]);
    expect(F.tanh(edge, { approx: 'fast' }).toArray().map((v) => Math.abs(Math.abs(v as number) - 1) <= fastBound('tanh'))).toEqual([true, true, true, true]);
    expect(F.sigmoid(edge, { approx: 'fast' }).toArray()).toEqual([1, 0, 1, 0]);
    expect(F.elu(edge, { approx: 'fast' }).toArray()).toEqual([Infinity, -1, Math.fround(1e30), -1]);
  });

  it('float64 runs the exact kernel (bitwise)', () => {
    for (const c of CASES) {
      const f = FN[c.fn];
      const a = f(X64, { ...c.opts, approx: 'fast' }).dataSync() as Float64Array;
      const b = f(X64, c.opts).dataSync() as Float64Array;
      let differ = 0;
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) differ++;
      expect(differ, c.label).toBe(0);
    }
  });
});

describe("approx: 'fast' - backward is the exact derivative", () => {
  const rnd = mulberry32(5);
  const xs = Float32Array.from({ length: 4000 }, () => -8 + 16 * rnd());
  const gs = Float32Array.from({ length: 4000 }, () => -1 + 2 * rnd());

  it.each(CASES.map((c) => [c.label, c]))('%s: gradient = the exact path\'s gradient', (_label, c) => {
    const f = FN[c.fn];
    const grad = (approx: string) => {
      const x = ignis.tensor(xs, { dtype: 'float32', requiresGrad: true });
      f(x, { ...c.opts, approx }).mul(ignis.tensor(gs)).sum().backward();
      return x.grad!.toArray() as number[];
    };
    const a = grad('fast');
    const b = grad('none');
    // sigmoid / tanh: the exact formula at the fast output, y (1 - y) or 1 - y^2: off by at most
    // 1x / 2x the forward bound per unit of g; the others: the same kernel at the same x
    const fromOutput = c.fn === 'sigmoid' || c.fn === 'tanh';
    for (let i = 0; i < a.length; i++) {
      if (fromOutput) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(2 * c.bound * Math.abs(gs[i]) + 1e-7);
      else expect(a[i]).toBe(b[i]);
    }
  });

  it.each(CASES.map((c) => [c.label, c]))('%s: central differences of the fast forward match the gradient', (_label, c) => {
    const f = FN[c.fn];
    // away from kinks (elu at 0, softplus at its threshold)
    const pts = Float32Array.from(xs.slice(0, 400).filter((v) => Math.abs(v) > 0.05 && Math.abs(v * 2 - 10) > 0.2));
    const h = 1 / 64; // exact in float32: x ± h rounds only the input, and the quotient divides by an exact 2h
    const plus = f(ignis.tensor(pts.map((v) => v + h)), { ...c.opts, approx: 'fast' }).toArray() as number[];
    const minus = f(ignis.tensor(pts.map((v) => v - h)), { ...c.opts, approx: 'fast' }).toArray() as number[];
    const x = ignis.tensor(pts, { requiresGrad: true });
    f(x, { ...c.opts, approx: 'fast' }).sum().backward();
    const g = x.grad!.toArray() as number[];
    for (let i = 0; i < pts.length; i++) {
      const fd = (plus[i] - minus[i]) / (2 * h);
      // h^2 / 6 f''' (|f'''| < 12 here) + the forward's error and rounding over 2h
      expect(Math.abs(fd - g[i]), `${c.label} at ${pts[i]}`).toBeLessThanOrEqual(5e-4 + (2 * c.bound + 4e-7 * Math.max(1, Math.abs(pts[i]))) / (2 * h));
    }
  });

  it('float64 gradcheck through the option (runs the exact kernels)', () => {
    const x = ignis.tensor([-3.1, -0.7, 0.4, 1.9, 5.3], { dtype: 'float64', requiresGrad: true });
    for (const c of CASES) expect(ignis.gradcheck((t: Tensor) => FN[c.fn](t, { ...c.opts, approx: 'fast' }), [x]), c.label).toBe(true);
  });
});

describe("approx: 'fast' - API", () => {
  const x = ignis.tensor([-2.5, -0.3, 0.2, 1.7], { dtype: 'float32' });
  const fastGelu = F.gelu(x, { approx: 'fast' }).toArray();

  it('F, Tensor methods, modules and nn.activation agree', () => {
    expect(x.gelu({ approx: 'fast' }).toArray()).toEqual(fastGelu);
    expect(new nn.GELU({ approx: 'fast' }).call(x).toArray()).toEqual(fastGelu);
    expect((nn.activation('gelu', { approx: 'fast' }).call(x) as Tensor).toArray()).toEqual(fastGelu);
    expect(fastGelu).not.toEqual(F.gelu(x).toArray());
    const mish = F.mish(x, { approx: 'fast' }).toArray();
    expect((nn.activation('mish', { approx: 'fast' }).call(x) as Tensor).toArray()).toEqual(mish);
    expect(x.mish({ approx: 'fast' }).toArray()).toEqual(mish);
    expect(x.tanh({ approx: 'fast' }).toArray()).toEqual(F.tanh(x, { approx: 'fast' }).toArray());
    expect(x.sigmoid({ approx: 'fast' }).toArray()).toEqual(F.sigmoid(x, { approx: 'fast' }).toArray());
    expect((nn.activation('swish', { beta: 1.5, approx: 'fast' }).call(x) as Tensor).toArray()).toEqual(F.swish(x, { beta: 1.5, approx: 'fast' }).toArray());
    expect(new nn.ELU({ alpha: 0.5, approx: 'fast' }).call(x).toArray()).toEqual(F.elu(x, { alpha: 0.5, approx: 'fast' }).toArray());
    expect(F.gelu(x, { approx: 'none' }).toArray()).toEqual(F.gelu(x).toArray());
    expect(String(new nn.GELU({ approx: 'fast' }))).toContain("approx='fast'");
    expect(String(nn.activation('swish', { approx: 'fast' }))).toContain("approx='fast'");
  });

  it('in place', () => {
    const y = x.clone();
    expect(y.silu_({ approx: 'fast' })).toBe(y);
    expect(y.toArray()).toEqual(F.silu(x, { approx: 'fast' }).toArray());
    const z = F.elu(x.clone(), { approx: 'fast', inplace: true });
    expect(z.toArray()).toEqual(F.elu(x, { approx: 'fast' }).toArray());
  });

  it('activations.info records the approximations and their bounds', () => {
    const withFast = ACTIVATIONS.filter((r) => r.approx?.fast).map((r) => r.name);
    expect(withFast.sort()).toEqual(['elu', 'gelu', 'mish', 'sigmoid', 'silu', 'softplus', 'swish', 'tanh']);
    const g = ignis.activations.info('gelu').approx!.fast!;
    expect(g.maxAbsError).toBeGreaterThan(0);
    expect(g.maxAbsError).toBeLessThan(1e-4);
    expect(g.variants!.gelu_tanh).toBeGreaterThan(0);
    expect(ignis.activations.info('relu').approx).toBeUndefined();
  });

  it('`ignis activations gelu` prints the bound', () => {
    const r = cli(['activations', 'gelu']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`  approx      'fast': max abs error ${fastBound('gelu').toExponential(1)}, gelu_tanh 3.2e-6`);
  });

  it('a wrong value or an activation without a fast path is a ValueError naming the choices', () => {
    expect(() => F.gelu(x, { approx: 'lut' })).toThrow(ValueError);
    expect(() => F.gelu(x, { approx: 'lut' })).toThrow(/gelu: approx must be 'none' or 'fast', got 'lut'/);
    expect(() => F.gelu(x, { approx: true })).toThrow(/gelu: approx must be 'none' or 'fast', got true/);
    expect(() => F.relu(x, { approx: 'fast' })).toThrow(ValueError);
    expect(() => F.relu(x, { approx: 'fast' })).toThrow(/relu: approx must be 'none', got 'fast' \(relu has no fast approximation; activations with one: .*gelu/);
    expect(() => F.softmax(x, { dim: 0, approx: 'fast' })).toThrow(/softmax: approx must be 'none'/);
    expect(() => new nn.ReLU({ approx: 'fast' })).toThrow(/relu: approx must be 'none'/);
    expect(() => new nn.GELU({ approx: 'lut' })).toThrow(ValueError);
    expect(() => nn.activation('hardswish', { approx: 'fast' })).toThrow(/hardswish: approx must be 'none'/);
    expect(() => new nn.Swish({ approx: 'lut' as 'fast' })).toThrow(/swish: approx must be 'none' or 'fast'/);
  });

  it('a learnable swish beta is a composition (exact) and still accepts the option', () => {
    const s = new nn.Swish({ learnable: true, approx: 'fast' });
    const y = s.call(x) as Tensor;
    expect(y.toArray()).toEqual(F.swish(x).toArray());
  });
});
