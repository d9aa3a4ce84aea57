/**
 * F.linear as one dispatched op ('linear': y = x W^T + b through the bmm kernel, bias added in
 * place), and the Linear / Bilinear-free layer set built on it.
 */
import type { OpDef } from '../../dispatch';
import { DTypeError, ShapeError, ValueError } from '../../errors';
import * as K from '../../kernels';
import * as ops from '../../ops/all';
import { dispatch } from '../../ops/util';
import { contiguousStrides, fmtShape } from '../../shape';
import { Tensor } from '../../tensor';
import * as init from '../init';
import { Module, Parameter, pyBool } from '../module';

/** x [M, K] (any 2-D strides) as a [1, M, K] batch view. */
function as3(t: Tensor): Tensor {
  return new Tensor(t._storage, [1, t.shape[0], t.shape[1]], [0, t._strides[0], t._strides[1]], t._offset, t.dtype);
}

const linearDef: OpDef<{ hasBias: boolean }> = {
  name: 'linear',
  forward(ctx, inputs, { hasBias }) {
    const [x, w] = inputs;
    const inF = w.shape[1];
    const outF = w.shape[0];
    const lead = x.shape.slice(0, -1);
    let M = 1;
    for (const s of lead) M *= s;
    let x2: Tensor;
    if (x.ndim === 2) x2 = x;
    else {
      const xc = K.contiguous(x);
      x2 = new Tensor(xc._storage, [M, inF], [inF, 1], xc._offset, xc.dtype);
    }
    // W^T as a view: [1, in, out] with W's strides swapped
    const wt = new Tensor(w._storage, [1, inF, outF], [0, w._strides[1], w._strides[0]], w._offset, w.dtype);
    const y = K.bmm(as3(x2), wt); // contiguous [1, M, out]
    const y2 = new Tensor(y._storage, [M, outF], [outF, 1], 0, y.dtype);
    if (hasBias) K.binary('add', y2, inputs[2], y.dtype, [M, outF], y.dtype, y2);
    ctx.x = x;
    ctx.w = w;
    const shape = [...lead, outF];
    return new Tensor(y._storage, shape, contiguousStrides(shape), 0, y.dtype);
  },
  backward(ctx, [g]) {
    const x = ctx.x as Tensor;
    const w = ctx.w as Tensor;
    const need = ctx.needsInputGrad;
    const outF = w.shape[0];
    const inF = w.shape[1];
    // the upstream gradient is often an expanded (stride-0) view, e.g. from sum(); the bmm kernel
    // is much faster on a dense operand, so densify it once for both products
    const gc = g!.isContiguous() ? g! : ops.contiguous(g!);
    const g2 = gc.ndim === 2 ? gc : ops.reshape(gc, [-1, outF]);
    const gx = need[0] ? ops.reshape(ops.matmul(g2, w), x.shape as number[]) : null;
    let gw: Tensor | null = null;
    if (need[1]) {
      const x2 = x.ndim === 2 ? x : ops.reshape(x, [-1, inF]);
      gw = ops.matmul(ops.transpose(g2, 0, 1), x2);
    }
    const gb = need.length > 2 && need[2] ? ops.sum(g2, 0) : null;
    return need.length > 2 ? [gx, gw, gb] : [gx, gw];
  },
};

/** y = x W^T + b (torch.nn.functional.linear): x [..., in], W [out, in], b [out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError('linear: expected input to be a Tensor');
  if (!(weight instanceof Tensor)) throw new ValueError('linear: expected weight to be a Tensor');
  if (weight.ndim !== 2 && weight.ndim !== 1) throw new ShapeError(`linear: weight must be 1-D or 2-D, got ${fmtShape(weight.shape)}`);
  if (weight.ndim === 1) {
    const y = ops.matmul(x, weight);
    return bias ? ops.add(y, bias) : y;
  }
  if (x.ndim < 1) throw new ShapeError('linear: input must have at least 1 dimension');
  if (x.shape[x.ndim - 1] !== weight.shape[1])
    throw new ShapeError(
      `linear: input ${fmtShape(x.shape)} and weight ${fmtShape(weight.shape)} cannot be multiplied (${x.numel / (x.shape[x.ndim - 1] || 1)}x${x.shape[x.ndim - 1]} and ${weight.shape[1]}x${weight.shape[0]})`,
    );
  if (x.dtype !== weight.dtype)
    throw new DTypeError(`linear: expected input and weight to have the same dtype, got ${x.dtype} and ${weight.dtype}`);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new DTypeError(`linear: expected a floating input, got ${x.dtype}`);
  if (bias) {
    if (!(bias instanceof Tensor)) throw new ValueError('linear: expected bias to be a Tensor');
    if (bias.dtype !== x.dtype) throw new DTypeError(`linear: bias dtype ${bias.dtype} does not match input dtype ${x.dtype}`);
    if (bias.numel !== weight.shape[0] || bias.ndim > 1)
      throw new ShapeError(`linear: bias ${fmtShape(bias.shape)} does not match out_features ${weight.shape[0]}`);
  }
  if (x.ndim === 1) return ops.squeeze(linear(ops.unsqueeze(x, 0), weight, bias), 0);
  return bias ? dispatch(linearDef, [x, weight, bias], { hasBias: true }) : dispatch(linearDef, [x, weight], { hasBias: false });
}

export interface FactoryOptions {
  dtype?: 'float32' | 'float64';
}

/** y = x W^T + b, W [out, in] initialised kaiming_uniform(a=sqrt(5)), b ~ U(-1/sqrt(in), 1/sqrt(in)). */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: FactoryOptions & { bias?: boolean } | boolean = {},
  ) {
    super();
    const o = typeof opts === 'boolean' ? { bias: opts } : opts;
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const)
      if (!Number.isInteger(v) || v < 0) throw new ValueError(`Linear: ${n} must be a non-negative integer, got ${v}`);
    const dtype = o.dtype ?? 'float32';
    this.weight = new Parameter(ops.empty([outFeatures, inFeatures], { dtype }));
    this.bias = o.bias === false ? null : new Parameter(ops.empty([outFeatures], { dtype }));
    this.resetParameters();
  }
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** PyTorch's reset_parameters for Linear and Conv: kaiming_uniform(a=sqrt(5)), bias U(+-1/sqrt(fanIn)). */
export function resetLinearLike(weight: Tensor, bias: Tensor | null): void {
  init.kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const [fanIn] = init.calculateFanInAndFanOut(weight);
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    init.uniform_(bias, -bound, bound);
  }
}
