/**
 * F.linear as one dispatched op ('linear': y = x W^T + b through the bmm kernel, bias added in
 * place; with an `activation`, bias and activation in one pass over the output), its training form
 * with a fused activation ('linear_act'), and the Linear layer built on it.
 */
import type { OpDef } from '../../dispatch';
import { DTypeError, ShapeError, ValueError } from '../../errors';
import * as K from '../../kernels';
import * as ops from '../../ops/all';
import { Act, biasActGrad, resolveActivation } from '../../ops/fused_act';
import { dispatch, recording } from '../../ops/util';
import { contiguousStrides, fmtShape } from '../../shape';
import { Tensor } from '../../tensor';
import { readsOutput } from '../../activations/functional';
import * as init from '../init';
import { Module, Parameter, pyBool } from '../module';

/** x [M, K] (any 2-D strides) as a [1, M, K] batch view. */
function as3(t: Tensor): Tensor {
  return new Tensor(t._storage, [1, t.shape[0], t.shape[1]], [0, t._strides[0], t._strides[1]], t._offset, t.dtype);
}

/** x W^T as a contiguous [M, out] tensor (M: x's leading dims) through the bmm kernel. */
function matmulWt(x: Tensor, w: Tensor): { y2: Tensor; M: number; lead: number[] } {
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
  return { y2: new Tensor(y._storage, [M, outF], [outF, 1], 0, y.dtype), M, lead };
}

/** y2 [M, out] (contiguous, offset 0) reshaped to [...lead, out] */
function unflatten(y2: Tensor, lead: number[]): Tensor {
  const shape = [...lead, y2.shape[1]];
  return new Tensor(y2._storage, shape, contiguousStrides(shape), 0, y2.dtype);
}

/** [gx, gw] of y = x W^T from the gradient g of y (any layout), as differentiable ops */
function matmulWtGrads(x: Tensor, w: Tensor, g: Tensor, need: readonly boolean[]): [Tensor | null, Tensor | null, Tensor] {
  const outF = w.shape[0];
  const inF = w.shape[1];
  // the upstream gradient is often an expanded (stride-0) view, e.g. from sum(); the bmm kernel
  // is much faster on a dense operand, so densify it once for both products
  const gc = g.isContiguous() ? g : ops.contiguous(g);
  const g2 = gc.ndim === 2 ? gc : ops.reshape(gc, [-1, outF]);
  const gx = need[0] ? ops.reshape(ops.matmul(g2, w), x.shape as number[]) : null;
  let gw: Tensor | null = null;
  if (need[1]) {
    const x2 = x.ndim === 2 ? x : ops.reshape(x, [-1, inF]);
    gw = ops.matmul(ops.transpose(g2, 0, 1), x2);
  }
  return [gx, gw, g2];
}

const linearDef: OpDef<{ hasBias: boolean; act: Act | null }> = {
  name: 'linear',
  forward(ctx, inputs, { hasBias, act }) {
    const [x, w] = inputs;
    const { y2, M, lead } = matmulWt(x, w);
    const outF = w.shape[0];
    // with an activation (no grad recorded): bias and activation in one pass, in place
    if (act) K.biasAct(y2, hasBias ? K.contiguous(inputs[2]) : null, M, outF, 1, act, false);
    else if (hasBias) K.binary('add', y2, inputs[2], y2.dtype, [M, outF], y2.dtype, y2);
    ctx.x = x;
    ctx.w = w;
    return unflatten(y2, lead);
  },
  backward(ctx, [g]) {
    const need = ctx.needsInputGrad;
    const [gx, gw, g2] = matmulWtGrads(ctx.x as Tensor, ctx.w as Tensor, g!, need);
    const gb = need.length > 2 && need[2] ? ops.sum(g2, 0) : null;
    return need.length > 2 ? [gx, gw, gb] : [gx, gw];
  },
};

/**
 * A linear layer with a fused activation while autograd records: the forward's one pass adds the
 * bias and writes y = act(z), keeping the pre-activation z (or y, for the activations whose backward
 * reads the output); the backward computes the activation and bias gradients in one sweep
 * (bias_act_backward over [M, out] as [M, out, 1]), then the matmul gradients from dz.
 */
