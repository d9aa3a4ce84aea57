/**
 * The three ways of defining a custom activation, each registered by name so nn.activation(name)
 * and ActivationMix accept it:
 *   (a) composition: defineActivation({ name, forward: (x, p) => tensor ops }) - autograd differentiates
 *   (b) an ignis.autograd.Function subclass with explicit forward/backward, wrapped as (a)
 *   (c) expressions: defineActivation({ name, expr, params }) - parsed, differentiated
 *       symbolically, run as fused native loops
 * Every test uses its own activation names (the registry is global) and undefines them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import type { FunctionCtx } from '../../src/autograd/function';

const { F, nn, defineActivation } = ignis;
const { ExprParseError } = ignis.activations;

const defined: string[] = [];
let counter = 0;
/** a fresh, unique activation name (undefined after each test) */
function uniq(base: string): string {
  const n = `${base}_custom_test_${++counter}`;
  defined.push(n);
  return n;
}
afterEach(() => {
  while (defined.length) ignis.activations.undefine(defined.pop()!);
});

const vals = (t: Tensor): number[] => Array.from(t.dataSync() as unknown as ArrayLike<number>, Number);
const XS = [-4.2, -2.5, -1.1, -0.6, -0.3, 0.2, 0.45, 0.7, 1.3, 2.2, 3.7, 5.1];
const x64 = (requiresGrad = true, v = XS): Tensor => ignis.tensor(Float64Array.from(v), { dtype: 'float64', shape: [3, v.length / 3], requiresGrad });
const x32 = (requiresGrad = true, v = XS): Tensor => ignis.tensor(Float32Array.from(v), { dtype: 'float32', shape: [3, v.length / 3], requiresGrad });
function close(a: number[], b: number[], rtol: number, what = ''): void {
  expect(a.length, what).toBe(b.length);
  a.forEach((v, i) => {
    if (Number.isNaN(b[i])) expect(Number.isNaN(v), `${what}[${i}]`).toBe(true);
    else expect(Math.abs(v - b[i]), `${what}[${i}]: ${v} vs ${b[i]}`).toBeLessThanOrEqual(rtol * Math.max(1, Math.abs(b[i])));
  });
}
/** value and input gradient (of sum(f(x) * w) for fixed weights w) */
function valueAndGrad(f: (x: Tensor) => Tensor, x: Tensor): [number[], number[]] {
  const y = f(x);
  const w = ignis.tensor(Float64Array.from({ length: y.numel }, (_, i) => 0.5 + ((i * 7) % 5) / 4), { shape: y.shape as number[] }).to(x.dtype);
  const [g] = ignis.autograd.grad(y.mul(w).sum(), [x]);
  return [vals(y), vals(g!)];
}

