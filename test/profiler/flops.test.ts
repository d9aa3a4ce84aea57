import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { costFn } from '../../src/profiler/flops';
import type { DevicePeaks } from '../../src/profiler';

const { profiler } = ignis;
const F = ignis.F;

const PEAKS: DevicePeaks = { device: 'cpu', bandwidthGBs: 20, gflops: 200, ridge: 10, method: 'test', measuredAt: '2026-01-01T00:00:00Z', cacheFile: null, cached: true };

function one(fn: () => unknown, name: string) {
  const prof = profiler.profile({ withFlops: true, recordShapes: true }, fn);
  const evs = prof.events.filter((e) => e.name === name);
  expect(evs.length).toBe(1);
  return { ev: evs[0], prof };
}

describe('profiler: FLOPs and bytes', () => {
  it('matmul / bmm: 2·B·M·N·K FLOPs, inputs + output bytes', () => {
    const [B, M, K, N] = [3, 5, 7, 11];
    const a = ignis.randn([B, M, K]);
    const b = ignis.randn([B, K, N]);
    const { ev } = one(() => a.bmm(b), 'bmm');
    expect(ev.flops).toBe(2 * B * M * N * K);
    expect(ev.bytes).toBe(4 * (B * M * K + B * K * N + B * M * N));
    // 2-D matmul runs as one bmm with B = 1
    const x = ignis.randn([M, K]);
    const w = ignis.randn([K, N]);
    const r = one(() => x.matmul(w), 'bmm');
    expect(r.ev.flops).toBe(2 * M * N * K);
    expect(r.ev.bytes).toBe(4 * (M * K + K * N + M * N));
  });

  it('linear with a fused activation: 2·M·N·K + M·N for the bias + M·N for the activation (no grad: linear; training: linear_act)', () => {
    const [M, K, N] = [4, 6, 3];
    const x = ignis.randn([M, K]);
    const w = ignis.randn([N, K], { requiresGrad: true });
    const b = ignis.randn([N]);
    const base = 2 * M * N * K + M * N;
    expect(one(() => ignis.noGrad(() => F.linear(x, w, b)), 'linear').ev.flops).toBe(base);
    expect(one(() => ignis.noGrad(() => F.linear(x, w, b, { activation: 'gelu' })), 'linear').ev.flops).toBe(base + M * N);
    expect(one(() => F.linear(x, w, b, { activation: 'gelu' }), 'linear_act').ev.flops).toBe(base + M * N);
    // convTranspose2d without autograd: its output pass is one op, bias_act, 2 FLOPs per element
    const xt = ignis.randn([2, 3, 4, 4]), wt = ignis.randn([3, 2, 3, 3]), bt = ignis.randn([2]);
    const r = one(() => ignis.noGrad(() => F.convTranspose2d(xt, wt, bt, { activation: 'gelu' })), 'bias_act');
    expect(r.ev.flops).toBe(2 * 2 * 2 * 6 * 6);
  });

  it('elementwise binary with broadcasting: numel FLOPs; broadcast operand counted at its own size', () => {
    const a = ignis.randn([6, 4]);
    const b = ignis.randn([4]);
    const { ev } = one(() => a.mul(b), 'mul');
    expect(ev.flops).toBe(24);
    expect(ev.bytes).toBe(4 * (24 + 4 + 24));
    const s = one(() => a.add(2), 'add');
    expect(s.ev.flops).toBe(24);
    expect(s.ev.bytes).toBe(4 * (24 + 24));
    const c = one(() => a.gt(0), 'gt');
    expect(c.ev.bytes).toBe(4 * 24 + 1 * 24); // bool output: one byte per element
    const d = one(() => ignis.randn([10], { dtype: 'float64' }).exp(), 'exp');
    expect(d.ev.flops).toBe(10);
    expect(d.ev.bytes).toBe(8 * 20);
  });

  it('softmax forward and backward, in-place add_', () => {
    const x = ignis.randn([4, 5], { requiresGrad: true });
    const prof = profiler.profile({ withFlops: true }, () => F.softmax(x, { dim: 1 }).sum().backward());
    const f = prof.events.find((e) => e.name === 'softmax')!;
    expect(f.flops).toBe(4 * 20);
    expect(f.bytes).toBe(4 * 40);
    const b = prof.events.find((e) => e.name === 'softmax_backward')!;
    expect(b.flops).toBe(3 * 20);
    expect(b.bytes).toBe(4 * 60); // y, grad in; grad out
    const a = one(() => ignis.zeros([6]).add_(ignis.ones([6])), 'add_');
    expect(a.ev.flops).toBe(6);
    expect(a.ev.bytes).toBe(4 * 18);
  });

  it('prelu and glu, forward and backward', () => {
    const x = ignis.randn([2, 3, 4], { requiresGrad: true });
    const w = ignis.full([3], 0.25, { requiresGrad: true });
    const prof = profiler.profile({ withFlops: true }, () => {
      F.prelu(x, w).sum().backward();
      F.glu(x, { dim: -1 }).sum().backward();
    });
    const ev = (n: string) => prof.events.find((e) => e.name === n)!;
    expect([ev('prelu').flops, ev('prelu').bytes]).toEqual([24, 4 * (24 + 3 + 24)]);
    expect([ev('prelu_backward').flops, ev('prelu_backward').bytes]).toEqual([48, 4 * (24 + 3 + 24 + 24 + 3)]); // x, w, g in; gx, gw out
    expect([ev('glu').flops, ev('glu').bytes]).toEqual([24, 4 * (24 + 12)]);
    expect([ev('glu_backward').flops, ev('glu_backward').bytes]).toEqual([24, 4 * (24 + 12 + 24)]);
  });

  it('activations, forward and backward: numel FLOPs', () => {
    const x = ignis.randn([2, 3, 5], { requiresGrad: true });
    const prof = profiler.profile({ withFlops: true }, () => F.gelu(x).sum().backward());
    const g = prof.events.find((e) => e.name === 'gelu')!;
    expect(g.flops).toBe(30);
    expect(g.bytes).toBe(4 * 60);
    const gb = prof.events.find((e) => e.name === 'gelu_backward')!;
    expect(gb.flops).toBe(30);
    expect(gb.bytes).toBe(4 * 90); // x, grad in; grad out
    const s = prof.events.find((e) => e.name === 'sum')!;
    expect(s.flops).toBe(30); // reductions: one per input element
    expect(s.bytes).toBe(4 * 31);
    for (const name of ['relu', 'silu', 'mish', 'leakyRelu']) {
      const r = one(() => (F[name] as (t: ignis.Tensor) => ignis.Tensor)(ignis.randn([7])), name === 'leakyRelu' ? 'leaky_relu' : name);
      expect(r.ev.flops).toBe(7);
      expect(r.ev.bytes).toBe(56);
    }
  });

  it('views move nothing; unknown ops report neither', () => {
    const x = ignis.randn([4, 6]);
    const { ev } = one(() => x.permute(1, 0), 'permute');
    expect(ev.flops).toBe(0);
    expect(ev.bytes).toBe(0);
    const custom: ignis.OpDef<null> = { name: 'mystery', forward: (_c, [t]) => t };
    const m = one(() => ignis.dispatch(custom, [x], null), 'mystery');
    expect(m.ev.flops).toBeUndefined();
    expect(m.ev.bytes).toBeUndefined();
  });

  it('conv2d: 2·N·O·OH·OW·(C/g)·kh·kw (+ bias), from the table', () => {
    const conv = costFn('conv2d')!;
    const f32 = (shape: number[]) => ({ shape, dtype: 'float32' as const });
    // N=2, C=8, 10x10 in, O=16, 3x3, pad 1: out 2x16x10x10
    const c = conv([f32([2, 8, 10, 10]), f32([16, 8, 3, 3]), f32([16])], [f32([2, 16, 10, 10])], {});
    expect(c.flops).toBe(2 * 2 * 16 * 10 * 10 * 8 * 3 * 3 + 2 * 16 * 10 * 10);
    expect(c.bytes).toBe(4 * (2 * 8 * 100 + 16 * 8 * 9 + 16 + 2 * 16 * 100));
    // groups = 4: the weight holds C/g = 2 input channels per output channel
    const g = conv([f32([1, 8, 5, 5]), f32([8, 2, 3, 3])], [f32([1, 8, 3, 3])], { groups: 4 });
    expect(g.flops).toBe(2 * 1 * 8 * 3 * 3 * 2 * 3 * 3);
    const pool = costFn('max_pool2d')!;
    expect(pool([f32([1, 4, 8, 8])], [f32([1, 4, 4, 4])], { kernelSize: [2, 2] }).flops).toBe(64 * 4);
    expect(pool([f32([1, 4, 9, 9])], [f32([1, 4, 3, 3])], {}).flops).toBe(36 * 9);
    const bn = costFn('batch_norm')!;
    expect(bn([f32([2, 3, 4, 4]), f32([3]), f32([3])], [f32([2, 3, 4, 4])], { training: true }).flops).toBe(96 * 7);
    expect(bn([f32([2, 3, 4, 4])], [f32([2, 3, 4, 4])], {}).flops).toBe(96 * 4);
  });

  const Fany = F as unknown as Record<string, ((...a: unknown[]) => ignis.Tensor) | undefined>;
  it('conv2d run through the profiler: forward and backward FLOPs by hand', () => {
    // N=2, C=4, 6x6, O=8, 3x3, stride 1, no padding: output 2x8x4x4
    const x = ignis.randn([2, 4, 6, 6], { requiresGrad: true });
    const w = ignis.randn([8, 4, 3, 3], { requiresGrad: true });
    const b = ignis.randn([8], { requiresGrad: true });
    const prof = profiler.profile({ withFlops: true }, () => Fany.conv2d!(x, w, b).sum().backward());
    const macs = 2 * 8 * 4 * 4 * (4 * 3 * 3);
    const fwd = prof.events.find((e) => e.name === 'conv2d')!;
    expect(fwd.flops).toBe(2 * macs + 2 * 8 * 4 * 4);
    expect(fwd.bytes).toBe(4 * (2 * 4 * 36 + 8 * 4 * 9 + 8 + 2 * 8 * 16));
    const bd = prof.events.find((e) => e.name === 'conv2d_backward_data');
    if (bd) expect(bd.flops).toBe(2 * macs);
    const bw = prof.events.find((e) => e.name === 'conv2d_backward_weight');
    if (bw) expect(bw.flops).toBe(2 * macs + 2 * 8 * 4 * 4);
  });

  it('custom costs can be registered', () => {
    const op: ignis.OpDef<null> = { name: 'twice', forward: (_c, [t]) => t.mul(2) };
    profiler.registerCost('twice', (ins) => ({ flops: 100, bytes: ins.length * 8 }));
    const x = ignis.randn([3]);
    const { ev } = one(() => ignis.dispatch(op, [x], null), 'twice');
    expect(ev.flops).toBe(100);
    expect(ev.bytes).toBe(8);
  });

  it('rates: GFLOP/s and GB/s over total time, % of peak = max of the two utilisations', () => {
    const a = ignis.randn([64, 64]);
    const prof = profiler.profile({ withFlops: true }, () => {
      for (let i = 0; i < 3; i++) a.matmul(a);
      a.add(a);
    });
    prof.setPeaks('cpu', PEAKS);
    const ka = prof.keyAverages();
    const mm = ka.find((r) => r.name === 'bmm')!;
    expect(mm.flops).toBe(3 * 2 * 64 ** 3);
    expect(mm.bytes).toBe(3 * 3 * 4 * 64 * 64);
    const secs = mm.cpuTimeTotal / 1e6;
    expect(mm.gflopsPerSec).toBeCloseTo(mm.flops! / secs / 1e9, 9);
    expect(mm.gbPerSec).toBeCloseTo(mm.bytes! / secs / 1e9, 9);
    expect(mm.pctPeak).toBeCloseTo(100 * Math.max(mm.gflopsPerSec! / 200, mm.gbPerSec! / 20), 9);
    expect(mm.bound).toBe('compute'); // 2·64³ / (3·4·64²) ≈ 10.7 FLOPs/byte > ridge 10
    const add = ka.find((r) => r.name === 'add')!;
    expect(add.bound).toBe('memory');
    expect(prof.keyAverages({ peaks: false }).find((r) => r.name === 'bmm')!.pctPeak).toBeNull();
  });
});
