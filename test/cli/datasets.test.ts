/**
 * `ignis compare --dataset fashion-mnist|cifar10 --data-dir DIR` end to end on small synthetic files
 * in the real formats (IDX; CIFAR-10 binary batches): the 1×28×28 and 3×32×32 seed CNNs train.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { describe, expect, it } from 'vitest';
import { ignis, tmpDir } from './helpers';

/** Deterministic bytes (a small LCG), so the files are the same on every run. */
function bytes(n: number, seed: number, mod = 256): Buffer {
  const b = Buffer.alloc(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    b[i] = (s >>> 24) % mod;
  }
  return b;
}

function idx(dims: number[], data: Buffer): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(0x00000800 | dims.length, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

function run(args: string[]) {
  const out = tmpDir('ds-report');
  const r = ignis(['compare', '--activations', 'silu', '--profile-steps', '0', '--out', out, '--json', ...args], { timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('ignis compare on other datasets', () => {
  it('fashion-mnist from IDX files (gzipped test split)', () => {
    const dir = tmpDir('fashion');
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), idx([96, 28, 28], bytes(96 * 784, 1)));
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([96], bytes(96, 2, 10)));
    fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'), zlib.gzipSync(idx([40, 28, 28], bytes(40 * 784, 3))));
    fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), zlib.gzipSync(idx([40], bytes(40, 4, 10))));
    const r = run(['--dataset', 'fashion-mnist', '--data-dir', dir, '--batch-size', '32']);
    expect(r.config.dataset).toBe('fashion-mnist');
    expect([r.trainSize, r.testSize]).toEqual([96, 40]);
    expect(r.results[0].stepLosses).toHaveLength(3);
    expect(r.results[0].testAccuracy).toBeGreaterThanOrEqual(0);
    expect(r.results[0].testAccuracy).toBeLessThanOrEqual(1);
  }, 120_000);

  it('cifar10 from binary batches: the 3×32×32 seed CNN', () => {
    const dir = tmpDir('cifar');
    const rec = (n: number, seed: number): Buffer => {
      const b = bytes(n * 3073, seed);
      for (let i = 0; i < n; i++) b[i * 3073] %= 10; // the label byte
      return b;
    };
    for (let k = 1; k <= 5; k++) fs.writeFileSync(path.join(dir, `data_batch_${k}.bin`), rec(20, k));
    fs.writeFileSync(path.join(dir, 'test_batch.bin'), rec(30, 9));
    const r = run(['--dataset', 'cifar10', '--data-dir', dir, '--optimizer', 'sgd', '--lr', '0.01', '--weight-decay', '0.0005', '--epochs', '2']);
    expect([r.trainSize, r.testSize]).toEqual([100, 30]);
    expect(r.config).toMatchObject({ optimizer: 'sgd', lr: 0.01, weightDecay: 0.0005, epochs: 2 });
    const a = r.results[0];
    expect(a.stepLosses).toHaveLength(4); // 2 epochs of ceil(100 / 64)
    expect(a.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
    expect(a.accuracyCurve.map((p: { step: number }) => p.step)).toEqual([1, 2, 3, 4]);
    expect(a.activationShare).toBeNull();
  }, 120_000);
});
