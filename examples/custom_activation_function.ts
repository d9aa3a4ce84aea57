/**
 * Custom activation, way 2 of 3: an `ignis.autograd.Function` subclass with an explicit
 * backward, registered with defineActivation so it is usable by name like the built-ins.
 * Use this when the backward should be cheaper or more stable than what autograd would derive
 * from the forward ops.
 *
 * Snake (Ziyin, Hartwig & Ueda 2020, arXiv:2006.08195): x + sin^2(a x) / a,
 * d/dx = 1 + sin(2 a x).
 *
 * Run: npx vitest run test/activations/examples.test.ts   (or import and call main())
 */
import * as ignis from '../src';
import type { FunctionCtx } from '../src/autograd/function';

const A = 0.5;

class SnakeFn extends ignis.autograd.Function {
  static override forward(ctx: FunctionCtx, x: ignis.Tensor, a: number): ignis.Tensor {
    ctx.saveForBackward(x);
    ctx.a = a;
    const s = x.mul(a).sin();
    return x.add(s.mul(s).div(a));
  }
  static override backward(ctx: FunctionCtx, g: ignis.Tensor | null): ignis.Tensor {
    const [x] = ctx.savedTensors;
    const a = ctx.a as number;
    return g!.mul(x.mul(2 * a).sin().add(1));
  }
}

export function main(log: (...a: unknown[]) => void = console.log): { y: number[]; grad: number[]; gradcheck: boolean } {
  const snake = ignis.defineActivation({
    name: 'snake',
    params: { a: A },
    forward: (x, p) => SnakeFn.apply(x, p.a) as ignis.Tensor,
  });
  try {
    const x = ignis.tensor([-2, -1, 0, 1, 2], { dtype: 'float64', requiresGrad: true });
    const y = snake(x);
    y.sum().backward(); // runs SnakeFn.backward
    log('snake(x)     =', y.toString());
    log('d/dx (custom) =', x.grad!.toString());

    const m = ignis.nn.activation('snake', { a: 2 });
    log(`${m.toString()}(x) =`, (m.call(x.detach()) as ignis.Tensor).toString());

    // the hand-written backward agrees with finite differences
    const ok = ignis.gradcheck((t: ignis.Tensor) => snake(t), [ignis.tensor([-1.7, -0.2, 0.4, 2.5], { dtype: 'float64', requiresGrad: true })]);
    log('gradcheck     =', ok);
    return { y: Array.from(y.dataSync() as Float64Array), grad: Array.from(x.grad!.dataSync() as Float64Array), gradcheck: ok };
  } finally {
    ignis.activations.undefine('snake');
  }
}

if (typeof require !== 'undefined' && require.main === module) main();
