/**
 * Datasets (torch.utils.data): an abstract map-style Dataset, TensorDataset, Subset, randomSplit.
 *
 * A dataset that holds its samples in flat typed arrays can also implement `getBatch(indices)`,
 * which builds a whole batch in one go; DataLoader uses it instead of calling getItem per element
 * and collating, which is what makes batching fast.
 */
import { ShapeError, ValueError, IndexError } from '../errors';
import * as ops from '../ops/all';
import { Generator, defaultGenerator } from '../random';
import { Tensor } from '../tensor';

/**
 * The collated form of a sample type: tensors and numbers become tensors with a batch dim,
 * arrays and objects are collated element-wise.
 */
export type Collated<T> = T extends Tensor
  ? Tensor
  : T extends number | boolean
    ? Tensor
    : T extends readonly unknown[]
      ? { [K in keyof T]: Collated<T[K]> }
      : T extends object
        ? { [K in keyof T]: Collated<T[K]> }
        : T;

/** A map-style dataset: `getItem(i)` for 0 <= i < length. */
export abstract class Dataset<T = unknown> {
  abstract getItem(index: number): T;
  abstract get length(): number;
  /**
   * Optional fast path: the collated batch for these indices, equal to
   * defaultCollate(indices.map(i => getItem(i))). Datasets over typed arrays override it.
   */
  getBatch?(indices: readonly number[]): Collated<T>;

  /** Iterates over the samples in order. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.length; i++) yield this.getItem(i);
  }
}

/** Checks an index against a length (negative indices count from the end) and returns it normalised. */
export function checkIndex(i: number, n: number, who: string): number {
  if (typeof i !== 'number' || !Number.isInteger(i) || i < -n || i >= n)
    throw new IndexError(`${who}: index ${String(i)} is out of range for a dataset of length ${n}`);
  return i < 0 ? i + n : i;
}

/**
 * Samples are the rows of the given tensors (all with the same size in dim 0):
 * `getItem(i)` is `[t0[i], t1[i], ...]`; batches are gathered with one indexSelect per tensor.
 */
export class TensorDataset extends Dataset<Tensor[]> {
  readonly tensors: Tensor[];
  constructor(...tensors: Tensor[]) {
    super();
    if (tensors.length === 0) throw new ValueError('TensorDataset: expected at least one tensor');
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new ValueError(`TensorDataset: argument ${i} is not a Tensor`);
      if (t.ndim === 0) throw new ShapeError(`TensorDataset: tensor ${i} is 0-d; every tensor needs a dim 0 to index`);
    });
    const n = tensors[0].shape[0];
    tensors.forEach((t, i) => {
      if (t.shape[0] !== n)
        throw new ShapeError(`TensorDataset: size mismatch between tensors: tensor 0 has ${n} rows, tensor ${i} has ${t.shape[0]}`);
    });
    this.tensors = tensors.map((t) => t.detach());
  }
  get length(): number {
    return this.tensors[0].shape[0];
  }
  getItem(index: number): Tensor[] {
    const i = checkIndex(index, this.length, 'TensorDataset');
    return this.tensors.map((t) => ops.select(t, 0, i));
  }
  override getBatch(indices: readonly number[]): Tensor[] {
    const n = this.length;
    const idx = new BigInt64Array(indices.length);
    for (let k = 0; k < indices.length; k++) idx[k] = BigInt(checkIndex(indices[k], n, 'TensorDataset'));
    const it = ops.tensor(idx);
    return this.tensors.map((t) => ops.indexSelect(t, 0, it));
  }
}

/** A view of a dataset at the given indices. */
export class Subset<T> extends Dataset<T> {
  readonly indices: number[];
  constructor(
    readonly dataset: Dataset<T>,
    indices: readonly number[],
  ) {
    super();
    if (!(dataset instanceof Dataset)) throw new ValueError('Subset: expected a Dataset');
    const n = dataset.length;
    this.indices = indices.map((i) => checkIndex(i, n, 'Subset'));
    if (dataset.getBatch) this.getBatch = (ix: readonly number[]): Collated<T> => dataset.getBatch!(ix.map((i) => this.indices[checkIndex(i, this.indices.length, 'Subset')]));
  }
  get length(): number {
    return this.indices.length;
  }
  getItem(index: number): T {
    return this.dataset.getItem(this.indices[checkIndex(index, this.indices.length, 'Subset')]);
  }
}

/**
 * A random permutation of 0..n-1 drawn from `generator` (Fisher–Yates over uniforms from the
 * generator's Philox stream, so a seed gives the same order on every machine).
 */
export function randperm(n: number, generator: Generator = defaultGenerator): number[] {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`randperm: n must be a non-negative integer, got ${n}`);
  const perm = Array.from({ length: n }, (_, i) => i);
  if (n < 2) return perm;
  const u = ops.rand([n], { dtype: 'float64', generator }).dataSync() as Float64Array;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(u[i] * (i + 1)));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

/**
 * Splits a dataset into non-overlapping random subsets of the given lengths (integers summing to
 * the dataset length, or fractions summing to 1), like torch.utils.data.random_split.
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: number[], generator: Generator = defaultGenerator): Subset<T>[] {
  const n = dataset.length;
  let sizes = lengths.slice();
  const sum = sizes.reduce((a, b) => a + b, 0);
  if (sizes.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-9 && sum !== n) {
    sizes = sizes.map((f) => Math.floor(f * n));
    let rest = n - sizes.reduce((a, b) => a + b, 0);
    for (let i = 0; rest > 0; i = (i + 1) % sizes.length, rest--) sizes[i]++;
  } else if (sizes.some((v) => !Number.isInteger(v) || v < 0) || sum !== n) {
    throw new ValueError(`randomSplit: lengths must be non-negative integers summing to the dataset length ${n} (or fractions summing to 1), got [${lengths.join(', ')}]`);
  }
  const perm = randperm(n, generator);
  const out: Subset<T>[] = [];
  let at = 0;
  for (const s of sizes) {
    out.push(new Subset(dataset, perm.slice(at, at + s)));
    at += s;
  }
  return out;
}
