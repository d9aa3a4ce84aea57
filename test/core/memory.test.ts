/**
 * Native memory: temporaries that are never disposed stay bounded even in a loop that never
 * yields to the event loop (Node-API finalizers only run from the event loop; the addon frees
 * storages whose handle the GC has collected when it allocates), dispose() frees at once, `using`
 * frees at scope exit, and the caching allocator reuses blocks.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { describe, expect, it, onTestFinished } from 'vitest';
import * as ignis from '../../src';
import { addon } from '../../src/native';
import { youngGc } from '../../src/gc';

const MB = 1024 * 1024;
// A full GC on demand (vitest runs without --expose-gc; the same idiom as Jest's leak detector).
// Without it, how much collected-but-unswept garbage a loop leaves depends on when V8 chose to
// collect: a bound on it flaked (220 MB against 200 once in a few full runs).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const bytes = (): number => ignis.memory().cpu.bytes;

describe('memory: garbage temporaries stay bounded without dispose()', () => {
  it('100,000 iterations of x.add(1).mul(2) on a small tensor', () => {
    const x = ignis.ones([4, 4]);
    const start = ignis.memory().cpu;
    for (let i = 0; i < 100_000; i++) x.add(1).mul(2);
    gc();
    const end = ignis.memory().cpu;
    // 200,000 storages were created synchronously; most must already be gone
    expect(end.tensors - start.tensors).toBeLessThan(100_000);
    expect(end.bytes).toBeLessThan(200 * MB);
    expect(x.add(1).mul(2).toArray()).toEqual(Array.from({ length: 4 }, () => [4, 4, 4, 4]));
  }, 600_000);

  it('2,000 iterations on 1M-element tensors (4 MB each, 16 GB in total)', () => {
    const y = ignis.ones([1_000_000]);
    const rss0 = process.memoryUsage().rss;
    let peak = 0;
    for (let i = 0; i < 2000; i++) {
      y.add(1).mul(2);
      const b = bytes();
      if (b > peak) peak = b;
    }
    gc();
    addon.sweepGarbage(); // what the next allocation would do: free what the GC has collected
    const end = bytes();
    expect(end).toBeLessThan(200 * MB);
    expect(peak).toBeLessThan(1024 * MB);
    // RSS: live tensors plus at most the allocator's cache (2 GiB cap) - not 16 GB
    expect(process.memoryUsage().rss - rss0).toBeLessThan(2.5 * 1024 * MB);
    expect(y.add(1).mul(2).sum().item()).toBe(4_000_000);
  }, 600_000);

  it('everything left is freed once the event loop turns (finalizers)', async () => {
    for (let i = 0; i < 50; i++) ignis.ones([1 << 18]).mul(3);
    for (let i = 0; i < 5; i++) {
      gc();
      await tick();
    }
    // whatever is still counted is bounded by the sweep threshold, not by what was created
    expect(bytes()).toBeLessThan(200 * MB);
  }, 120_000);
});

describe('memory: explicit lifetime', () => {
  it('dispose() frees at once and the tensor is unusable after', () => {
    const t = ignis.zeros([1000, 1000]); // 4,000,000 bytes
    const live = ignis.memory().cpu;
    t.dispose();
    const after = ignis.memory().cpu;
    expect(live.bytes - after.bytes).toBe(4_000_000);
    expect(live.tensors - after.tensors).toBe(1);
    expect(t.isDisposed).toBe(true);
    expect(() => t.add(1)).toThrow(ignis.DisposedError);
    expect(() => t.toArray()).toThrow(ignis.DisposedError);
    expect(() => t.dataSync()).toThrow(ignis.DisposedError);
    expect(() => t.sum()).toThrow(/^sum: input 0 has been disposed/);
    // disposing twice is harmless, and so is printing
    t.dispose();
    expect(ignis.memory().cpu.bytes).toBe(after.bytes);
    expect(t.toString()).toContain('disposed');
  });

  it('disposing a view frees the shared storage: base and every view become unusable', () => {
    const base = ignis.ones([256, 1024]);
    const v = base.select(0, 3);
    const w = base.t();
    const b0 = bytes();
    v.dispose();
    expect(b0 - bytes()).toBe(256 * 1024 * 4);
    expect(base.isDisposed).toBe(true);
    expect(() => w.sum()).toThrow(ignis.DisposedError);
  });

  it('`using` frees at scope exit (TS 5.2 explicit resource management)', () => {
    const b0 = bytes();
    let inside = 0;
    let escaped: ignis.Tensor;
    {
      using t = ignis.zeros([256, 1024]); // 1 MiB
      expect(t.sum().item()).toBe(0);
      escaped = t;
      inside = bytes();
    }
    expect(inside - b0).toBeGreaterThanOrEqual(1 * MB);
    expect(inside - bytes()).toBe(1 * MB);
    expect(escaped.isDisposed).toBe(true);
    expect(() => escaped.add(1)).toThrow(ignis.DisposedError);
  });

  it('`using` frees when the scope exits by an exception too', () => {
    let held: ignis.Tensor | null = null;
    expect(() => {
      using t = ignis.ones([1024]);
      held = t;
      throw new Error('boom');
    }).toThrow('boom');
    expect(held!.isDisposed).toBe(true);
  });

  it('Symbol.dispose is the same as dispose()', () => {
    const t = ignis.ones([4096]);
    const b0 = bytes();
    t[Symbol.dispose]();
    expect(b0 - bytes()).toBe(4096 * 4);
    expect(t.isDisposed).toBe(true);
  });
});

describe('memory: caching allocator', () => {
  it('keeps a freed large block and reuses it for a same-size allocation', async () => {
    for (let i = 0; i < 3; i++) {
      gc();
      await tick();
    }
    ignis.emptyCache();
    expect(ignis.memory().cpu.cachedBytes).toBe(0);
    const size = 8 * MB; // a rounding boundary: the block is exactly 8 MiB
    const a = ignis.empty([size / 4]);
    const m1 = ignis.memory().cpu;
    a.dispose();
    const m2 = ignis.memory().cpu;
    expect(m2.cachedBytes).toBeGreaterThanOrEqual(size);
    expect(m1.bytes - m2.bytes).toBe(size);
    const b = ignis.empty([size / 4]);
    const m3 = ignis.memory().cpu;
    // served from the cache: the cache shrank by the block, live + cached did not grow
    expect(m3.cachedBytes).toBe(m2.cachedBytes - size);
    expect(m3.bytes + m3.cachedBytes).toBe(m2.bytes + m2.cachedBytes);
    // a reused block is just memory: fill it and read it back
    b.fill_(2);
    expect(b.sum().item()).toBe(size / 2);
    b.dispose();
    ignis.emptyCache();
    expect(ignis.memory().cpu.cachedBytes).toBe(0);
  }, 60_000);

  it('keeps small blocks too (64-byte size classes): a freed 4 KiB tensor serves the next one, emptyCache returns them', () => {
    const every = youngGc.every;
    youngGc.every = 0; // no collection (and sweep) in the middle of the exact counts below
    onTestFinished(() => void (youngGc.every = every));
    ignis.emptyCache();
    const a = ignis.empty([1000]); // 4000 bytes: the 4032-byte class
    const m0 = addon.memoryStats();
    a.dispose();
    const m1 = addon.memoryStats();
    expect(m1.cachedBytes - m0.cachedBytes).toBe(4032);
    const b = ignis.empty([1008]); // 4032 bytes: the same class
    const m2 = addon.memoryStats();
    expect(m2.cacheHits).toBe(m1.cacheHits + 1);
    expect(m2.cachedBytes).toBe(m1.cachedBytes - 4032);
    b.fill_(3); // a reused block is just memory
    expect(b.sum().item()).toBe(3024);
    const m3 = addon.memoryStats();
    const c = ignis.empty([2000]); // another class: not served by b's block
    b.dispose();
    c.dispose();
    expect(addon.memoryStats().cachedBytes - m3.cachedBytes).toBe(4032 + 8000);
    ignis.emptyCache();
    expect(addon.memoryStats().cachedBytes).toBe(0);
  });

  it('peakBytes is a high-water mark', () => {
    const t = ignis.empty([4 * MB]); // 16 MiB
    const peak = ignis.memory().cpu.peakBytes;
    expect(peak).toBeGreaterThanOrEqual(ignis.memory().cpu.bytes);
    t.dispose();
    expect(ignis.memory().cpu.peakBytes).toBe(peak);
  });
});
