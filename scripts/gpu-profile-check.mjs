// The profiler's CUDA half on the device (a step of scripts/gpu-check.sh; needs dist/):
//  1. agreement: for a memory-bound kernel (relu, 64M floats), cuBLAS (matmul 4096^2) and cuDNN
//     (conv 3x3 64->64 on 64x64x56x56), the mean kernel time the profiler reports must be within
//     10% of an independent timing of the same launches: the host wall clock around N back-to-back
//     launches with no profiler running, synchronized at both ends. Each launch is long (0.1-3 ms)
//     against the host's launch cost (~10 us), so the queue never drains and wall / N is the device
//     time per launch.
//  2. the kernel mix of one seed-CNN training step (CIFAR shape, batch 256, Adam): conv forward,
//     backward data and filter, ReLU forward and backward, max pool forward and backward, the
//     linear layers' GEMMs, the loss and the fused Adam step, every one attributed to an op, on the
//     same clock as the ops (no kernel starts before the op that queued it); then the same step
//     queued behind a matmul backlog, so its records are device time alone (span and top kernels).
// Prints one line per check and a table; exit 1 on a failed check, 2 without CUDA.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const require = createRequire(import.meta.url);
const ig = require('../dist/index.js');
const { trainStep } = await import('../bench/kernels/train.bench.mjs');

