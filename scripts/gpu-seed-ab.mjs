// The seed CNN's training step (CIFAR shape, batch 256, Adam) on cuda under the settings that change
// which cuDNN path each convolution takes, in one process, so that their ms per step compare within
// one run: the default (a cuDNN graph per convolution where its first call times faster than the
// legacy call), graphFusion off (the legacy calls only), cudnn.benchmark (every graph engine and
// legacy algorithm autotuned), both, and the network built with its layers' fused ReLU. Each variant
// warms up 30 steps (plans, autotuning, V8), then 3 samples of 40 steps, synchronized at both ends;
// the median sample. Run by scripts/gpu-check.sh; under the CUDA emulator a dry run (batch 4).
//   node scripts/gpu-seed-ab.mjs [steps=40]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ig = require('../dist/index.js');
const { trainStep } = await import('../bench/kernels/train.bench.mjs');

if (!ig.cuda.isAvailable()) {
  console.log(`gpu-seed-ab: CUDA not available: ${ig.cuda.unavailableReason()}`);
  process.exit(2);
}
const emu = process.env.IGNIS_CUDA_EMU === '1';
const B = emu && process.env.IGNIS_CUDA_EMU_SKIP_KERNELS !== '1' ? 4 : 256;
const steps = Number(process.argv[2] ?? (emu ? 5 : 40));
const cudnn = ig.backends.cudnn;
const variants = [
  ['default', {}, false],
  ['graphFusion off', { graphFusion: false }, false],
  ['benchmark', { benchmark: true }, false],
  ['benchmark + graphFusion off', { benchmark: true, graphFusion: false }, false],
  ['fused ReLU layers', {}, true],
];
const saved = { graphFusion: cudnn.graphFusion, benchmark: cudnn.benchmark };
const out = [];
for (const [name, flags, fused] of variants) {
  Object.assign(cudnn, saved, flags);
  const { step } = trainStep(3, 32, B, 'cuda', fused);
  for (let i = 0; i < (emu ? 2 : 30); i++) step();
  ig.cuda.synchronize();
  const samples = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    ig.cuda.synchronize();
    samples.push((performance.now() - t0) / steps);
  }
  samples.sort((a, b) => a - b);
  out.push(`${name} ${samples[1].toFixed(3)}`);
  ig.cuda.emptyCache();
}
Object.assign(cudnn, saved);
console.log(`gpu-seed-ab: ms/step (batch ${B}, median of 3 x ${steps} steps): ${out.join(' | ')}`);