describe('(a) composition: defineActivation({forward})', () => {
  it('registers a named activation usable through nn.activation, with autograd gradients', () => {
    const name = uniq('mysilu');
    const act = defineActivation({ name, forward: (x, p) => x.mul(x.mul(p.beta).sigmoid()), params: { beta: 1 } });
    const x = x64();
    const [v, g] = valueAndGrad((t) => act(t), x);
    const [vr, gr] = valueAndGrad((t) => F.silu(t), x64());
    close(v, vr, 1e-14, 'value');
    close(g, gr, 1e-13, 'grad');

    const m = nn.activation(name);
    expect(m.toString()).toBe(`CustomActivationModule('${name}', beta=1)`);
    close(vals(m.call(x64(false)) as Tensor), vr, 1e-14);
    // parameters through nn.activation options and at call time
    const m2 = nn.activation(name, { beta: 2 });
    close(vals(m2.call(x64(false)) as Tensor), vals(F.swish(x64(false), { beta: 2 })), 1e-14);
    close(vals(act(x64(false), { beta: 2 })), vals(F.swish(x64(false), { beta: 2 })), 1e-14);
    expect(() => nn.activation(name, { gamma: 1 })).toThrow(/unknown option 'gamma'/);
    expect(ignis.activations.info(name).formula).toBe('(composition)');
    expect(ignis.activations.list()).toContain(name);
    expect(ignis.gradcheck((t: Tensor) => act(t), [x64()])).toBe(true);
  });

  it('supports higher-order gradients (composition keeps the graph)', () => {
    const name = uniq('cube');
    const act = defineActivation({ name, forward: (x) => x.mul(x).mul(x) });
    const x = x64();
    const [g] = ignis.autograd.grad(act(x).sum(), [x], { createGraph: true });
    const [gg] = ignis.autograd.grad(g!.sum(), [x]);
    close(vals(gg!), XS.map((v) => 6 * v), 1e-13);
  });

  it('works inside ActivationMix and is resolved by name aliases', () => {
    const name = uniq('Half_Relu');
    defineActivation({ name, forward: (x) => F.relu(x).mul(0.5) });
    expect(nn.activation(name.toLowerCase().replace(/_/g, ''))).toBeInstanceOf(nn.CustomActivationModule);
    const mix = new nn.ActivationMix([name, 'relu'], { dtype: 'float64' });
    close(vals(mix.call(x64(false)) as Tensor), XS.map((v) => 0.75 * Math.max(v, 0)), 1e-14);
  });

  it('rejects bad definitions and built-in names; undefine removes the name', () => {
    expect(() => defineActivation({ name: 'relu', forward: (x) => x })).toThrow(/built-in/);
    expect(() => defineActivation({ name: 'LeakyReLU', forward: (x) => x })).toThrow(/built-in/);
    expect(() => defineActivation({ name: uniq('both'), forward: (x) => x, expr: 'x' })).toThrow(/exactly one/);
    expect(() => defineActivation({ name: uniq('none') })).toThrow(/exactly one/);
    expect(() => defineActivation({ name: '', forward: (x) => x })).toThrow(/name is required/);
    expect(() => defineActivation({ name: uniq('p'), forward: (x) => x, params: { a: 'x' as unknown as number } })).toThrow(ignis.ValueError);
    const name = `gone_${++counter}`;
    defineActivation({ name, forward: (x) => x });
    expect(ignis.activations.undefine(name)).toBe(true);
    expect(ignis.activations.undefine(name)).toBe(false);
    expect(() => nn.activation(name)).toThrow(/unknown activation/);
  });
});

describe('(b) an autograd.Function subclass as an activation', () => {
  // a "straight-through" hard swish: forward x * clamp(x + 3, 0, 6) / 6, custom backward
  class HardSwishFn extends ignis.autograd.Function {
    static override forward(ctx: FunctionCtx, x: Tensor): Tensor {
      ctx.saveForBackward(x);
      return x.mul(x.add(3).clamp(0, 6)).div(6);
    }
    static override backward(ctx: FunctionCtx, g: Tensor | null): Tensor {
      const [x] = ctx.savedTensors;
      const d = ignis.where(x.lt(-3), 0, ignis.where(x.gt(3), 1, x.div(3).add(0.5)));
      return g!.mul(d);
    }
  }

  it('runs the explicit backward and equals F.hardswish in value and gradient', () => {
    const name = uniq('hswish_fn');
    let calls = 0;
    class Counted extends HardSwishFn {
      static override backward(ctx: FunctionCtx, g: Tensor | null): Tensor {
        calls++;
        return super.backward(ctx, g);
      }
    }
    const act = defineActivation({ name, forward: (x) => Counted.apply(x) as Tensor });
    const [v, g] = valueAndGrad((t) => act(t), x64());
    expect(calls).toBe(1);
    const [vr, gr] = valueAndGrad((t) => F.hardswish(t), x64());
    close(v, vr, 1e-15, 'value');
    close(g, gr, 1e-15, 'grad');
    const m = nn.activation(name);
    close(vals(m.call(x64(false)) as Tensor), vr, 1e-15);
    expect(ignis.gradcheck((t: Tensor) => act(t), [x64()])).toBe(true);
  });

  it('a wrong backward is caught by gradcheck', () => {
    class Wrong extends ignis.autograd.Function {
      static override forward(_ctx: FunctionCtx, x: Tensor): Tensor {
        return x.tanh();
      }
      static override backward(_ctx: FunctionCtx, g: Tensor | null): Tensor {
        return g!;
      }
    }
    const act = defineActivation({ name: uniq('wrong'), forward: (x) => Wrong.apply(x) as Tensor });
    expect(ignis.gradcheck((t: Tensor) => act(t), [x64()], { raiseException: false })).toBe(false);
  });
});