if (!ig.cuda.isAvailable()) {
  console.log(`gpu-profile-check: CUDA not available: ${ig.cuda.unavailableReason()}`);
  process.exit(2);
}
// under the CUDA emulator (scripts/cuda-emu.mjs) the same checks at small sizes: it proves the
// script and the records, not the timings' meaning
const emu = process.env.IGNIS_CUDA_EMU === '1';
let failed = 0;
const say = (ok, msg) => {
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${msg}`);
};
const kernels = (prof, prefix) => prof.events.filter((e) => e.kind === 'kernel' && e.name.startsWith(prefix));

function agreement(label, prefix, launch, n) {
  for (let i = 0; i < 3; i++) launch(); // warm-up: algorithm choice, allocator, first-launch costs
  ig.cuda.synchronize();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) launch();
  ig.cuda.synchronize();
  const wallUs = ((performance.now() - t0) * 1e3) / n;
  const prof = ig.profiler.profile({ activities: ['cpu', 'cuda'] }, () => {
    for (let i = 0; i < n; i++) launch();
    ig.cuda.synchronize();
  });
  const ks = kernels(prof, prefix);
  const profUs = ks.reduce((s, k) => s + k.duration, 0) / Math.max(1, ks.length);
  const dev = profUs / wallUs - 1;
  // (the emulator runs each launch on the host before the next is queued: the wall clock then
  // includes the host's own cost, so there the 10% bound is not checked)
  say(ks.length === n && (emu || Math.abs(dev) <= 0.1),
    `agreement ${label}: profiler ${profUs.toFixed(1)} us/launch over ${ks.length} records vs wall clock ${wallUs.toFixed(1)} us/launch (${(dev * 100).toFixed(1)}%, limit 10%${emu ? ', not checked on the emulator' : ''})`);
  if (prof.warnings.length) console.log(`     warnings: ${prof.warnings.join('; ')}`);
  return prof;
}

ig.manualSeed(0);
ig.noGrad(() => {
  const big = ig.randn([emu ? 1 << 16 : 64 * 1024 * 1024], { device: 'cuda' });
  agreement('relu 64M float32', 'act_fwd<relu>', () => big.relu().dispose(), 100);
  big.dispose();
  const a = ig.randn(emu ? [64, 64] : [4096, 4096], { device: 'cuda' });
  agreement('matmul 4096^3 float32', 'bmm', () => a.matmul(a).dispose(), 20);
  a.dispose();
  // float32 without TF32 and batch 64: ~0.4 ms of device time per call, well above the host's cost
  // of a cuDNN call (descriptors, heuristics), so the queue stays full here too
  const tf32 = ig.backends.cudnn.allowTf32;
  ig.backends.cudnn.allowTf32 = false;
  const x = ig.randn(emu ? [2, 8, 12, 12] : [64, 64, 56, 56], { device: 'cuda' });
  const w = ig.randn(emu ? [8, 8, 3, 3] : [64, 64, 3, 3], { device: 'cuda' }).mul(0.05);
  const conv = agreement('conv 3x3 64->64 64x56x56 fp32', 'conv2d_fwd', () => ig.F.conv2d(x, w, null, { padding: 1 }).dispose(), 40);
  ig.backends.cudnn.allowTf32 = tf32;
  const k = kernels(conv, 'conv2d_fwd')[0];
  say(!!k && /^cudnn/.test(String(k.args?.library)) && typeof k.args?.algorithm === 'string' && typeof k.args?.workspaceBytes === 'number',
    `conv record carries the cuDNN call, algorithm and workspace: ${JSON.stringify(k?.args)}`);
  x.dispose();
  w.dispose();
});
ig.cuda.emptyCache();

// ---- the seed CNN's training step -------------------------------------------------------------
{
  const { step } = trainStep(3, 32, emu ? 4 : 256, 'cuda');
  step();
  ig.cuda.synchronize();
  const prof = ig.profiler.profile({ activities: ['cpu', 'cuda'] }, () => {
    step().item();
  });
  const ks = prof.events.filter((e) => e.kind === 'kernel');
  const byName = new Map();
  for (const k of ks) byName.set(k.name, (byName.get(k.name) ?? 0) + 1);
  const count = (prefix) => [...byName].filter(([n]) => n.startsWith(prefix)).reduce((s, [, c]) => s + c, 0);
  const expected = [
    ['conv2d_fwd', 3], ['conv2d_bwd_data', 2], ['conv2d_bwd_filter', 3], ['act_fwd<relu>', 4], ['act_bwd<relu>', 4],
    ['pool_fwd<max>', 2], ['pool_bwd<max>', 2], ['bmm', 2], ['optim_step<adam>', 1], ['Memcpy DtoH', 1],
  ];
  for (const [prefix, min] of expected) say(count(prefix) >= min, `seed CNN step: ${count(prefix)} x ${prefix} (expected >= ${min})`);
  // the loss: log_softmax and its nll kernel, which takes the mean too; backward its one kernel
  for (const [prefix, min] of [['softmax_fwd<log>', 1], ['nll_fwd', 1], ['cross_entropy_bwd', 1]])
    say(count(prefix) >= min, `seed CNN step: ${count(prefix)} x ${prefix} (expected >= ${min})`);
  const byId = new Map(prof.events.map((e) => [e.id, e]));
  const orphans = ks.filter((k) => k.correlationId === undefined);
  say(orphans.length === 0, `every kernel is attributed to an op (${orphans.length} not: ${orphans.slice(0, 5).map((k) => k.name).join(', ')})`);
  const early = ks.filter((k) => k.correlationId !== undefined && k.start < byId.get(k.correlationId).start - 20);
  say(early.length === 0, `no kernel starts before the op that queued it (20 us slack; ${early.length} do)`);
  say(ks.every((k) => k.device === 'cuda:0'), 'every kernel is on cuda:0');
  const devUs = ks.reduce((s, k) => s + k.duration, 0);
  console.log(`seed CNN step: ${ks.length} device records, ${(devUs / 1e3).toFixed(3)} ms of device time, ${(prof.duration / 1e3).toFixed(3)} ms wall`);
  console.log(prof.keyAverages().table({ sortBy: 'cuda_time_total', rowLimit: 25 }));
  prof.exportChromeTrace(`${process.env.OUT ?? '/tmp'}/seed_cnn_step.trace.json`);

  // The same step's kernels back to back. Above, the device waits for the host between kernels,
  // and an op's record then counts the host's time between its first event and its launch (cuDNN's
  // and cuBLAS's host work). Here the step is queued behind ~40 ms of matmuls, longer than the
  // profiled host takes to queue it, so each record is the device's time alone and their span is
  // the step's device time.
  const a = ig.randn(emu ? [64, 64] : [4096, 4096], { device: 'cuda' });
  const mm = () => ig.noGrad(() => a.matmul(a).dispose());
  mm();
  ig.cuda.synchronize();
  const t0 = performance.now();
  mm();
  ig.cuda.synchronize();
  const backlog = Math.min(400, Math.ceil(40 / Math.max(performance.now() - t0, 0.05)));
  const b2b = ig.profiler.profile({ activities: ['cpu', 'cuda'] }, () => {
    for (let i = 0; i < backlog; i++) mm();
    ig.profiler.recordFunction('seed step', () => step().item());
  });
  const range = b2b.events.find((e) => e.kind !== 'kernel' && e.name === 'seed step');
  const ops = new Map(b2b.events.map((e) => [e.id, e]));
  const mine = b2b.events
    .filter((e) => e.kind === 'kernel' && ops.get(e.correlationId)?.start >= range.start)
    .sort((x, y) => x.start - y.start);
  const before = b2b.events.filter((e) => e.kind === 'kernel' && !mine.includes(e));
  const backlogEnd = Math.max(...before.map((e) => e.start + e.duration));
  const span = mine.at(-1).start + mine.at(-1).duration - mine[0].start;
  const sum = mine.reduce((s, k) => s + k.duration, 0);
  let gap = 0;
  for (let i = 1; i < mine.length; i++) gap = Math.max(gap, mine[i].start - (mine[i - 1].start + mine[i - 1].duration));
  const waited = range.start + range.duration > backlogEnd;
  console.log(`gpu-profile-check: seed CNN step back to back: ${(span / 1e3).toFixed(3)} ms of device time (span of ${mine.length} records, sum ${(sum / 1e3).toFixed(3)} ms, largest gap ${gap.toFixed(1)} us; behind ${backlog} matmuls: ${waited ? 'NOT valid, the device waited for the host' : 'valid'})`);
  const agg = new Map();
  for (const k of mine) {
    const g = agg.get(k.name) ?? { n: 0, us: 0 };
    g.n++;
    g.us += k.duration;
    agg.set(k.name, g);
  }
  const top = [...agg].sort((x, y) => y[1].us - x[1].us).slice(0, 14);
  console.log(`gpu-profile-check: back to back, by kernel: ${top.map(([n, g]) => `${n} ${g.n}x ${g.us.toFixed(0)} us`).join(', ')}`);
  a.dispose();
}

console.log(`gpu-profile-check: ${failed ? `${failed} FAILED` : 'all passed'}`);
process.exit(failed ? 1 : 0);
