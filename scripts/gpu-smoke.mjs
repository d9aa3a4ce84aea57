// A representative pass over every CUDA entry point with small tensors, each checked against the
// CPU: what scripts/gpu-check.sh runs under compute-sanitizer (memcheck), where the vitest
// machinery would be too slow. Exit code 1 on any mismatch; prints one line per check.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ig = require('../dist/index.js');
const K = require('../dist/kernels.js');

if (!ig.cuda.isAvailable()) {
  console.log(`gpu-smoke: CUDA not available: ${ig.cuda.unavailableReason()}`);
  process.exit(2);
}
let failed = 0;
function check(name, got, want, tol = 1e-4) {
  const g = got.cpu().to('float64').dataSync(), w = want.to('float64').dataSync();
  let worst = 0;
  for (let i = 0; i < w.length; i++) {
    if (Number.isNaN(w[i]) && Number.isNaN(g[i])) continue;
    worst = Math.max(worst, Math.abs(g[i] - w[i]) / (1 + Math.abs(w[i])));
  }
  const ok = g.length === w.length && worst <= tol && String(got.shape) === String(want.shape);
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} (max rel err ${worst.toExponential(2)})`);
}
const cu = (t) => t.cuda();
ig.manualSeed(1);
const x = ig.randn([37, 65]);
const y = ig.randn([65]);
check('unary exp (contiguous)', cu(x).exp(), x.exp());
check('unary abs (strided view)', cu(x).t().abs(), x.t().abs());
check('binary add broadcast', cu(x).add(cu(y)), x.add(y));
check('binary div scalar (vectorised)', cu(x).div(3), x.div(3));
check('compare gt -> bool', cu(x).gt(cu(y)), x.gt(y));
check('where', ig.where(cu(x).gt(0), cu(x), 0), ig.where(x.gt(0), x, 0));
check('cast to int32', cu(x).mul(10).to('int32'), x.mul(10).to('int32'));
for (const k of ['relu', 'gelu', 'gelu_tanh', 'mish', 'softplus', 'hardswish', 'elu']) {
  const p = k === 'softplus' ? [1, 20] : k === 'elu' ? [1] : [];
  check(`act ${k} fwd`, K.act(k, cu(x), p), K.act(k, x, p));
  check(`act ${k} bwd`, K.actBackward(k, cu(x), cu(x.cos()), p), K.actBackward(k, x, x.cos(), p));
}
check('sum dim 1', cu(x).sum(1), x.sum(1));
check('amax dim 0', cu(x).amax(0), x.amax(0));
check('argmax', cu(x).argmax(1), x.argmax(1));
const long = ig.randn([300000]);
check('sum of 300k (split)', cu(long).sum(), long.sum(), 1e-5);
check('softmax', ig.softmax(cu(x), 1), ig.softmax(x, 1));
{
  // cross entropy's own kernels: the rows' nll forward (weights, an ignored row), softmax minus one-hot backward
  const t = ig.tensor(Array.from({ length: 37 }, (_, i) => (i === 5 ? -100 : (i * 7) % 65)));
  const w = ig.rand([65]).add(0.5);
  const xr = x.clone().requiresGrad_(), xd = cu(x).requiresGrad_();
  const lr = ig.F.crossEntropy(xr, t, { weight: w }), ld = ig.F.crossEntropy(xd, cu(t), { weight: cu(w) });
  lr.backward();
  ld.backward();
  check('cross entropy fwd', ld, lr);
  check('cross entropy bwd', xd.grad, xr.grad);
}
check('matmul', ig.matmul(cu(x), cu(x).t()), ig.matmul(x, x.t()), 1e-4);
check('matmul of a sliced (packed) operand', ig.matmul(cu(x).slice(1, 0, 64, 2), cu(x).slice(1, 0, 64, 2).t()), ig.matmul(x.slice(1, 0, 64, 2), x.slice(1, 0, 64, 2).t()), 1e-4);
ig.backends.cudnn.allowTf32 = false;
const xi = ig.randn([2, 3, 8, 8], { requiresGrad: true });
const w = ig.randn([4, 3, 3, 3], { requiresGrad: true });
const b = ig.randn([4], { requiresGrad: true });
const yc = ig.F.conv2d(xi, w, b, { padding: 1 });
yc.square().sum().backward();
const xg = cu(xi.detach()).requiresGrad_(), wg = cu(w.detach()).requiresGrad_(), bg = cu(b.detach()).requiresGrad_();
const yg = ig.F.conv2d(xg, wg, bg, { padding: 1 });
yg.square().sum().backward();
check('conv2d fwd', yg, yc);
check('conv2d bwd data', xg.grad, xi.grad);
check('conv2d bwd filter', wg.grad, w.grad);
check('conv2d bias grad', bg.grad, b.grad);
ig.noGrad(() => {
  check('conv + bias + relu (cuDNN fused)', ig.F.conv2d(cu(xi), cu(w), cu(b), { padding: 1, activation: 'relu' }), ig.F.relu(ig.F.conv2d(xi, w, b, { padding: 1 })));
  check('conv + bias + gelu (cuDNN graph, or the epilogue)', ig.F.conv2d(cu(xi), cu(w), cu(b), { padding: 1, activation: 'gelu' }), ig.F.gelu(ig.F.conv2d(xi, w, b, { padding: 1 })));
  ig.backends.cudnn.graphFusion = false;
  check('conv + bias + gelu (epilogue)', ig.F.conv2d(cu(xi), cu(w), cu(b), { padding: 1, activation: 'gelu' }), ig.F.gelu(ig.F.conv2d(xi, w, b, { padding: 1 })));
  ig.backends.cudnn.graphFusion = true;
});
{
  // the training forward keeps z = conv + b beside y (graph with two outputs, or the epilogue
  // writing both), and its backward reads z
  const grads = (dev) => {
    const ins = [xi, w, b].map((t) => (dev === 'cuda' ? cu(t.detach()) : t.detach().clone()).requiresGrad_());
    const y = ig.F.conv2d(ins[0], ins[1], ins[2], { padding: 1, activation: 'elu' });
    y.square().sum().backward();
    return [y, ...ins.map((t) => t.grad)];
  };
  const want = grads('cpu');
  for (const graph of [true, false]) {
    ig.backends.cudnn.graphFusion = graph;
    grads('cuda').forEach((t, i) => check(`conv + bias + elu in training, graph ${graph}: ${['y', 'dx', 'dw', 'db'][i]}`, t, want[i]));
  }
  ig.backends.cudnn.graphFusion = true;
}
{
  const p0 = ig.randn([1000]);
  const pc = p0.clone().requiresGrad_(), pg = cu(p0).requiresGrad_();
  for (const [p, opt] of [[pc, new ig.optim.Adam([pc], { lr: 0.1 })], [pg, new ig.optim.Adam([pg], { lr: 0.1 })]]) {
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      p.square().sum().backward();
      opt.step();
    }
  }
  check('Adam, 3 steps', pg, pc, 1e-5);
}
if (process.env.IGNIS_CUDA_EMU === '1') {
  console.log('gpu-smoke: expression activations skipped (the CUDA emulator runs no NVRTC-compiled kernels)');
} else {
  // expression activation: NVRTC-compiled kernels, aligned (16-byte packs) and offset (scalar) inputs
  const act = ig.defineActivation({ name: 'smoke_expr', expr: 'x > 0 ? x * tanh(softplus(a * x)) : expm1(x)', params: { a: 1.5 } });
  const xe = ig.randn([4099]), ge = ig.randn([4099]);
  check('expression activation fwd (NVRTC)', act(cu(xe)), act(xe));
  check('expression activation fwd, unaligned', act(cu(xe).narrow(0, 1, 4097)), act(xe.narrow(0, 1, 4097)));
  const xa = xe.clone().requiresGrad_(), xb = cu(xe).requiresGrad_();
  act(xa).backward(ge);
  act(xb).backward(cu(ge));
  check('expression activation bwd (NVRTC)', xb.grad, xa.grad);
  check('expression activation float64', act(cu(xe.double())), act(xe.double()), 1e-12);
}
ig.manualSeed(7);
const rc = ig.rand([999]);
ig.manualSeed(7);
check('rand on cuda = rand on cpu', ig.rand([999], { device: 'cuda' }), rc, 0);
const big = ig.randn([1 << 20], { device: 'cuda' });
const viaAsync = await big.data();
check('await data()', ig.tensor(viaAsync), big.cpu(), 0);
ig.cuda.setMemoryLimit(ig.cuda.memoryReserved() + (8 << 20));
let oom = false;
try {
  ig.empty([64 << 20], { device: 'cuda' });
} catch (e) {
  oom = e instanceof ig.MemoryError;
}
ig.cuda.setMemoryLimit(0);
console.log(`${oom ? 'ok  ' : 'FAIL'} out of memory under a limit is a MemoryError`);
if (!oom) failed++;
{
  const a = new ig.cuda.Event({ enableTiming: true }).record();
  big.relu().dispose();
  const b = new ig.cuda.Event({ enableTiming: true }).record();
  const t = a.elapsedTime(b);
  const ok = t > 0 && b.query();
  console.log(`${ok ? 'ok  ' : 'FAIL'} cuda.Event: a relu of 1M elements took ${t.toFixed(4)} ms of device time`);
  if (!ok) failed++;
  a.dispose();
  b.dispose();
}
ig.cuda.synchronize();
console.log(failed ? `gpu-smoke: ${failed} FAILED` : 'gpu-smoke: all ok');
process.exit(failed ? 1 : 0);