const linearActDef: OpDef<{ act: Act }> = {
  name: 'linear_act',
  forward(ctx, inputs, { act }) {
    const [x, w, b] = inputs;
    const { y2, M, lead } = matmulWt(x, w);
    const bc = b ? K.contiguous(b) : null;
    let y: Tensor;
    ctx.inputs = inputs;
    ctx.act = act;
    ctx.M = M;
    if (readsOutput(act.kernel)) {
      // the output itself (the tensor returned, so that under createGraph it is the recorded one)
      y = unflatten(K.biasAct(y2, bc, M, w.shape[0], 1, act, false), lead);
      ctx.z = y;
    } else {
      y = unflatten(K.biasAct(y2, bc, M, w.shape[0], 1, act, true), lead); // y2 keeps z
      ctx.z = unflatten(y2, lead);
    }
    return y;
  },
  backward(ctx, [gy]) {
    const need = ctx.needsInputGrad;
    const [x, w, b] = ctx.inputs as Tensor[];
    const wantDb = !!b && !!need[2];
    const lead = x.shape.slice(0, -1).map((_, i) => i);
    const [dz, db] = biasActGrad(ctx.act as Act, ctx.z as Tensor, gy!, { N: ctx.M as number, C: w.shape[0], S: 1 }, wantDb,
      () => dispatch(linearDef, b ? [x, w, b] : [x, w], { hasBias: !!b, act: null }), lead);
    const [gx, gw] = matmulWtGrads(x, w, dz, need);
    return b ? [gx, gw, db] : [gx, gw];
  },
};

/** A layer's fused activation (F.linear, nn.Linear, nn.Conv1d, nn.Conv2d; F.conv2d has the same keys). */
export interface ActivationOptions {
  /** activation applied to the output, fused with the bias into one pass */
  activation?: string | null;
  /** the activation's parameters, e.g. { negativeSlope: 0.2 } */
  activationParams?: Record<string, unknown>;
}
/** F.linear's options */
export type LinearOptions = ActivationOptions;

/**
 * y = x W^T + b (torch.nn.functional.linear): x [..., in], W [out, in], b [out]; with
 * `opts.activation`, y = act(x W^T + b), the bias and activation in one pass over the output.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: LinearOptions = {}): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError('linear: expected input to be a Tensor');
  if (!(weight instanceof Tensor)) throw new ValueError('linear: expected weight to be a Tensor');
  if (weight.ndim !== 2 && weight.ndim !== 1) throw new ShapeError(`linear: weight must be 1-D or 2-D, got ${fmtShape(weight.shape)}`);
  const act = opts.activation ? resolveActivation('linear', opts.activation, opts.activationParams) : null;
  if (weight.ndim === 1) {
    const y = ops.matmul(x, weight);
    const yb = bias ? ops.add(y, bias) : y;
    return act ? act.apply(yb) : yb;
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
  if (x.ndim === 1) return ops.squeeze(linear(ops.unsqueeze(x, 0), weight, bias, opts), 0);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  if (act && !act.kernel) return act.apply(dispatch(linearDef, inputs, { hasBias: !!bias, act: null }));
  if (act && recording(inputs)) return dispatch(linearActDef, inputs, { act: act.kernel! });
  return dispatch(linearDef, inputs, { hasBias: !!bias, act: act?.kernel ?? null });
}

export interface FactoryOptions {
  dtype?: 'float32' | 'float64';
}

/** y = x W^T + b, W [out, in] initialised kaiming_uniform(a=sqrt(5)), b ~ U(-1/sqrt(in), 1/sqrt(in)). */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;
  /** the fused activation (`activation` option, as Keras's Dense has it), or null */
  readonly activation: string | null;
  readonly activationParams: Record<string, unknown> | undefined;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: FactoryOptions & { bias?: boolean } & ActivationOptions | boolean = {},
  ) {
    super();
    const o = typeof opts === 'boolean' ? { bias: opts } : opts;
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const)
      if (!Number.isInteger(v) || v < 0) throw new ValueError(`Linear: ${n} must be a non-negative integer, got ${v}`);
    [this.activation, this.activationParams] = layerActivation('Linear', o);
    const dtype = o.dtype ?? 'float32';
    this.weight = new Parameter(ops.empty([outFeatures, inFeatures], { dtype }));
    this.bias = o.bias === false ? null : new Parameter(ops.empty([outFeatures], { dtype }));
    this.resetParameters();
  }
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias, this.activation ? { activation: this.activation, activationParams: this.activationParams } : {});
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}${activationRepr(this)}`;
  }
}

/** A layer's `activation` option, checked when the layer is made (an unknown name fails there). */
export function layerActivation(layer: string, o: ActivationOptions): [string | null, Record<string, unknown> | undefined] {
  if (o.activation === undefined || o.activation === null || o.activation === '') return [null, undefined];
  if (typeof o.activation !== 'string') throw new ValueError(`${layer}: activation must be a name, got ${typeof o.activation}`);
  resolveActivation(layer, o.activation, o.activationParams);
  return [o.activation, o.activationParams];
}

/** ", activation=name" (with its params: "name(key=value, ...)") for a layer's repr; empty without one */
export function activationRepr(l: { activation: string | null; activationParams: Record<string, unknown> | undefined }): string {
  if (!l.activation) return '';
  const ps = Object.entries(l.activationParams ?? {}).map(([k, v]) => `${k}=${typeof v === 'string' ? `'${v}'` : typeof v === 'boolean' ? pyBool(v) : String(v)}`);
  return `, activation=${l.activation}${ps.length ? `(${ps.join(', ')})` : ''}`;
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
