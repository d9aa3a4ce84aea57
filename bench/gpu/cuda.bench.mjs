// GPU benchmark, Ignis vs PyTorch on the same card in the same run (run by scripts/gpu-check.sh):
//   copy and every activation kernel forward / backward on 64M float32 (GB/s; bytes 2N·4 forward,
//   3N·4 backward), conv + bias + activation on the four FACTS.md shapes (TF32, ms; also with the
//   cuDNN graph fusion off, and each row's first call, which builds the plan), and a
//   4096³ matmul (fp32 and TF32, TFLOP/s), small ops' whole cost (launch/: host overhead per call of a
//   kernel, a reduction, cuBLAS, a cuDNN convolution and one through autograd),
//   conv forward + backward through autograd (conv_train/, TF32), a linear layer with a fused GELU
//   (linear_act/: forward; linear_act_train/: forward + backward), batch norm (training forward +
//   backward, eval forward), the seed CNN's training step (also built with the layers' activation
//   option: _fused) and its Adam update alone.
//   Prints a table; the last lines are the summary.
// Timing, as the peer's: each sample records a CUDA event, runs `inner` back-to-back calls, records a
// second event and reads the GPU time between them (ignis.cuda.Event, torch.cuda.Event); the median
// of REPS samples. The host clock around the same samples (through the wait for the second event)
// is kept as `host` (JSON; the table's host column): the whole cost of a call where the host is the
// bottleneck. Outputs are disposed at once (the caching allocator hands the block straight back).
// The conv rows run with TF32 (PyTorch's default for convolutions: conv/...) and in strict fp32
// (allowTf32 = false: conv_fp32/...), the fp32 ones while the time budget lasts.
// Env: IGNIS_GPU_BENCH_N (elements, default 64M), IGNIS_GPU_BENCH_REPS (default 10),
// IGNIS_GPU_BENCH_BUDGET_S (seconds for Ignis's rows before the fp32 conv rows are cut, default 60);
// under the CUDA emulator (IGNIS_CUDA_EMU=1, scripts/cuda-emu.mjs) every shape is small: a dry run
// of this script, not a measurement.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const ig = require('../../dist/index.js');
const K = require('../../dist/kernels.js');
const { ACTIVATIONS } = require('../../dist/activations/table.js');
const { trainStep } = await import('../kernels/train.bench.mjs');

const EMU = process.env.IGNIS_CUDA_EMU === '1';
const N = Number(process.env.IGNIS_GPU_BENCH_N ?? (EMU ? 1 << 12 : 64 << 20));
const REPS = Number(process.env.IGNIS_GPU_BENCH_REPS ?? (EMU ? 2 : 10));
const BUDGET_MS = Number(process.env.IGNIS_GPU_BENCH_BUDGET_S ?? 60) * 1e3;
const T0 = performance.now();
const B = EMU ? 2 : 256; // the seed CNN's batch
const MM = EMU ? 32 : 4096; // the matmul's size
if (!ig.cuda.isAvailable()) {
  console.log(`cuda.bench: CUDA not available (${ig.cuda.unavailableReason()})`);
  process.exit(2);
}

const evStart = new ig.cuda.Event({ enableTiming: true });
const evEnd = new ig.cuda.Event({ enableTiming: true });
const median = (v) => v.sort((a, b) => a - b)[v.length >> 1];
// -> { ms: GPU time per call between the events, host: host-clock ms per call }
function timed(fn, inner = 5, warm = 2) {
  for (let i = 0; i < warm; i++) fn()?.dispose?.();
  ig.cuda.synchronize();
  const dev = [], host = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    evStart.record();
    for (let i = 0; i < inner; i++) fn()?.dispose?.();
    evEnd.record();
    evEnd.synchronize();
    host.push((performance.now() - t0) / inner);
    dev.push(evStart.elapsedTime(evEnd) / inner);
  }
  return { ms: median(dev), host: median(host) };
}

const ms = {};
const hostMs = {};
// ms[key] and hostMs[key] of timed(fn, inner, warm)
function bench(key, fn, inner, warm) {
  const t = timed(fn, inner, warm);
  ms[key] = t.ms;
  hostMs[key] = t.host;
}

// numeric kernel parameters: the table's defaults (threshold has none: 0.1, 0 as in the peer)
const kernels = [];
for (const row of ACTIVATIONS) {
  if (!row.elementwise || !row.kernel) continue;
  const params = row.name === 'threshold' ? [0.1, 0] : row.params.map((p) => p.default).filter((v) => typeof v === 'number');
  kernels.push({ name: row.kernel, params });
  if (row.name === 'gelu') kernels.push({ name: 'gelu_tanh', params: [] });
}

