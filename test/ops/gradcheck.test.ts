/**
 * Finite-difference gradient checks (ignis.gradcheck, float64 central differences) for every
 * differentiable core op, plus a few second-order checks through autograd.grad(createGraph).
 * Inputs are chosen away from kinks, ties and domain edges.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { I64, inputs, numel } from '../util/inputs';

// deterministic inputs independent of the library's generator
const { rnd, U, distinct } = inputs(12345);

/** values in [lo, hi) with a random sign: bounded away from 0. */
function away0(shape: number[], lo = 0.3, hi = 1.5): Tensor {
  const v = Float64Array.from({ length: numel(shape) }, () => (rnd() < 0.5 ? -1 : 1) * (lo + (hi - lo) * rnd()));
  return ignis.tensor(v, { dtype: 'float64', shape, requiresGrad: true });
}
function B(shape: number[]): Tensor {
  return ignis.tensor(Uint8Array.from({ length: numel(shape) }, () => (rnd() < 0.5 ? 1 : 0)), { dtype: 'bool', shape });
}

type Fn = (...xs: Tensor[]) => Tensor | Tensor[];
type Case = [string, Fn, () => Tensor[], Parameters<typeof ignis.gradcheck>[2]?];

function run(cases: Case[]): void {
  it.each(cases.map((c) => [c[0], c] as const))('%s', (_n, [, fn, make, opts]) => {
    expect(ignis.gradcheck(fn, make(), opts)).toBe(true);
  });
}

// ---------------------------------------------------------------------------------------------

describe('gradcheck: binary ops', () => {
  const shapes: [string, number[], number[]][] = [
    ['same', [2, 3], [2, 3]],
    ['bcast', [2, 3, 4], [3, 1]],
    ['bcast_both', [2, 1, 3], [4, 1]],
    ['0d', [2, 3], []],
  ];
  const cases: Case[] = [];
  for (const [tag, sa, sb] of shapes) {
    cases.push([`add ${tag}`, (a, b) => ignis.add(a, b), () => [U(sa), U(sb)]]);
    cases.push([`add alpha ${tag}`, (a, b) => ignis.add(a, b, { alpha: -2.5 }), () => [U(sa), U(sb)]]);
    cases.push([`sub ${tag}`, (a, b) => ignis.sub(a, b), () => [U(sa), U(sb)]]);
    cases.push([`sub alpha ${tag}`, (a, b) => ignis.sub(a, b, { alpha: 0.5 }), () => [U(sa), U(sb)]]);
    cases.push([`mul ${tag}`, (a, b) => ignis.mul(a, b), () => [U(sa), U(sb)]]);
    cases.push([`div ${tag}`, (a, b) => ignis.div(a, b), () => [U(sa), away0(sb)]]);
    cases.push([`pow ${tag}`, (a, b) => ignis.pow(a, b), () => [U(sa, 0.3, 2), U(sb, -1.5, 1.5)]]);
    cases.push([`maximum ${tag}`, (a, b) => ignis.maximum(a, b), () => [distinct(sa), U(sb, -0.33, 0.37)]]);
    cases.push([`minimum ${tag}`, (a, b) => ignis.minimum(a, b), () => [distinct(sa), U(sb, -0.33, 0.37)]]);
    // a = b * q with q in (2.2, 2.8): no jump of trunc(a / b) within eps
    cases.push([
      `fmod ${tag}`,
      (a, b) => ignis.fmod(a, b),
      () => {
        const b = U(sb, 1, 2);
        const q = U(sa, 2.2, 2.8, false);
        const a = ignis.mul(q, b.detach()).detach().requiresGrad_();
        return [a, b];
      },
    ]);
  }
  // a tensor and a JS number, either side
  cases.push(['add scalar', (a) => ignis.add(a, 2.5), () => [U([3, 2])]]);
  cases.push(['add scalar first', (a) => ignis.add(-1.5, a), () => [U([3, 2])]]);
  cases.push(['sub scalar', (a) => ignis.sub(a, 0.7), () => [U([3, 2])]]);
  cases.push(['sub scalar first', (a) => ignis.sub(3, a), () => [U([3, 2])]]);
  cases.push(['mul scalar', (a) => ignis.mul(a, -1.75), () => [U([3, 2])]]);
  cases.push(['mul scalar first', (a) => ignis.mul(4, a), () => [U([3, 2])]]);
  cases.push(['div scalar', (a) => ignis.div(a, 0.3), () => [U([3, 2])]]);
  cases.push(['div scalar first', (a) => ignis.div(2, a), () => [away0([3, 2])]]);
  cases.push(['pow scalar exponent', (a) => ignis.pow(a, 3), () => [U([3, 2])]]);
  cases.push(['pow scalar fractional exponent', (a) => ignis.pow(a, -1.5), () => [U([3, 2], 0.5, 2)]]);
  cases.push(['pow scalar 0 exponent', (a) => ignis.pow(a, 0), () => [U([3, 2])]]);
  cases.push(['pow scalar base', (a) => ignis.pow(2.5, a), () => [U([3, 2])]]);
  cases.push(['fmod scalar', (a) => ignis.fmod(a, 1.5), () => [U([3, 2], 0.1, 1.4)]]);
  cases.push(['method chain', (a, b) => a.mul(b).add(a.div(b.add(3))).sub(b.pow(2)), () => [U([2, 3]), U([3], 0.5, 1)]]);
  run(cases);
});

