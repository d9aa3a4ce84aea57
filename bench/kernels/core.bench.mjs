// Foundation benchmarks (issue: core tensor library): per-op dispatch overhead, elementwise
// bandwidth, softmax forward + backward, matmul throughput. Each entry is run by bench/run.mjs next to PyTorch CPU.
import ignisModule from '../../dist/index.js';
import { budget, measure, tick } from '../lib/common.mjs';

const ig = ignisModule.default ?? ignisModule;

export const family = 'core';
export const title = 'Foundation: dispatch, elementwise, matmul';

const N_ADD = 4 * 1024 * 1024;
const MM = 1024;
const SM_ROWS = 4096;
const SM_COLS = 1000;

/** a 4M-element float32 add (b small, so repeated in-place adds stay finite) next to PyTorch's `peer` */
function addRow(label, op, peer) {
  return {
    name: `${label} ${N_ADD / (1024 * 1024)}M float32 (3×4×N bytes)`,
    unit: 'GB/s',
    better: 'higher',
    target: { text: '≥ 0.9× PyTorch', ratio: 0.9 },
    figure: (s) => (3 * N_ADD * 4) / s / 1e9,
    async ignis() {
      const a = ig.randn([N_ADD]);
      const b = ig.randn([N_ADD]).mul(1e-6);
      return measure(() => op(a, b), { time: budget(1500, 50), iterations: budget(100, 5), warmupTime: budget(300, 20), warmupIterations: budget(20, 2) });
    },
    peer: { name: peer, sizes: { n: N_ADD }, reps: budget(100, 5), warmup: budget(30, 2) },
  };
}

/**
 * A mid-size elementwise op (n float32, L2-resident, result disposed as PyTorch's refcount frees
 * it), timed as `inner` back-to-back calls: here the thread split and the allocator decide, not
 * the memory bus (parallel.h kElementwiseGrain, allocator.cpp's small blocks).
 */
function midRow(label, n, op, peer, sizes, target = { text: '≥ 1.0× PyTorch', ratio: 1.0 }) {
  const inner = 100;
  return {
    name: `${label} ${n >= 1024 ? `${n / 1024}K` : n} float32 (µs per op)`,
    unit: 'µs/op',
    better: 'lower',
    target,
    figure: (s) => s * 1e6,
    async ignis() {
      const a = ig.randn([n]);
      const b = ig.randn([n]);
      const fn = () => {
        for (let i = 0; i < inner; i++) op(a, b);
      };
      return measure(fn, { inner, time: budget(1000, 50), iterations: budget(100, 5), warmupTime: budget(200, 20), warmupIterations: budget(10, 2) });
    },
    peer: { name: peer, sizes: { ...sizes, n }, inner, reps: budget(100, 5), warmup: budget(10, 2) },
  };
}

/**
 * Each benchmark: `ignis()` returns { median_s } (seconds per op), `peer` says how the PyTorch
 * peer measures the same op, `figure(sec)` turns seconds per op into the reported unit.
 */