{
  ig.manualSeed(0);
  const x = ig.randn([N], { device: 'cuda' });
  const g = ig.randn([N], { device: 'cuda' });
  bench('copy', () => x.clone());
  for (const k of kernels) {
    if (!(k.name in K.ACT)) continue;
    bench(`act_fwd/${k.name}`, () => K.act(k.name, x, k.params));
    bench(`act_bwd/${k.name}`, () => K.actBackward(k.name, x, g, k.params));
  }
  x.dispose();
  g.dispose();
  ig.cuda.emptyCache();
}
const CONV_SHAPES = EMU
  ? { cifar_l1: [2, 3, 8, 8, 4, 3], r50_1x1_56: [2, 8, 6, 6, 4, 1] }
  : { cifar_l1: [256, 3, 32, 32, 32, 3], r50_3x3_56: [64, 64, 56, 56, 64, 3], r_3x3_14: [32, 256, 14, 14, 256, 3], r50_1x1_56: [64, 256, 56, 56, 64, 1] };
const CONV_ACTS = ['none', 'relu', 'gelu', 'silu', 'mish', 'leaky_relu', 'elu'];
const first = {}; // ms of each conv row's first call (plan build included)
const epilogue = {}; // ms of each conv row with ignis.backends.cudnn.graphFusion = false
let convCut = 0; // fp32 conv rows left out for the time budget
ig.noGrad(() => {
  for (const prefix of ['conv', 'conv_fp32']) {
    ig.backends.cudnn.allowTf32 = prefix === 'conv';
    for (const [s, [n, c, h, w, o, k]] of Object.entries(CONV_SHAPES)) {
      const x = ig.randn([n, c, h, w], { device: 'cuda' });
      const wt = ig.randn([o, c, k, k], { device: 'cuda' }).mul(0.1);
      const b = ig.randn([o], { device: 'cuda' });
      for (const act of CONV_ACTS) {
        if (prefix === 'conv_fp32' && performance.now() - T0 > BUDGET_MS) {
          convCut++;
          continue;
        }
        const key = `${prefix}/${s}/${act}`;
        const opts = act === 'none' ? { padding: k >> 1 } : { padding: k >> 1, activation: act };
        const run = () => ig.F.conv2d(x, wt, b, opts);
        // the first call builds (and caches) the cuDNN graph plan, which may compile with NVRTC
        const t0 = performance.now();
        run().dispose();
        ig.cuda.synchronize();
        first[key] = performance.now() - t0;
        bench(key, run);
        // the same without the cuDNN graph: the convolution, then Ignis's bias + activation epilogue
        ig.backends.cudnn.graphFusion = false;
        epilogue[key] = timed(run).ms;
        ig.backends.cudnn.graphFusion = true;
      }
      x.dispose();
      wt.dispose();
      b.dispose();
    }
  }
  ig.backends.cudnn.allowTf32 = true;
  const a = ig.randn([MM, MM], { device: 'cuda' });
  bench('matmul4096/fp32', () => ig.matmul(a, a));
  ig.backends.cuda.matmul.allowTf32 = true;
  bench('matmul4096/tf32', () => ig.matmul(a, a));
  ig.backends.cuda.matmul.allowTf32 = false;
});
// a small op's whole cost (host side: dispatch, allocation, launch), and conv forward + backward
// (autograd: bias, weight and input gradients) on three of the shapes, TF32
{
  const xs = ig.randn([4096], { device: 'cuda' });
  bench('launch/relu_4k', () => xs.relu(), 100);
  bench('launch/add_4k', () => xs.add(xs), 100);
  bench('launch/sum_4k', () => xs.sum(), 100);
  xs.dispose();
  // host cost per call of the library-backed ops, on shapes whose device time is a few µs: cuBLAS,
  // a cuDNN convolution (no grad), and one through autograd (forward, data, filter and bias gradients)
  const m = ig.randn([64, 64], { device: 'cuda' });
  bench('launch/mm_64', () => ig.matmul(m, m), 100);
  m.dispose();
  {
    const x = ig.randn([2, 8, 8, 8], { device: 'cuda' }).requiresGrad_();
    const wt = ig.randn([8, 8, 3, 3], { device: 'cuda' }).mul(0.1).detach().requiresGrad_();
    const b = ig.randn([8], { device: 'cuda' }).requiresGrad_();
    bench('launch/conv_small', () => ig.noGrad(() => ig.F.conv2d(x, wt, b, { padding: 1 })), 100);
    bench('launch/conv_small_train', () => {
      ig.F.conv2d(x, wt, b, { padding: 1 }).sum().backward();
      for (const t of [x, wt, b]) {
        t.grad?.dispose();
        t.grad = null;
      }
    }, 50);
    for (const t of [x, wt, b]) t.dispose();
  }
  for (const s of ['cifar_l1', 'r50_3x3_56', 'r_3x3_14']) {
    if (!(s in CONV_SHAPES)) continue;
    const [n, c, h, w, o, k] = CONV_SHAPES[s];
    const x = ig.randn([n, c, h, w], { device: 'cuda' }).requiresGrad_();
    const wt = ig.randn([o, c, k, k], { device: 'cuda' }).mul(0.1).detach().requiresGrad_();
    const b = ig.randn([o], { device: 'cuda' }).requiresGrad_();
    const g = ig.randn([n, o, h, w], { device: 'cuda' });
    bench(`conv_train/${s}`, () => {
      ig.F.conv2d(x, wt, b, { padding: k >> 1 }).backward(g);
      for (const t of [x, wt, b]) {
        t.grad?.dispose();
        t.grad = null;
      }
    });
    for (const t of [x, wt, b, g]) t.dispose();
  }
  // a linear layer with a fused GELU (x [8192, 1024], weight [1024, 1024]; the emulator: [64, 32]):
  // forward under noGrad, and forward + backward (linear_act); PyTorch: F.linear then F.gelu
  try {
    const [m, k] = EMU ? [64, 32] : [8192, 1024];
    const x = ig.randn([m, k], { device: 'cuda' }).requiresGrad_();
    const wt = ig.randn([k, k], { device: 'cuda' }).mul(0.03).detach().requiresGrad_();
    const b = ig.randn([k], { device: 'cuda' }).requiresGrad_();
    const g = ig.randn([m, k], { device: 'cuda' });
    const act = { activation: 'gelu' };
    bench('linear_act/gelu_8192x1024', () => ig.noGrad(() => ig.F.linear(x, wt, b, act)));
    bench('linear_act_train/gelu_8192x1024', () => {
      ig.F.linear(x, wt, b, act).backward(g);
      for (const t of [x, wt, b]) {
        t.grad?.dispose();
        t.grad = null;
      }
    });
    for (const t of [x, wt, b, g]) t.dispose();
  } catch (e) {
    console.log(`linear + GELU on cuda failed: ${e.message}`); // the rows after it still run
  }
  // batch norm on a ResNet-50 stage-1 activation: training forward + backward, and eval forward
  {
    const [n, c, h, w] = EMU ? [2, 4, 6, 6] : [64, 64, 56, 56];
    const x = ig.randn([n, c, h, w], { device: 'cuda' }).requiresGrad_();
    const wt = ig.ones([c], { device: 'cuda' }).requiresGrad_();
    const b = ig.zeros([c], { device: 'cuda' }).requiresGrad_();
    const rm = ig.zeros([c], { device: 'cuda' }), rv = ig.ones([c], { device: 'cuda' });
    const g = ig.randn([n, c, h, w], { device: 'cuda' });
    bench('bn_train/r50_56', () => {
      ig.F.batchNorm(x, rm, rv, wt, b, { training: true }).backward(g);
      for (const t of [x, wt, b]) {
        t.grad?.dispose();
        t.grad = null;
      }
    });
    bench('bn_eval/r50_56', () => ig.noGrad(() => ig.F.batchNorm(x, rm, rv, wt, b, { training: false })));
    for (const t of [x, wt, b, rm, rv, g]) t.dispose();
  }
}
if (convCut) console.log(`cuda.bench: ${convCut} fp32 conv rows left out (time budget ${BUDGET_MS / 1e3} s; IGNIS_GPU_BENCH_BUDGET_S)`);
ig.cuda.emptyCache();

