// The keep/drop measurement for the fast approximations (issue 3 section 5, bench/RESULTS.md):
// every kernel with an `approx: 'fast'` forward, Ignis exact vs Ignis fast, float32, in-cache size,
// best of N batches (the least load-sensitive figure on a shared machine), exact and fast batches
// interleaved so that both see the same load. Run single-threaded:
//   OMP_NUM_THREADS=1 node bench/tools/approx-speed.mjs [--n 65536] [--batches 60] [--inner 40]
// Prints GB/s (bytes = 2 × n × 4: read x, write y) and the speed-up fast / exact.
import { createRequire } from 'node:module';
import os from 'node:os';

const require = createRequire(import.meta.url);
const ig = require('../../dist/index.js');

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const N = arg('n', 65536);
const BATCHES = arg('batches', 60);
const INNER = arg('inner', 40);

const cases = [];
for (const row of ig.activations.ACTIVATIONS) {
  const fast = row.approx?.fast;
  if (!fast) continue;
  cases.push({ label: row.name, fn: row.fn, opts: {}, err: fast.maxAbsError });
  for (const [k, err] of Object.entries(fast.variants ?? {}))
    if (k === 'gelu_tanh') cases.push({ label: "gelu (approximate='tanh')", fn: 'gelu', opts: { approximate: 'tanh' }, err });
}

ig.manualSeed(0);
const x = ig.randn([N]);
const batch = (f, opts) => {
  const t0 = performance.now();
  for (let i = 0; i < INNER; i++) f(x, opts).dispose();
  return (performance.now() - t0) / 1e3 / INNER;
};
const gbs = (s) => (2 * N * 4) / s / 1e9;

console.log(`${os.cpus()[0]?.model}, ${ig.backends?.cpu?.isa ?? '?'}, OMP_NUM_THREADS=${process.env.OMP_NUM_THREADS ?? '(unset)'}, n = ${N}, best of ${BATCHES} × ${INNER}, load ${os.loadavg()[0].toFixed(2)}`);
console.log('| activation | exact GB/s | fast GB/s | fast / exact | max abs error |');
console.log('|---|---:|---:|---:|---:|');
for (const c of cases) {
  const f = ig.F[c.fn];
  const fastOpts = { ...c.opts, approx: 'fast' };
  for (let i = 0; i < 3; i++) (batch(f, c.opts), batch(f, fastOpts));  // warm-up
  let bestE = Infinity;
  let bestF = Infinity;
  for (let b = 0; b < BATCHES; b++) {
    bestE = Math.min(bestE, batch(f, c.opts));
    bestF = Math.min(bestF, batch(f, fastOpts));
  }
  console.log(`| ${c.label} | ${gbs(bestE).toFixed(1)} | ${gbs(bestF).toFixed(1)} | ${(bestE / bestF).toFixed(2)}× | ${c.err.toExponential(1)} |`);
}