describe('gradcheck: unary ops', () => {
  const s = [2, 3, 2];
  const cases: Case[] = [
    ['neg', (x) => ignis.neg(x), () => [U(s)]],
    ['abs', (x) => ignis.abs(x), () => [away0(s)]],
    ['sign', (x) => ignis.sign(x), () => [away0(s)]],
    ['exp', (x) => ignis.exp(x), () => [U(s, -2, 2)]],
    ['log', (x) => ignis.log(x), () => [U(s, 0.2, 3)]],
    ['log1p', (x) => ignis.log1p(x), () => [U(s, -0.8, 3)]],
    ['expm1', (x) => ignis.expm1(x), () => [U(s, -2, 2)]],
    ['sqrt', (x) => ignis.sqrt(x), () => [U(s, 0.2, 3)]],
    ['rsqrt', (x) => ignis.rsqrt(x), () => [U(s, 0.2, 3)]],
    ['sin', (x) => ignis.sin(x), () => [U(s, -3, 3)]],
    ['cos', (x) => ignis.cos(x), () => [U(s, -3, 3)]],
    ['tanh', (x) => ignis.tanh(x), () => [U(s, -2, 2)]],
    ['sigmoid', (x) => ignis.sigmoid(x), () => [U(s, -3, 3)]],
    ['erf', (x) => ignis.erf(x), () => [U(s, -2, 2)]],
    // piecewise constant: values kept off the jumps
    ['floor', (x) => ignis.floor(x), () => [U(s, 0.1, 0.9)]],
    ['ceil', (x) => ignis.ceil(x), () => [U(s, -0.9, -0.1)]],
    ['round', (x) => ignis.round(x), () => [U(s, 0.6, 1.4)]],
    ['reciprocal', (x) => ignis.reciprocal(x), () => [away0(s)]],
    ['square', (x) => ignis.square(x), () => [U(s)]],
    ['clamp min max', (x) => ignis.clamp(x, -0.5, 0.5), () => [distinct([3, 4])]],
    ['clamp min only', (x) => x.clamp(-0.25), () => [distinct([3, 4])]],
    ['clamp max only', (x) => x.clamp(null, 0.15), () => [distinct([3, 4])]],
    ['clip', (x) => x.clip(-0.45, 0.25), () => [distinct([3, 4])]],
    ['method chain', (x) => x.exp().sin().mul(x.tanh()).add(x.sigmoid().log()), () => [U(s)]],
  ];
  run(cases);
});

