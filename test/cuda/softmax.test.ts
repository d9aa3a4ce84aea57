/**
 * softmax / logSoftmax / softmin kernels (native/cuda/softmax.cu) against their CPU twins
 * (native/cpu/softmax.cpp) on every available device: the warp-per-row path (D <= 1024, a row count
 * that leaves a block part-filled), the block-per-row path (D > 1024), the strided path (non-last
 * dims) and its block-per-column form (few columns, long D), float32 and float64, NaN / inf rows,
 * backward and double backward. On the CPU the inputs go in as strided views (helpers.on), so the
 * CPU run checks layouts.
 */
import { describe, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { devices, expectClose, on } from './helpers';

function sample(shape: number[], dtype: 'float32' | 'float64', scale = 4, seed = 1): Tensor {
  ignis.manualSeed(seed);
  return ignis.randn(shape, { dtype }).mul(scale);
}

// the last two: a long leading dim with few columns (the block-per-column path)
const cases: [number[], number][] = [[[13, 7], 1], [[37, 1000], 1], [[3, 3000], -1], [[5, 6, 7], 1], [[6, 5, 7], 0], [[2, 40, 3], 1],
  [[3000, 5], 0], [[2, 1500, 3], 1]];

for (const dev of devices) {
  describe(`softmax on ${dev}`, () => {
    for (const dt of ['float32', 'float64'] as const) {
      const [rt, at] = dt === 'float32' ? [2e-5, 2e-6] : [1e-12, 1e-14];
      it(`forward and backward vs the CPU, ${dt}`, () => {
        for (const [shape, d] of cases)
          for (const f of [ignis.softmax, ignis.logSoftmax, ignis.softmin]) {
            const x = sample(shape, dt);
            const go = sample(shape, dt, 1, 5);
            const xr = x.clone().requiresGrad_(true);
            f(xr, d).mul(go).sum().backward();
            const xd = on(x, dev).detach().requiresGrad_(true);
            const y = f(xd, d);
            y.mul(on(go, dev)).sum().backward();
            expectClose(y, f(x, d), rt, at, `${f.name} ${shape} dim ${d}`);
            expectClose(xd.grad!, xr.grad!, rt * 5, at * 5, `${f.name} grad ${shape} dim ${d}`);
          }
      });
    }

    it('NaN / inf rows as the CPU (PyTorch semantics), both paths', () => {
      const inf = Infinity;
      const x = ignis.tensor([[1, inf, 0], [-inf, -inf, -inf], [1, NaN, 2], [1, -inf, 2], [-inf, inf, 0]]);
      for (const f of [ignis.softmax, ignis.logSoftmax, ignis.softmin]) {
        expectClose(f(on(x, dev), 1), f(x, 1), 1e-6, 1e-7, `${f.name} rows`);
        const xt = x.t().contiguous();
        expectClose(f(on(xt, dev), 0), f(xt, 0), 1e-6, 1e-7, `${f.name} columns`);
      }
      // long columns (the block-per-column path): one with +inf, one all -inf, one with a NaN, one plain
      const tall = ignis.randn([700, 4]);
      tall.index(100, 0).fill_(inf);
      tall.index(':', 1).fill_(-inf);
      tall.index(650, 2).fill_(NaN);
      for (const f of [ignis.softmax, ignis.logSoftmax, ignis.softmin])
        expectClose(f(on(tall, dev), 0), f(tall, 0), 1e-6, 1e-7, `${f.name} long columns`);
    });

    it('double backward (createGraph) vs the CPU, float64', () => {
      const x = sample([6, 9], 'float64', 1.5);
      for (const f of [ignis.softmax, ignis.logSoftmax, ignis.softmin]) {
        const run = (t: Tensor): Tensor => {
          const xi = t.detach().requiresGrad_(true);
          const [g] = ignis.autograd.grad(f(xi, 1).pow(2).sum(), [xi], { createGraph: true });
          const [gg] = ignis.autograd.grad(g!.sin().sum(), [xi]);
          return gg!;
        };
        expectClose(run(on(x, dev)), run(x), 1e-10, 1e-12, `${f.name} grad of grad`);
      }
    });
  });
}
