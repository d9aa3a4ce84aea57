/**
 * BatchNorm1d/2d (running statistics as buffers), LayerNorm, GroupNorm over the native norm ops.
 */
import { mode } from '../../autograd/mode';
import { ShapeError, ValueError } from '../../errors';
import * as ops from '../../ops/all';
import { fmtShape } from '../../shape';
import { Tensor } from '../../tensor';
import { Module, Parameter, pyBool, pyFloat, pyTuple } from '../module';
import type { FactoryOptions } from './linear';
import { nativeOp } from './native';

export interface BatchNormLayerOptions extends FactoryOptions {
  eps?: number;
  /** running-average factor; null for a cumulative moving average */
  momentum?: number | null;
  affine?: boolean;
  /** learn a bias (with affine); default true */
  bias?: boolean;
  trackRunningStats?: boolean;
}

abstract class BatchNormNd extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  declare numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly hasBias: boolean;
  readonly trackRunningStats: boolean;

  constructor(
    readonly numFeatures: number,
    o: BatchNormLayerOptions,
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) throw new ValueError(`${new.target.name}: numFeatures must be a positive integer, got ${numFeatures}`);
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    this.affine = o.affine ?? true;
    this.trackRunningStats = o.trackRunningStats ?? true;
    const dtype = o.dtype ?? 'float32';
    this.weight = this.affine ? new Parameter(ops.ones([numFeatures], { dtype })) : null;
    this.hasBias = this.affine && (o.bias ?? true);
    this.bias = this.affine && this.hasBias ? new Parameter(ops.zeros([numFeatures], { dtype })) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('runningMean', ops.zeros([numFeatures], { dtype }));
      this.registerBuffer('runningVar', ops.ones([numFeatures], { dtype }));
      this.registerBuffer('numBatchesTracked', ops.zeros([], { dtype: 'int64' }));
    } else {
      this.registerBuffer('runningMean', null);
      this.registerBuffer('runningVar', null);
      this.registerBuffer('numBatchesTracked', null);
    }
  }
  protected abstract checkInput(x: Tensor): void;

  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    this.runningMean!.zero_();
    this.runningVar!.fill_(1);
    this.numBatchesTracked!.zero_();
  }
  resetParameters(): void {
    this.resetRunningStats();
    if (this.affine) {
      const prev = mode.grad;
      mode.grad = false;
      this.weight!.fill_(1);
      this.bias?.zero_();
      mode.grad = prev;
    }
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (x.ndim >= 2 && x.shape[1] !== this.numFeatures)
      throw new ShapeError(`${this.constructor.name}: expected ${this.numFeatures} channels in dim 1, got input ${fmtShape(x.shape)}`);
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked) {
      const prev = mode.grad;
      mode.grad = false;
      try {
        this.numBatchesTracked.add_(1);
      } finally {
        mode.grad = prev;
      }
      if (this.momentum === null) factor = 1 / (this.numBatchesTracked.item() as number);
    }
    const bnTraining = this.training || (this.runningMean === null && this.runningVar === null);
    const useStats = !this.training || this.trackRunningStats;
    return nativeOp('batchNorm')(
      x,
      useStats ? this.runningMean : null,
      useStats ? this.runningVar : null,
      this.weight,
      this.bias,
      { training: bnTraining, momentum: factor, eps: this.eps },
    );
  }
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? 'None' : pyFloat(this.momentum)}, affine=${pyBool(this.affine)}, bias=${pyBool(this.hasBias)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/** Batch normalisation over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super(numFeatures, opts);
  }
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new ShapeError(`BatchNorm1d: expected 2D or 3D input (got ${x.ndim}D input ${fmtShape(x.shape)})`);
  }
}

/** Batch normalisation over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, opts: BatchNormLayerOptions = {}) {
    super(numFeatures, opts);
  }
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new ShapeError(`BatchNorm2d: expected 4D input (got ${x.ndim}D input ${fmtShape(x.shape)})`);
  }
}

/** Normalises over the trailing `normalizedShape` dims; elementwise affine by default. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  /** whether a bias is learned (PyTorch's bias=True, with elementwise affine) */
  readonly hasBias: boolean;
  constructor(normalizedShape: number | number[], opts: FactoryOptions & { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape.slice();
    if (!this.normalizedShape.every((s) => Number.isInteger(s) && s > 0)) throw new ValueError(`LayerNorm: invalid normalizedShape ${JSON.stringify(normalizedShape)}`);
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    const dtype = opts.dtype ?? 'float32';
    this.weight = this.elementwiseAffine ? new Parameter(ops.ones(this.normalizedShape, { dtype })) : null;
    this.hasBias = this.elementwiseAffine && opts.bias !== false;
    this.bias = this.hasBias ? new Parameter(ops.zeros(this.normalizedShape, { dtype })) : null;
  }
  forward(x: Tensor): Tensor {
    return nativeOp('layerNorm')(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}, bias=${pyBool(this.hasBias)}`;
  }
}

/** Normalises over groups of channels (dim 1); per-channel affine by default. */
export class GroupNorm extends Module {
  weight: Parameter | null;
  bias: Parameter | null;
  readonly eps: number;
  readonly affine: boolean;
  readonly hasBias: boolean;
  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    opts: FactoryOptions & { eps?: number; affine?: boolean; bias?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(numGroups) || numGroups <= 0) throw new ValueError(`GroupNorm: numGroups must be a positive integer`);
    if (numChannels % numGroups) throw new ValueError('GroupNorm: num_channels must be divisible by num_groups');
    this.eps = opts.eps ?? 1e-5;
    this.affine = opts.affine ?? true;
    const dtype = opts.dtype ?? 'float32';
    this.weight = this.affine ? new Parameter(ops.ones([numChannels], { dtype })) : null;
    this.hasBias = this.affine && opts.bias !== false;
    this.bias = this.hasBias ? new Parameter(ops.zeros([numChannels], { dtype })) : null;
  }
  forward(x: Tensor): Tensor {
    return nativeOp('groupNorm')(x, this.numGroups, this.weight, this.bias, this.eps);
  }
  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyBool(this.affine)}, bias=${pyBool(this.hasBias)}`;
  }
}
