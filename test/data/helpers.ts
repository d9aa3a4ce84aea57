/** Small data files in the real formats (IDX, CIFAR-10 binary), written to a temp dir for tests. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';

export function tmpDir(prefix = 'ignis-data-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** An IDX file of unsigned bytes: 0x00 0x00 0x08 ndim, big-endian sizes, data. */
export function idxBytes(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** Deterministic pixel value of image i at flat position k. */
export const pixel = (i: number, k: number): number => (i * 37 + k * 11) % 256;

/** Writes MNIST-style IDX files (n images of h x w, labels i % 10) for a split; gz compresses them. */
export function writeMnist(dir: string, n: number, opts: { split?: 'train' | 'test'; h?: number; w?: number; gz?: boolean; labels?: number[] } = {}): { images: Uint8Array; labels: Uint8Array } {
  const h = opts.h ?? 28;
  const w = opts.w ?? 28;
  const pre = (opts.split ?? 'train') === 'train' ? 'train' : 't10k';
  const images = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) for (let k = 0; k < h * w; k++) images[i * h * w + k] = pixel(i, k);
  const labels = Uint8Array.from(opts.labels ?? Array.from({ length: n }, (_, i) => i % 10));
  const put = (name: string, b: Buffer): void => fs.writeFileSync(path.join(dir, opts.gz ? `${name}.gz` : name), opts.gz ? zlib.gzipSync(b) : b);
  put(`${pre}-images-idx3-ubyte`, idxBytes([n, h, w], images));
  put(`${pre}-labels-idx1-ubyte`, idxBytes([n], labels));
  return { images, labels };
}

/** A CIFAR-10 binary batch: n records of label byte + 3072 pixel bytes. */
export function cifarBytes(n: number, first = 0): Buffer {
  const b = Buffer.alloc(n * 3073);
  for (let i = 0; i < n; i++) {
    b[i * 3073] = (first + i) % 10;
    for (let k = 0; k < 3072; k++) b[i * 3073 + 1 + k] = pixel(first + i, k);
  }
  return b;
}

export function writeCifar(dir: string, perBatch: number): void {
  for (let j = 1; j <= 5; j++) fs.writeFileSync(path.join(dir, `data_batch_${j}.bin`), cifarBytes(perBatch, (j - 1) * perBatch));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), cifarBytes(perBatch, 1000));
}
