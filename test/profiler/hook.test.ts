// Work outside dispatch is recorded too (src/profiler/hook.ts): tensor creation, readbacks, and
// in-place ops under their own names, while dispatch itself is unchanged.
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { listeners } from '../../src/dispatch';
import { hook } from '../../src/profiler/hook';
import type { ProfilerEvent } from '../../src/profiler';

const { profiler } = ignis;
const names = (evs: ProfilerEvent[]) => evs.map((e) => e.name);

describe('profiler: creation, readback and in-place ops', () => {
  it('records creation ops, with the device and dtype of what they made', () => {
    const prof = profiler.profile({ recordShapes: true }, () => {
      ignis.zeros([2, 3]);
      ignis.ones(4, { dtype: 'float64' });
      ignis.full([2], 7);
      ignis.empty([3]);
      ignis.arange(5);
      ignis.linspace(0, 1, 4);
      ignis.eye(3);
      ignis.rand([2]);
      ignis.randn([2]);
      ignis.randint(0, 5, [3]);
      ignis.bernoulli([3], 0.5);
      ignis.tensor([[1, 2], [3, 4]]);
    });
    expect(names(prof.roots)).toEqual(['zeros', 'ones', 'full', 'empty', 'arange', 'linspace', 'eye', 'rand', 'randn', 'randint', 'bernoulli', 'tensor']);
    for (const e of prof.roots) {
      expect(e.kind).toBe('op');
      expect(e.device).toBe('cpu');
      expect(e.inputShapes).toEqual([]);
      expect(e.duration).toBeGreaterThan(0);
    }
  });

  it('*Like functions nest the creation they delegate to; tensor(t) copies through dispatched ops', () => {
    const x = ignis.ones([2, 2]);
    const prof = profiler.profile({}, () => {
      ignis.zerosLike(x);
      ignis.randnLike(x);
      ignis.tensor(x);
    });
    expect(names(prof.roots)).toEqual(['zerosLike', 'randnLike', 'tensor']);
    expect(names(prof.roots[0].children)).toEqual(['zeros']);
    expect(names(prof.roots[1].children)).toEqual(['randn']);
    expect(prof.roots[2].children.length).toBeGreaterThan(0);
  });

  it('records readbacks: item, toArray, dataSync and data (input shapes recorded)', async () => {
    const x = ignis.ones([2, 3]);
    const s = x.sum();
    const prof = await profiler.profile({ recordShapes: true }, async () => {
      expect(s.item()).toBe(6);
      expect(x.toArray()).toEqual([[1, 1, 1], [1, 1, 1]]);
      expect(x.dataSync()).toEqual(new Float32Array(6).fill(1));
      expect(await x.data()).toEqual(new Float32Array(6).fill(1));
    });
    expect(names(prof.roots)).toEqual(['item', 'toArray', 'dataSync', 'data']);
    expect(prof.roots[0].inputShapes).toEqual([[]]);
    expect(prof.roots[1].inputShapes).toEqual([[2, 3]]);
    expect(prof.roots.every((e) => e.device === 'cpu')).toBe(true);
  });

  it('records in-place ops under their own name, the computation as a child (aten::relu_)', () => {
    const x = ignis.randn([8]);
    const prof = profiler.profile({}, () => {
      x.relu_();
      x.add_(1);
      ignis.F.elu(x, { inplace: true });
      x.fill_(0);
      x.normal_();
    });
    expect(names(prof.roots)).toEqual(['relu_', 'add_', 'elu_', 'fill_', 'normal_']);
    // without autograd an in-place activation or add_ runs one kernel into x directly: no child
    expect(names(prof.roots[0].children)).toEqual([]);
    expect(names(prof.roots[1].children)).toEqual([]);
    expect(names(prof.roots[2].children)).toEqual([]);
  });

  it('with autograd recording, an in-place op shows the out-of-place op it records', () => {
    const w = ignis.randn([8], { requiresGrad: true });
    const y = w.mul(1);
    const prof = profiler.profile({}, () => void y.relu_());
    expect(names(prof.roots)).toEqual(['relu_']);
    expect(names(prof.roots[0].children)).toContain('relu');
    // the table keeps relu_ and relu apart; relu_'s total includes its child
    const ka = prof.keyAverages();
    const relu_ = ka.find((r) => r.name === 'relu_')!;
    const relu = ka.find((r) => r.name === 'relu')!;
    expect(relu_.count).toBe(1);
    expect(relu.count).toBe(1);
    expect(relu_.cpuTimeTotal).toBeGreaterThanOrEqual(relu.cpuTimeTotal);
    expect(relu_.selfCpuTimeTotal).toBeLessThan(relu_.cpuTimeTotal);
  });

  it('a creation op that throws is marked and the profile goes on', () => {
    const prof = profiler.profile({}, () => {
      expect(() => ignis.zeros([-1])).toThrow(ignis.ValueError);
      expect(() => ignis.ones([2]).item()).toThrow(ignis.ShapeError);
      ignis.ones([1]);
    });
    expect(names(prof.roots)).toEqual(['zeros', 'ones', 'ones']);
    expect(prof.roots[0].error).toBe(true);
  });

  it('costs one flag test when no profiler runs: the hook is off and dispatch has no listener', () => {
    expect(hook.on).toBe(false);
    const before = listeners.length;
    const p = profiler.profile({});
    expect(hook.on).toBe(true);
    p.stop();
    expect(hook.on).toBe(false);
    expect(listeners.length).toBe(before);
    // the wrappers still behave like the functions they wrap
    expect(ignis.zeros.name).toBe('zeros');
    expect(ignis.arange(1, 4).toArray()).toEqual([1, 2, 3]);
    expect(() => ignis.zeros([2], { dtype: 'complex' as 'float32' })).toThrow(ignis.DTypeError);
  });

  it("a profile with activities ['cuda'] only records no CPU-side events", () => {
    const prof = profiler.profile({ activities: ['cuda'] }, () => {
      ignis.zeros([2]).relu_().sum().item();
    });
    expect(prof.events.filter((e) => e.kind !== 'kernel')).toEqual([]);
  });
});
