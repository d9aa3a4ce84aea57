/** Embedding: a lookup table of vectors, weight ~ N(0, 1), optional padding row without gradient. */
import { mode } from '../../autograd/mode';
import { DTypeError, IndexError, ShapeError, ValueError } from '../../errors';
import * as ops from '../../ops/all';
import { fmtShape } from '../../shape';
import { Tensor } from '../../tensor';
import * as init from '../init';
import { Module, Parameter } from '../module';
import type { FactoryOptions } from './linear';

/**
 * Rows of `weight` at integer `input` (torch.nn.functional.embedding): output [...input, dim].
 * The row at paddingIdx gets no gradient.
 */
export function embedding(input: Tensor, weight: Tensor, opts: { paddingIdx?: number | null } = {}): Tensor {
  if (!(input instanceof Tensor) || !(weight instanceof Tensor)) throw new ValueError('embedding: expected Tensors');
  if (input.dtype !== 'int64' && input.dtype !== 'int32') throw new DTypeError(`embedding: expected an integer index tensor, got ${input.dtype}`);
  if (weight.ndim !== 2) throw new ShapeError(`embedding: weight must be 2-D, got ${fmtShape(weight.shape)}`);
  const n = weight.shape[0];
  let pad = opts.paddingIdx ?? null;
  if (pad !== null) {
    if (pad < -n || pad >= n) throw new IndexError(`embedding: paddingIdx ${pad} must be within num_embeddings (${n})`);
    if (pad < 0) pad += n;
  }
  const flat = ops.reshape(ops.to(input, 'int64'), [-1]);
  let rows = ops.indexSelect(weight, 0, flat);
  if (pad !== null && weight.requiresGrad && mode.grad) {
    const keep = ops.unsqueeze(ops.ne(flat, pad), 1);
    rows = ops.where(keep, rows, rows.detach());
  }
  return ops.reshape(rows, [...input.shape, weight.shape[1]]);
}

export interface EmbeddingOptions extends FactoryOptions {
  paddingIdx?: number | null;
  /** initial weights [numEmbeddings, embeddingDim] (copied) */
  weight?: Tensor;
  freeze?: boolean;
}

export class Embedding extends Module {
  weight: Parameter;
  readonly paddingIdx: number | null;
  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super();
    if (!Number.isInteger(numEmbeddings) || numEmbeddings <= 0) throw new ValueError(`Embedding: numEmbeddings must be a positive integer`);
    if (!Number.isInteger(embeddingDim) || embeddingDim <= 0) throw new ValueError(`Embedding: embeddingDim must be a positive integer`);
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (pad >= numEmbeddings || pad < -numEmbeddings) throw new ValueError('Embedding: paddingIdx must be within num_embeddings');
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    if (opts.weight) {
      if (opts.weight.ndim !== 2 || opts.weight.shape[0] !== numEmbeddings || opts.weight.shape[1] !== embeddingDim)
        throw new ShapeError(`Embedding: weight ${fmtShape(opts.weight.shape)} does not match [${numEmbeddings}, ${embeddingDim}]`);
      this.weight = new Parameter(ops.clone(opts.weight.detach()), !opts.freeze);
    } else {
      this.weight = new Parameter(ops.empty([numEmbeddings, embeddingDim], { dtype: opts.dtype ?? 'float32' }), !opts.freeze);
      this.resetParameters();
    }
  }
  resetParameters(): void {
    init.normal_(this.weight);
    if (this.paddingIdx !== null) {
      const prev = mode.grad;
      mode.grad = false;
      try {
        ops.select(this.weight, 0, this.paddingIdx).fill_(0);
      } finally {
        mode.grad = prev;
      }
    }
  }
  /** An Embedding holding `weights` (frozen by default, as PyTorch's from_pretrained). */
  static fromPretrained(weights: Tensor, opts: { freeze?: boolean; paddingIdx?: number | null } = {}): Embedding {
    if (weights.ndim !== 2) throw new ShapeError('Embedding.fromPretrained: embeddings parameter is expected to be 2-dimensional');
    return new Embedding(weights.shape[0], weights.shape[1], { weight: weights, freeze: opts.freeze ?? true, paddingIdx: opts.paddingIdx });
  }
  forward(x: Tensor): Tensor {
    return embedding(x, this.weight, { paddingIdx: this.paddingIdx });
  }
  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ''}`;
  }
}
