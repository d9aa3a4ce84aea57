/**
 * PReLU / GLU kernels (native/cuda/gated.cu) against their CPU twins (native/cpu/gated.cpp) on every
 * available device: one slope and one per channel (the slope gradient's per-channel block sum), GLU
 * along the last, first and a middle dim, float32 and float64, NaN / inf inputs, forward and every
 * gradient. On the CPU the inputs go in as strided views (helpers.on), so the CPU run checks layouts.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { devices, expectClose, on } from './helpers';

const F = ignis.F;

function sample(shape: number[], dtype: 'float32' | 'float64', seed = 1): Tensor {
  ignis.manualSeed(seed);
  return ignis.randn(shape, { dtype }).mul(3);
}

/** x with NaN, +-inf and +-0 written into its first elements */
function withSpecials(x: Tensor): Tensor {
  const out = Array.from(x.reshape([-1]).toArray() as ArrayLike<number>, Number);
  [NaN, Infinity, -Infinity, 0, -0].forEach((s, i) => (out[i * 3] = s));
  return ignis.tensor(out, { shape: [...x.shape], dtype: x.dtype });
}

for (const dev of devices) {
  describe(`prelu / glu on ${dev}`, () => {
    for (const dt of ['float32', 'float64'] as const) {
      const [rt, at] = dt === 'float32' ? [2e-5, 2e-6] : [1e-12, 1e-14];
      it(`prelu forward, input and slope gradients vs the CPU, ${dt}`, () => {
        for (const [shape, C] of [[[4, 3, 5, 6], 3], [[7, 5], 5], [[4, 3, 10], 1], [[2, 64, 300], 64]] as [number[], number][]) {
          const x = withSpecials(sample(shape, dt));
          const w = sample([C], dt, 2).mul(0.2);
          const go = sample(shape, dt, 3);
          const xr = x.clone().requiresGrad_(true), wr = w.clone().requiresGrad_(true);
          const yr = F.prelu(xr, wr);
          yr.mul(go).sum().backward();
          const xd = on(x, dev).detach().requiresGrad_(true), wd = on(w, dev).detach().requiresGrad_(true);
          const y = F.prelu(xd, wd);
          y.mul(on(go, dev)).sum().backward();
          expectClose(y, yr, rt, at, `prelu ${shape}`);
          expectClose(xd.grad!, xr.grad!, rt, at, `prelu grad x ${shape}`);
          expectClose(wd.grad!, wr.grad!, rt * 10, at * 10, `prelu grad w ${shape}`);
        }
        // an empty input: an empty input gradient and a zero slope gradient
        const x0 = on(ignis.zeros([0, 3, 5], { dtype: dt }), dev).requiresGrad_(true);
        const w0 = on(sample([3], dt, 2), dev).detach().requiresGrad_(true);
        F.prelu(x0, w0).sum().backward();
        expect(x0.grad!.shape).toEqual([0, 3, 5]);
        expect(w0.grad!.cpu().toArray()).toEqual([0, 0, 0]);
      });

      it(`glu forward and backward vs the CPU, ${dt}`, () => {
        for (const [shape, d] of [[[5, 8], -1], [[6, 3, 4], 0], [[3, 10, 7], 1], [[33, 2048], 1]] as [number[], number][]) {
          const x = withSpecials(sample(shape, dt));
          const xr = x.clone().requiresGrad_(true);
          const yr = F.glu(xr, { dim: d });
          const go = sample([...yr.shape], dt, 4);
          yr.mul(go).sum().backward();
          const xd = on(x, dev).detach().requiresGrad_(true);
          const y = F.glu(xd, { dim: d });
          y.mul(on(go, dev)).sum().backward();
          expectClose(y, yr, rt, at, `glu ${shape} dim ${d}`);
          expectClose(xd.grad!, xr.grad!, rt, at, `glu grad ${shape} dim ${d}`);
        }
      });
    }
  });
}