// seed CNN (bench/kernels/train.bench.mjs) training step, CIFAR shape, batch 256, Adam, on cuda
{
  try {
    const { step, net, opt } = trainStep(3, 32, B, 'cuda');
    // 30 warm-up steps, both sides (the peer too): the first build the cuDNN plans, and V8 optimizes
    // the step's JavaScript over the first few dozen (5 warm-up steps left the next ones a third
    // slower in gpu-seed-steps on the emulator)
    bench('seed_cnn_train_b256', step, 5, EMU ? 2 : 30);
    // the step's Adam update alone (its 10 parameters, gradients in place)
    step();
    for (const p of net.parameters()) if (!p.grad) p.grad = ig.zerosLike(p);
    bench('optim/adam_seed_cnn', () => opt.step(), 20);
  } catch (e) {
    console.log(`seed CNN on cuda failed: ${e.message}`);
  }
  // the same network built with the layers' `activation: 'relu'` option (bias + ReLU fused into the
  // conv and linear output passes; training keeps the pre-activation): against the same PyTorch step
  try {
    bench('seed_cnn_train_b256_fused', trainStep(3, 32, B, 'cuda', true).step, 5, EMU ? 2 : 30);
  } catch (e) {
    console.log(`seed CNN (fused layers) on cuda failed: ${e.message}`);
  }
}
ig.cuda.emptyCache();

