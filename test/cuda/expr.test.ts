/**
 * Expression activations on CUDA: kernels generated from the expression (expr_cuda.ts), compiled
 * with NVRTC at first use and cached per (source, device). Forward and backward are compared with
 * the CPU interpreter on the same inputs (NaN, infinities and overflow points included), through
 * autograd too; the cache and the compile error path are checked through the addon's counters.
 * Needs a GPU (skipped with a note otherwise); the compile side is tested without one in
 * test/activations/expr_cuda.test.ts.
 */
import { afterAll, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { addon } from '../../src/native';
import { EXPR_CASES, exprGrads, exprInputs } from '../util/expr_cases';
import { describeCuda, expectClose } from './helpers';

const names: string[] = [];
let counter = 0;
const uniq = (b: string): string => {
  const n = `${b}_cuda_expr_${++counter}_${Date.now()}`;
  names.push(n);
  return n;
};
afterAll(() => names.forEach((n) => ignis.activations.undefine(n)));

// CUDA's libdevice and glibc differ by a few ulp in exp, erf, tanh, pow...
const TOL = { float32: [2e-5, 2e-6], float64: [1e-11, 1e-12] } as const;

describeCuda('expression activations on CUDA (NVRTC)', () => {
  it.each(EXPR_CASES.map(([e, p]) => [e, p] as const))('%s %j: forward and backward match the CPU interpreter', (src, params) => {
    const act = ignis.defineActivation({ name: uniq('e'), expr: src, params });
    const xs = exprInputs(), gs = exprGrads(xs.length);
    for (const dtype of ['float32', 'float64'] as const) {
      const [rt, at] = TOL[dtype];
      const x = ignis.tensor(xs, { dtype }), g = ignis.tensor(gs, { dtype });
      const ex = act.expr!;
      const want = act(x);
      const got = act(x.cuda());
      expect(got.device).toBe('cuda:0');
      expectClose(got, want, rt, at, `${src} forward ${dtype}`);
      // backward: through autograd on both devices
      const xc = x.detach().requiresGrad_(), xg = x.cuda().detach().requiresGrad_();
      act(xc).backward(g);
      act(xg).backward(g.cuda());
      expect(xg.grad!.device).toBe('cuda:0');
      expectClose(xg.grad!, xc.grad!, rt, at, `${src} backward ${dtype}`);
      // other parameter values reuse the kernels (they are arguments) and still match
      if (Object.keys(params).length) {
        const p2 = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v * 0.5 + 0.25]));
        expectClose(act(x.cuda(), p2), act(x, p2), rt, at, `${src} forward ${dtype} with ${JSON.stringify(p2)}`);
      }
      expect(ex.cudaSource().params).toEqual(Object.keys(params));
    }
  });

  it('strided, broadcast-free views and odd offsets (no 16-byte alignment) give the same values', () => {
    const act = ignis.defineActivation({ name: uniq('strided'), expr: 'x * tanh(softplus(x)) + a', params: { a: 0.5 } });
    ignis.manualSeed(3);
    const base = ignis.randn([33, 17]).mul(3);
    const views: [string, (t: Tensor) => Tensor][] = [
      ['transposed', (t) => t.t()],
      ['offset by one element', (t) => t.reshape([-1]).narrow(0, 1, 33 * 17 - 1)],
      ['empty', (t) => t.narrow(0, 0, 0)],
      ['one element', (t) => t.narrow(0, 2, 1).narrow(1, 3, 1)],
    ];
    for (const [what, v] of views) {
      const want = act(v(base));
      expectClose(act(v(base.cuda())), want, 2e-5, 2e-6, what);
    }
  });

  it('compiles once per (source, device): a second use, new parameter values and a twin formula hit the cache', () => {
    const src = `x * sigmoid(b * x) + ${Date.now() % 1000}`; // a source no other test compiled
    const a = ignis.defineActivation({ name: uniq('cache_a'), expr: src, params: { b: 1 } });
    const x = ignis.randn([1000], { device: 'cuda' });
    const s0 = ignis.cuda.kernelCacheStats();
    const t0 = performance.now();
    a(x).sum().item();
    const first = performance.now() - t0;
    const s1 = ignis.cuda.kernelCacheStats();
    expect(s1.compiles).toBe(s0.compiles + 1);
    expect(s1.loads).toBe(s0.loads + 1);
    a(x).sum().item();
    a(x, { b: 2 }).sum().item();
    a(x.double()).sum().item(); // float64 is in the same source
    expect(ignis.cuda.kernelCacheStats()).toMatchObject({ compiles: s1.compiles, loads: s1.loads });
    // another activation with the same formula: the addon's cache (no compile, no load)
    const b = ignis.defineActivation({ name: uniq('cache_b'), expr: src, params: { b: 3 } });
    b(x).sum().item();
    const s2 = ignis.cuda.kernelCacheStats();
    expect(s2).toMatchObject({ compiles: s1.compiles, loads: s1.loads, hits: s1.hits + 1 });
    console.log(`[ignis] expression activation: first CUDA use ${first.toFixed(0)} ms (NVRTC compile + load), compile total ${s2.compileMs.toFixed(0)} ms`);
  });

  it('a source that does not compile is a CompileError with NVRTC\'s log, and the device stays usable', () => {
    let err: unknown;
    try {
      addon.rtcExprLoad('extern "C" __global__ void ignis_expr_fwd_f32() { undefined_thing(); }', 0, 1, 'broken_act');
    } catch (e) {
      err = e;
    }
    expect((err as { kind: string }).kind).toBe('CompileError');
    expect((err as Error).message).toMatch(/^broken_act: NVRTC [\d.]+ could not compile the generated kernel for (sm|compute)_\d+/);
    expect((err as Error).message).toMatch(/undefined_thing/);
    // a source that compiles but lacks the kernels: a typed error from the load, not a crash
    expect(() => addon.rtcExprLoad('extern "C" __global__ void something_else() {}', 0, 1, 'incomplete_act')).toThrow(/incomplete_act: loading the .* failed: .*cudaLibraryGetKernel\(ignis_expr_fwd_f32\)/);
    expect(ignis.ones([4], { device: 'cuda' }).sum().item()).toBe(4);
  });

  it('bad arguments to the launch entry are typed errors', () => {
    const act = ignis.defineActivation({ name: uniq('args'), expr: 'a * x', params: { a: 2 } });
    const x = ignis.ones([8], { device: 'cuda' });
    expect(act(x).sum().item()).toBe(16);
    const id = addon.rtcExprLoad(act.expr!.cudaSource().source, 1, 1, 'args');
    expect(() => addon.rtcExpr(id, false, new Float64Array(3), null, x._storage.live('t'))).toThrow(/takes 1 parameter\(s\), got 3/);
    expect(() => addon.rtcExpr(12345, false, new Float64Array(1), null, x._storage.live('t'))).toThrow(/unknown run-time kernel id/);
  });
}, { rtc: true });