describe('gradcheck: where / maskedFill', () => {
  // masks are fixed per case (fn runs many times inside gradcheck)
  const m34 = B([3, 4]);
  const m31 = B([3, 1]);
  const m234 = B([2, 3, 4]);
  const m4 = B([4]);
  run([
    ['where same shape', (a, b) => ignis.where(m34, a, b), () => [U([3, 4]), U([3, 4])]],
    ['where broadcast', (a, b) => ignis.where(m31, a, b), () => [U([1, 4]), U([3, 4])]],
    ['where broadcast cond', (a, b) => ignis.where(m234, a, b), () => [U([4]), U([3, 1])]],
    ['where scalar other', (a) => ignis.where(m34, a, 0.5), () => [U([3, 4])]],
    ['where scalar input', (b) => ignis.where(m34, -2, b), () => [U([3, 4])]],
    ['where method', (a, b) => a.where(a.gt(0), b), () => [away0([3, 4]), U([4])]],
    ['maskedFill', (x) => x.maskedFill(m34, -1.5), () => [U([3, 4])]],
    ['maskedFill broadcast mask', (x) => ignis.maskedFill(x, m4, 0), () => [U([2, 3, 4])]],
    ['maskedFill -inf then exp', (x) => x.maskedFill(m31, -Infinity).exp(), () => [U([3, 4])]],
  ]);
});

describe('gradcheck: reductions', () => {
  const s = [2, 3, 4];
  const dims: [string, number | number[] | null, boolean][] = [
    ['all', null, false],
    ['all keepdim', null, true],
    ['d1', 1, false],
    ['d-1 keepdim', -1, true],
    ['d[0,2]', [0, 2], false],
    ['d[0,2] keepdim', [0, 2], true],
  ];
  const cases: Case[] = [];
  for (const [tag, d, k] of dims) {
    cases.push([`sum ${tag}`, (x) => x.sum(d, k), () => [U(s)]]);
    cases.push([`mean ${tag}`, (x) => x.mean(d, k), () => [U(s)]]);
    cases.push([`prod ${tag}`, (x) => x.prod(d, k), () => [away0(s, 0.6, 1.3)]]);
    cases.push([`amax ${tag}`, (x) => x.amax(d, k), () => [distinct(s)]]);
    cases.push([`amin ${tag}`, (x) => x.amin(d, k), () => [distinct(s)]]);
    cases.push([`var ${tag}`, (x) => x.var(d, { keepdim: k }), () => [U(s)]]);
    cases.push([`var correction 0 ${tag}`, (x) => x.var(d, { keepdim: k, correction: 0 }), () => [U(s)]]);
    cases.push([`std ${tag}`, (x) => x.std(d, { keepdim: k }), () => [U(s)]]);
    cases.push([`std correction 0 ${tag}`, (x) => x.std(d, { keepdim: k, correction: 0 }), () => [U(s)]]);
    cases.push([`logsumexp ${tag}`, (x) => x.logsumexp(d ?? [0, 1, 2], k), () => [U(s, -3, 3)]]);
    cases.push([`norm p2 ${tag}`, (x) => x.norm(2, d, k), () => [U(s)]]);
    cases.push([`norm p1 ${tag}`, (x) => x.norm(1, d, k), () => [away0(s)]]);
    cases.push([`norm pinf ${tag}`, (x) => x.norm(Infinity, d, k), () => [distinct(s)]]);
    cases.push([`norm p3 ${tag}`, (x) => x.norm(3, d, k), () => [away0(s)]]);
  }
  for (const [tag, d, k] of [['d0', 0, false], ['d1', 1, false], ['d-1 keepdim', -1, true], ['d2 keepdim', 2, true]] as const) {
    cases.push([`max(dim) values ${tag}`, (x) => x.max(d, k).values, () => [distinct(s)]]);
    cases.push([`min(dim) values ${tag}`, (x) => x.min(d, k).values, () => [distinct(s)]]);
    cases.push([`max(dim) both outputs ${tag}`, (x) => x.max(d, k)[0], () => [distinct(s)]]);
  }
  cases.push(['max() all', (x) => x.max(), () => [distinct(s)]]);
  cases.push(['min() all', (x) => x.min(), () => [distinct(s)]]);
  cases.push(['max(other)', (a, b) => a.max(b), () => [distinct([3, 4]), U([4], -0.33, 0.37)]]);
  cases.push(['ignis.sum dims', (x) => ignis.sum(x, [1, 2], true), () => [U(s)]]);
  cases.push(['ignis.var', (x) => ignis.var(x, 1), () => [U(s)]]);
  cases.push(['ignis.std', (x) => ignis.std(x, [0, 1], { keepdim: true }), () => [U(s)]]);
  cases.push(['ignis.logsumexp', (x) => ignis.logsumexp(x, 0), () => [U(s)]]);
  cases.push(['ignis.norm', (x) => ignis.norm(x, 2, -1), () => [U(s)]]);
  cases.push(['ignis.prod', (x) => ignis.prod(x, 1), () => [away0(s, 0.6, 1.3)]]);
  cases.push(['reduction of a 0-d', (x) => x.sum().mul(x.mean()), () => [U([])]]);
  run(cases);
});

