/**
 * Custom activation, way 1 of 3: composition of tensor ops.
 *
 * `ignis.defineActivation({ name, forward })` registers the activation by name; autograd
 * differentiates the composition (higher-order gradients included), and every API that takes
 * an activation name accepts it: nn.activation(name), nn.ActivationMix([...]).
 *
 * Squareplus (Barron 2021, arXiv:2112.11687): (x + sqrt(x^2 + b)) / 2, a softplus look-alike
 * built from arithmetic and sqrt only.
 *
 * Run: npx vitest run test/activations/examples.test.ts   (or import and call main())
 */
import * as ignis from '../src';

export function main(log: (...a: unknown[]) => void = console.log): { y: number[]; grad: number[]; gradcheck: boolean } {
  const squareplus = ignis.defineActivation({
    name: 'squareplus',
    params: { b: 4 },
    forward: (x, p) => x.add(x.mul(x).add(p.b).sqrt()).div(2),
  });
  try {
    const x = ignis.tensor([-3, -1, 0, 1, 3], { dtype: 'float64', requiresGrad: true });

    // 1. as a function
    const y = squareplus(x);
    y.sum().backward();
    log('squareplus(x)      =', y.toString());
    log('d/dx sum(...)      =', x.grad!.toString());

    // 2. as a module, by name, with a non-default parameter
    const m = ignis.nn.activation('squareplus', { b: 1 });
    log(`${m.toString()}(x) =`, (m.call(x.detach()) as ignis.Tensor).toString());

    // 3. mixed with built-in activations under a learnable gate
    const mix = new ignis.nn.ActivationMix(['squareplus', 'relu', 'gelu'], { dtype: 'float64' });
    log(`${mix.toString()} weights =`, mix.weights().toString());

    // 4. the gradient autograd derived agrees with finite differences
    const ok = ignis.gradcheck((t: ignis.Tensor) => squareplus(t), [ignis.tensor([-2, -0.5, 0.3, 2], { dtype: 'float64', requiresGrad: true })]);
    log('gradcheck          =', ok);
    return {
      y: Array.from(y.dataSync() as Float64Array),
      grad: Array.from(x.grad!.dataSync() as Float64Array),
      gradcheck: ok,
    };
  } finally {
    ignis.activations.undefine('squareplus');
  }
}

if (typeof require !== 'undefined' && require.main === module) main();
