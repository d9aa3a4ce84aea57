#!/usr/bin/env node
// The rows that flip between full runs of the activations bench, in fresh processes, Ignis and
// PyTorch alternately: the composite activations' backward (autograd.grad), the cheap forwards
// next to the copy roofline, hardswish's backward kernel.
//
//   node bench/tools/fresh-ab.mjs [rounds=3] [threads=2]
//
// Why: bench/run.mjs measures Ignis inside one long-lived process (every row reuses blocks from the
// caching allocator) and PyTorch in a fresh python process per round. On the shared 2-core VM the
// speed of a memory-bound kernel depends on which physical memory its buffers land on (the same
// mul of 4M float32 ran at 68 and at 150 GB/s on different blocks of one process), so the long-lived
// process can sit on slow blocks for a whole row. Here both libraries start from a fresh process
// every round, with the same shapes, inputs of the same distribution and median-of-40 timing; the
// figure is GB/s with 3 tensor streams of [4096, 1024] float32 (the activations bench's convention).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rounds = Number(process.argv[2] ?? 3);
const threads = Number(process.argv[3] ?? 2);
const BYTES = 3 * 4096 * 1024 * 4;

const IGNIS = `
const ig = require(${JSON.stringify(path.join(root, 'dist/index.js'))});
function med(f, n = 40) { for (let i = 0; i < 5; i++) f(); const ts = []; for (let i = 0; i < n; i++) { const t = process.hrtime.bigint(); f(); ts.push(Number(process.hrtime.bigint() - t) / 1e9); } ts.sort((a, b) => a - b); return ts[n >> 1]; }
ig.manualSeed(0);
const x = ig.randn([4096, 1024]).requiresGrad_(true); const g = ig.randn([4096, 1024]);
const w = ig.full([64], 0.25).requiresGrad_(true); const xp = ig.randn([64, 64, 1024]).requiresGrad_(true);
const out = {};
const rows = { rrelu: ig.F.rrelu(x, { training: true }), softmax: ig.F.softmax(x, { dim: -1 }), softmin: ig.F.softmin(x, { dim: -1 }), log_softmax: ig.F.logSoftmax(x, { dim: -1 }) };
for (const [k, y] of Object.entries(rows)) out[k] = med(() => ig.autograd.grad(y, [x], { gradOutputs: g, retainGraph: true }).forEach((t) => t.dispose()));
const yp = ig.F.prelu(xp, w); const gp = ig.randnLike(yp);
out.prelu = med(() => ig.autograd.grad(yp, [xp, w], { gradOutputs: gp, retainGraph: true }).forEach((t) => t.dispose()));
const K = require(${JSON.stringify(path.join(root, 'dist/kernels.js'))});
const xd = x.detach(), yc = ig.emptyLike(xd);
out['copy fwd'] = med(() => yc.copy_(xd));
for (const [k, fn] of [['relu', 'relu'], ['leaky_relu', 'leakyRelu'], ['hardtanh', 'hardtanh'], ['hardswish', 'hardswish'], ['hardsigmoid', 'hardsigmoid'], ['hardshrink', 'hardshrink'], ['threshold', 'threshold']]) {
  const f = ig.F[fn];
  const args = k === 'threshold' ? [0.1, 0] : [];
  out[k + ' fwd'] = med(() => f(xd, ...args).dispose());
}
out['hardswish bwd'] = med(() => K.actBackward('hardswish', xd, g, []).dispose());
console.log(JSON.stringify(out));`;

const TORCH = `
import json, time, torch, torch.nn.functional as F
torch.set_num_threads(${threads})
def med(f, n=40):
    for _ in range(5): f()
    ts = []
    for _ in range(n):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    ts.sort(); return ts[n // 2]
torch.manual_seed(0)
x = torch.randn(4096, 1024, requires_grad=True); g = torch.randn(4096, 1024)
w = torch.full((64,), 0.25, requires_grad=True); xp = torch.randn(64, 64, 1024, requires_grad=True)
out = {}
rows = {'rrelu': F.rrelu(x, training=True), 'softmax': F.softmax(x, -1), 'softmin': F.softmin(x, -1), 'log_softmax': F.log_softmax(x, -1)}
for k, y in rows.items(): out[k] = med(lambda: torch.autograd.grad(y, [x], g, retain_graph=True))
yp = F.prelu(xp, w); gp = torch.randn_like(yp)
out['prelu'] = med(lambda: torch.autograd.grad(yp, [xp, w], gp, retain_graph=True))
with torch.no_grad():
    xd = x.detach(); yc = torch.empty_like(xd)
    out['copy fwd'] = med(lambda: yc.copy_(xd))
    for k, f in [('relu', F.relu), ('leaky_relu', F.leaky_relu), ('hardtanh', F.hardtanh), ('hardswish', F.hardswish), ('hardsigmoid', F.hardsigmoid), ('hardshrink', F.hardshrink), ('threshold', lambda t: F.threshold(t, 0.1, 0))]:
        out[k + ' fwd'] = med(lambda: f(xd))
    out['hardswish bwd'] = med(lambda: torch.ops.aten.hardswish_backward(g, xd))
print(json.dumps(out))`;

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const ig = [], pt = [];
for (let r = 0; r < rounds; r++) {
  ig.push(run(process.execPath, ['-e', IGNIS], { OMP_NUM_THREADS: String(threads) }));
  pt.push(run('python3', ['-c', TORCH], {}));
}
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
// backward rows move 3 streams, forward rows and the copy 2
const gbs = (s, k = '') => (k.endsWith(' fwd') ? (2 * BYTES) / 3 : BYTES) / s / 1e9;
console.log(`fresh processes, ${rounds} rounds, ${threads} threads; GB/s over [4096, 1024] float32 (backward 3 streams, forward and copy 2), median of rounds`);
console.log('row              Ignis    PyTorch  ratio   (per round: Ignis / PyTorch)');
for (const k of Object.keys(ig[0])) {
  const a = gbs(median(ig.map((o) => o[k])), k), b = gbs(median(pt.map((o) => o[k])), k);
  const per = ig.map((o, i) => `${gbs(o[k], k).toFixed(0)}/${gbs(pt[i][k], k).toFixed(0)}`).join(' ');
  const vsCopy = k.endsWith(' fwd') && k !== 'copy fwd' ? `  ${(a / gbs(median(ig.map((o) => o['copy fwd'])), 'copy fwd')).toFixed(2)}x Ignis copy` : '';
  console.log(`${k.padEnd(16)} ${a.toFixed(1).padStart(6)}   ${b.toFixed(1).padStart(6)}   ${(a / b).toFixed(2)}x${vsCopy}  (${per})`);
}