describe('gradcheck: matmul family', () => {
  const combos: [number[], number[]][] = [
    [[4], [4]],
    [[3, 4], [4, 2]],
    [[3, 4], [4]],
    [[4], [4, 2]],
    [[2, 3, 4], [2, 4, 2]],
    [[2, 3, 4], [4, 2]],
    [[3, 4], [2, 4, 2]],
    [[4], [2, 4, 3]],
    [[2, 3, 4], [4]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[1, 3, 4], [2, 1, 4, 2]],
    [[2, 1, 2, 3], [1, 3, 3, 2]],
  ];
  const cases: Case[] = combos.map(([sa, sb]) => [
    `matmul [${sa}] x [${sb}]`,
    (a, b) => ignis.matmul(a, b),
    () => [U(sa), U(sb)],
  ]);
  cases.push(['matmul transposed operands', (a, b) => a.t().matmul(b.transpose(0, 1)), () => [U([4, 3]), U([2, 4])]]);
  cases.push(['matmul method', (a, b) => a.matmul(b), () => [U([2, 3]), U([3, 2])]]);
  cases.push(['mm', (a, b) => ignis.mm(a, b), () => [U([3, 4]), U([4, 2])]]);
  cases.push(['mm method non-contiguous', (a, b) => a.t().mm(b), () => [U([4, 3]), U([4, 2])]]);
  cases.push(['bmm', (a, b) => ignis.bmm(a, b), () => [U([2, 3, 4]), U([2, 4, 2])]]);
  cases.push(['bmm method', (a, b) => a.bmm(b.transpose(1, 2)), () => [U([2, 3, 4]), U([2, 2, 4])]]);
  cases.push(['dot', (a, b) => ignis.dot(a, b), () => [U([5]), U([5])]]);
  cases.push(['dot method same tensor', (a) => a.dot(a), () => [U([5])]]);
  cases.push(['matmul only one operand requires grad', (a, b) => ignis.matmul(a, b), () => [U([3, 4]), U([4, 2], -1, 1, false)]]);
  run(cases);
});

describe('gradcheck: indexing ops', () => {
  run([
    ['gather d1', (x) => ignis.gather(x, 1, I64([0, 3, 1, 1, 2, 0], [3, 2])), () => [U([3, 4])]],
    ['gather d0 dup', (x) => x.gather(0, I64([0, 2, 2, 1, 0, 0, 1, 1], [2, 4])), () => [U([3, 4])]],
    ['gather d-1 smaller index', (x) => x.gather(-1, I64([1, 1, 0, 2], [2, 2])), () => [U([3, 3])]],
    ['scatter d1', (x, s) => ignis.scatter(x, 1, I64([0, 2, 4, 1, 3, 0], [2, 3]), s), () => [U([2, 5]), U([2, 3])]],
    ['scatter d0 larger src', (x, s) => x.scatter(0, I64([2, 0, 1, 1], [2, 2]), s), () => [U([3, 3]), U([3, 4])]],
    ['scatter scalar', (x) => x.scatter(1, I64([0, 2, 1, 0], [2, 2]), 1.5), () => [U([2, 3])]],
    ['scatterAdd d1 dup', (x, s) => ignis.scatterAdd(x, 1, I64([0, 0, 3, 1, 2, 2, 2, 0], [2, 4]), s), () => [U([2, 4]), U([2, 4])]],
    ['scatterAdd d0', (x, s) => x.scatterAdd(0, I64([0, 2, 0, 1, 1, 0], [3, 2]), s), () => [U([3, 2]), U([3, 2])]],
    ['indexSelect d0', (x) => ignis.indexSelect(x, 0, I64([2, 0, 2], [3])), () => [U([3, 4])]],
    ['indexSelect d1', (x) => x.indexSelect(1, I64([3, 1], [2])), () => [U([2, 4, 2])]],
    ['indexSelect d-1 dup', (x) => x.indexSelect(-1, I64([0, 0, 1, 1, 0], [5])), () => [U([2, 3, 2])]],
  ]);
});

