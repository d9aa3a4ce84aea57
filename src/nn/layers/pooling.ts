/** MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d over the native pool ops. */
import { ValueError } from '../../errors';
import { Tensor } from '../../tensor';
import { Module, pyBool } from '../module';
import { IntOrPair, nativeOp } from './native';

/** Python repr of an int or a tuple. */
function pyVal(v: IntOrPair | null | (number | null)[]): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return v.length === 1 ? `(${v[0] ?? 'None'},)` : `(${v.map((x) => (x === null ? 'None' : x)).join(', ')})`;
  return String(v);
}

export interface MaxPoolLayerOptions {
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  ceilMode?: boolean;
  returnIndices?: boolean;
}

function splitArgs<O extends object>(k: IntOrPair | (O & { kernelSize: IntOrPair }), opts: O | undefined, name: string): [IntOrPair, O] {
  if (typeof k === 'number' || Array.isArray(k)) return [k, (opts ?? {}) as O];
  if (k && typeof k === 'object' && 'kernelSize' in k) return [k.kernelSize, k];
  throw new ValueError(`${name}: expected a kernel size`);
}

/** Max over kh x kw windows; stride defaults to the kernel size. `returnIndices` gives [values, indices]. */
export class MaxPool2d extends Module {
  readonly kernelSize: IntOrPair;
  readonly stride: IntOrPair;
  readonly padding: IntOrPair;
  readonly dilation: IntOrPair;
  readonly ceilMode: boolean;
  readonly returnIndices: boolean;
  constructor(kernelSize: IntOrPair | (MaxPoolLayerOptions & { kernelSize: IntOrPair }), opts?: MaxPoolLayerOptions) {
    super();
    const [k, o] = splitArgs(kernelSize, opts, 'MaxPool2d');
    this.kernelSize = k;
    this.stride = o.stride ?? k;
    this.padding = o.padding ?? 0;
    this.dilation = o.dilation ?? 1;
    this.ceilMode = o.ceilMode ?? false;
    this.returnIndices = o.returnIndices ?? false;
  }
  forward(x: Tensor): any {
    return nativeOp('maxPool2d')(x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
      returnIndices: this.returnIndices,
    });
  }
  override extraRepr(): string {
    return `kernel_size=${pyVal(this.kernelSize)}, stride=${pyVal(this.stride)}, padding=${pyVal(this.padding)}, dilation=${pyVal(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

export interface AvgPoolLayerOptions {
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

/** Mean over kh x kw windows; stride defaults to the kernel size. */
export class AvgPool2d extends Module {
  readonly kernelSize: IntOrPair;
  readonly stride: IntOrPair;
  readonly padding: IntOrPair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;
  constructor(kernelSize: IntOrPair | (AvgPoolLayerOptions & { kernelSize: IntOrPair }), opts?: AvgPoolLayerOptions) {
    super();
    const [k, o] = splitArgs(kernelSize, opts, 'AvgPool2d');
    this.kernelSize = k;
    this.stride = o.stride ?? k;
    this.padding = o.padding ?? 0;
    this.ceilMode = o.ceilMode ?? false;
    this.countIncludePad = o.countIncludePad ?? true;
    this.divisorOverride = o.divisorOverride ?? null;
  }
  forward(x: Tensor): Tensor {
    return nativeOp('avgPool2d')(x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }
  override extraRepr(): string {
    return `kernel_size=${pyVal(this.kernelSize)}, stride=${pyVal(this.stride)}, padding=${pyVal(this.padding)}`;
  }
}

/** Average pooling to a fixed output size (null keeps that input dim). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: IntOrPair | (number | null)[]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return nativeOp('adaptiveAvgPool2d')(x, this.outputSize);
  }
  override extraRepr(): string {
    return `output_size=${pyVal(this.outputSize)}`;
  }
}

/** Max pooling to a fixed output size; `returnIndices` gives [values, indices]. */
export class AdaptiveMaxPool2d extends Module {
  readonly returnIndices: boolean;
  constructor(
    readonly outputSize: IntOrPair | (number | null)[],
    opts: { returnIndices?: boolean } | boolean = {},
  ) {
    super();
    this.returnIndices = typeof opts === 'boolean' ? opts : (opts.returnIndices ?? false);
  }
  forward(x: Tensor): any {
    return nativeOp('adaptiveMaxPool2d')(x, this.outputSize, this.returnIndices);
  }
  override extraRepr(): string {
    return `output_size=${pyVal(this.outputSize)}`;
  }
}

export { pyVal };
