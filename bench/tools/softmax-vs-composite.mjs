// softmax / logSoftmax: the native kernels (one op forward, one backward) against the composition
// of primitives they replaced (src/ops/softmax.ts: softmaxComposite, logSoftmaxComposite), forward
// and forward + backward, float32 [rows, 1000], in cache (64 rows) and out of it (4096 rows, 4M
// elements). Best of N. For the single-thread figures:
//   OMP_NUM_THREADS=1 node bench/tools/softmax-vs-composite.mjs
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ig = require('../../dist/index.js');
const ops = require('../../dist/ops/all.js');

function best(fn, reps, warm = 3) {
  for (let i = 0; i < warm; i++) fn();
  let b = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = process.hrtime.bigint();
    fn();
    b = Math.min(b, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return b;
}

const kinds = [
  ['softmax', ops.softmax, ops.softmaxComposite],
  ['logSoftmax', ops.logSoftmax, ops.logSoftmaxComposite],
];
console.log(`threads ${ig.backends?.cpu?.numThreads ?? '?'} (OMP_NUM_THREADS=${process.env.OMP_NUM_THREADS ?? 'unset'})`);
console.log('op          shape         pass      composite ms  native ms  speed-up');
for (const rows of [64, 4096]) {
  const reps = rows === 64 ? 200 : 15;
  ig.manualSeed(0);
  const x = ig.randn([rows, 1000]).requiresGrad_(true);
  const g = ig.randn([rows, 1000]);
  for (const [name, nat, comp] of kinds) {
    const fwd = (f) => () => ig.noGrad(() => f(x, 1).dispose());
    const both = (f) => () => {
      const y = f(x, 1);
      const [gx] = ig.autograd.grad(y, [x], { gradOutputs: g });
      y.dispose();
      gx.dispose();
    };
    for (const [pass, mk] of [['fwd', fwd], ['fwd+bwd', both]]) {
      const c = best(mk(comp), reps), n = best(mk(nat), reps);
      console.log(`${name.padEnd(11)} [${rows}, 1000]`.padEnd(26) + ` ${pass.padEnd(9)} ${c.toFixed(3).padStart(12)} ${n.toFixed(3).padStart(10)} ${(c / n).toFixed(2).padStart(8)}x`);
    }
  }
}