export const benchmarks = [
  {
    name: 'dispatch: 1-element a.add(b)',
    unit: 'µs/op',
    better: 'lower',
    target: { text: '≤ 1 µs/op', met: (v) => v <= 1 },
    figure: (s) => s * 1e6,
    async ignis() {
      const a = ig.ones([1]);
      const b = ig.ones([1]);
      const inner = 1000;
      const fn = () => {
        for (let i = 0; i < inner; i++) a.add(b);
      };
      return measure(fn, { inner, time: budget(2000, 100), iterations: budget(200, 10), warmupTime: budget(300, 20), warmupIterations: budget(20, 2) });
    },
    peer: { name: 'add_dispatch', sizes: { n: 1 }, inner: 1000, reps: budget(200, 10), warmup: budget(20, 2) },
  },
  // the out-of-place result is disposed at once, as PyTorch's reference counting frees the unused
  // result of `a + b`: both libraries then recycle one block through their allocator (see the
  // diagnostic row below for a loop that leaves its results to the garbage collector)
  addRow('add', (a, b) => a.add(b).dispose(), 'add'),
  addRow('add_ (in place)', (a, b) => a.add_(b), 'add_inplace'),
  midRow('relu', 4096, (a) => ig.nn.functional.relu(a).dispose(), 'act', { op: 'relu', dir: 'fwd' }, { text: 'report' }),
  midRow('relu', 65536, (a) => ig.nn.functional.relu(a).dispose(), 'act', { op: 'relu', dir: 'fwd' }),
  midRow('add', 65536, (a, b) => a.add(b).dispose(), 'add', {}),
  midRow('gelu', 32768, (a) => ig.nn.functional.gelu(a).dispose(), 'act', { op: 'gelu', dir: 'fwd' }),
  {
    // Diagnostic: the same op in a fully synchronous loop (no event-loop turn between ops) that
    // never disposes its results, which is how a plain `for` loop in user code runs: results are
    // freed only once V8's garbage collector has run (native/binding/addon.cpp's weak-reference
    // sweep), so many allocations are fresh memory with page faults.
    name: `add ${N_ADD / (1024 * 1024)}M float32, sync loop (diagnostic)`,
    unit: 'GB/s',
    better: 'higher',
    target: { text: '(no target)' },
    figure: (s) => (3 * N_ADD * 4) / s / 1e9,
    async ignis() {
      const a = ig.randn([N_ADD]);
      const b = ig.randn([N_ADD]);
      // bounded: 16 MiB leaks per op until the loop yields
      const r = await measure(() => a.add(b), { time: 0, iterations: budget(30, 4), warmupTime: 0, warmupIterations: 2, yieldBetween: false });
      globalThis.gc?.();
      await tick();
      return r;
    },
    peer: { name: 'add', sizes: { n: N_ADD }, reps: budget(100, 5), warmup: budget(30, 2) },
  },
  {
    // one forward (reads x, writes y) and one backward (reads y and g, writes gx): 5×4×N bytes
    name: `softmax fwd+bwd [${SM_ROWS}, ${SM_COLS}] float32 (5×4×N bytes)`,
    unit: 'GB/s',
    better: 'higher',
    target: { text: '≥ 1.0× PyTorch', ratio: 1.0 },
    figure: (s) => (5 * SM_ROWS * SM_COLS * 4) / s / 1e9,
    async ignis() {
      const x = ig.randn([SM_ROWS, SM_COLS]).requiresGrad_(true);
      const g = ig.randn([SM_ROWS, SM_COLS]);
      const fn = () => {
        const y = ig.softmax(x, 1);
        const [gx] = ig.autograd.grad(y, [x], { gradOutputs: g });
        y.dispose();
        gx.dispose();
      };
      return measure(fn, { time: budget(1500, 50), iterations: budget(60, 4), warmupTime: budget(300, 20), warmupIterations: budget(10, 2) });
    },
    peer: { name: 'softmax_fwd_bwd', sizes: { m: SM_ROWS, n: SM_COLS }, reps: budget(60, 4), warmup: budget(10, 2) },
  },
  {
    name: `matmul ${MM}×${MM}×${MM} float32`,
    unit: 'GFLOP/s',
    better: 'higher',
    target: { text: '≥ 0.8× PyTorch', ratio: 0.8 },
    figure: (s) => (2 * MM * MM * MM) / s / 1e9,
    async ignis() {
      const a = ig.randn([MM, MM]);
      const b = ig.randn([MM, MM]);
      return measure(() => a.matmul(b), { time: budget(3000, 50), iterations: budget(40, 3), warmupTime: budget(500, 20), warmupIterations: budget(5, 1) });
    },
    peer: { name: 'matmul', sizes: { m: MM, k: MM, n: MM }, reps: budget(40, 3), warmup: budget(5, 1) },
  },
];

export function backendInfo() {
  return { ignis: ig.backends?.cpu };
}
