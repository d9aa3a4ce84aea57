/** nn.init: gains vs PyTorch, bounds and statistics of each initialiser, reproducibility, noGrad. */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { loadFixture } from '../util/fixtures';

const { nn } = ignis;
const init = nn.init;
const gains = loadFixture<{ gains: { nonlinearity: string; param: number | null; value: number }[] }>('layers.json').gains;

const vals = (t: Tensor): number[] => Array.from(t.double().dataSync() as Float64Array);
const vmax = (v: number[]): number => v.reduce((a, b) => Math.max(a, b), -Infinity);
const vmin = (v: number[]): number => v.reduce((a, b) => Math.min(a, b), Infinity);
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const std = (v: number[]): number => {
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
};

describe('calculateGain', () => {
  it.each(gains.map((g) => [`${g.nonlinearity}(${g.param})`, g] as const))('%s matches PyTorch', (_n, g) => {
    expect(init.calculateGain(g.nonlinearity, g.param)).toBeCloseTo(g.value, 14);
  });
  it('camelCase names and errors', () => {
    expect(init.calculateGain('leakyRelu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 14);
    expect(init.calculateGain('convTranspose2d')).toBe(1);
    expect(() => init.calculateGain('swishy')).toThrow(/unsupported nonlinearity/);
  });
});

describe('initialisers', () => {
  it('kaimingUniform_: bound gain*sqrt(3/fan), fanIn and fanOut modes', () => {
    ignis.manualSeed(0);
    const w = ignis.empty([256, 128, 3, 3]);
    init.kaimingUniform_(w, { nonlinearity: 'relu' });
    const b = Math.SQRT2 * Math.sqrt(3 / (128 * 9));
    const v = vals(w);
    expect(vmax(v)).toBeLessThanOrEqual(b);
    expect(vmin(v)).toBeGreaterThanOrEqual(-b);
    expect(vmax(v)).toBeGreaterThan(0.999 * b);
    expect(Math.abs(std(v) - b / Math.sqrt(3))).toBeLessThan(0.01 * b);
    init.kaimingUniform_(w, { mode: 'fanOut', nonlinearity: 'relu' });
    const b2 = Math.SQRT2 * Math.sqrt(3 / (256 * 9));
    expect(vmax(vals(w))).toBeLessThanOrEqual(b2);
    // default a=0 leaky_relu -> gain sqrt(2); a=sqrt(5) -> 1/sqrt(fanIn) bound
    init.kaimingUniform_(w, { a: Math.sqrt(5) });
    expect(vmax(vals(w))).toBeLessThanOrEqual(1 / Math.sqrt(128 * 9));
  });

  it('kaimingNormal_ and xavier: standard deviations', () => {
    ignis.manualSeed(1);
    const w = ignis.empty([300, 200]);
    init.kaimingNormal_(w, { nonlinearity: 'relu' });
    expect(std(vals(w))).toBeCloseTo(Math.sqrt(2 / 200), 2);
    init.kaimingNormal_(w, { mode: 'fanOut', nonlinearity: 'selu' });
    expect(std(vals(w))).toBeCloseTo(0.75 / Math.sqrt(300), 2);
    init.xavierNormal_(w, { gain: 2 });
    expect(std(vals(w))).toBeCloseTo(2 * Math.sqrt(2 / 500), 2);
    init.xavierUniform_(w);
    const a = Math.sqrt(6 / 500);
    const v = vals(w);
    expect(vmax(v)).toBeLessThanOrEqual(a);
    expect(vmax(v)).toBeGreaterThan(0.99 * a);
  });

  it('orthogonal_: rows (or columns) orthonormal, times gain; works for wide and conv shapes', () => {
    ignis.manualSeed(2);
    for (const shape of [[6, 4], [4, 6], [3, 2, 2, 2]]) {
      const w = ignis.empty(shape);
      init.orthogonal_(w, { gain: 2 });
      const m = w.reshape([shape[0], -1]).double();
      const rows = shape[0];
      const cols = m.shape[1];
      const g = rows >= cols ? ignis.matmul(m.T, m) : ignis.matmul(m, m.T);
      const n = Math.min(rows, cols);
      const e = ignis.eye(n, { dtype: 'float64' }).mul(4);
      expect((g.sub(e).abs().amax().item() as number)).toBeLessThan(1e-5);
    }
  });

  it('constant / zeros / ones / uniform / normal / eye / dirac / truncNormal', () => {
    const t = ignis.empty([3, 4]);
    expect(init.constant_(t, 0.5).toArray()).toEqual([[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]);
    expect(vals(init.zeros_(t)).every((x) => x === 0)).toBe(true);
    expect(vals(init.ones_(t)).every((x) => x === 1)).toBe(true);
    ignis.manualSeed(3);
    const u = vals(init.uniform_(ignis.empty([10000]), -3, -1));
    expect(vmin(u)).toBeGreaterThanOrEqual(-3);
    expect(vmax(u)).toBeLessThan(-1);
    expect(mean(u)).toBeCloseTo(-2, 1);
    const nrm = vals(init.normal_(ignis.empty([10000]), 5, 0.5));
    expect(mean(nrm)).toBeCloseTo(5, 1);
    expect(std(nrm)).toBeCloseTo(0.5, 1);
    expect(init.eye_(ignis.empty([2, 3])).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    const d = init.dirac_(ignis.empty([2, 2, 3]));
    expect(d.toArray()).toEqual([[[0, 1, 0], [0, 0, 0]], [[0, 0, 0], [0, 1, 0]]]);
    const tn = vals(init.truncNormal_(ignis.empty([5000]), { std: 1, a: -0.5, b: 1 }));
    expect(vmin(tn)).toBeGreaterThanOrEqual(-0.5);
    expect(vmax(tn)).toBeLessThanOrEqual(1);
  });

  it('reproducible with manualSeed or a Generator; never recorded by autograd', () => {
    const p = new nn.Parameter(ignis.empty([4, 4]));
    ignis.manualSeed(9);
    init.kaimingUniform_(p);
    const a = p.toArray();
    ignis.manualSeed(9);
    init.kaimingUniform_(p);
    expect(p.toArray()).toEqual(a);
    expect(p.isLeaf).toBe(true);
    expect(p.requiresGrad).toBe(true);
    const g1 = new ignis.Generator(5);
    const g2 = new ignis.Generator(5);
    expect(init.xavierNormal_(ignis.empty([3, 3]), { generator: g1 }).toArray()).toEqual(
      init.xavierNormal_(ignis.empty([3, 3]), { generator: g2 }).toArray(),
    );
  });

  it('errors', () => {
    expect(() => init.kaimingUniform_(ignis.empty([3]))).toThrow(/fewer than 2 dimensions/);
    expect(() => init.xavierUniform_(ignis.zeros([2, 2], { dtype: 'int64' }))).toThrow(ignis.DTypeError);
    expect(() => init.kaimingNormal_(ignis.empty([2, 2]), { mode: 'fan' as never })).toThrow(/mode/);
  });
});