describe('gradcheck: softmax family', () => {
  const cases: Case[] = [];
  for (const d of [0, 1, -1]) {
    cases.push([`softmax d${d}`, (x) => ignis.softmax(x, d), () => [U([2, 3, 4], -2, 2)]]);
    cases.push([`logSoftmax d${d}`, (x) => ignis.logSoftmax(x, d), () => [U([2, 3, 4], -2, 2)]]);
    cases.push([`softmin d${d}`, (x) => ignis.softmin(x, d), () => [U([2, 3, 4], -2, 2)]]);
  }
  cases.push(['softmax method', (x) => x.softmax(1), () => [U([3, 4], -2, 2)]]);
  cases.push(['logSoftmax method large', (x) => x.mul(100).logSoftmax(-1), () => [U([2, 3])]]);
  run(cases);
});

describe('gradcheck: views and shape ops', () => {
  const s = [2, 3, 4];
  run([
    ['reshape', (x) => x.reshape(4, -1), () => [U(s)]],
    ['reshape non-contiguous', (x) => x.transpose(0, 2).reshape(-1), () => [U(s)]],
    ['ignis.reshape', (x) => ignis.reshape(x, [6, 4]), () => [U(s)]],
    ['view', (x) => x.view([3, 8]), () => [U(s)]],
    ['ignis.view', (x) => ignis.view(x, [24]), () => [U(s)]],
    ['permute', (x) => x.permute(2, 0, 1), () => [U(s)]],
    ['ignis.permute neg', (x) => ignis.permute(x, [-1, -3, -2]), () => [U(s)]],
    ['transpose', (x) => x.transpose(0, -1), () => [U(s)]],
    ['ignis.transpose', (x) => ignis.transpose(x, 1, 2), () => [U(s)]],
    ['t', (x) => x.t(), () => [U([3, 4])]],
    ['T', (x) => x.T, () => [U(s)]],
    ['squeeze all', (x) => x.squeeze(), () => [U([1, 3, 1, 2])]],
    ['squeeze dim', (x) => ignis.squeeze(x, 2), () => [U([1, 3, 1, 2])]],
    ['unsqueeze', (x) => x.unsqueeze(1), () => [U([3, 2])]],
    ['ignis.unsqueeze neg', (x) => ignis.unsqueeze(x, -1), () => [U([3, 2])]],
    ['expand', (x) => x.expand(2, 3, 4), () => [U([3, 1])]],
    ['ignis.expand -1', (x) => ignis.expand(x, [2, -1, 4]), () => [U([3, 1])]],
    ['expandAs', (x, y) => x.expandAs(y).mul(y), () => [U([1, 4]), U([3, 4])]],
    ['narrow', (x) => x.narrow(1, 1, 2), () => [U(s)]],
    ['ignis.narrow neg start', (x) => ignis.narrow(x, -1, -3, 2), () => [U(s)]],
    ['slice', (x) => x.slice(2, 1, 3), () => [U(s)]],
    ['slice with step', (x) => x.slice(2, 0, undefined, 2), () => [U(s)]],
    ['slice with step 3 and neg start', (x) => ignis.slice(x, 1, -5, undefined, 3), () => [U([2, 7])]],
    ['slice twice', (x) => x.slice(0, 1).slice(1, 0, 3, 2), () => [U([3, 4])]],
    ['select', (x) => x.select(1, 2), () => [U(s)]],
    ['ignis.select neg', (x) => ignis.select(x, -1, -1), () => [U(s)]],
    ['index ints and slices', (x) => x.index(0, '1:3', '::2'), () => [U(s)]],
    ['index ellipsis null', (x) => x.index('...', null, 1), () => [U(s)]],
    ['index object slice', (x) => x.index({ start: 1, step: 2 }, null, ':', -2), () => [U([4, 3, 4])]],
    ['index negative slice', (x) => x.index(':', '-2:'), () => [U([3, 4])]],
    ['flatten', (x) => x.flatten(), () => [U(s)]],
    ['flatten mid', (x) => ignis.flatten(x, 1, 2), () => [U([2, 3, 2, 2])]],
    ['unflatten', (x) => x.unflatten(1, [2, -1]), () => [U([3, 4])]],
    ['ignis.unflatten', (x) => ignis.unflatten(x, -1, [2, 2]), () => [U(s)]],
    ['split', (x) => x.split(2, 1), () => [U([2, 5])]],
    ['split sizes', (x) => ignis.split(x, [1, 3], 0), () => [U([4, 2])]],
    ['chunk', (x) => x.chunk(3, -1), () => [U([2, 5])]],
    ['ignis.chunk', (x) => ignis.chunk(x, 2, 0), () => [U([4, 3])]],
    ['unbind', (x) => x.unbind(1), () => [U([2, 3])]],
    ['ignis.unbind', (x) => ignis.unbind(x, 0), () => [U([3, 2])]],
    ['split then reuse', (x) => { const [a, b] = x.split(2, 0); return a.mul(b); }, () => [U([4, 3])]],
    ['cat', (a, b, c) => ignis.cat([a, b, c], 0), () => [U([2, 3]), U([1, 3]), U([3, 3])]],
    ['cat neg dim', (a, b) => ignis.cat([a, b], -1), () => [U([2, 2, 3]), U([2, 2, 1])]],
    ['cat same tensor', (a) => ignis.cat([a, a.mul(2)], 1), () => [U([2, 2])]],
    ['stack', (a, b) => ignis.stack([a, b], 0), () => [U([2, 3]), U([2, 3])]],
    ['stack last', (a, b, c) => ignis.stack([a, b, c], -1), () => [U([3]), U([3]), U([3])]],
    ['contiguous', (x) => x.transpose(0, 1).contiguous(), () => [U([3, 4])]],
    ['ignis.contiguous', (x) => ignis.contiguous(x.t()).view(-1), () => [U([3, 4])]],
    ['clone', (x) => x.clone().mul(x), () => [U([3, 4])]],
    ['ignis.clone', (x) => ignis.clone(x), () => [U([3, 4])]],
    ['to float64 (no-op)', (x) => x.to('float64').mul(2), () => [U([3, 4])]],
    ['to float64 via object', (x) => ignis.to(x, { dtype: 'float64' }), () => [U([3, 4])]],
    ['double()', (x) => x.double().mul(x), () => [U([3, 4])]],
    // the float32 hop rounds to ~6e-8 relative; a wider eps keeps central differences accurate
    ['to float32 and back', (x) => x.to('float32').mul(3).to('float64'), () => [U([3, 4])], { eps: 1e-3, atol: 1e-4 }],
    ['float().double()', (x) => x.float().double().exp(), () => [U([3, 4])], { eps: 1e-3, atol: 1e-4 }],
  ]);
});

