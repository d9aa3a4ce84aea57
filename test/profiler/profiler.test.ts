import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { listeners } from '../../src/dispatch';
import type { ProfilerEvent } from '../../src/profiler';

const { profiler } = ignis;

function walk(evs: ProfilerEvent[], f: (e: ProfilerEvent) => void): void {
  for (const e of evs) {
    f(e);
    walk(e.children, f);
  }
}

/** A custom op whose forward dispatches two ops: they must be its children. */
class Affine extends ignis.autograd.Function {
  static override forward(_ctx: unknown, x: ignis.Tensor): ignis.Tensor {
    return x.mul(2).add(1);
  }
  static override backward(_ctx: unknown, g: ignis.Tensor): ignis.Tensor {
    return g.mul(2);
  }
}

describe('profiler: recording', () => {
  it('records every dispatched op with name, device, shapes and dtypes', () => {
    const a = ignis.ones([2, 3]);
    const b = ignis.ones([3]);
    const prof = profiler.profile({ recordShapes: true }, () => {
      a.add(b).exp();
    });
    const names = prof.events.map((e) => e.name);
    expect(names).toEqual(['add', 'exp']);
    const add = prof.events[0];
    expect(add.kind).toBe('op');
    expect(add.device).toBe('cpu');
    expect(add.inputShapes).toEqual([[2, 3], [3]]);
    expect(add.inputDtypes).toEqual(['float32', 'float32']);
    expect(add.duration).toBeGreaterThan(0);
    expect(add.start).toBeGreaterThanOrEqual(0);
    expect(prof.events[1].start).toBeGreaterThanOrEqual(add.start + add.duration);
    expect(prof.duration).toBeGreaterThanOrEqual(add.duration);
  });

  it('leaves shapes out unless recordShapes', () => {
    const prof = profiler.profile({}, () => ignis.ones([2]).neg());
    expect(prof.events[0].inputShapes).toBeUndefined();
  });

  it('removes its dispatch listener when stopped (no cost when not profiling)', () => {
    const before = listeners.length;
    const p = profiler.profile({});
    expect(listeners.length).toBe(before + 1);
    p.stop();
    expect(listeners.length).toBe(before);
    expect(profiler.isProfiling()).toBe(false);
  });

  it('nests ops dispatched inside another op, and user ranges; self times add up to totals', () => {
    const x = ignis.randn([4, 4], { requiresGrad: true });
    const prof = profiler.profile({}, () => {
      profiler.recordFunction('outer', () => {
        profiler.recordFunction('inner', () => {
          (Affine.apply(x) as ignis.Tensor).sum().backward();
        });
        x.neg();
      });
    });
    expect(prof.roots.map((e) => e.name)).toEqual(['outer']);
    const outer = prof.roots[0];
    expect(outer.kind).toBe('range');
    expect(outer.children.map((e) => e.name)).toEqual(['inner', 'neg']);
    const inner = outer.children[0];
    expect(inner.depth).toBe(1);
    const aff = inner.children.find((e) => e.name === 'Affine')!;
    expect(aff.children.map((e) => e.name)).toEqual(['mul', 'add']);
    expect(aff.children.every((c) => c.parentId === aff.id && c.depth === aff.depth + 1)).toBe(true);
    // ops run inside backward are recorded too (the Function's backward multiplies)
    expect(inner.children.map((e) => e.name)).toContain('mul');
    walk(prof.roots, (e) => {
      const kids = e.children.reduce((s, c) => s + c.duration, 0);
      expect(e.selfDuration).toBeGreaterThanOrEqual(0);
      expect(e.selfDuration + kids).toBeCloseTo(e.duration, 6);
      for (const c of e.children) {
        expect(c.start).toBeGreaterThanOrEqual(e.start - 1e-6);
        expect(c.start + c.duration).toBeLessThanOrEqual(e.start + e.duration + 1e-6);
      }
    });
    // key averages: the sum of self times equals the sum of the roots' totals
    const ka = prof.keyAverages();
    const self = ka.reduce((s, r) => s + r.selfCpuTimeTotal, 0);
    const roots = prof.roots.reduce((s, r) => s + r.duration, 0);
    expect(self).toBeCloseTo(roots, 6);
  });

  it('recordFunction without a profiler just runs the function', () => {
    expect(profiler.recordFunction('x', () => 42)).toBe(42);
    const h = profiler.recordFunction('y');
    h.end();
  });

  it('recordFunction(name) returns a handle whose end() closes the range', () => {
    const t = ignis.ones([2]);
    const prof = profiler.profile({}, () => {
      const h = profiler.recordFunction('step');
      t.neg();
      h.end();
      t.abs();
    });
    expect(prof.roots.map((e) => e.name)).toEqual(['step', 'abs']);
    expect(prof.roots[0].children.map((e) => e.name)).toEqual(['neg']);
  });

  it('profiles an async function; async ranges parent only their own continuations', async () => {
    const tick = () => new Promise((r) => setTimeout(r, 2));
    const t = ignis.ones([2]);
    const p = profiler.profile({}, async () => {
      await Promise.all([
        profiler.recordFunction('taskA', async () => {
          await tick();
          t.neg();
          await tick();
          t.neg();
        }),
        profiler.recordFunction('taskB', async () => {
          await tick();
          t.abs();
          await tick();
        }),
      ]);
    });
    expect(p).toBeInstanceOf(Promise);
    const prof = await p;
    const a = prof.roots.find((e) => e.name === 'taskA')!;
    const b = prof.roots.find((e) => e.name === 'taskB')!;
    expect(a.children.map((e) => e.name)).toEqual(['neg', 'neg']);
    expect(b.children.map((e) => e.name)).toEqual(['abs']);
    expect(a.duration).toBeGreaterThan(3000); // two 2 ms awaits, in µs
  });

  it('an op that throws is marked and does not swallow the ops after it', () => {
    const bad: ignis.OpDef<null> = {
      name: 'boom',
      forward(_ctx, [x]) {
        x.neg();
        throw new Error('boom');
      },
    };
    const x = ignis.ones([2]);
    const prof = profiler.profile({}, () => {
      expect(() => ignis.dispatch(bad, [x], null)).toThrow('boom');
      x.abs();
    });
    expect(prof.roots.map((e) => e.name)).toEqual(['boom', 'abs']);
    expect(prof.roots[0].error).toBe(true);
    expect(prof.roots[0].children.map((e) => e.name)).toEqual(['neg']);
  });

  it('start()/stop() profile what runs in between', () => {
    const t = ignis.ones([3]);
    profiler.start({ recordShapes: true });
    expect(() => profiler.start()).toThrow(ignis.IgnisError);
    t.mul(t);
    const prof = profiler.stop();
    expect(prof.events.map((e) => e.name)).toEqual(['mul']);
    expect(() => profiler.stop()).toThrow(/not running/);
  });

  it('overlapping sessions each see their own window', () => {
    const t = ignis.ones([1]);
    const outer = profiler.profile({});
    t.neg();
    const inner = profiler.profile({}, () => t.abs());
    t.exp();
    const o = outer.stop();
    expect(inner.events.map((e) => e.name)).toEqual(['abs']);
    expect(o.events.map((e) => e.name)).toEqual(['neg', 'abs', 'exp']);
  });

  it('an optimizer step is recorded as torch.profiler names it, its work inside', () => {
    const w = ignis.randn([8], { requiresGrad: true });
    const opt = new ignis.optim.Adam([w], { lr: 0.1 });
    w.mul(w).sum().backward();
    const prof = ignis.profiler.profile({ activities: ['cpu'] }, () => opt.step());
    const step = prof.events.find((e) => e.name === 'Optimizer.step#Adam.step');
    expect(step).toBeDefined();
    expect(step!.duration).toBeGreaterThanOrEqual(0);
    // without a profiler the step runs as before
    const before = w.toArray() as number[];
    opt.step();
    expect(w.toArray()).not.toEqual(before);
  });

  it('records the memory each op allocates', () => {
    const x = ignis.ones([1024]);
    const prof = profiler.profile({ profileMemory: true }, () => {
      profiler.recordFunction('r', () => x.neg());
    });
    const neg = prof.events.find((e) => e.name === 'neg')!;
    expect(neg.memory).toBeGreaterThanOrEqual(4096);
    const r = prof.roots[0];
    expect(r.memory).toBe(neg.memory);
    expect(r.selfMemory).toBe(0);
    const row = prof.keyAverages().find((k) => k.name === 'neg')!;
    expect(row.cpuMemoryUsage).toBe(neg.memory);
  });

  it.skipIf(ignis.cuda.isAvailable())("'cuda' without a CUDA device is a warning, not a crash", () => {
    const t = ignis.ones([1]);
    const prof = profiler.profile({ activities: ['cpu', 'cuda'] }, () => t.neg());
    expect(prof.warnings.length).toBe(1);
    expect(prof.warnings[0]).toMatch(/cuda.*not available/i);
    expect(prof.events.map((e) => e.name)).toEqual(['neg']);
    expect(prof.keyAverages({ peaks: false }).table()).toMatch(/Warning: 'cuda' activity/);
    expect(profiler.ProfilerActivity.CUDA).toBe('cuda');
  });

  it('rejects bad options with clear errors', () => {
    expect(() => profiler.profile({ activities: ['tpu' as 'cpu'] }, () => 0)).toThrow(ignis.ValueError);
    expect(() => profiler.profile({ activities: ['tpu' as 'cpu'] }, () => 0)).toThrow(/unknown activity "tpu"; expected 'cpu' or 'cuda'/);
    expect(() => profiler.profile({ activities: 'cpu' as unknown as 'cpu'[] }, () => 0)).toThrow(/activities must be an array/);
    expect(() => profiler.profile({ recordShape: true } as unknown as {}, () => 0)).toThrow(/unknown option 'recordShape'/);
    expect(() => profiler.profile({ withFlops: 1 as unknown as boolean }, () => 0)).toThrow(/withFlops must be a boolean/);
    expect(() => profiler.profile({}, 5 as unknown as () => void)).toThrow(/expected a function/);
    expect(() => profiler.start({ activities: ['gpu' as 'cpu'] })).toThrow(ignis.ValueError);
    expect(() => profiler.recordFunction('' as string, () => 0)).toThrow(/non-empty name/);
    expect(profiler.isProfiling()).toBe(false);
  });

  it('stops when the profiled function throws', async () => {
    expect(() => profiler.profile({}, () => { throw new Error('x'); })).toThrow('x');
    await expect(profiler.profile({}, async () => { throw new Error('y'); })).rejects.toThrow('y');
    expect(profiler.isProfiling()).toBe(false);
  });
});
