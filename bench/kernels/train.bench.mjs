// Seed CNN (CPU): training step and inference of the seed CNN, next to PyTorch CPU (same threads).
//   Conv2d(C,32,3) ReLU MaxPool2d(2) Conv2d(32,64,3) ReLU MaxPool2d(2) Conv2d(64,64,3) ReLU Flatten
//   Linear(64*s*s,64) ReLU Linear(64,10)
// Training step = forward + CrossEntropyLoss + backward + Adam(lr 1e-3).step() + zeroGrad(), batch 64,
// CIFAR shape (3x32x32) and MNIST shape (1x28x28); figure in images/s. Inference under noGrad
// (PyTorch: torch.no_grad, or torch.inference_mode where the row says so), batch 1 and 64, ms.
// The PyTorch side is bench/peers/torch_peer.py `seed_cnn`.
//   node --expose-gc bench/run.mjs train --rounds 5
// Rows marked (diagnostic) have no target: the PyTorch peer with glibc malloc told to keep freed
// memory (DESIGN.md: PyTorch's CIFAR step was 3x slower with the default), and Ignis inference with
// conv+bias+ReLU fused through F.conv2d's `activation` option (same weights as the module), and a
// training step of the same network built with the layers' `activation: 'relu'` option.
import ignisModule from '../../dist/index.js';
import { budget, measure } from '../lib/common.mjs';

const ig = ignisModule.default ?? ignisModule;
const { nn, optim } = ig;

export const family = 'train';
export const title = 'Seed CNN (CPU): training step and inference';

const BATCH = 64;
const SHAPES = { cifar: { c: 3, s: 32, label: 'CIFAR' }, mnist: { c: 1, s: 28, label: 'MNIST' } };

/**
 * The seed CNN for C input channels and S x S images; `fused`: the same network with each ReLU as
 * its layer's `activation` option (bias + ReLU fused into the conv / linear output pass).
 */
export function seedCnn(C, S, fused = false) {
  const s3 = (((S - 2) >> 1) - 2 >> 1) - 2;
  if (fused) {
    const relu = { activation: 'relu' };
    return new nn.Sequential(
      new nn.Conv2d(C, 32, 3, relu), new nn.MaxPool2d(2),
      new nn.Conv2d(32, 64, 3, relu), new nn.MaxPool2d(2),
      new nn.Conv2d(64, 64, 3, relu), new nn.Flatten(),
      new nn.Linear(64 * s3 * s3, 64, relu), new nn.Linear(64, 10),
    );
  }
  return new nn.Sequential(
    new nn.Conv2d(C, 32, 3), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(32, 64, 3), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(64, 64, 3), new nn.ReLU(), new nn.Flatten(),
    new nn.Linear(64 * s3 * s3, 64), new nn.ReLU(), new nn.Linear(64, 10),
  );
}

/** One training step (closure over model, data, optimizer); on `device` (the GPU scripts: 'cuda'). */
export function trainStep(C, S, batch = BATCH, device = 'cpu', fused = false) {
  ig.manualSeed(0);
  const net = device === 'cpu' ? seedCnn(C, S, fused) : seedCnn(C, S, fused).to(device);
  const x = ig.randn([batch, C, S, S], { device });
  const y = ig.randint(0, 10, [batch], { dtype: 'int64', device });
  const opt = new optim.Adam(net.parameters(), { lr: 1e-3 });
  const lossFn = new nn.CrossEntropyLoss();
  const step = () => {
    const loss = lossFn.call(net.call(x), y);
    loss.backward();
    opt.step();
    opt.zeroGrad();
    return loss;
  };
  return { net, x, y, opt, lossFn, step };
}

/** Inference with the layers' bias + ReLU fused into their output pass (F.conv2d / F.linear activation). */
function fusedForward(net) {
  const [c1, , , c2, , , c3, , , l1, , l2] = [...net.children()];
  const F = ig.F;
  const act = { activation: 'relu' };
  return (x) => {
    let h = F.maxPool2d(F.conv2d(x, c1.weight, c1.bias, act), { kernelSize: 2 });
    h = F.maxPool2d(F.conv2d(h, c2.weight, c2.bias, act), { kernelSize: 2 });
    h = ig.flatten(F.conv2d(h, c3.weight, c3.bias, act), 1);
    return l2.call(F.linear(h, l1.weight, l1.bias, act));
  };
}

function trainBench(key, peerExtra = {}, suffix = '', fused = false) {
  const { c, s, label } = SHAPES[key];
  return {
    name: `train step ${label} b${BATCH}${suffix}`,
    unit: 'img/s',
    better: 'higher',
    target: suffix ? { text: '(diagnostic)' } : { text: '≥ 1.0× PyTorch', ratio: 1.0 },
    figure: (sec) => BATCH / sec,
    async ignis() {
      const { step } = trainStep(c, s, BATCH, 'cpu', fused);
      return measure(step, { time: budget(4000, 100), iterations: budget(15, 3), warmupTime: budget(500, 0), warmupIterations: budget(3, 1) });
    },
    peer: { name: 'seed_cnn', sizes: { task: 'train', c, s, batch: BATCH, ...peerExtra }, reps: budget(15, 3), warmup: budget(3, 1) },
  };
}

function inferBench(key, batch, { mode = 'no_grad', fused = false } = {}) {
  const { c, s, label } = SHAPES[key];
  const inner = batch === 1 ? 20 : 1;
  const torchMode = mode === 'no_grad' ? 'no_grad' : 'inference_mode';
  return {
    name: `infer ${label} b${batch}${fused ? ' fused conv+relu (diag)' : ''}, torch ${torchMode}`,
    unit: 'ms',
    better: 'lower',
    target: fused ? { text: '(diagnostic)' } : { text: '(report)' },
    figure: (sec) => sec * 1e3,
    async ignis() {
      ig.manualSeed(0);
      const net = seedCnn(c, s).eval();
      const x = ig.randn([batch, c, s, s]);
      const fwd = fused ? fusedForward(net) : (t) => net.call(t);
      const fn = () => ig.noGrad(() => {
        for (let i = 0; i < inner; i++) fwd(x);
      });
      return measure(fn, { inner, time: budget(1500, 50), iterations: budget(20, 3), warmupTime: budget(300, 0), warmupIterations: budget(5, 1) });
    },
    peer: { name: 'seed_cnn', sizes: { task: 'infer', c, s, batch, mode }, inner, reps: budget(batch === 1 ? 50 : 30, 3), warmup: budget(5, 1) },
  };
}

export const benchmarks = [
  trainBench('cifar'),
  trainBench('mnist'),
  trainBench('cifar', { malloc: 'keep' }, ', torch malloc keep (diag)'),
  trainBench('mnist', { malloc: 'keep' }, ', torch malloc keep (diag)'),
  trainBench('cifar', {}, ', layers with activation: relu (diag)', true),
  inferBench('cifar', 1),
  inferBench('cifar', 1, { mode: 'inference_mode' }),
  inferBench('cifar', 64),
  inferBench('cifar', 64, { mode: 'inference_mode' }),
  inferBench('mnist', 1),
  inferBench('mnist', 64),
  inferBench('cifar', 1, { fused: true }),
  inferBench('cifar', 64, { fused: true }),
];

export function backendInfo() {
  return { ignis: ig.backends?.cpu };
}
