/** Upsample (nearest / bilinear / ...) over the native interpolate op. */
import { ValueError } from '../../errors';
import { Tensor } from '../../tensor';
import { Module, pyFloat } from '../module';
import { InterpolateOptions, IntOrPair, nativeOp } from './native';

export class Upsample extends Module {
  readonly size: IntOrPair | null;
  readonly scaleFactor: number | number[] | null;
  readonly mode: NonNullable<InterpolateOptions['mode']>;
  readonly alignCorners: boolean | null;
  constructor(opts: InterpolateOptions = {}) {
    super();
    this.size = opts.size ?? null;
    this.scaleFactor = opts.scaleFactor ?? null;
    if ((this.size === null) === (this.scaleFactor === null)) throw new ValueError('Upsample: either size or scaleFactor should be defined (not both)');
    this.mode = opts.mode ?? 'nearest';
    this.alignCorners = opts.alignCorners ?? null;
  }
  forward(x: Tensor): Tensor {
    return nativeOp('interpolate')(x, {
      size: this.size,
      scaleFactor: this.scaleFactor,
      mode: this.mode,
      ...(this.alignCorners !== null ? { alignCorners: this.alignCorners } : {}),
    });
  }
  override extraRepr(): string {
    const v = (x: number | number[]): string => (Array.isArray(x) ? `(${x.map(pyFloat).join(', ')})` : pyFloat(x));
    let s = this.scaleFactor !== null ? `scale_factor=${v(this.scaleFactor)}` : `size=${Array.isArray(this.size) ? `(${this.size.join(', ')})` : this.size}`;
    s += `, mode='${this.mode}'`;
    return s;
  }
}

export class UpsamplingNearest2d extends Upsample {
  constructor(opts: { size?: IntOrPair; scaleFactor?: number | number[] } = {}) {
    super({ ...opts, mode: 'nearest' });
  }
}
export class UpsamplingBilinear2d extends Upsample {
  constructor(opts: { size?: IntOrPair; scaleFactor?: number | number[] } = {}) {
    super({ ...opts, mode: 'bilinear', alignCorners: true });
  }
}
