/** Dropout and Dropout2d: masks from the bernoulli creation op (reproducible with manualSeed). */
import { mode } from '../../autograd/mode';
import { ShapeError, ValueError } from '../../errors';
import * as ops from '../../ops/all';
import { fmtShape } from '../../shape';
import { Tensor } from '../../tensor';
import { Module, pyBool, pyFloat } from '../module';

export interface DropoutOptions {
  p?: number;
  training?: boolean;
  inplace?: boolean;
}

function args(p: number | DropoutOptions | undefined, training: boolean | undefined, op: string): { p: number; training: boolean; inplace: boolean } {
  const o = typeof p === 'object' && p !== null ? p : { p, training };
  const pp = o.p ?? 0.5;
  if (typeof pp !== 'number' || !(pp >= 0 && pp <= 1)) throw new ValueError(`${op}: dropout probability has to be between 0 and 1, but got ${String(pp)}`);
  return { p: pp, training: o.training ?? true, inplace: !!(o as DropoutOptions).inplace };
}

function applyMask(x: Tensor, maskShape: number[], p: number, inplace: boolean): Tensor {
  if (p === 1) return inplace ? x.mul_(0) : ops.mul(x, 0);
  const prev = mode.grad;
  mode.grad = false;
  let mask: Tensor;
  try {
    mask = ops.bernoulli(maskShape, 1 - p, { dtype: x.dtype });
    mask = ops.mul(mask, 1 / (1 - p));
  } finally {
    mode.grad = prev;
  }
  return inplace ? x.mul_(mask) : ops.mul(x, mask);
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1-p) during training
 * (torch.nn.functional.dropout). dropout(x, 0.2) / dropout(x, 0.2, false) / dropout(x, {p, training}).
 */
export function dropout(x: Tensor, p?: number | DropoutOptions, training?: boolean): Tensor {
  const a = args(p, training, 'dropout');
  if (!a.training || a.p === 0) return x;
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new ValueError(`dropout: expected a floating tensor, got ${x.dtype}`);
  return applyMask(x, x.shape as number[], a.p, a.inplace);
}

/** Zeroes whole channels ([N, C, H, W] or [C, H, W]) with probability p (torch.nn.functional.dropout2d). */
export function dropout2d(x: Tensor, p?: number | DropoutOptions, training?: boolean): Tensor {
  const a = args(p, training, 'dropout2d');
  if (x.ndim !== 3 && x.ndim !== 4) throw new ShapeError(`dropout2d: expected a 3D or 4D input, got ${fmtShape(x.shape)}`);
  if (!a.training || a.p === 0) return x;
  const ms = x.shape.map((s, i) => (i < x.ndim - 2 ? s : 1));
  return applyMask(x, ms, a.p, a.inplace);
}

/** Dropout layer: active in train(), identity in eval(). */
export class Dropout extends Module {
  readonly p: number;
  readonly inplace: boolean;
  constructor(p: number | { p?: number; inplace?: boolean } = 0.5, inplace = false) {
    super();
    const o = typeof p === 'number' ? { p, inplace } : p;
    this.p = args(o.p, true, 'Dropout').p;
    this.inplace = !!o.inplace;
  }
  forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${pyBool(this.inplace)}`;
  }
}

/** Channel dropout layer: active in train(), identity in eval(). */
export class Dropout2d extends Dropout {
  override forward(x: Tensor): Tensor {
    return dropout2d(x, { p: this.p, training: this.training, inplace: this.inplace });
  }
}
