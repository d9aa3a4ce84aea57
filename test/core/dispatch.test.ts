/** ignis.addListener: the hook the tracer and profiler use sees every dispatched op. */
import { afterEach, describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';

interface Event {
  phase: 'before' | 'after';
  op: string;
  inputs: Tensor[];
  outputs?: Tensor[];
  token?: unknown;
  attrs: unknown;
}

let removers: (() => void)[] = [];
afterEach(() => {
  removers.forEach((r) => r());
  removers = [];
});

function record(): Event[] {
  const events: Event[] = [];
  let n = 0;
  removers.push(
    ignis.addListener({
      before(op, inputs, attrs) {
        events.push({ phase: 'before', op, inputs, attrs, token: ++n });
        return n;
      },
      after(token, op, inputs, attrs, outputs) {
        events.push({ phase: 'after', op, inputs, attrs, outputs, token });
      },
    }),
  );
  return events;
}

const ops = (events: Event[], phase: 'before' | 'after' = 'before') => events.filter((e) => e.phase === phase).map((e) => e.op);

describe('dispatch listeners', () => {
  it('see add / mul / matmul / sum with inputs and outputs', () => {
    const a = ignis.ones([2, 3]);
    const b = ignis.ones([3, 4]);
    const events = record();
    const y = a.add(1).mul(2).matmul(b).sum();
    const names = ops(events);
    expect(names).toContain('add');
    expect(names).toContain('mul');
    expect(names).toContain('sum');
    expect(names.some((n) => n === 'matmul' || n === 'bmm')).toBe(true);
    // every before has a matching after with the same token, in LIFO order
    const stack: unknown[] = [];
    for (const e of events) {
      if (e.phase === 'before') stack.push(e.token);
      else expect(stack.pop()).toBe(e.token);
    }
    expect(stack).toEqual([]);
    const sumAfter = events.find((e) => e.phase === 'after' && e.op === 'sum')!;
    expect(sumAfter.outputs![0]).toBe(y);
    const addBefore = events.find((e) => e.phase === 'before' && e.op === 'add')!;
    expect(addBefore.inputs[0]).toBe(a);
    expect(y.item()).toBe(96); // (1 + 1) * 2 = 4, times 3 per dot, 8 elements
  });

  it('see the ops run inside backward', () => {
    const x = ignis.tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
    const y = x.mul(x).exp().sum();
    const events = record();
    y.backward();
    const names = ops(events);
    // exp's backward multiplies by the output, mul's backward multiplies by the operands
    expect(names.filter((n) => n === 'mul').length).toBeGreaterThanOrEqual(3);
    expect(names).toContain('expand');
    expect(x.grad).not.toBeNull();
  });

  it('see ops in views, in-place ops, reductions and comparisons', () => {
    const x = ignis.arange(6, { dtype: 'float32' }).reshape([2, 3]);
    const events = record();
    x.t().contiguous();
    x.add_(1);
    x.amax(1);
    x.gt(2);
    ignis.where(x.gt(2), x, 0);
    x.softmax(1);
    const names = new Set(ops(events));
    for (const n of ['permute', 'add_', 'amax', 'gt', 'where', 'softmax']) expect(names, n).toContain(n);
  });

  it('multiple listeners are all called; removal stops the calls', () => {
    const a = record();
    const b = record();
    ignis.ones([2]).add(1);
    expect(ops(a)).toEqual(ops(b));
    expect(ops(a)).toContain('add');
    const lenA = a.length;
    removers[0]();
    ignis.ones([2]).mul(3);
    expect(a.length).toBe(lenA);
    expect(ops(b)).toContain('mul');
    removers[1]();
    const lenB = b.length;
    ignis.ones([2]).sub(3);
    expect(b.length).toBe(lenB);
    // removing twice is harmless
    removers[1]();
  });

  it('a listener that throws in before stops the op (no partial state)', () => {
    removers.push(
      ignis.addListener({
        before(op) {
          if (op === 'div') throw new Error('listener says no');
          return null;
        },
        after() {},
      }),
    );
    expect(() => ignis.ones([2]).div(2)).toThrow('listener says no');
    expect(ignis.ones([2]).add(2).toArray()).toEqual([3, 3]);
  });

  it('ignis.dispatch runs a custom OpDef through the same path (listeners and autograd)', () => {
    const events = record();
    const double: ignis.OpDef<{ k: number }> = {
      name: 'my_scale',
      forward: (_ctx, [x], { k }) => ignis.noGrad(() => x.mul(k)),
      backward: (_ctx, [g]) => [g!.mul(2)],
    };
    const x = ignis.tensor([1, 2], { dtype: 'float32', requiresGrad: true });
    const y = ignis.dispatch(double, [x], { k: 2 });
    expect(y.toArray()).toEqual([2, 4]);
    expect(y.gradFn!.name).toBe('my_scale');
    expect(ops(events)).toContain('my_scale');
    const mine = events.find((e) => e.op === 'my_scale')!;
    expect(mine.attrs).toEqual({ k: 2 });
    y.sum().backward();
    expect(x.grad!.toArray()).toEqual([2, 2]);
  });

  it('disposed inputs are rejected before listeners run', () => {
    const events = record();
    const t = ignis.ones([2]);
    t.dispose();
    expect(() => t.add(1)).toThrow(ignis.DisposedError);
    expect(ops(events)).not.toContain('add');
  });
});
