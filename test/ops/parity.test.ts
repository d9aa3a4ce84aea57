/**
 * PyTorch parity: every case of test/fixtures/core.json (written by scripts/gen_fixtures.py)
 * is replayed through Ignis; forward outputs and input gradients must match PyTorch's.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { DType, Tensor } from '../../src';
import { decode, FCase, FTensor, loadFixture, Num, toTensor, values } from '../util/fixtures';

const fixture = loadFixture<{ generator: string; cases: FCase[] }>('core.json');

function compare(what: string, actual: Tensor, expected: FTensor): void {
  expect([...actual.shape], `${what}: shape`).toEqual(expected.shape);
  expect(actual.dtype, `${what}: dtype`).toBe(expected.dtype);
  const a = values(actual);
  const e = expected.data.map(decode);
  expect(a.length, `${what}: numel`).toBe(e.length);
  // float64: 1e-12. float32: 1e-6 rel / 1e-6 abs; reductions and transcendental functions in
  // float32 accumulate in a different order / use different approximations than PyTorch's
  // vectorised kernels, so a few float32 ops may differ by a couple of ulps - still under 1e-6.
  const tol = expected.dtype === 'float64' ? 1e-12 : expected.dtype === 'float32' ? 1e-6 : 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i];
    const y = e[i];
    if (Number.isNaN(y)) {
      expect(Number.isNaN(x), `${what}[${i}]: expected NaN, got ${x}`).toBe(true);
      continue;
    }
    if (!Number.isFinite(y) || tol === 0) {
      expect(x, `${what}[${i}]`).toBe(y);
      continue;
    }
    const ok = Math.abs(x - y) <= tol + tol * Math.abs(y);
    expect(ok, `${what}[${i}]: got ${x}, expected ${y} (|diff| ${Math.abs(x - y)})`).toBe(true);
  }
}

type Out = Tensor | Tensor[];
type Runner = (ins: Tensor[], at: Record<string, any>) => Out;

const num = (v: Num | undefined): number | undefined => (v === undefined || v === null ? undefined : decode(v));
const bin = (f: (a: Tensor, b: Tensor | number) => Tensor): Runner => (ins, at) =>
  at.scalar !== undefined ? f(ins[0], decode(at.scalar)) : f(ins[0], ins[1]);
const un = (f: (x: Tensor) => Tensor): Runner => (ins) => f(ins[0]);
const red = (f: (x: Tensor, dim: number | number[] | null, keepdim: boolean) => Tensor): Runner => (ins, at) =>
  f(ins[0], at.dim, at.keepdim);

const OPS: Record<string, Runner> = {
  add: bin(ignis.add),
  sub: bin(ignis.sub),
  mul: bin(ignis.mul),
  div: bin(ignis.div),
  pow: bin(ignis.pow),
  maximum: (ins) => ignis.maximum(ins[0], ins[1]),
  minimum: (ins) => ignis.minimum(ins[0], ins[1]),
  eq: bin(ignis.eq),
  ne: bin(ignis.ne),
  lt: bin(ignis.lt),
  le: bin(ignis.le),
  gt: bin(ignis.gt),
  ge: bin(ignis.ge),
  neg: un(ignis.neg),
  abs: un(ignis.abs),
  sign: un(ignis.sign),
  exp: un(ignis.exp),
  log: un(ignis.log),
  log1p: un(ignis.log1p),
  expm1: un(ignis.expm1),
  sqrt: un(ignis.sqrt),
  rsqrt: un(ignis.rsqrt),
  sin: un(ignis.sin),
  cos: un(ignis.cos),
  tanh: un(ignis.tanh),
  sigmoid: un(ignis.sigmoid),
  erf: un(ignis.erf),
  floor: un(ignis.floor),
  ceil: un(ignis.ceil),
  round: un(ignis.round),
  reciprocal: un(ignis.reciprocal),
  clamp: (ins, at) => ignis.clamp(ins[0], num(at.min), num(at.max)),
  sum: red((x, d, k) => x.sum(d, k)),
  mean: red((x, d, k) => x.mean(d, k)),
  prod: red((x, d, k) => x.prod(d, k)),
  amax: red((x, d, k) => x.amax(d, k)),
  amin: red((x, d, k) => x.amin(d, k)),
  logsumexp: red((x, d, k) => x.logsumexp(d ?? x.shape.map((_, i) => i), k)),
  var: (ins, at) => ins[0].var(at.dim, { correction: at.correction, keepdim: at.keepdim }),
  std: (ins, at) => ins[0].std(at.dim, { correction: at.correction, keepdim: at.keepdim }),
  norm: (ins, at) => ins[0].norm(decode(at.p), at.dim, at.keepdim),
  max: (ins, at) => [...ins[0].max(at.dim, at.keepdim)],
  min: (ins, at) => [...ins[0].min(at.dim, at.keepdim)],
  argmax: (ins, at) => ins[0].argmax(at.dim, at.keepdim),
  argmin: (ins, at) => ins[0].argmin(at.dim, at.keepdim),
  matmul: (ins) => ignis.matmul(ins[0], ins[1]),
  mm: (ins) => ignis.mm(ins[0], ins[1]),
  bmm: (ins) => ignis.bmm(ins[0], ins[1]),
  softmax: (ins, at) => ignis.softmax(ins[0], at.dim),
  log_softmax: (ins, at) => ignis.logSoftmax(ins[0], at.dim),
  where: (ins) => ignis.where(ins[0], ins[1], ins[2]),
  masked_fill: (ins, at) => ins[0].maskedFill(ins[1], decode(at.value)),
  gather: (ins, at) => ignis.gather(ins[0], at.dim, ins[1]),
  scatter: (ins, at) => ignis.scatter(ins[0], at.dim, ins[1], ins[2]),
  scatter_add: (ins, at) => ignis.scatterAdd(ins[0], at.dim, ins[1], ins[2]),
  one_hot: (ins, at) => ignis.oneHot(ins[0], at.numClasses),
  reshape: (ins, at) => ins[0].reshape(at.shape),
  permute: (ins, at) => ins[0].permute(at.dims),
  transpose: (ins, at) => ins[0].transpose(at.dim0, at.dim1),
  squeeze: (ins, at) => ins[0].squeeze(at.dim ?? undefined),
  unsqueeze: (ins, at) => ins[0].unsqueeze(at.dim),
  expand: (ins, at) => ins[0].expand(at.shape),
  narrow: (ins, at) => ins[0].narrow(at.dim, at.start, at.length),
  select: (ins, at) => ins[0].select(at.dim, at.index),
  flatten: (ins, at) => ins[0].flatten(at.startDim, at.endDim),
  cat: (ins, at) => ignis.cat(ins, at.dim),
  stack: (ins, at) => ignis.stack(ins, at.dim),
  split: (ins, at) => ins[0].split(at.splitSize, at.dim),
  chunk: (ins, at) => ins[0].chunk(at.chunks, at.dim),
  to_dtype: (ins, at) => ins[0].to(at.dtype as DType),
};

describe(`PyTorch parity (${fixture.generator})`, () => {
  it('maps every fixture op', () => {
    const unmapped = [...new Set(fixture.cases.map((c) => c.op))].filter((op) => !(op in OPS));
    expect(unmapped).toEqual([]);
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const run = OPS[c.op];
    if (!run) throw new Error(`unmapped fixture op '${c.op}'`);
    const wantGrad = c.grads.some((g) => g !== null);
    const ins = c.inputs.map((t, i) => toTensor(t, wantGrad && c.grads[i] !== null));
    const res = run(ins, c.attrs);
    const outs = Array.isArray(res) ? res : [res];
    const expected = c.outputs ?? [c.output!];
    expect(outs.length, 'number of outputs').toBe(expected.length);
    outs.forEach((o, i) => compare(`output ${i}`, o, expected[i]));

    if (!wantGrad) return;
    // which outputs receive a gradient: gradOutputs (split/chunk), or gradOutput for output 0
    const gOuts: Tensor[] = [];
    const gIns: Tensor[] = [];
    if (c.gradOutputs) {
      c.gradOutputs.forEach((g, i) => {
        gOuts.push(outs[i]);
        gIns.push(toTensor(g));
      });
    } else {
      gOuts.push(outs[0]);
      gIns.push(toTensor(c.gradOutput!));
    }
    const diff = ins.filter((_, i) => c.grads[i] !== null);
    const grads = ignis.autograd.grad(gOuts, diff, { gradOutputs: gIns, allowUnused: true });
    let k = 0;
    c.grads.forEach((g, i) => {
      if (g === null) return;
      const got = grads[k++] ?? ignis.zerosLike(ins[i]);
      compare(`grad ${i}`, got, g);
    });
  });
});
