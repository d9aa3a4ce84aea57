// The seed CNN's training step on cuda (CIFAR shape, batch 256, Adam), timed over many steps after
// a warm-up: the host side's share shows up here. Prints ms per step (and the host's time to queue
// them) with nothing else running, whether the host or the device sets the pace (bursts from an
// idle device; the device's time alone behind a matmul backlog); then, over as many steps again, V8's collections per step (count
// and ms, by kind, from perf_hooks) and with `--profile FILE` a V8 CPU profile of those steps alone
// (the warm-up, which builds the cuDNN plans, and the process start are left out; run by
// scripts/gpu-check.sh). In the profile, the addon's native entries all show under one native
// function's name.
//   node scripts/gpu-seed-steps.mjs [steps=60] [--profile FILE] [--fused]
// Under the CUDA emulator the batch is 4, or 256 with IGNIS_CUDA_EMU_SKIP_KERNELS=1 (host side only).
import { writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { createRequire } from 'node:module';
import { constants, PerformanceObserver } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const ig = require('../dist/index.js');
const { youngGc } = require('../dist/gc.js');
const { trainStep } = await import('../bench/kernels/train.bench.mjs');
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args.splice(i, 2)[1];
};
const profileFile = flag('--profile');
const fused = args.includes('--fused');
const steps = Number(args.find((a) => /^\d+$/.test(a)) ?? 60);
const emu = process.env.IGNIS_CUDA_EMU === '1';
const B = emu && process.env.IGNIS_CUDA_EMU_SKIP_KERNELS !== '1' ? 4 : 256;
const { step } = trainStep(3, 32, B, 'cuda', fused);
// warm-up: the cuDNN plans, the allocator's blocks, and V8's optimizing compiler (5 steps left the
// first timed ones a third slower on the emulator)
for (let i = 0; i < 30; i++) step();
ig.cuda.synchronize();

// ms per step and the host's share, with nothing else running
const timed = (n) => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) step();
  const host = performance.now() - t0;
  ig.cuda.synchronize();
  return { host, all: performance.now() - t0 };
};
const runs0 = youngGc.runs, skipped0 = youngGc.skipped;
const clean = timed(steps);
console.log(`gpu-seed-steps: ${(clean.all / steps).toFixed(3)} ms/step over ${steps} steps${fused ? ' (layers with a fused activation)' : ''} (host queued them in ${(clean.host / steps).toFixed(3)} ms/step); Ignis's young collections ${youngGc.runs - runs0}, skipped ${youngGc.skipped - skipped0}`);

// Host-bound or device-bound? Over many steps the host's queueing time equals the wall time either
// way: once the device is about a thousand launches behind, every launch waits for a free slot. So:
// (a) bursts of 3 steps (~200 launches, far from that limit) from an idle device: the host's time
//     to queue them against the time until the device is done;
// (b) the device alone: 2 steps queued behind a backlog of matmuls that lasts longer than the host
//     takes to queue them, so the device runs them back to back; events around the 2 steps give
//     the step's device time with no wait for the host in it (valid when the host was done first).
//     Two, not more: each step uploads the optimizer's tables through one of two pinned staging
//     buffers, and the third upload waits for the first one's copy, which sits behind the backlog.
{
  const bursts = [];
  for (let r = 0; r < 9; r++) {
    ig.cuda.synchronize();
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) step();
    const host = performance.now() - t0;
    ig.cuda.synchronize();
    bursts.push({ host: host / 3, all: (performance.now() - t0) / 3 });
  }
  const med = (k) => bursts.map((b) => b[k]).sort((a, b) => a - b)[bursts.length >> 1];
  console.log(`gpu-seed-steps: bursts of 3 steps from an idle device: host ${med('host').toFixed(3)} ms/step, until the device is done ${med('all').toFixed(3)} ms/step (median of ${bursts.length})`);

  const ev = () => new ig.cuda.Event({ enableTiming: true });
  const [m0, m1, s0, s1] = [ev(), ev(), ev(), ev()];
  const n = emu ? 64 : 4096;
  const a = ig.randn([n, n], { device: 'cuda' });
  const mm = () => ig.noGrad(() => a.matmul(a).dispose());
  mm();
  ig.cuda.synchronize();
  m0.record();
  mm();
  m1.record();
  m1.synchronize();
  const mmMs = Math.max(m0.elapsedTime(m1), 1e-3);
  // the backlog: twice the host's time for 2 steps (from the clean run), 20 ms at least
  const k = Math.min(2000, Math.ceil(Math.max(20, (4 * clean.host) / steps) / mmMs));
  ig.cuda.synchronize();
  m0.record();
  for (let i = 0; i < k; i++) mm();
  m1.record();
  const t0 = performance.now();
  s0.record();
  for (let i = 0; i < 2; i++) step();
  s1.record();
  const queued = performance.now() - t0;
  s1.synchronize();
  const backlog = m0.elapsedTime(m1);
  const valid = queued < backlog;
  console.log(`gpu-seed-steps: device alone ${(s0.elapsedTime(s1) / 2).toFixed(3)} ms/step (2 steps behind ${k} matmuls, ${backlog.toFixed(1)} ms of device work; the host queued the steps in ${queued.toFixed(1)} ms: ${valid ? 'valid' : 'NOT valid, the device waited for the host'})`);
  a.dispose();
}

// as many steps again under the instruments, which cost time of their own (a GC observer makes
// every collection dearer; the sampling profiler slows everything): V8's collections per step, and
// with --profile a CPU profile of these steps
let session = null;
const post = (method, params) => new Promise((ok, bad) => session.post(method, params, (e, r) => (e ? bad(e) : ok(r))));
if (profileFile) {
  session = new inspector.Session();
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 50 });
  await post('Profiler.start');
}
const gcs = {};
const kindName = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'young', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'full', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks' };
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const k = kindName[e.detail?.kind] ?? 'other';
    const g = (gcs[k] ??= { n: 0, ms: 0 });
    g.n++;
    g.ms += e.duration;
  }
});
obs.observe({ entryTypes: ['gc'] });
const inst = timed(steps);
await new Promise((r) => setTimeout(r, 5)); // the observer's entries arrive asynchronously
obs.disconnect();
if (profileFile) {
  const { profile } = await post('Profiler.stop');
  writeFileSync(profileFile, JSON.stringify(profile));
  session.disconnect();
}
const gcLine = Object.entries(gcs).map(([k, g]) => `${k} ${(g.n / steps).toFixed(2)} x ${(g.ms / g.n).toFixed(3)} ms`).join(', ');
console.log(`gpu-seed-steps: V8 collections per step: ${gcLine || 'none'} (${steps} more steps under the GC observer${profileFile ? ` and the CPU profiler, ${profileFile}` : ''}: ${(inst.all / steps).toFixed(3)} ms/step)`);
{
  const m = ig.cuda.memoryStats();
  console.log(`gpu-seed-steps: allocator ${m.allocCalls} calls, ${m.cacheHits} cache hits (${m.allocCalls - m.cacheHits} cudaMalloc)`);
}