describe('(c) expression activations', () => {
  it("'x * sigmoid(beta * x)' equals F.swish and F.silu in value and gradient", () => {
    const name = uniq('swish_expr');
    const act = defineActivation({ name, expr: 'x * sigmoid(beta * x)', params: { beta: 1 } });
    expect(act.expr).toBeDefined();
    for (const [mk, tol] of [[x64, 1e-12], [x32, 1e-6]] as const) {
      const [v, g] = valueAndGrad((t) => act(t), mk());
      const [vs, gs] = valueAndGrad((t) => F.silu(t), mk());
      close(v, vs, tol, 'silu value');
      close(g, gs, tol, 'silu grad');
      const [v2, g2] = valueAndGrad((t) => act(t, { beta: 1.7 }), mk());
      const [vw, gw] = valueAndGrad((t) => F.swish(t, { beta: 1.7 }), mk());
      close(v2, vw, tol, 'swish value');
      close(g2, gw, tol, 'swish grad');
      expect(act(mk(false)).dtype).toBe(mk(false).dtype);
    }
    // through nn.activation with a parameter
    close(vals(nn.activation(name, { beta: 1.7 }).call(x64(false)) as Tensor), vals(F.swish(x64(false), { beta: 1.7 })), 1e-12);
    expect(ignis.activations.info(name).formula).toBe('x * sigmoid(beta * x)');
    expect(ignis.activations.info(name).derivative).toMatch(/sigmoid/);
    expect(() => act(x64(false), { gamma: 1 })).toThrow(/unknown parameter 'gamma'/);
    expect(() => act(ignis.tensor([1, 2], { dtype: 'int32' }))).toThrow(ignis.DTypeError);
  });

  const ln2 = Math.log(2);
  // [expression, params, the same function with tensor ops]
  const EXPRS: [string, Record<string, number>, (x: Tensor) => Tensor][] = [
    ['x > 0 ? x : alpha * (exp(x) - 1)', { alpha: 1.3 }, (x) => F.elu(x, { alpha: 1.3 })],
    ['select(x < 0, x * slope, x)', { slope: 0.1 }, (x) => F.leakyRelu(x, 0.1)],
    ['x >= 1 ? 1 : (x <= -1 ? -1 : x)', {}, (x) => F.hardtanh(x)],
    ['min(max(x, lo), hi)', { lo: -1, hi: 2 }, (x) => x.clamp(-1, 2)],
    ['max(x, 0.2 * x) + min(x, 0) * 0.5', {}, (x) => ignis.maximum(x, x.mul(0.2)).add(ignis.minimum(x, ignis.zerosLike(x)).mul(0.5))],
    ['pow(abs(x) + 1, p) - x ^ 2 / 4 + x ** 3 / 10', { p: 1.5 }, (x) => x.abs().add(1).pow(1.5).sub(x.pow(2).div(4)).add(x.pow(3).div(10))],
    ['0.5 * x * (1 + erf(x / sqrt(2)))', {}, (x) => F.gelu(x)],
    ['softplus(x) - log(2)', {}, (x) => F.softplus(x).sub(ln2)],
    ['x * tanh(softplus(x))', {}, (x) => F.mish(x)],
    ['(x > 0.5) * x + (x <= 0.5) * x * x', {}, (x) => ignis.where(x.gt(0.5), x, x.mul(x))],
    ['(x != 0) * sign(x) * log1p(abs(x)) + (x == 0) * 7', {}, (x) => x.sign().mul(ignis.log1p(x.abs()))],
    ['expm1(-abs(x)) / 2 + sqrt(x * x + 1) - tanh(x) * e / pi', {}, (x) => ignis.expm1(x.abs().neg()).div(2).add(x.mul(x).add(1).sqrt()).sub(x.tanh().mul(Math.E / Math.PI))],
    ['-x ^ 2 + 2 ^ 3 ^ 2 - --x', {}, (x) => x.pow(2).neg().add(512).sub(x)],
    ['log(sigmoid(x)) * c', { c: -2 }, (x) => F.logsigmoid(x).mul(-2)],
  ];

  it.each(EXPRS.map(([e, p, f]) => [e, p, f] as const))('%s matches tensor ops in value and gradient', (src, params, ref) => {
    const act = defineActivation({ name: uniq('expr'), expr: src, params });
    for (const [mk, tol] of [[x64, 1e-12], [x32, 2e-6]] as const) {
      const [v, g] = valueAndGrad((t) => act(t), mk());
      const [vr, gr] = valueAndGrad(ref, mk());
      close(v, vr, tol, `${src} value (${mk(false).dtype})`);
      close(g, gr, tol, `${src} grad (${mk(false).dtype})`);
    }
  });

  it.each(EXPRS.map(([e, p]) => [e, p] as const))('%s passes gradcheck (float64)', (src, params) => {
    const act = defineActivation({ name: uniq('gc'), expr: src, params });
    // XS stays away from the kinks of these expressions (0, ±1, 0.5, -1, 2)
    expect(ignis.gradcheck((t: Tensor) => act(t), [x64()])).toBe(true);
  });

  it('propagates NaN and infinities like the tensor ops', () => {
    const act = defineActivation({ name: uniq('nan'), expr: 'x * sigmoid(x)' });
    const x = ignis.tensor([NaN, Infinity, -Infinity, 0], { dtype: 'float64' });
    const y = vals(act(x));
    const r = vals(F.silu(x));
    expect(Number.isNaN(y[0])).toBe(true);
    expect(y.slice(1)).toEqual(r.slice(1));
  });

  it('exposes its compiled programs and derivative', () => {
    const act = defineActivation({ name: uniq('prog'), expr: 'x * sigmoid(beta * x)', params: { beta: 2 } });
    const ex = act.expr!;
    expect(ex.forwardProgram({}).length).toBeGreaterThan(3);
    expect(ex.backwardProgram({ beta: 3 }).length).toBeGreaterThan(3);
    expect(ex.derivativeString()).toContain('sigmoid');
    expect(ignis.activations.exprDerivative(ignis.activations.parseExpr('x * x', []))).toBeDefined();
  });

  it('differentiates to any order (the derivative is differentiated symbolically again)', () => {
    const act = defineActivation({ name: uniq('dd'), expr: 'x * x * x' });
    const x = x64();
    const [g1] = ignis.autograd.grad(act(x).sum(), [x], { createGraph: true });
    const [g2] = ignis.autograd.grad(g1!.sum(), [x], { createGraph: true });
    const [g3] = ignis.autograd.grad(g2!.sum(), [x]);
    const xs = x.flatten().toArray() as number[];
    (g2!.flatten().toArray() as number[]).forEach((v, i) => expect(v).toBeCloseTo(6 * xs[i], 12));
    (g3!.flatten().toArray() as number[]).forEach((v) => expect(v).toBeCloseTo(6, 12));
    const sw = defineActivation({ name: uniq('dd2'), expr: 'x * sigmoid(beta * x) + 0.1 * softplus(x)', params: { beta: 1.5 } });
    const go = ignis.tensor(Float64Array.from({ length: x.numel }, (_, i) => Math.cos(i)), { dtype: 'float64', shape: x.shape as number[], requiresGrad: true });
    expect(ignis.autograd.gradgradcheck((t: Tensor) => sw(t), [x], [go])).toBe(true);
  });

  describe('parse errors: ExprParseError (a ValueError) with the position', () => {
    const cases: [string, Record<string, number>, number, RegExp][] = [
      ['x * (1 +', {}, 8, /unexpected end of expression/],
      ['foo(x)', {}, 0, /unknown function 'foo'/],
      ['x $ 2', {}, 2, /unexpected character '\$'/],
      ['x * gamma', { beta: 1 }, 4, /unknown name 'gamma'.*beta/],
      ['x * (1 + x', {}, 10, /expected '\)'/],
      ['min(x)', {}, 0, /min takes 2 arguments, got 1/],
      ['x 2', {}, 2, /unexpected '2'/],
      ['x > 0 ? x', {}, 9, /expected ':'/],
      ['', {}, 0, /empty expression/],
      ['sigmoid(x,)', {}, 10, /unexpected '\)'/],
    ];
    it.each(cases)('%j', (src, params, pos, msg) => {
      let err: unknown;
      try {
        defineActivation({ name: uniq('bad'), expr: src, params });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ExprParseError);
      expect(err).toBeInstanceOf(ignis.ValueError);
      const pe = err as InstanceType<typeof ExprParseError>;
      expect(pe.position).toBe(pos);
      expect(pe.source).toBe(src);
      expect(pe.message).toMatch(msg);
      expect(pe.message).toContain(`at position ${pos}`);
      // and nothing was registered
      expect(() => nn.activation(defined[defined.length - 1])).toThrow(/unknown activation/);
    });
  });
});
