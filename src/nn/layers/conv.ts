/** Conv1d, Conv2d, ConvTranspose2d over the native conv ops, with PyTorch's defaults and init. */
import { ValueError } from '../../errors';
import * as ops from '../../ops/all';
import { Tensor } from '../../tensor';
import { Module, Parameter, pyTuple } from '../module';
import { ActivationOptions, activationRepr, FactoryOptions, layerActivation, resetLinearLike } from './linear';
import { IntOrPair, nativeOp, ntuple, Padding } from './native';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** `activation` / `activationParams`: applied to the output, fused with the bias (F.conv2d's option). */
export interface ConvLayerOptions extends FactoryOptions, ActivationOptions {
  stride?: IntOrPair;
  padding?: Padding;
  dilation?: IntOrPair;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

export interface ConvTransposeLayerOptions extends FactoryOptions, ActivationOptions {
  stride?: IntOrPair;
  padding?: IntOrPair;
  outputPadding?: IntOrPair;
  dilation?: IntOrPair;
  groups?: number;
  bias?: boolean;
}

abstract class ConvNd extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly outputPadding: number[];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  readonly transposed: boolean;
  readonly activation: string | null = null;
  readonly activationParams: Record<string, unknown> | undefined;

  constructor(
    name: string,
    nd: number,
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: IntOrPair,
    o: ConvLayerOptions & { outputPadding?: IntOrPair },
    transposed: boolean,
  ) {
    super();
    for (const [n, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const)
      if (!Number.isInteger(v) || v <= 0) throw new ValueError(`${name}: ${n} must be a positive integer, got ${v}`);
    const groups = o.groups ?? 1;
    if (!Number.isInteger(groups) || groups <= 0) throw new ValueError(`${name}: groups must be a positive integer`);
    if (inChannels % groups) throw new ValueError(`${name}: in_channels must be divisible by groups`);
    if (outChannels % groups) throw new ValueError(`${name}: out_channels must be divisible by groups`);
    this.kernelSize = ntuple(kernelSize, nd, 'kernelSize', name);
    this.stride = ntuple(o.stride ?? 1, nd, 'stride', name);
    const p = o.padding ?? 0;
    if (typeof p === 'string') {
      if (p !== 'same' && p !== 'valid') throw new ValueError(`${name}: invalid padding string '${p}', should be one of 'valid', 'same'`);
      if (p === 'same' && this.stride.some((s) => s !== 1)) throw new ValueError(`${name}: padding='same' is not supported for strided convolutions`);
      this.padding = p;
    } else this.padding = ntuple(p, nd, 'padding', name);
    this.dilation = ntuple(o.dilation ?? 1, nd, 'dilation', name);
    this.outputPadding = ntuple(o.outputPadding ?? 0, nd, 'outputPadding', name);
    this.groups = groups;
    this.paddingMode = o.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(this.paddingMode))
      throw new ValueError(`${name}: paddingMode must be one of 'zeros', 'reflect', 'replicate', 'circular', got '${this.paddingMode}'`);
    this.transposed = transposed;
    [this.activation, this.activationParams] = layerActivation(name, o);
    const dtype = o.dtype ?? 'float32';
    const wshape = transposed
      ? [inChannels, outChannels / groups, ...this.kernelSize]
      : [outChannels, inChannels / groups, ...this.kernelSize];
    this.weight = new Parameter(ops.empty(wshape, { dtype }));
    this.bias = o.bias === false ? null : new Parameter(ops.empty([outChannels], { dtype }));
    this.resetParameters();
  }
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }
  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((v) => v !== 0)) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation.some((v) => v !== 1)) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.outputPadding.some((v) => v !== 0)) s += `, output_padding=${pyTuple(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s + activationRepr(this);
  }
  protected convOpts() {
    return {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
      ...(this.paddingMode !== 'zeros' ? { paddingMode: this.paddingMode } : {}),
      ...(this.activation ? { activation: this.activation, activationParams: this.activationParams } : {}),
    };
  }
}

/** 1-D convolution over [N, C, L] (or unbatched [C, L]). Weight [out, in/groups, k]. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrPair, opts: ConvLayerOptions = {}) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, opts, false);
  }
  forward(x: Tensor): Tensor {
    return nativeOp('conv1d')(x, this.weight, this.bias, this.convOpts());
  }
}

/** 2-D convolution over [N, C, H, W] (or unbatched [C, H, W]). Weight [out, in/groups, kh, kw]. */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrPair, opts: ConvLayerOptions = {}) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, opts, false);
  }
  forward(x: Tensor): Tensor {
    return nativeOp('conv2d')(x, this.weight, this.bias, this.convOpts());
  }
}

/** Transposed 2-D convolution (fractionally strided). Weight [in, out/groups, kh, kw]. */
export class ConvTranspose2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: IntOrPair, opts: ConvTransposeLayerOptions = {}) {
    super('ConvTranspose2d', 2, inChannels, outChannels, kernelSize, opts, true);
  }
  forward(x: Tensor): Tensor {
    return nativeOp('convTranspose2d')(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding as number[],
      outputPadding: this.outputPadding,
      groups: this.groups,
      dilation: this.dilation,
      ...(this.activation ? { activation: this.activation, activationParams: this.activationParams } : {}),
    });
  }
}
