/**
 * The specialised native paths give the same results as the general ones: reductions whose kept
 * innermost dim is contiguous ("vertical": rows added at once), vectorised max/min of contiguous
 * runs (NaN wins), pow with the common scalar exponents (x*x, sqrt, reciprocal...), the
 * transcendental unary ops on vmath.h, and binary ops with streaming stores (outputs of 8 MiB and
 * more, native/cpu/stream.h). References are plain JS loops / Math functions.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { mulberry32 } from '../util/inputs';

const rnd = mulberry32(99);
const flat = (t: ignis.Tensor): number[] => Array.from(t.dataSync() as ArrayLike<number>, Number);

/** JS reference: reduce a C-contiguous array of `shape` over `dims` with (acc, v) => acc'. */
function refReduce(v: number[], shape: number[], dims: number[], init: (x: number) => number, step: (a: number, x: number) => number): number[] {
  const nd = shape.length;
  const kept = shape.map((n, d) => (dims.includes(d) ? 1 : n));
  const out = new Map<number, number>();
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const kstr = kept.map((_, d) => kept.slice(d + 1).reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) {
    let o = 0;
    for (let d = 0; d < nd; d++) {
      const idx = Math.floor(i / strides[d]) % shape[d];
      if (!dims.includes(d)) o += idx * kstr[d];
    }
    out.set(o, out.has(o) ? step(out.get(o)!, v[i]) : init(v[i]));
  }
  return [...out.keys()].sort((a, b) => a - b).map((k) => out.get(k)!);
}

const nanMax = (a: number, x: number): number => (Number.isNaN(a) || Number.isNaN(x) ? NaN : Math.max(a, x));
const nanMin = (a: number, x: number): number => (Number.isNaN(a) || Number.isNaN(x) ? NaN : Math.min(a, x));

describe('reductions: vertical and vectorised paths match a JS reference', () => {
  const cases: [number[], number[]][] = [
    [[7, 300], [0]],
    [[5, 3, 260], [1]],
    [[4, 6, 5, 3], [0, 1]],
    [[3, 4, 2, 515], [0, 2]],
    [[2, 3, 4], [0, 2]],
    [[513, 2], [0]],
    [[6, 1000], [1]],
  ];
  for (const dtype of ['float32', 'float64'] as const)
    it.each(cases)(`${dtype} shape %j over dims %j: sum, amax, amin (with NaN and ±inf)`, (shape, dims) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const v = Array.from({ length: n }, () => (rnd() * 2 - 1) * 100);
      v[3] = NaN;
      v[n - 2] = Infinity;
      v[Math.floor(n / 2)] = -Infinity;
      const src = dtype === 'float32' ? Float32Array.from(v) : Float64Array.from(v);
      const x = ignis.tensor(src, { shape });
      const vals = Array.from(src);
      expect(flat(x.amax(dims))).toEqual(refReduce(vals, shape, dims, (a) => a, nanMax));
      expect(flat(x.amin(dims))).toEqual(refReduce(vals, shape, dims, (a) => a, nanMin));
      const s = flat(x.sum(dims));
      const want = refReduce(vals, shape, dims, (a) => a, (a, b) => a + b);
      s.forEach((g, i) => {
        if (Number.isNaN(want[i])) expect(Number.isNaN(g)).toBe(true);
        else if (!Number.isFinite(want[i])) expect(g).toBe(want[i]);
        else expect(Math.abs(g - want[i])).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want[i])));
      });
    });

  it('integer and bool sums (int64 results) and integer max over an outer dim', () => {
    const x = ignis.arange(2 * 3 * 300, { dtype: 'int32' }).reshape([2, 3, 300]);
    const v = flat(x);
    expect(flat(x.sum(1))).toEqual(refReduce(v, [2, 3, 300], [1], (a) => a, (a, b) => a + b));
    expect(x.sum(1).dtype).toBe('int64');
    expect(flat(x.amax(0))).toEqual(refReduce(v, [2, 3, 300], [0], (a) => a, Math.max));
    const b = x.gt(400);
    expect(flat(b.sum(0))).toEqual(refReduce(flat(b), [2, 3, 300], [0], (a) => a, (a, c) => a + c));
  });

  it('all -inf rows and a NaN inside a long contiguous run', () => {
    const x = ignis.full([3, 1000], -Infinity);
    expect(flat(x.amax(1))).toEqual([-Infinity, -Infinity, -Infinity]);
    expect(flat(x.amax(0)).every((v) => v === -Infinity)).toBe(true);
    const y = ignis.randn([2, 5000]);
    y.select(0, 1).narrow(0, 4321, 1).fill_(NaN);
    const m = flat(y.amax(1));
    expect(Number.isNaN(m[1])).toBe(true);
    expect(Number.isNaN(m[0])).toBe(false);
  });
});

