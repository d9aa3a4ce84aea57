/**
 * One test body per op, run on every available device (CPU always, cuda:0 when present) and
 * compared with the CPU reference on contiguous inputs. On the CPU the inputs go in as strided
 * views, so the CPU run checks the strided kernels against the contiguous ones; on CUDA it checks
 * every CUDA kernel against its CPU twin. Activations, unary and binary ops loop over the native
 * tables (native/ops/*.def), so a new row is tested on both devices without touching this file.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { ACTIVATIONS } from '../../src/activations/table';
import { info } from '../../src/native';
import { devices, expectClose, on } from './helpers';

const F = ignis.F;
// float32 transcendental functions differ by a few ulp between libm/vmath and CUDA's libdevice
const RT = 2e-5;
const AT = 2e-6;

function sample(shape: number[], lo = -4, hi = 4, seed = 1): Tensor {
  ignis.manualSeed(seed);
  return ignis.rand(shape).mul(hi - lo).add(lo);
}

for (const dev of devices) {
  describe(`ops on ${dev}`, () => {
    it('unary ops of unary.def (float32 and float64) match the CPU reference', () => {
      const x = sample([7, 33], -3, 3);
      const pos = sample([7, 33], 0.1, 4, 2);
      for (const name of info.unaryOps) {
        const fn = (ignis as unknown as Record<string, (t: Tensor, ...a: number[]) => Tensor>)[name === 'logical_not' ? 'logicalNot' : name];
        if (!fn) continue;
        const input = ['log', 'sqrt', 'rsqrt', 'log1p'].includes(name) ? pos : x;
        const args = name === 'clamp' ? [-1, 1] : [];
        for (const dt of ['float32', 'float64'] as const) {
          const xi = input.to(dt);
          expectClose(fn(on(xi, dev), ...args), fn(xi, ...args), RT, AT, `${name} ${dt}`);
        }
      }
    });

    it('binary ops of binary.def with broadcasting and scalars, float and int', () => {
      const a = sample([4, 1, 6], -3, 3, 3);
      const b = sample([5, 1], 0.5, 3, 4);
      for (const name of info.binaryOps) {
        const camel = name.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
        const fn = (ignis as unknown as Record<string, (x: Tensor, y: Tensor | number) => Tensor>)[camel];
        if (!fn) continue;
        expectClose(fn(on(a, dev), on(b, dev)), fn(a, b), RT, AT, `${name} broadcast`);
        expectClose(fn(on(a, dev), 1.5), fn(a, 1.5), RT, AT, `${name} scalar`);
        const ai = a.mul(3).round().to('int32'), bi = b.mul(3).round().to('int32');
        expectClose(fn(on(ai, dev), on(bi, dev)), fn(ai, bi), 0, 0, `${name} int32`);
      }
    });

    it('where, casts and strided copies', () => {
      const x = sample([6, 8]);
      const c = x.gt(0);
      expectClose(ignis.where(on(c, dev), on(x, dev), 0), ignis.where(c, x, 0), 0, 0, 'where');
      for (const dt of ['float64', 'int32', 'int64', 'bool'] as const)
        expectClose(on(x, dev).to(dt), x.to(dt), 0, 0, `cast ${dt}`);
      expectClose(on(x, dev).t().contiguous(), x.t().contiguous(), 0, 0, 'transpose copy');
      expectClose(on(x, dev).slice(1, 1, 7, 2).contiguous(), x.slice(1, 1, 7, 2).contiguous(), 0, 0, 'slice copy');
    });

    it('every elementwise activation: forward and backward, with parameters, vs the CPU', () => {
      // 13071 elements: on CUDA whole tiles of 4 packs per thread, a part tile and a scalar tail
      const x = sample([3, 4357], -6, 6, 5);
      for (const row of ACTIVATIONS) {
        if (!row.elementwise || !row.kernel) continue;
        const fn = (F as unknown as Record<string, (t: Tensor, p?: object) => Tensor>)[row.fn];
        if (!fn) continue;
        // rows without defaults (threshold) get values inside the sampled range
        const req = row.params.filter((s) => s.default === null);
        const params = req.length ? Object.fromEntries(req.map((s, i) => [s.name, 0.5 - i])) : undefined;
        for (const dt of ['float32', 'float64'] as const) {
          const xr = x.to(dt).detach().clone().requiresGrad_();
          const yr = fn(xr, params);
          yr.mul(x.to(dt).cos()).sum().backward();
          const xd = on(x.to(dt), dev).detach().requiresGrad_();
          const yd = fn(xd, params);
          yd.mul(on(x.to(dt), dev).cos()).sum().backward();
          const tol = dt === 'float32' ? RT * 5 : 1e-12;
          expectClose(yd, yr, tol, dt === 'float32' ? AT * 5 : 1e-12, `${row.name} ${dt} forward`);
          expectClose(xd.grad!, xr.grad!, tol, dt === 'float32' ? AT * 5 : 1e-12, `${row.name} ${dt} backward`);
        }
      }
    });

    it('float32 GELU keeps its relative accuracy across the left tail (forward and backward vs float64)', () => {
      // a dense grid over [-6, 10] (below -6 the float64 reference, PyTorch's 1 + erf, loses its
      // own relative accuracy); CUDA takes Phi from its own erfc fit (activations.cu: normal_cdf_f32)
      const n = 40001;
      const grid = Array.from({ length: n }, (_, i) => Math.fround(-6 + (16 * i) / (n - 1)));
      const x32 = on(ignis.tensor(grid), dev).requiresGrad_();
      const x64 = ignis.tensor(grid, { dtype: 'float64' }).requiresGrad_();
      const y32 = F.gelu(x32), y64 = F.gelu(x64);
      y32.sum().backward();
      y64.sum().backward();
      const [y, yr, g, gr] = [y32, y64, x32.grad!, x64.grad!].map((t) => t.cpu().toArray() as number[]);
      let fwd = 0, bwd = 0;
      for (let i = 0; i < n; i++) {
        if (yr[i] !== 0) fwd = Math.max(fwd, Math.abs(y[i] - yr[i]) / Math.abs(yr[i]));
        bwd = Math.max(bwd, Math.abs(g[i] - gr[i]) / (1e-6 + 1e-5 * Math.abs(gr[i])));
      }
      expect(fwd, 'forward: max relative error').toBeLessThan(3e-6);
      expect(bwd, 'backward: max error over 1e-6 + 1e-5 |want|').toBeLessThan(1);
    });

    it('reductions: sum, mean, prod, amax/amin, argmax/argmin over dims, with NaN', () => {
      const x = sample([5, 6, 7]);
      for (const dims of [[0], [1], [2], [0, 2], [0, 1, 2]]) {
        expectClose(on(x, dev).sum(dims), x.sum(dims), 1e-6, 1e-5, `sum ${dims}`);
        expectClose(on(x, dev).mean(dims), x.mean(dims), 1e-6, 1e-5, `mean ${dims}`);
        expectClose(on(x, dev).amax(dims), x.amax(dims), 0, 0, `amax ${dims}`);
        expectClose(on(x, dev).amin(dims), x.amin(dims), 0, 0, `amin ${dims}`);
      }
      expectClose(on(x, dev).argmax(1), x.argmax(1), 0, 0, 'argmax');
      expectClose(on(x, dev).argmin(2), x.argmin(2), 0, 0, 'argmin');
      expectClose(on(x.div(4), dev).prod(2), x.div(4).prod(2), 1e-5, 1e-7, 'prod');
      const big = sample([1 << 18]);
      expectClose(on(big, dev).sum(), big.sum(), 1e-6, 1e-3, 'long sum (split across blocks)');
      expectClose(on(big, dev).argmax(), big.argmax(), 0, 0, 'long argmax');
      const withNan = ignis.tensor([[1, NaN, 3], [4, 5, 6]]);
      expectClose(on(withNan, dev).amax(1), withNan.amax(1), 0, 0, 'amax NaN');
      expectClose(on(withNan, dev).argmax(1), withNan.argmax(1), 0, 0, 'argmax NaN');
      const ints = ignis.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'int32' });
      expectClose(on(ints, dev).sum(1), ints.sum(1), 0, 0, 'int sum is int64');
      // column reductions (one thread per output on CUDA, the reduced range split across blocks)
      // and short rows; argmax over dim 0 with ties keeps the first index
      const tall = sample([3000, 70], -4, 4, 5);
      expectClose(on(tall, dev).sum(0), tall.sum(0), 1e-6, 1e-4, 'column sum');
      expectClose(on(tall, dev).amax(0), tall.amax(0), 0, 0, 'column amax');
      expectClose(on(tall, dev).argmin(0), tall.argmin(0), 0, 0, 'column argmin');
      const ties = ignis.tensor([[1, 7, NaN], [3, 7, 2], [3, 1, NaN]]);
      expectClose(on(ties, dev).argmax(0), ties.argmax(0), 0, 0, 'column argmax with ties and NaN');
      const short = sample([20000, 3], -4, 4, 6);
      expectClose(on(short, dev).sum(1), short.sum(1), 1e-6, 1e-5, 'short rows');
      expectClose(on(short, dev).argmax(1), short.argmax(1), 0, 0, 'short rows argmax');
    });

    it('softmax / logSoftmax and their gradients', () => {
      const x = sample([4, 10], -8, 8, 6);
      for (const f of [ignis.softmax, ignis.logSoftmax]) {
        const xr = x.clone().requiresGrad_();
        f(xr, 1).mul(x).sum().backward();
        const xd = on(x, dev).detach().requiresGrad_();
        const y = f(xd, 1);
        y.mul(on(x, dev)).sum().backward();
        expectClose(y, f(x, 1), 1e-5, 1e-6, f.name);
        expectClose(xd.grad!, xr.grad!, 1e-5, 1e-6, `${f.name} grad`);
      }
    });

    it('matmul: plain, transposed operands, batched and broadcast, float64', () => {
      const a = sample([17, 33], -1, 1, 7);
      const b = sample([33, 9], -1, 1, 8);
      expectClose(ignis.matmul(on(a, dev), on(b, dev)), ignis.matmul(a, b), 1e-5, 1e-5, 'mm');
      expectClose(ignis.matmul(on(b, dev).t(), on(a, dev).t()), ignis.matmul(b.t(), a.t()), 1e-5, 1e-5, 'mm of transposes');
      const ba = sample([3, 5, 6], -1, 1, 9), bb = sample([6, 4], -1, 1, 10);
      expectClose(ignis.matmul(on(ba, dev), on(bb, dev)), ignis.matmul(ba, bb), 1e-5, 1e-5, 'batched @ broadcast');
      const ad = a.to('float64'), bd = b.to('float64');
      expectClose(ignis.matmul(on(ad, dev), on(bd, dev)), ignis.matmul(ad, bd), 1e-12, 1e-12, 'float64');
      const ar = a.clone().requiresGrad_();
      ignis.matmul(ar, b).sum().backward();
      const adv = on(a, dev).detach().requiresGrad_();
      ignis.matmul(adv, on(b, dev)).sum().backward();
      expectClose(adv.grad!, ar.grad!, 1e-5, 1e-5, 'mm grad');
    });

    it('conv2d forward/backward and conv + bias + activation (fused vs unfused)', () => {
      ignis.backends.cudnn.allowTf32 = false;
      try {
        const x = sample([2, 3, 9, 10], -1, 1, 11);
        const w = sample([4, 3, 3, 3], -0.5, 0.5, 12);
        const b = sample([4], -0.5, 0.5, 13);
        const xr = x.clone().requiresGrad_(), wr = w.clone().requiresGrad_(), br = b.clone().requiresGrad_();
        const yr = F.conv2d(xr, wr, br, { padding: 1, stride: [1, 2] });
        yr.mul(yr).sum().backward();
        const xd = on(x, dev).detach().requiresGrad_(), wd = on(w, dev).detach().requiresGrad_(), bd = on(b, dev).detach().requiresGrad_();
        const yd = F.conv2d(xd, wd, bd, { padding: 1, stride: [1, 2] });
        yd.mul(yd).sum().backward();
        expectClose(yd, yr, 1e-5, 1e-5, 'conv forward');
        expectClose(xd.grad!, xr.grad!, 1e-5, 1e-5, 'conv dx');
        expectClose(wd.grad!, wr.grad!, 1e-5, 1e-5, 'conv dw');
        expectClose(bd.grad!, br.grad!, 1e-5, 1e-5, 'conv db');
        for (const [activation, activationParams] of [['relu', undefined], ['gelu', undefined], ['silu', undefined], ['leaky_relu', { negativeSlope: 0.2 }], ['elu', undefined], ['mish', undefined]] as const) {
          // hand the output a block full of NaN (the allocator reuses it): a fused path that read
          // its output before writing it (cuDNN's z with alpha2 = 0) would show here
          ignis.full([2, 4, 9, 10], 0, { device: dev }).log().mul(0).dispose(); // 0 * -inf = NaN
          const fused = ignis.noGrad(() => F.conv2d(on(x, dev), on(w, dev), on(b, dev), { padding: 1, activation, activationParams }));
          const unfused = F.conv2d(x, w, b, { padding: 1 });
          const ref = (F as unknown as Record<string, (t: Tensor, p?: object) => Tensor>)[activation === 'leaky_relu' ? 'leakyRelu' : activation](unfused, activationParams);
          expectClose(fused, ref, 1e-5, 1e-5, `conv + bias + ${activation}`);
        }
      } finally {
        ignis.backends.cudnn.allowTf32 = true;
      }
    });

    it('per-channel sums over long channels: conv bias gradient (16-byte packs and not), bias + activation backward, prelu slope', () => {
      // channels of ~4K elements, so each thread of the sweep takes the unrolled loop (4 loads
      // ahead) and then the tail; S = 32 * 33 is a whole number of 16-byte packs, 31 * 33 is not;
      // S = 2 * 3 and 2 * 4 (planes under 32 units) with 1100 samples: the sweep by columns over
      // several row slices (2 * 4: 16-byte packs of float32, two columns per channel)
      ignis.backends.cudnn.allowTf32 = false;
      try {
        for (const dt of ['float32', 'float64'] as const)
          for (const [n, h, w] of [[4, 32, 33], [4, 31, 33], [1100, 2, 3], [1100, 2, 4]]) {
            const x = sample([n, 2, h, w], -1, 1, 31).to(dt);
            const wt = sample([3, 2, 3, 3], -0.5, 0.5, 32).to(dt);
            const b = sample([3], -0.5, 0.5, 33).to(dt);
            const go = sample([n, 3, h, w], -1, 1, 34).to(dt);
            for (const activation of [undefined, 'gelu'] as const) {
              // the output with and without autograd (on CUDA the epilogue's whole tiles of packs too)
              const grads = (d: string) => {
                const ins = [x, wt, b].map((t) => on(t, d).detach().requiresGrad_());
                const y = F.conv2d(ins[0], ins[1], ins[2], { padding: 1, activation });
                y.mul(on(go, d)).sum().backward();
                const y0 = ignis.noGrad(() => F.conv2d(ins[0], ins[1], ins[2], { padding: 1, activation }));
                return [...ins.map((t) => t.grad!), y, y0];
              };
              const want = grads('cpu');
              // dw, db: float32 sums of ~4K-9K terms, in an order that differs between the libraries
              // (the CPU's oneDNN sums db in float32; CUDA's sweeps in double)
              const tol = (i: number) => (dt === 'float32' && (i === 1 || (i === 2 && n > 4)) ? 1e-4 : 1e-5);
              grads(dev).forEach((g, i) => expectClose(g, want[i], tol(i), tol(i), `${dt} ${activation ?? 'conv'} ${['dx', 'dw', 'db', 'y', 'y (no grad)'][i]} [${n}, 2, ${h}, ${w}]`));
            }
            const slope = sample([2], 0.1, 0.3, 35).to(dt);
            const pr = (d: string) => {
              const ins = [on(x, d).detach().requiresGrad_(), on(slope, d).detach().requiresGrad_()];
              F.prelu(ins[0], ins[1]).mul(on(x, d).cos()).sum().backward();
              return ins.map((t) => t.grad!);
            };
            const pw = pr('cpu');
            pr(dev).forEach((g, i) => expectClose(g, pw[i], 1e-5, 1e-5, `${dt} prelu ${['dx', 'dslope'][i]} [${n}, 2, ${h}, ${w}]`));
          }
      } finally {
        ignis.backends.cudnn.allowTf32 = true;
      }
    });

    it("conv2d edge geometry: padding='same' with even kernels (asymmetric padding) and an empty batch", () => {
      ignis.backends.cudnn.allowTf32 = false;
      try {
        const x = sample([2, 3, 8, 7], -1, 1, 21);
        const b = sample([5], -0.5, 0.5, 23);
        for (const [kh, kw, dil] of [[4, 2, 1], [2, 3, 1], [2, 2, 3]] as const) {
          const w = sample([5, 3, kh, kw], -0.5, 0.5, 22);
          const opts = { padding: 'same' as const, dilation: dil };
          const xr = x.clone().requiresGrad_(), wr = w.clone().requiresGrad_();
          const yr = F.conv2d(xr, wr, b, opts);
          yr.mul(yr).sum().backward();
          const xd = on(x, dev).detach().requiresGrad_(), wd = on(w, dev).detach().requiresGrad_();
          const yd = F.conv2d(xd, wd, on(b, dev), opts);
          yd.mul(yd).sum().backward();
          expect(yd.shape).toEqual([2, 5, 8, 7]);
          expectClose(yd, yr, 1e-5, 1e-5, `same ${kh}x${kw} dilation ${dil}`);
          expectClose(xd.grad!, xr.grad!, 1e-5, 1e-5, `same ${kh}x${kw} dx`);
          expectClose(wd.grad!, wr.grad!, 1e-5, 1e-5, `same ${kh}x${kw} dw`);
        }
        // conv1d 'same' with k = 2 (common in audio models) rides on the same path
        const x1 = sample([2, 3, 11], -1, 1, 24), w1 = sample([4, 3, 2], -0.5, 0.5, 25);
        expectClose(F.conv1d(on(x1, dev), on(w1, dev), null, { padding: 'same' }), F.conv1d(x1, w1, null, { padding: 'same' }), 1e-5, 1e-5, 'conv1d same k=2');
        // an empty batch: an empty output, zero weight and bias gradients
        const x0 = on(ignis.zeros([0, 3, 8, 7]), dev).requiresGrad_();
        const w0 = on(sample([5, 3, 3, 3]), dev).detach().requiresGrad_();
        const b0 = on(sample([5]), dev).detach().requiresGrad_();
        const y0 = F.conv2d(x0, w0, b0, { padding: 1, activation: 'gelu' });
        expect(y0.shape).toEqual([0, 5, 8, 7]);
        y0.sum().backward();
        expect(Array.from(w0.grad!.cpu().toArray() as number[][][][]).flat(3).every((v) => v === 0)).toBe(true);
        expect(b0.grad!.cpu().toArray()).toEqual([0, 0, 0, 0, 0]);
        // and without an activation (the convolution's own filter and bias gradients)
        const b1 = on(sample([5]), dev).detach().requiresGrad_();
        F.conv2d(x0, w0, b1, { padding: 1 }).sum().backward();
        expect(b1.grad!.cpu().toArray()).toEqual([0, 0, 0, 0, 0]);
      } finally {
        ignis.backends.cudnn.allowTf32 = true;
      }
    });

    it('conv (+ bias) + activation through the cuDNN graph and through the epilogue both match conv, then the activation', () => {
      // On CUDA, ignis.backends.cudnn.graphFusion (default on) sends the activations that cuDNN's
      // pointwise modes cover, one mode or a composition of them (every activation of the table),
      // to one operation graph where an engine takes it, else to the epilogue; off, everything takes the epilogue; with cudnn.benchmark, the faster one. Weights x20 give outputs up to ~60,
      // where softplus, sigmoid, tanh, gelu and elu saturate. IGNIS_CUDNN_GRAPH_LOG=1 prints which
      // graphs cuDNN took. The reference is the CPU's conv + bias, then the activation.
      const x = sample([2, 3, 9, 10], -1, 1, 31);
      const w = sample([4, 3, 3, 3], -0.5, 0.5, 32);
      const b = sample([4], -0.5, 0.5, 33);
      const cases: [string | null, Record<string, unknown> | undefined][] = [
        [null, undefined], ['relu', undefined], ['relu6', undefined], ['hardtanh', { minVal: -0.5, maxVal: 0.7 }],
        ['leaky_relu', { negativeSlope: 0.2 }], ['elu', { alpha: 0.5 }], ['gelu', undefined], ['gelu', { approximate: 'tanh' }],
        ['silu', undefined], ['swish', { beta: 1.5 }], ['softplus', { beta: 2 }], ['sigmoid', undefined], ['tanh', undefined],
        ['mish', undefined], ['celu', { alpha: 0.7 }], ['selu', undefined], ['hardsigmoid', undefined], ['hardswish', undefined],
        ['softsign', undefined], ['logsigmoid', undefined], ['tanhshrink', undefined], ['softshrink', { lambd: 0.3 }],
        ['hardshrink', { lambd: 0.3 }], ['threshold', { threshold: 0.1, value: -2 }],
      ];
      const F_ = F as unknown as Record<string, (t: Tensor, p?: object) => Tensor>;
      const check = (cs: typeof cases, tf32: boolean, graph: boolean, benchmark = false) => {
        ignis.backends.cudnn.allowTf32 = tf32;
        ignis.backends.cudnn.graphFusion = graph;
        ignis.backends.cudnn.benchmark = benchmark;
        for (const [wt, scale] of [[w, 1], [w.mul(20), 20]] as const)
          for (const bias of [b, null])
            for (const [activation, activationParams] of cs) {
              if (!activation && !bias) continue;
              const fused = ignis.noGrad(() => F.conv2d(on(x, dev), on(wt, dev), bias && on(bias, dev), { padding: 1, activation, activationParams }));
              const unfused = F.conv2d(x, wt, bias, { padding: 1 });
              const fn = activation && ACTIVATIONS.find((r) => r.name === activation)!.fn;
              const ref = fn ? F_[fn](unfused, activationParams) : unfused;
              const what = `conv ${bias ? '+ bias ' : ''}+ ${activation ?? 'identity'} ${JSON.stringify(activationParams ?? {})}, weights x${scale}, tf32 ${tf32}, graph ${graph}, benchmark ${benchmark}`;
              expectClose(fused, ref, tf32 ? 1e-3 : 1e-5, (tf32 ? 2e-3 : 2e-6) * scale, what);
            }
      };
      try {
        check(cases, false, true);
        check(cases, false, false);
        check(cases.filter(([a]) => a === 'gelu' || a === 'silu' || a === 'relu6' || a === 'mish' || a === 'hardswish'), true, true);
        // with cudnn.benchmark on too (the graph is timed against conv + epilogue once per plan either way)
        check(cases.filter(([a]) => a === 'elu' || a === 'tanh'), false, true, true);
      } finally {
        ignis.backends.cudnn.allowTf32 = true;
        ignis.backends.cudnn.graphFusion = true;
        ignis.backends.cudnn.benchmark = false;
      }
    });

    it('conv + bias + activation in training (conv2d_act: one sweep for the activation and bias gradients) vs the CPU', () => {
      ignis.backends.cudnn.allowTf32 = false;
      try {
        const x = sample([3, 3, 9, 10], -1, 1, 21);
        const w = sample([5, 3, 3, 3], -0.5, 0.5, 22);
        const b = sample([5], -0.5, 0.5, 23);
        const go = sample([3, 5, 9, 10], -1, 1, 24);
        // the forward writes y and keeps z = conv + b in one pass on CUDA (a cuDNN graph with two
        // outputs, or the epilogue with graph fusion off); mish has no cuDNN mode (epilogue always)
        // also an output of 8 x 8 (S = 64, a whole number of 16-byte packs): the epilogue's vector path
        for (const xs of [x, sample([2, 3, 8, 8], -1, 1, 25)])
          for (const graph of [true, false])
            for (const withBias of [true, false])
              for (const [activation, activationParams] of [['relu', undefined], ['gelu', undefined], ['sigmoid', undefined], ['leaky_relu', { negativeSlope: 0.2 }], ['elu', undefined], ['mish', undefined]] as const) {
                ignis.backends.cudnn.graphFusion = graph;
                const grads = (d: string) => {
                  const ins = (withBias ? [xs, w, b] : [xs, w]).map((t) => on(t, d).detach().requiresGrad_());
                  const y = F.conv2d(ins[0], ins[1], ins[2] ?? null, { padding: 1, activation, activationParams });
                  expect(y.gradFn?.name).toBe('conv2d_act');
                  const g = xs === x ? go : sample(y.shape, -1, 1, 26);
                  return [y, ...ignis.autograd.grad(y, ins, { gradOutputs: on(g, d) })];
                };
                const want = grads('cpu');
                grads(dev).forEach((t, i) => expectClose(t, want[i], 1e-5, 1e-5, `${activation} ${['y', 'dx', 'dw', 'db'][i]}, bias ${withBias}, graph ${graph}, input ${xs.shape}`));
              }
      } finally {
        ignis.backends.cudnn.allowTf32 = true;
        ignis.backends.cudnn.graphFusion = true;
      }
    });

    it('linear + bias + activation (F.linear / nn.Linear option): the fused pass and linear_act training vs the CPU', () => {
      // out features 6 (the epilogue's scalar path), 8 and 12 (whole 16-byte packs of consecutive
      // channels: the bias read as packs), leading dims flattened, float64 too
      // [300, 8] -> 12: 300 rows, the backward's bias-gradient sweep by columns over several row slices
      const cases: [number[], number, 'float32' | 'float64'][] = [
        [[300, 8], 12, 'float32'],
        [[5, 7], 6, 'float32'],
        [[9, 16], 8, 'float32'],
        [[2, 3, 12], 12, 'float32'],
        [[5, 7], 6, 'float64'],
        [[4, 5], 8, 'float64'],
      ];
      let seed = 40;
      for (const [xs, out, dt] of cases)
        for (const withBias of [true, false])
          for (const [activation, activationParams] of [['relu', undefined], ['gelu', undefined], ['sigmoid', undefined], ['leaky_relu', { negativeSlope: 0.2 }], ['mish', undefined]] as const) {
            const x = sample(xs, -1, 1, seed++).to(dt);
            const w = sample([out, xs[xs.length - 1]], -0.5, 0.5, seed++).to(dt);
            const b = sample([out], -0.5, 0.5, seed++).to(dt);
            const what = `${activation} ${xs} -> ${out} ${dt} bias ${withBias}`;
            const tol = dt === 'float32' ? 1e-5 : 1e-12;
            const fwd = (d: string) => ignis.noGrad(() => F.linear(on(x, d), on(w, d), withBias ? on(b, d) : null, { activation, activationParams }));
            expectClose(fwd(dev), fwd('cpu'), tol, tol, `${what} forward`);
            const grads = (d: string) => {
              const ins = (withBias ? [x, w, b] : [x, w]).map((t) => on(t, d).detach().requiresGrad_());
              const y = F.linear(ins[0], ins[1], ins[2] ?? null, { activation, activationParams });
              expect(y.gradFn?.name).toBe('linear_act');
              return [y, ...ignis.autograd.grad(y, ins, { gradOutputs: on(sample(y.shape, -1, 1, 99).to(dt), d) })];
            };
            const want = grads('cpu');
            grads(dev).forEach((t, i) => expectClose(t, want[i], tol, tol, `${what} ${['y', 'dx', 'dw', 'db'][i]}`));
          }
    });

    it('convTranspose2d + bias + activation: the fused pass (no grad) and the composed training path vs the CPU', () => {
      // output planes of 9 x 9 (the epilogue's scalar path) and 8 x 8 (whole 16-byte packs)
      for (const [h, op] of [[4, 0], [4, 1]] as const)
        for (const [activation, activationParams] of [['gelu', undefined], ['leaky_relu', { negativeSlope: 0.2 }], ['sigmoid', undefined]] as const) {
          const x = sample([2, 3, h, h], -1, 1, 60);
          const w = sample([3, 4, 3, 3], -0.5, 0.5, 61);
          const b = sample([4], -0.5, 0.5, 62);
          const opts = { stride: 2, padding: 1, outputPadding: op, activation, activationParams };
          const what = `${activation} output ${2 * h - 1 + op}`;
          const fwd = (d: string) => ignis.noGrad(() => F.convTranspose2d(on(x, d), on(w, d), on(b, d), opts));
          expectClose(fwd(dev), fwd('cpu'), 1e-5, 1e-5, `${what} forward`);
          const grads = (d: string) => {
            const ins = [x, w, b].map((t) => on(t, d).detach().requiresGrad_());
            const y = F.convTranspose2d(ins[0], ins[1], ins[2], opts);
            return [y, ...ignis.autograd.grad(y.square().sum(), ins)];
          };
          const want = grads('cpu');
          grads(dev).forEach((t, i) => expectClose(t, want[i], 1e-4, 1e-5, `${what} ${['y', 'dx', 'dw', 'db'][i]}`));
        }
    });

    it('max, average and adaptive pooling, forward and backward (padding, stride, ceil mode, count_include_pad)', () => {
      const x = sample([2, 3, 9, 11], -2, 2, 16);
      const cases: [string, (t: Tensor) => Tensor][] = [
        ['max 2x2', (t) => F.maxPool2d(t, { kernelSize: 2 })],
        ['max 3x3 s2 p1 ceil', (t) => F.maxPool2d(t, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true })],
        // overlapping windows (one input the argmax of several: the backward's gather sums them)
        ['max 3x3 s1', (t) => F.maxPool2d(t, { kernelSize: 3, stride: 1 })],
        ['max 2x3 s(1,2) p(1,0) d(2,1)', (t) => F.maxPool2d(t, { kernelSize: [2, 3], stride: [1, 2], padding: [1, 0], dilation: [2, 1] })],
        ['max 3x3 s2 p2 d2 ceil', (t) => F.maxPool2d(t, { kernelSize: 3, stride: 2, padding: 2, dilation: 2, ceilMode: true })],
        ['avg 3x3 s2 p1', (t) => F.avgPool2d(t, { kernelSize: 3, stride: 2, padding: 1 })],
        ['avg 3x3 p1 no pad count', (t) => F.avgPool2d(t, { kernelSize: 3, padding: 1, countIncludePad: false })],
        ['avg 3x2 s(2,1) p(1,1) ceil, divisor 5', (t) => F.avgPool2d(t, { kernelSize: [3, 2], stride: [2, 1], padding: [1, 1], ceilMode: true, divisorOverride: 5 })],
        ['avg 2x2 s3 ceil (gaps between windows)', (t) => F.avgPool2d(t, { kernelSize: 2, stride: 3, ceilMode: true })],
        ['adaptive avg 4x3', (t) => F.adaptiveAvgPool2d(t, [4, 3])],
        ['adaptive max 2x5', (t) => F.adaptiveMaxPool2d(t, [2, 5])],
      ];
      for (const [name, f] of cases) {
        const xr = x.clone().requiresGrad_();
        const yr = f(xr);
        yr.mul(yr).sum().backward();
        const xd = on(x, dev).detach().requiresGrad_();
        const yd = f(xd);
        yd.mul(yd).sum().backward();
        expectClose(yd, yr, 1e-6, 1e-6, `${name} forward`);
        expectClose(xd.grad!, xr.grad!, 1e-5, 1e-6, `${name} backward`);
      }
    });

    it('batch norm: training (batch stats, running update) and eval, forward and backward', () => {
      // [4, 3, 5, 6]: CUDA's one-kernel path; [8, 3, 41, 67] (66K elements): the sweeps over a
      // C x K grid, the statistics kernel and the elementwise pass
      // [8000, 3, 1, 3] (72K elements, planes of 3): the sweeps by columns
      for (const [shape, seed] of [[[4, 3, 5, 6], 17], [[8, 3, 41, 67], 27], [[8000, 3, 1, 3], 28]] as [number[], number][]) {
        const x = sample(shape, -2, 3, seed);
        const w = sample([3], 0.5, 1.5, 18), b = sample([3], -1, 1, 19);
        for (const training of [true, false]) {
          const rmR = ignis.full([3], 0.1), rvR = ignis.full([3], 1.5);
          const rmD = on(rmR, dev).clone(), rvD = on(rvR, dev).clone();
          const xr = x.clone().requiresGrad_(), wr = w.clone().requiresGrad_(), br = b.clone().requiresGrad_();
          const yr = F.batchNorm(xr, rmR, rvR, wr, br, { training, momentum: 0.2 });
          yr.mul(x.cos()).sum().backward();
          const xd = on(x, dev).detach().requiresGrad_(), wd = on(w, dev).detach().requiresGrad_(), bd = on(b, dev).detach().requiresGrad_();
          const yd = F.batchNorm(xd, rmD, rvD, wd, bd, { training, momentum: 0.2 });
          yd.mul(on(x, dev).cos()).sum().backward();
          const tag = `${training ? 'train' : 'eval'} ${shape}`;
          expectClose(yd, yr, 1e-5, 1e-5, `bn ${tag} forward`);
          expectClose(xd.grad!, xr.grad!, 1e-4, 1e-5, `bn ${tag} dx`);
          expectClose(wd.grad!, wr.grad!, 1e-4, 1e-5, `bn ${tag} dw`);
          expectClose(bd.grad!, br.grad!, 1e-5, 1e-5, `bn ${tag} db`);
          expectClose(rmD, rmR, 1e-6, 1e-6, `bn ${tag} running mean`);
          expectClose(rvD, rvR, 1e-6, 1e-6, `bn ${tag} running var`);
        }
        // no affine parameters, no running statistics (batch statistics in eval mode too)
        const xr = x.clone().requiresGrad_(), xd = on(x, dev).detach().requiresGrad_();
        F.batchNorm(xr, null, null, null, null, { training: true }).mul(x.sin()).sum().backward();
        const yd = F.batchNorm(xd, null, null, null, null, { training: true });
        yd.mul(on(x, dev).sin()).sum().backward();
        expectClose(yd, F.batchNorm(x, null, null, null, null, { training: true }), 1e-5, 1e-5, `bn no affine ${shape}`);
        expectClose(xd.grad!, xr.grad!, 1e-4, 1e-5, `bn no affine dx ${shape}`);
      }
    });

    it('optimizer steps (SGD, Adam, AdamW, RMSprop, Adagrad, with their options) match the CPU', () => {
      for (const make of [
        (p: Tensor[]) => new ignis.optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 }),
        (p: Tensor[]) => new ignis.optim.SGD(p, { lr: 0.1, weightDecay: 0.05, maximize: true }),
        (p: Tensor[]) => new ignis.optim.Adam(p, { lr: 0.01, amsgrad: true }),
        // beta1 0.4: the moment's lerp weight 1 - beta1 is >= 0.5 (the other branch of lerp)
        (p: Tensor[]) => new ignis.optim.Adam(p, { lr: 0.01, betas: [0.4, 0.999], weightDecay: 0.02 }),
        (p: Tensor[]) => new ignis.optim.AdamW(p, { lr: 0.01, weightDecay: 0.1 }),
        (p: Tensor[]) => new ignis.optim.RMSprop(p, { lr: 0.01 }),
        (p: Tensor[]) => new ignis.optim.RMSprop(p, { lr: 0.01, centered: true, momentum: 0.9, weightDecay: 0.01 }),
        (p: Tensor[]) => new ignis.optim.RMSprop(p, { lr: 0.01, alpha: 0.3, centered: true, maximize: true }),
        (p: Tensor[]) => new ignis.optim.Adagrad(p, { lr: 0.05 }),
        (p: Tensor[]) => new ignis.optim.Adagrad(p, { lr: 0.05, lrDecay: 0.1, weightDecay: 0.01, initialAccumulatorValue: 0.5, maximize: true }),
      ]) {
        // a small parameter and one of 4500 elements: on CUDA units of 2048, each thread 4 elements
        // loaded together, then a part unit
        const w0s = [sample([5, 7], -1, 1, 14), sample([4500], -1, 1, 16)];
        const prs = w0s.map((w) => w.clone().requiresGrad_()), pds = w0s.map((w) => on(w, dev).detach().requiresGrad_());
        const or = make(prs), od = make(pds);
        for (let step = 0; step < 3; step++) {
          for (const [ps, o] of [[prs, or], [pds, od]] as const) {
            o.zeroGrad();
            for (const p of ps) p.mul(p).mul(p.sin()).sum().backward();
            o.step();
          }
        }
        const { params: _, ...opts } = or.paramGroups[0];
        pds.forEach((pd, i) => expectClose(pd, prs[i], 1e-5, 1e-6, `${or.constructor.name} ${JSON.stringify(opts)} ${prs[i].shape}`));
      }
    });

    it('gather, scatter, scatterAdd, indexSelect and cross-entropy (forward and backward)', () => {
      const x = sample([6, 9], -2, 2, 15);
      const idx = ignis.tensor([[0, 8, 3], [1, 1, 2], [7, 0, 0], [5, 4, 3], [2, 2, 2], [8, 7, 6]]);
      expectClose(ignis.gather(on(x, dev), 1, on(idx, dev)), ignis.gather(x, 1, idx), 0, 0, 'gather');
      const z = ignis.zeros([6, 9]);
      expectClose(ignis.scatterAdd(on(z, dev), 1, on(idx, dev), on(x.slice(1, 0, 3), dev)), ignis.scatterAdd(z, 1, idx, x.slice(1, 0, 3)), 1e-6, 1e-6, 'scatterAdd');
      expectClose(ignis.indexSelect(on(x, dev), 0, on(ignis.tensor([5, 0, 2]), dev)), ignis.indexSelect(x, 0, ignis.tensor([5, 0, 2])), 0, 0, 'indexSelect');
      expect(() => ignis.gather(on(x, dev), 1, on(ignis.tensor([[9]]), dev))).toThrow(ignis.IndexError);
      const t = ignis.tensor([3, 0, 8, 1, 1, 5]);
      const xr = x.clone().requiresGrad_();
      const lr = F.crossEntropy(xr, t);
      lr.backward();
      const xd = on(x, dev).detach().requiresGrad_();
      const ld = F.crossEntropy(xd, on(t, dev));
      ld.backward();
      expectClose(ld, lr, 1e-5, 1e-6, 'cross entropy');
      expectClose(xd.grad!, xr.grad!, 1e-5, 1e-6, 'cross entropy grad');
      expect(() => F.crossEntropy(on(x, dev), on(ignis.tensor([3, 0, 9, 1, 1, 5]), dev))).toThrow(/crossEntropy: target 9 is out of bounds for 9 classes/);
      expect(() => F.crossEntropy(on(x, dev), on(ignis.tensor([3, 0, -2, 1, 1, 5]), dev))).toThrow(/target -2 is out of bounds/);
      expect(F.crossEntropy(on(x, dev), on(ignis.tensor([3, -100, 8, 1, 1, 5]), dev)).item()).toBeCloseTo(
        F.crossEntropy(x, ignis.tensor([3, -100, 8, 1, 1, 5])).item() as number, 5);
    });

    it('cross-entropy kernels (nll forward, softmax-minus-one-hot backward) vs the CPU: weights, ignoreIndex, reductions, [N, C, d], float64', () => {
      const w = sample([9], 0.2, 2, 41);
      const t = ignis.tensor([3, 0, 8, 1, 1, 5]);
      const t4 = ignis.tensor([[4, 2, 2], [0, 1, 2]]);
      const cases: [string, Tensor, Tensor, Parameters<typeof F.crossEntropy>[2]][] = [
        ['sum + weight', sample([6, 9], -3, 3, 42), t, { weight: w, reduction: 'sum' }],
        ['mean + weight + ignoreIndex 1', sample([6, 9], -3, 3, 43), t, { weight: w, ignoreIndex: 1 }],
        ['none + ignoreIndex -100', sample([6, 9], -3, 3, 44), ignis.tensor([3, -100, 8, 1, -100, 5]), { reduction: 'none' }],
        ['[N, C, d] mean', sample([2, 5, 3], -3, 3, 45), t4, {}],
        ['[N, C, d] none + weight', sample([2, 5, 3], -3, 3, 46), t4, { weight: w.slice(0, 0, 5).contiguous(), reduction: 'none' }],
        ['float64', sample([6, 9], -3, 3, 47).to('float64'), t, { weight: w.to('float64') }],
        // CUDA reduces up to 4096 rows in one block; above, partial sums per block and a second launch
        ['4096 rows, sum', sample([4096, 3], -3, 3, 49), ignis.tensor(Array.from({ length: 4096 }, (_, i) => (i * 5) % 3)), { reduction: 'sum' }],
        ['5000 rows, mean + weight + ignoreIndex', sample([5000, 3], -3, 3, 50),
          ignis.tensor(Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? -100 : (i * 5) % 3))), { weight: w.slice(0, 0, 3).contiguous() }],
      ];
      for (const [name, x, tt, o] of cases) {
        const xr = x.clone().requiresGrad_();
        const lr = F.crossEntropy(xr, tt, o);
        const g = sample(lr.shape as number[], 0.5, 1.5, 48).to(x.dtype);
        lr.backward(g);
        const xd = on(x, dev).detach().requiresGrad_();
        const od = o!.weight ? { ...o, weight: on(o!.weight, dev) } : o;
        const ld = F.crossEntropy(xd, on(tt, dev), od);
        ld.backward(on(g, dev));
        expectClose(ld, lr, 1e-5, 1e-6, `cross entropy ${name}`);
        expectClose(xd.grad!, xr.grad!, 1e-5, 1e-6, `cross entropy grad ${name}`);
      }
    });

    it('cross-entropy edge cases as PyTorch: every row ignored (NaN loss, zero gradient), every weight zero (NaN, NaN), an empty batch', () => {
      const x = sample([3, 4], -2, 2, 51);
      const run = (t: number[], o: Parameters<typeof F.crossEntropy>[2] = {}, xs = x) => {
        const xd = on(xs, dev).detach().requiresGrad_();
        const l = F.crossEntropy(xd, on(ignis.tensor(t, { dtype: 'int64' }), dev), o);
        l.backward();
        return { loss: l.item() as number, grad: (xd.grad!.cpu().toArray() as number[][]).flat() };
      };
      const ignored = run([-100, -100, -100]);
      expect(ignored.loss).toBeNaN();
      expect(ignored.grad).toEqual(new Array(12).fill(0));
      const ignored1 = run([1, 1, 1], { ignoreIndex: 1 });
      expect(ignored1.loss).toBeNaN();
      expect(ignored1.grad).toEqual(new Array(12).fill(0));
      const zeroW = run([1, 2, 3], { weight: on(ignis.tensor([1, 0, 0, 0], { dtype: 'float32' }), dev) });
      expect(zeroW.loss).toBeNaN();
      expect(zeroW.grad.every(Number.isNaN)).toBe(true);
      const sum = run([-100, -100, -100], { reduction: 'sum' });
      expect(sum.loss).toBe(0);
      expect(sum.grad).toEqual(new Array(12).fill(0));
      const empty = ignis.zeros([0, 4]);
      expect(run([], {}, empty).loss).toBeNaN();
      expect(run([], { reduction: 'sum' }, empty).loss).toBe(0);
      expect(F.crossEntropy(on(empty, dev), on(ignis.tensor([], { dtype: 'int64' }), dev), { reduction: 'none' }).shape).toEqual([0]);
    });

    it('gather and scatter move every element size (bool, int32, int64, float64); scatter with a scalar; integer scatterAdd', () => {
      // no index twice in a row or a column: which write wins is undefined for scatter on a GPU
      // (the emulator's shuffled schedule showed it), as in PyTorch
      const idx = ignis.tensor([[2, 0], [1, 2], [0, 1]]);
      const base = sample([3, 3], -4, 4, 31);
      for (const dt of ['bool', 'int32', 'int64', 'float64'] as const) {
        const x = base.gt(0).to(dt).mul(dt === 'bool' ? 1 : 3).to(dt);
        expectClose(ignis.gather(on(x, dev), 1, on(idx, dev)), ignis.gather(x, 1, idx), 0, 0, `gather ${dt}`);
        const src = dt === 'bool' ? base.lt(0) : base.round().to(dt);
        const z = ignis.zeros([3, 3], { dtype: dt });
        expectClose(ignis.scatter(on(z, dev), 1, on(idx, dev), on(src, dev)), ignis.scatter(z, 1, idx, src), 0, 0, `scatter ${dt}`);
      }
      const zf = ignis.zeros([3, 3]);
      expectClose(ignis.scatter(on(zf, dev), 0, on(idx, dev), 2.5), ignis.scatter(zf, 0, idx, 2.5), 0, 0, 'scatter a scalar');
      const zi = ignis.zeros([3, 3], { dtype: 'int64' });
      const si = ignis.tensor([[5, -7], [11, 13], [2, 3]], { dtype: 'int64' });
      expectClose(ignis.scatterAdd(on(zi, dev), 1, on(idx, dev), on(si, dev)), ignis.scatterAdd(zi, 1, idx, si), 0, 0, 'scatterAdd int64');
      const zs = on(zf, dev).clone();
      zs.scatter_(1, on(idx, dev), on(base.narrow(1, 0, 2), dev));
      expectClose(zs, ignis.scatter(zf, 1, idx, base.narrow(1, 0, 2)), 0, 0, 'scatter_ in place');
    });

    it('an index that passed the bounds check is checked again once written, or against a smaller dim', () => {
      // CUDA skips the check (a wait for the stream) for an int64 storage that passed it unchanged
      // (kernels.ts: markValidIndex); the CPU checks as it goes. Both must catch these.
      const x = on(sample([4, 3], -1, 1, 16), dev);
      const idx = on(ignis.tensor([0, 2, 1, 2]), dev);
      expect(ignis.gather(x, 1, idx.reshape([4, 1])).shape).toEqual([4, 1]);
      expect(ignis.gather(x, 1, idx.reshape([4, 1]).narrow(0, 1, 2)).shape).toEqual([2, 1]);  // a view of a checked storage
      idx.fill_(3);  // written: its version moves
      expect(() => ignis.gather(x, 1, idx.reshape([4, 1]))).toThrow(ignis.IndexError);
      const ok = on(ignis.tensor([[0], [2], [1], [2]]), dev);
      expect(ignis.gather(x, 1, ok).shape).toEqual([4, 1]);  // passes against size 3...
      expect(() => ignis.gather(x.narrow(1, 0, 2), 1, ok)).toThrow(ignis.IndexError);  // ...not against 2
      const z = on(ignis.zeros([4, 3]), dev);
      const sidx = on(ignis.tensor([[1], [0], [2], [1]]), dev);
      ignis.scatterAdd(z, 1, sidx, on(ignis.ones([4, 1]), dev));
      sidx.index(2, 0).fill_(7);
      expect(() => ignis.scatterAdd(z, 1, sidx, on(ignis.ones([4, 1]), dev))).toThrow(ignis.IndexError);
    });

    it('random: the same seed gives the same numbers on every device', () => {
      ignis.manualSeed(42);
      const a = ignis.randn([1000]);
      ignis.manualSeed(42);
      const b = ignis.randn([1000], { device: dev });
      expect(b.device).toBe(dev);
      expectClose(b, a, 1e-6, 0, 'randn'); // double-precision transforms: equal up to the last float bit
    });
  });
}