// the peer, after Ignis has released its memory
let peer = null;
const r = EMU ? { status: 2, stderr: 'not run on the CUDA emulator' } : spawnSync('python3', [path.join(here, '..', 'peers', 'torch_cuda_peer.py'), String(N), String(REPS)], { encoding: 'utf8', maxBuffer: 16 << 20 });
if (r.status === 0) peer = JSON.parse(r.stdout.trim().split('\n').pop());
else console.log(`torch peer failed (${r.status}): ${r.stderr.slice(-2000)}`);

const bytes = (key) => (key === 'copy' || key.startsWith('act_fwd') ? 2 : 3) * N * 4;
const rows = [];
for (const [key, t] of Object.entries(ms)) {
  const pt = peer?.ms?.[key.replace(/_fused$/, '')]; // a fused variant against PyTorch's one way
  let unit = 'ms', ours = t, theirs = pt;
  if (key === 'copy' || key.startsWith('act_')) {
    unit = 'GB/s';
    ours = bytes(key) / (t * 1e6);
    theirs = pt ? bytes(key) / (pt * 1e6) : undefined;
  } else if (key.startsWith('seed_cnn')) {
    unit = 'img/s';
    ours = B / (t * 1e-3);
    theirs = pt ? B / (pt * 1e-3) : undefined;
  } else if (key.startsWith('matmul')) {
    unit = 'TFLOP/s';
    ours = (2 * MM ** 3) / (t * 1e9);
    theirs = pt ? (2 * MM ** 3) / (pt * 1e9) : undefined;
  }
  // ratio > 1 means Ignis is better (higher throughput, or lower time)
  const ratio = pt ? pt / t : undefined;
  rows.push({ key, unit, ours, theirs, ratio });
}
const f = (v) => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(3));
console.log(`\nGPU bench: ${ig.cuda.getDeviceName()} (${ig.cuda.versions()}); PyTorch ${peer?.torch ?? 'n/a'}; N=${N}, median of ${REPS}`);
console.log(['op'.padEnd(28), 'unit'.padEnd(8), 'ignis'.padStart(10), 'torch'.padStart(10), 'ratio'.padStart(7), 'host ms'.padStart(9), 'epilogue'.padStart(9), 'first'.padStart(9)].join(' '));
for (const r of rows) {
  // host ms: the host clock per call over the same samples; conv rows: also the epilogue path's ms
  // (graph fusion off) and the first call's ms
  const extra = r.key.startsWith('conv') ? [f(epilogue[r.key]).padStart(9), f(first[r.key]).padStart(9)] : [];
  console.log([r.key.padEnd(28), r.unit.padEnd(8), f(r.ours).padStart(10), f(r.theirs).padStart(10), f(r.ratio).padStart(7), f(hostMs[r.key]).padStart(9), ...extra].join(' '));
}
const acts = rows.filter((r) => r.key.startsWith('act_') && r.ratio !== undefined);
const worst = acts.reduce((m, r) => (r.ratio < m.ratio ? r : m), acts[0] ?? { ratio: NaN, key: '-' });
// issue targets: time <= 1.0x PyTorch's for none / relu, <= 0.8x for the activations PyTorch runs as a
// separate kernel (ratio = torch / ignis, so >= 1 and >= 1.25); TF32 and strict fp32 counted apart
const convTarget = (key) => (/\/(none|relu)$/.test(key) ? 1 : 1.25);
const convLine = (prefix) => {
  const convs = rows.filter((r) => r.key.startsWith(`${prefix}/`) && r.ratio !== undefined);
  const misses = convs.filter((r) => r.ratio < convTarget(r.key)).map((r) => r.key);
  return `${convs.length - misses.length}/${convs.length} meet their target (misses: ${misses.join(' ') || 'none'})`;
};
console.log(`\nSUMMARY activations: worst ${worst?.key} ${f(worst?.ratio)}x torch (target >= 0.97); ` +
  `conv+bias+act (<= 1.0x torch's time for none/relu, <= 0.8x for the rest): TF32 ${convLine('conv')}; ` +
  `fp32 ${convLine('conv_fp32')}${convCut ? ` (${convCut} fp32 rows cut by the time budget)` : ''}; ` +
  `seed CNN step: ${f(rows.find((r) => r.key === 'seed_cnn_train_b256')?.ratio)}x torch eager (target >= 1; ` +
  `with the layers' activation option: ${f(rows.find((r) => r.key === 'seed_cnn_train_b256_fused')?.ratio)}x)`);
console.log(`JSON ${JSON.stringify({ device: ig.cuda.getDeviceName(), n: N, timing: 'cuda events', ms, host: hostMs, epilogue, first, peer: peer?.ms ?? null })}`);