describe('gradcheck: in-place ops on non-leaf tensors', () => {
  const m34 = B([3, 4]);
  run([
    ['add_ tensor', (x, y) => x.mul(1).add_(y), () => [U([3, 4]), U([3, 4])]],
    ['add_ broadcast alpha', (x, y) => x.mul(1).add_(y, { alpha: 2 }), () => [U([3, 4]), U([4])]],
    ['add_ scalar', (x) => x.mul(2).add_(1), () => [U([3, 4])]],
    ['sub_', (x, y) => x.mul(1).sub_(y), () => [U([3, 4]), U([3, 1])]],
    ['mul_', (x, y) => x.mul(1).mul_(y), () => [U([3, 4]), U([3, 4])]],
    ['div_', (x, y) => x.add(0).div_(y), () => [U([3, 4]), away0([4])]],
    ['pow_', (x) => x.mul(1).pow_(3), () => [U([3, 4])]],
    ['pow_ tensor', (x, y) => x.mul(1).pow_(y), () => [U([3, 4], 0.5, 2), U([3, 4])]],
    ['clamp_', (x) => x.mul(1).clamp_(-0.5, 0.5), () => [distinct([3, 4])]],
    ['neg_', (x) => x.mul(2).neg_(), () => [U([3, 4])]],
    ['exp_', (x) => x.mul(1).exp_(), () => [U([3, 4])]],
    ['sqrt_', (x) => x.mul(1).add(2).sqrt_(), () => [U([3, 4])]],
    ['maskedFill_', (x) => x.mul(1).maskedFill_(m34, 2), () => [U([3, 4])]],
    ['zero_ then add', (x, y) => x.mul(1).zero_().add_(y), () => [U([3, 4]), U([3, 4])]],
    ['fill_', (x) => x.mul(1).fill_(2).add(x), () => [U([3, 4])]],
    ['copy_', (x, y) => x.mul(1).copy_(y).mul(x), () => [U([3, 4]), U([4])]],
    ['scatter_', (x, s) => x.mul(1).scatter_(1, I64([0, 2, 1, 3], [2, 2]), s), () => [U([2, 4]), U([2, 2])]],
    ['scatterAdd_', (x, s) => x.mul(1).scatterAdd_(1, I64([0, 0, 1, 3], [2, 2]), s), () => [U([2, 4]), U([2, 2])]],
    ['chain of in-place', (x, y) => x.mul(1).add_(y).mul_(y).exp_().sub_(1), () => [U([2, 3]), U([2, 3])]],
    ['in-place result used twice', (x) => { const h = x.mul(2); const r = h.add_(1); return r.mul(h); }, () => [U([2, 3])]],
    ['in-place on a view of a non-leaf', (x) => { const h = x.mul(1); h.narrow(1, 0, 2).mul_(3); return h; }, () => [U([2, 3])]],
    ['in-place on a view, then reduce', (x) => { const h = x.mul(1); h.narrow(1, 1, 2).exp_(); return h.sum(0); }, () => [U([2, 3])]],
    ['in-place on a transposed strided view', (x, y) => { const h = x.add(0); h.t().slice(0, 0, undefined, 2).mul_(y); return h; }, () => [U([3, 4]), U([2, 3])]],
    ['two writes through views', (x, y) => { const h = x.mul(2); h.select(0, 0).add_(y); h.index(':', 1).mul_(y.sum()); return h.tanh(); }, () => [U([2, 3]), U([3])]],
    ['in-place on a view of a view', (x) => { const h = x.mul(1); h.narrow(0, 1, 2).narrow(1, 0, 2).pow_(2); return h; }, () => [U([3, 3])]],
    ['view taken after the write sees the new history', (x) => { const h = x.mul(1); h.select(1, 0).neg_(); return h.select(1, 0).mul(h.select(1, 1)); }, () => [U([2, 2])]],
    ['in-place on a select of a non-leaf', (x, y) => { const h = x.clone(); h.select(0, 1).add_(y); return h.sin(); }, () => [U([3, 2]), U([2])]],
  ]);
});

