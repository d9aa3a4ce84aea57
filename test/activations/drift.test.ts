/**
 * Drift between the two activation tables: native/ops/activations.def (seen through the addon's
 * info.activations / info.activationParams) and src/activations/table.ts (ACTIVATIONS rows with a
 * `kernel`, plus KERNEL_VARIANTS; the ACT_FAST rows against the rows' `approx` records). Adding a row
 * to one table and not the other fails here.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
// KERNEL_VARIANTS is not re-exported from the package index: read it from the table module
import { KERNEL_VARIANTS } from '../../src/activations/table';
import { compile } from '../../src/activations/expr';
import { kernelDerivative } from '../../src/activations/higher';
import { KERNEL_DERIVATIVES } from '../../src/activations/table';
import * as K from '../../src/kernels';
import { info } from '../../src/native';
import { mulberry32 } from '../util/inputs';

const { ACTIVATIONS } = ignis.activations;

const native = new Map<string, number>(info.activations.map((n, i) => [n, info.activationParams[i]]));
const rowsWithKernel = ACTIVATIONS.filter((r) => r.kernel !== null);

/** parameters that go to the kernel: every TS parameter except non-numeric / module-only ones */
function kernelParamCount(name: string): number {
  const row = ACTIVATIONS.find((r) => r.name === name)!;
  // gelu's `approximate` picks the kernel (gelu / gelu_tanh); swish's `learnable` is a module flag
  return row.params.filter((p) => typeof p.default === 'number' || p.default === null).length;
}

describe('activation table drift (activations.def vs table.ts)', () => {
  it('the native table is well-formed', () => {
    expect(info.activations.length).toBeGreaterThan(0);
    expect(info.activationParams.length).toBe(info.activations.length);
    expect(new Set(info.activations).size).toBe(info.activations.length);
    for (const n of info.activationParams) expect(n >= 0 && n <= 3 && Number.isInteger(n)).toBe(true);
  });

  it.each(info.activations.map((k) => [k]))('native kernel %s has a TS row or variant with the same parameter count', (k) => {
    const nparams = native.get(k)!;
    const row = rowsWithKernel.find((r) => r.kernel === k);
    const variant = KERNEL_VARIANTS[k];
    expect(row || variant, `kernel '${k}' in activations.def has no row in table.ts (and is no KERNEL_VARIANTS entry)`).toBeTruthy();
    if (row) expect(kernelParamCount(row.name), `${k}: parameter count`).toBe(nparams);
    if (variant) {
      expect(ACTIVATIONS.some((r) => r.name === variant.row), `variant ${k} points at unknown row ${variant.row}`).toBe(true);
      expect(variant.params, `${k}: variant parameter count`).toBe(nparams);
    }
  });

  it.each(rowsWithKernel.map((r) => [r.name, r.kernel!]))('TS row %s names an existing native kernel (%s)', (_name, kernel) => {
    expect(native.has(kernel), `table.ts names kernel '${kernel}' that activations.def lacks`).toBe(true);
  });

  it('ACT_OUT rows (backward from the output) are native kernels', () => {
    expect(info.activationsFromOutput).toEqual(['sigmoid', 'tanh', 'logsigmoid']);
    for (const k of info.activationsFromOutput) expect(native.has(k), `ACT_OUT(${k})`).toBe(true);
  });

  it('every KERNEL_VARIANTS entry exists natively and is not also a row kernel', () => {
    for (const k of Object.keys(KERNEL_VARIANTS)) {
      expect(native.has(k), `variant ${k}`).toBe(true);
      expect(rowsWithKernel.some((r) => r.kernel === k)).toBe(false);
    }
  });

  it("ACT_FAST rows (approx: 'fast' forwards) and the table's `approx` records agree", () => {
    const fromTs: string[] = [];
    for (const r of ACTIVATIONS) {
      const fast = r.approx?.fast;
      if (!fast) continue;
      expect(r.kernel, `${r.name}: a fast path needs a native kernel row`).not.toBeNull();
      expect(fast.maxAbsError > 0 && fast.maxAbsError < 1e-3, `${r.name}: maxAbsError`).toBe(true);
      fromTs.push(r.kernel!);
      for (const [v, err] of Object.entries(fast.variants ?? {})) {
        expect(KERNEL_VARIANTS[v]?.row, `${r.name}: approx variant ${v} is a KERNEL_VARIANTS entry of the row`).toBe(r.name);
        expect(err > 0 && err < 1e-3).toBe(true);
        fromTs.push(v);
      }
    }
    expect([...info.activationsFast].sort(), 'ACT_FAST rows in activations.def vs approx.fast in table.ts').toEqual(fromTs.sort());
    for (const k of info.activationsFast) expect(native.has(k), `ACT_FAST(${k}) names an ACT row`).toBe(true);
  });

  it('rows are unique and self-consistent', () => {
    const names = ACTIVATIONS.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(ACTIVATIONS.map((r) => r.module)).size).toBe(names.length);
    expect(new Set(ACTIVATIONS.map((r) => r.fn)).size).toBe(names.length);
    for (const r of ACTIVATIONS) {
      expect(r.range[0] <= r.range[1], `${r.name}: range`).toBe(true);
      expect(typeof (ignis.F as unknown as Record<string, unknown>)[r.fn], `F.${r.fn}`).toBe('function');
      // a kernel row is elementwise; the compositions (prelu, glu, softmax...) are not kernels
      if (r.kernel) expect(r.elementwise, `${r.name}: kernel rows are elementwise`).toBe(true);
    }
  });
});

/** parameter values per kernel for the derivative check (non-default, to catch a swapped order) */
const DPARAMS: Record<string, number[]> = {
  leaky_relu: [0.2], elu: [1.5], celu: [0.7], swish: [1.3], hardtanh: [-2, 0.5], softplus: [2, 5],
  softshrink: [0.8], hardshrink: [0.8], threshold: [0.3, 2],
};

describe("derivative expressions (higher.ts) vs the native backward kernels", () => {
  it.each(info.activations.map((k) => [k]))('%s: f\' expression = native backward with g = 1 (float64)', (k) => {
    const d = KERNEL_DERIVATIVES[k];
    expect(d, `kernel '${k}' has no derivative expression in src/activations/table.ts (KERNEL_DERIVATIVES)`).toBeTruthy();
    expect(d.params.length, `${k}: parameter count`).toBe(native.get(k));
    const params = DPARAMS[k] ?? [];
    const rnd = mulberry32(11);
    const xs = Float64Array.from({ length: 400 }, () => (rnd() * 2 - 1) * 7);
    let x = ignis.tensor(xs, { dtype: 'float64' });
    // ACT_OUT kernels take the forward's output
    if (info.activationsFromOutput.includes(k)) x = K.act(k, x, params);
    const g = ignis.onesLike(x);
    const want = K.actBackward(k, x, g, params).toArray() as number[];
    const got = K.expr(compile(kernelDerivative(k, params)), x, null, k).toArray() as number[];
    want.forEach((w, i) => expect(Math.abs(got[i] - w), `${k} at ${x.toArray()[i]}: ${got[i]} vs ${w}`).toBeLessThanOrEqual(1e-12 + 1e-10 * Math.abs(w)));
  });
});

