// Profiler overhead (issue: Profiler). The dispatch cost of a 1-element add with no profiler
// (must be unchanged by the profiler's hook in dispatch: one `listeners.length` check), and with
// a profiler recording (time only, and with shapes + memory + FLOPs). No PyTorch peer: these
// measure Ignis against itself; the profiled figures minus the plain one is the per-op overhead.
//   node --expose-gc bench/run.mjs profiler --no-torch
import ignisModule from '../../dist/index.js';
import { budget, measure, median, tick } from '../lib/common.mjs';

const ig = ignisModule.default ?? ignisModule;

export const family = 'profiler';
export const title = 'Profiler: dispatch overhead off and on';

const INNER = 1000;

/** Seconds per op of `inner` adds, each sample in its own profile (start/stop outside the timing). */
async function profiled(opts, reps) {
  const a = ig.ones([1]);
  const b = ig.ones([1]);
  const samples = [];
  for (let r = 0; r < reps + 5; r++) {
    const p = ig.profiler.profile(opts);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < INNER; i++) a.add(b);
    const dt = Number(process.hrtime.bigint() - t0) / 1e9 / INNER;
    p.stop();
    if (r >= 5) samples.push(dt);
    await tick();
  }
  return { median_s: median(samples), samples: samples.length, inner: INNER };
}

export const benchmarks = [
  {
    name: 'no profiler: 1-element a.add(b)',
    unit: 'µs/op',
    better: 'lower',
    target: { text: '= core dispatch figure' },
    figure: (s) => s * 1e6,
    async ignis() {
      const a = ig.ones([1]);
      const b = ig.ones([1]);
      return measure(() => { for (let i = 0; i < INNER; i++) a.add(b); }, {
        inner: INNER, time: budget(2000, 100), iterations: budget(200, 10), warmupTime: budget(300, 20), warmupIterations: budget(20, 2),
      });
    },
  },
  {
    name: 'profiling (cpu time): 1-element a.add(b)',
    unit: 'µs/op',
    better: 'lower',
    target: { text: '(overhead = this - no profiler)' },
    figure: (s) => s * 1e6,
    ignis: () => profiled({ activities: ['cpu'] }, budget(200, 10)),
  },
  {
    name: 'profiling (shapes+memory+flops): 1-element add',
    unit: 'µs/op',
    better: 'lower',
    target: { text: '(overhead = this - no profiler)' },
    figure: (s) => s * 1e6,
    ignis: () => profiled({ activities: ['cpu'], recordShapes: true, profileMemory: true, withFlops: true }, budget(200, 10)),
  },
  {
    name: 'profile post-processing (stop + keyAverages) per event',
    unit: 'µs/event',
    better: 'lower',
    target: { text: '(no target)' },
    figure: (s) => s * 1e6,
    async ignis() {
      const a = ig.ones([1]);
      const b = ig.ones([1]);
      const samples = [];
      for (let r = 0; r < budget(30, 3); r++) {
        const p = ig.profiler.profile({ recordShapes: true, withFlops: true });
        for (let i = 0; i < 10 * INNER; i++) a.add(b);
        const t0 = process.hrtime.bigint();
        p.stop().keyAverages({ groupByInputShape: true, peaks: false });
        samples.push(Number(process.hrtime.bigint() - t0) / 1e9 / (10 * INNER));
        await tick();
      }
      return { median_s: median(samples), samples: samples.length, inner: 10 * INNER };
    },
  },
];

export function backendInfo() {
  return { ignis: ig.backends?.cpu };
}
