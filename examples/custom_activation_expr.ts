/**
 * Custom activation, way 3 of 3: an expression.
 *
 * `defineActivation({ name, expr, params })` parses the expression once, differentiates it
 * symbolically and runs forward and backward as one fused native loop each (no intermediate
 * tensors). The language: + - * / ^ (or **), comparisons, c ? a : b, select(c, a, b), and
 * exp log tanh sigmoid erf softplus abs sign sqrt log1p expm1 min max pow, with `x`, the
 * declared parameters, pi and e.
 *
 * Run: npx vitest run test/activations/examples.test.ts   (or import and call main())
 */
import * as ignis from '../src';

export function main(log: (...a: unknown[]) => void = console.log): { maxDiffSwish: number; maxDiffGrad: number; parseError: string } {
  const names = ['swish_expr', 'elu_expr'];
  try {
    // Swish as an expression: equals the built-in F.swish
    const swish = ignis.defineActivation({ name: 'swish_expr', expr: 'x * sigmoid(beta * x)', params: { beta: 1 } });
    log('d/dx swish_expr =', swish.expr!.derivativeString({ beta: 1.5 }));

    const x = ignis.tensor([-3, -1, -0.2, 0.5, 2, 4], { dtype: 'float64', requiresGrad: true });
    const y = swish(x, { beta: 1.5 });
    const [g] = ignis.autograd.grad(y.sum(), [x]);
    const xr = x.detach().requiresGrad_();
    const yr = ignis.F.swish(xr, { beta: 1.5 });
    const [gr] = ignis.autograd.grad(yr.sum(), [xr]);
    const maxAbs = (a: ignis.Tensor, b: ignis.Tensor): number => a.sub(b).abs().amax().item() as number;
    log('swish_expr(x)   =', y.toString());
    log('max |expr - F.swish| value:', maxAbs(y, yr), 'grad:', maxAbs(g!, gr!));

    // a ternary: ELU with a parameter; usable by name like any activation
    ignis.defineActivation({ name: 'elu_expr', expr: 'x > 0 ? x : alpha * expm1(x)', params: { alpha: 1 } });
    const m = ignis.nn.activation('elu_expr', { alpha: 0.5 });
    log(`${m.toString()}(x) =`, (m.call(x.detach()) as ignis.Tensor).toString());

    // mistakes are reported with their position
    let parseError = '';
    try {
      ignis.defineActivation({ name: 'broken_expr', expr: 'x * (1 +' });
    } catch (e) {
      if (!(e instanceof ignis.activations.ExprParseError)) throw e;
      parseError = e.message;
      log('parse error:', e.message);
    }
    return { maxDiffSwish: maxAbs(y, yr), maxDiffGrad: maxAbs(g!, gr!), parseError };
  } finally {
    for (const n of names) ignis.activations.undefine(n);
  }
}

if (typeof require !== 'undefined' && require.main === module) main();