describe('gradcheck: second order', () => {
  // gradcheck evaluates fn under noGrad for its finite differences; the inner grad() needs a
  // graph, so it runs under enableGrad (PyTorch's gradcheck keeps grad mode on instead).
  const gradOf = (f: (x: Tensor) => Tensor) => (x: Tensor): Tensor =>
    ignis.enableGrad(() => ignis.autograd.grad(f(x), x, { createGraph: true })[0]!);
  const gradOf2 = (f: (a: Tensor, b: Tensor) => Tensor) => (a: Tensor, b: Tensor): Tensor[] =>
    ignis.enableGrad(() => ignis.autograd.grad(f(a, b), [a, b], { createGraph: true }) as Tensor[]);
  run([
    ['d/dx sum(x*x*x)', gradOf((x) => x.mul(x).mul(x).sum()), () => [U([3, 2])]],
    ['d/dx sum(sin x)', gradOf((x) => x.sin().sum()), () => [U([3, 2], -3, 3)]],
    ['d/dx sum(cos x)', gradOf((x) => x.cos().sum()), () => [U([3, 2], -3, 3)]],
    ['d/dx sum(exp x)', gradOf((x) => x.exp().sum()), () => [U([3, 2])]],
    ['d/dx sum(log x)', gradOf((x) => x.log().sum()), () => [U([3, 2], 0.5, 2)]],
    ['d/dx sum(tanh x)', gradOf((x) => x.tanh().sum()), () => [U([3, 2])]],
    ['d/dx sum(sigmoid x)', gradOf((x) => x.sigmoid().sum()), () => [U([3, 2])]],
    ['d/dx sum(sqrt x)', gradOf((x) => x.sqrt().sum()), () => [U([3, 2], 0.5, 2)]],
    ['d/dx sum(1/x)', gradOf((x) => ignis.div(1, x).sum()), () => [away0([3, 2])]],
    ['d/dx sum(x^2.5)', gradOf((x) => x.pow(2.5).sum()), () => [U([3, 2], 0.5, 2)]],
    ['d/dx sum(softmax(x) * w)', gradOf((x) => x.softmax(-1).mul(ignis.tensor([[1, -2, 0.5]], { dtype: 'float64' })).sum()), () => [U([2, 3])]],
    ['d/dx logsumexp', gradOf((x) => x.logsumexp(1).sum()), () => [U([2, 3])]],
    ['d/dx norm', gradOf((x) => x.norm()), () => [U([2, 3])]],
    ['d/d(a,b) sum((a@b)^2)', gradOf2((a, b) => a.matmul(b).pow(2).sum()), () => [U([2, 3]), U([3, 2])]],
    ['d/d(a,b) sum(a*b/(a+2))', gradOf2((a, b) => a.mul(b).div(a.add(2)).sum()), () => [U([2, 3]), U([2, 3])]],
    ['d/d(a,b) sum(a^b)', gradOf2((a, b) => a.pow(b).sum()), () => [U([3], 0.5, 2), U([3])]],
    ['grad-of-grad via gather/var', gradOf((x) => x.gather(1, I64([0, 2, 1, 1], [2, 2])).exp().sum().add(x.var())), () => [U([2, 3])]],
  ]);
});

describe('in-place writes through views', () => {
  it('fill_ on a view of a non-leaf zeroes the base gradient there', () => {
    const x = U([2, 3]);
    const h = x.mul(2);
    h.select(0, 0).fill_(1);
    h.sum().backward();
    expect(x.grad!.toArray()).toEqual([[0, 0, 0], [2, 2, 2]]);
  });
  it('a base that did not require grad picks it up from a view write', () => {
    const y = U([3]);
    const z = ignis.zeros([2, 3], { dtype: 'float64' });
    z.select(0, 1).add_(y);
    expect(z.requiresGrad).toBe(true);
    z.mul(3).sum().backward();
    expect(y.grad!.toArray()).toEqual([3, 3, 3]);
  });
  it('a view of a leaf that requires grad cannot be written in place', () => {
    const x = U([2, 3]);
    expect(() => x.narrow(0, 0, 1).mul_(2)).toThrow(ignis.AutogradError);
  });
  it('an op output saved for backward cannot be modified in place', () => {
    const x = U([3]);
    const h = x.exp();
    h.sqrt_();
    expect(() => h.sum().backward()).toThrow(ignis.AutogradError);
  });
});
