// The seed CNN's training step on cuda (CIFAR shape, batch 256, Adam), timed over many steps: the
// host side's share shows up here (run under `node --cpu-prof` by scripts/gpu-check.sh, whose
// profile says where the host's time per step goes). Prints ms per step.
//   node scripts/gpu-seed-steps.mjs [steps=60]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ig = require('../dist/index.js');
const { trainStep } = await import('../bench/kernels/train.bench.mjs');
const steps = Number(process.argv[2] ?? 60);
const emu = process.env.IGNIS_CUDA_EMU === '1';
const B = emu ? 4 : 256;
const { step } = trainStep(3, 32, B, 'cuda');
for (let i = 0; i < 5; i++) step();
ig.cuda.synchronize();
const t0 = performance.now();
for (let i = 0; i < steps; i++) step();
const host = performance.now() - t0;
ig.cuda.synchronize();
const all = performance.now() - t0;
console.log(`gpu-seed-steps: ${(all / steps).toFixed(3)} ms/step over ${steps} steps (host queued them in ${(host / steps).toFixed(3)} ms/step); young GCs ${require('../dist/gc.js').youngGc.runs}, skipped ${require('../dist/gc.js').youngGc.skipped}`);
{
  const m = ig.cuda.memoryStats();
  console.log(`gpu-seed-steps: allocator ${m.allocCalls} calls, ${m.cacheHits} cache hits (${(m.allocCalls - m.cacheHits)} cudaMalloc)`);
}
