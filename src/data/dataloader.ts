/**
 * DataLoader (torch.utils.data.DataLoader): batches of a Dataset, optionally shuffled with a seeded
 * ignis.Generator, iterable with `for (const [x, y] of loader)`.
 *
 * When the dataset implements getBatch() and no custom collate is given, a batch is built by the
 * dataset in one go from its typed arrays; otherwise samples are fetched with getItem() and merged
 * by the collate function (defaultCollate: stacks tensors, turns numbers into a 1-D tensor, recurses
 * into arrays and plain objects).
 */
import { ShapeError, ValueError } from '../errors';
import * as ops from '../ops/all';
import { Generator, defaultGenerator } from '../random';
import { Tensor } from '../tensor';
import { Collated, Dataset, randperm } from './dataset';
export type { Collated } from './dataset';

export interface DataLoaderOptions<T, B> {
  /** samples per batch (default 1) */
  batchSize?: number;
  /** draw a new random order every epoch (default false) */
  shuffle?: boolean;
  /** the generator for shuffling (default: ignis.defaultGenerator, seeded by ignis.manualSeed) */
  generator?: Generator;
  /** drop the last batch when it is smaller than batchSize (default false) */
  dropLast?: boolean;
  /** merges a list of samples into a batch (default: defaultCollate, or the dataset's getBatch) */
  collate?: (samples: T[]) => B;
}

/**
 * PyTorch's default_collate: tensors are stacked along a new dim 0 (they must have equal shapes);
 * integers become an int64 tensor, other numbers float64 (as PyTorch), booleans bool; arrays and
 * plain objects are collated field by field; strings and anything else are returned as a list.
 */
export function defaultCollate<T>(samples: T[]): Collated<T> {
  if (!Array.isArray(samples) || samples.length === 0) throw new ValueError('defaultCollate: expected a non-empty list of samples');
  const first = samples[0] as unknown;
  if (first instanceof Tensor) {
    for (let i = 1; i < samples.length; i++) {
      const t = samples[i] as unknown;
      if (!(t instanceof Tensor)) throw new ValueError(`defaultCollate: sample ${i} is not a Tensor while sample 0 is`);
      if (t.shape.length !== first.shape.length || t.shape.some((s, k) => s !== first.shape[k]))
        throw new ShapeError(`defaultCollate: stack expects each tensor to be equal size, but got [${first.shape.join(', ')}] at entry 0 and [${t.shape.join(', ')}] at entry ${i}`);
    }
    return ops.stack(samples as unknown as Tensor[], 0) as Collated<T>;
  }
  if (typeof first === 'number') {
    const nums = samples as unknown as number[];
    if (nums.every((v) => typeof v === 'number' && Number.isInteger(v))) {
      const a = new BigInt64Array(nums.length);
      for (let i = 0; i < nums.length; i++) a[i] = BigInt(nums[i]);
      return ops.tensor(a) as Collated<T>;
    }
    if (!nums.every((v) => typeof v === 'number')) throw new ValueError('defaultCollate: mixed numbers and non-numbers in a batch');
    return ops.tensor(Float64Array.from(nums)) as Collated<T>;
  }
  if (typeof first === 'boolean') return ops.tensor(Uint8Array.from(samples as unknown as boolean[], (b) => (b ? 1 : 0))) as Collated<T>;
  if (Array.isArray(first)) {
    const len = first.length;
    samples.forEach((s, i) => {
      if (!Array.isArray(s) || s.length !== len) throw new ValueError(`defaultCollate: each sample must be a sequence of length ${len}; sample ${i} is not`);
    });
    return first.map((_, k) => defaultCollate((samples as unknown as unknown[][]).map((s) => s[k]))) as Collated<T>;
  }
  if (first !== null && typeof first === 'object' && Object.getPrototypeOf(first) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(first)) out[k] = defaultCollate((samples as unknown as Record<string, unknown>[]).map((s) => s[k]));
    return out as Collated<T>;
  }
  return samples as unknown as Collated<T>;
}

/** Batches of a dataset, in order or shuffled. Iterate it once per epoch. */
export class DataLoader<T, B = Collated<T>> implements Iterable<B> {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly generator: Generator;
  private readonly collate: ((samples: T[]) => B) | null;

  constructor(
    readonly dataset: Dataset<T>,
    opts: DataLoaderOptions<T, B> = {},
  ) {
    if (!(dataset instanceof Dataset)) throw new ValueError('DataLoader: expected an ignis.data.Dataset');
    if (opts === null || typeof opts !== 'object') throw new ValueError('DataLoader: options must be an object');
    const known = ['batchSize', 'shuffle', 'generator', 'dropLast', 'collate'];
    for (const k of Object.keys(opts)) if (!known.includes(k)) throw new ValueError(`DataLoader: unknown option '${k}'; expected ${known.join(', ')}`);
    const bs = opts.batchSize ?? 1;
    if (!Number.isInteger(bs) || bs < 1) throw new ValueError(`DataLoader: batchSize must be a positive integer, got ${String(bs)}`);
    if (opts.generator !== undefined && !(opts.generator instanceof Generator)) throw new ValueError('DataLoader: generator must be an ignis.Generator');
    if (opts.collate !== undefined && typeof opts.collate !== 'function') throw new ValueError('DataLoader: collate must be a function');
    this.batchSize = bs;
    this.shuffle = !!opts.shuffle;
    this.dropLast = !!opts.dropLast;
    this.generator = opts.generator ?? defaultGenerator;
    this.collate = opts.collate ?? null;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The sample order of one epoch split into batches (draws from the generator when shuffling). */
  batchIndices(): number[][] {
    const n = this.dataset.length;
    const order = this.shuffle ? randperm(n, this.generator) : Array.from({ length: n }, (_, i) => i);
    const out: number[][] = [];
    for (let at = 0; at < n; at += this.batchSize) {
      const b = order.slice(at, at + this.batchSize);
      if (b.length < this.batchSize && this.dropLast) break;
      out.push(b);
    }
    return out;
  }

  /** The batch for the given sample indices. */
  fetch(indices: readonly number[]): B {
    if (!this.collate && this.dataset.getBatch) return this.dataset.getBatch(indices) as unknown as B;
    const samples = indices.map((i) => this.dataset.getItem(i));
    return this.collate ? this.collate(samples) : (defaultCollate(samples) as unknown as B);
  }

  *[Symbol.iterator](): Iterator<B> {
    for (const b of this.batchIndices()) yield this.fetch(b);
  }
}
