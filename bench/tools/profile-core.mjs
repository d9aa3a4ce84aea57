// Breaks the core benchmarks down by layer: raw Node-API call, src/kernels.ts, dispatch(), Tensor
// method; and for the 4M add, kernel time with the result freed at once versus left to the GC.
//   node --expose-gc bench/tools/profile-core.mjs
import { createRequire } from 'node:module';
import { median, tick } from '../lib/common.mjs';

const require = createRequire(import.meta.url);
const ig = require('../../dist/index.js');
const K = require('../../dist/kernels.js');
const N = require('../../dist/native.js');

function perOp(fn, inner, reps) {
  for (let r = 0; r < 5; r++) for (let i = 0; i < inner; i++) fn();
  const s = [];
  for (let r = 0; r < reps; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < inner; i++) fn();
    s.push(Number(process.hrtime.bigint() - t) / inner);
  }
  return median(s);
}

const a = ig.ones([1]);
const b = ig.ones([1]);
const ha = a._storage.handle;
const hb = b._storage.handle;
const code = K.BINARY.add;
const shape = [1];
const rows = [];
async function row(name, fn, inner = 2000, reps = 60) {
  globalThis.gc();
  await tick();
  // yield between repetitions so finalizers can run, as in bench/run.mjs
  const s = [];
  for (let r = 0; r < reps; r++) {
    s.push(perOp(fn, inner, 1));
    await tick();
  }
  rows.push([name, median(s)]);
}

await row('native addon.alloc(4) only', () => N.addon.alloc(4));
K.binary('add', a, b, 'float32', shape, 'float32'); // leaves the operand description in meta
await row('native addon.binary (meta prewritten)', () => N.addon.binary(code, null, ha, hb));
await row('K.binary (+ meta writes, wrap Tensor/Storage)', () => K.binary('add', a, b, 'float32', shape, 'float32'));
await row('ig.add via dispatch (no grad)', () => ig.add(a, b));
await row('a.add(b) (Tensor method)', () => a.add(b));
await row('a.add(b).dispose()', () => a.add(b).dispose());
await row('ig.noGrad(() => a.add(b))', () => ig.noGrad(() => a.add(b)));
console.log('1-element add, ns per op (median):');
for (const [n, v] of rows) console.log(`  ${n.padEnd(48)} ${v.toFixed(0)} ns`);

const M = 4 * 1024 * 1024;
const x = ig.randn([M]);
const y = ig.randn([M]);
const GB = (ns) => ((3 * M * 4) / ns).toFixed(2);
async function big(name, fn, reps, yieldEach) {
  globalThis.gc();
  await tick();
  for (let i = 0; i < 5; i++) fn();
  globalThis.gc();
  await tick();
  const s = [];
  for (let r = 0; r < reps; r++) {
    const t = process.hrtime.bigint();
    fn();
    s.push(Number(process.hrtime.bigint() - t));
    if (yieldEach) await tick();
  }
  const st = ig.memory().cpu;
  console.log(`  ${name.padEnd(48)} median ${(median(s) / 1e6).toFixed(3)} ms = ${GB(median(s))} GB/s   (live ${(st.bytes / 2 ** 20).toFixed(0)} MiB, cached ${(st.cachedBytes / 2 ** 20).toFixed(0)} MiB)`);
}
const out = ig.empty([M]);
console.log('add 4M float32:');
await big('a.add(b).dispose() (cached block reused)', () => x.add(y).dispose(), 80, false);
await big('K.binary into preallocated out', () => K.binary('add', x, y, 'float32', [M], 'float32', out), 80, false);
await big('a.add(b), event loop turns each op', () => x.add(y), 80, true);
await big('a.add(b), sync loop (nothing freed)', () => x.add(y), 25, false);
globalThis.gc();
await tick();