describe('pow with a scalar exponent and the vmath unary ops', () => {
  const special = [-2, -0, 0, 1.5, 4, 1e-3, 7.25, NaN, Infinity, -Infinity];
  it.each([2, 3, 1, 0, 0.5, -0.5, -1, -2, 2.5])('x ** %d equals Math.pow (sqrt rules at 0.5 as PyTorch)', (e) => {
    const x = ignis.tensor(Float64Array.from(special));
    const got = flat(x.pow(e));
    special.forEach((v, i) => {
      // PyTorch takes sqrt for 0.5 and 1 / sqrt for -0.5: sqrt(-inf) is NaN, sqrt(-0) is -0
      let want = Math.pow(v, e);
      if (e === 0.5) want = Math.sqrt(v);
      if (e === -0.5) want = 1 / Math.sqrt(v);
      if (Number.isNaN(want)) expect(Number.isNaN(got[i]), `${v} ** ${e}`).toBe(true);
      else expect(got[i], `${v} ** ${e}`).toBeCloseTo(want, 12);
    });
  });

  it('exp, log, log1p, expm1, tanh, sigmoid, erf: close to Math (float64) on random and edge inputs', () => {
    const v = [...Array.from({ length: 2000 }, () => (rnd() * 2 - 1) * 30), 0, -0, 1e-10, -1e-10, 700, -700, Infinity, -Infinity, NaN];
    const x = ignis.tensor(Float64Array.from(v));
    const pos = ignis.tensor(Float64Array.from(v.map(Math.abs)));
    const erf = (z: number): number => {
      // Abramowitz-Stegun 7.1.26 is too coarse: use the series / continued fraction via Math
      let s = 0;
      let term = z;
      for (let k = 0; k < 200 && Math.abs(term) > 1e-300; k++) {
        s += term / (2 * k + 1);
        term *= (-z * z) / (k + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * s;
    };
    const checks: [string, ignis.Tensor, (z: number) => number, number[]][] = [
      ['exp', x.exp(), Math.exp, v],
      ['expm1', x.expm1(), Math.expm1, v],
      ['tanh', x.tanh(), Math.tanh, v],
      ['sigmoid', x.sigmoid(), (z) => 1 / (1 + Math.exp(-z)), v],
      ['log', pos.log(), Math.log, v.map(Math.abs)],
      ['log1p', pos.log1p(), Math.log1p, v.map(Math.abs)],
      ['erf', ignis.tensor(Float64Array.from(v.map((z) => z / 10))).erf(), (z) => (Number.isNaN(z) ? NaN : Math.abs(z) > 5 ? Math.sign(z) : erf(z)), v.map((z) => z / 10)],
    ];
    for (const [name, t, f, inp] of checks) {
      const got = flat(t);
      inp.forEach((z, i) => {
        const want = f(z);
        if (Number.isNaN(want)) expect(Number.isNaN(got[i]), `${name}(${z})`).toBe(true);
        else if (!Number.isFinite(want)) expect(got[i], `${name}(${z})`).toBe(want);
        else expect(Math.abs(got[i] - want), `${name}(${z}) = ${got[i]} vs ${want}`).toBeLessThanOrEqual(1e-13 * Math.abs(want) + 1e-300);
      });
    }
  });
});

describe('fill_ with NaN', () => {
  it('fills float tensors with NaN (as PyTorch) and rejects it for integer tensors', () => {
    expect(flat(ignis.zeros([3]).fill_(NaN)).every(Number.isNaN)).toBe(true);
    expect(() => ignis.zeros([3], { dtype: 'int32' }).fill_(NaN)).toThrow(ignis.ValueError);
  });
});

describe('composite ops free their intermediates when no graph can keep them (ops.scoped)', () => {
  it('logsumexp, var, norm, layerNorm, groupNorm: only the results stay alive; gradients unchanged', () => {
    const x = ignis.randn([4, 6, 10]);
    const live = (): number => ignis.memory().cpu.tensors;
    const before = live();
    const keep = [x.logsumexp(-1), x.var(1), x.norm(2, 2), x.norm(3), ignis.F.layerNorm(x, [10]), ignis.F.groupNorm(x, 2)];
    expect(live() - before).toBe(keep.length);
    const y = ignis.F.layerNorm(x, [10]);
    expect(flat(y)).toEqual(flat(keep[4]));
    // with autograd recording the intermediates are kept for backward and the gradient is right
    const w = ignis.randn([3, 5], { dtype: 'float64', requiresGrad: true });
    expect(ignis.gradcheck((t: ignis.Tensor) => t.logsumexp(1), [w])).toBe(true);
    expect(ignis.gradcheck((t: ignis.Tensor) => t.var(0), [w])).toBe(true);
  });
});

describe('binary ops on large tensors (streaming stores from 8 MiB of output)', () => {
  it('add, mul, div, sub, float32 and float64, in place and offset views: as a JS loop', () => {
    for (const [dtype, n] of [['float32', (1 << 21) + 37], ['float64', (1 << 20) + 5]] as const) {
      const av = Array.from({ length: n + 3 }, () => rnd() * 4 - 2);
      const bv = Array.from({ length: n }, () => rnd() * 4 + 0.5);
      const round = dtype === 'float32' ? Math.fround : (v: number) => v;
      // a view starting 3 elements in: the output is fresh (aligned), the inputs are not
      const a = ignis.tensor(av, { dtype }).narrow(0, 3, n);
      const b = ignis.tensor(bv, { dtype });
      const ops: [string, (x: ignis.Tensor, y: ignis.Tensor) => ignis.Tensor, (x: number, y: number) => number][] = [
        ['add', ignis.add, (x, y) => x + y],
        ['mul', ignis.mul, (x, y) => x * y],
        ['div', ignis.div, (x, y) => x / y],
        ['sub', ignis.sub, (x, y) => x - y],
      ];
      for (const [name, f, ref] of ops) {
        const got = flat(f(a, b));
        let bad = 0;
        for (let i = 0; i < n; i++) if (got[i] !== round(ref(round(av[i + 3]), round(bv[i])))) bad++;
        expect(bad, `${name} ${dtype}`).toBe(0);
      }
      // in place into an unaligned view: head, streamed body and tail
      const base = ignis.tensor(av, { dtype });
      const view = base.narrow(0, 3, n);
      view.mul_(b);
      const got = flat(base);
      let bad = 0;
      for (let i = 0; i < n + 3; i++) if (got[i] !== (i < 3 ? round(av[i]) : round(round(av[i]) * round(bv[i - 3])))) bad++;
      expect(bad, `mul_ ${dtype}`).toBe(0);
    }
  });
});
