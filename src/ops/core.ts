/** Conversion, readback and the autograd entry points. */
import { afterBackward } from '../gc';
import { runBackward } from '../autograd/engine';
import { mode } from '../autograd/mode';
import { edgeOf } from '../autograd/node';
import { checkDType, DType, isFloating } from '../dtype';
import { AutogradError, ShapeError, ValueError } from '../errors';
import { parseDevice } from '../cuda';
import * as K from '../kernels';
import { fmtShape, sameShape } from '../shape';
import { Tensor } from '../tensor';
import { checkTensor, dispatch, ops } from './util';
import type { OpDef } from '../dispatch';
import { hook } from '../profiler/hook';
import type { Device } from '../storage';

export { accumulateNode } from '../autograd/node';
export { promoteTypes } from '../dtype';

const castDef: OpDef<{ dtype: DType }> = {
  name: 'to',
  forward(ctx, [x], { dtype }) {
    ctx.from = x.dtype;
    return K.copy(x, dtype, x.shape);
  },
  backward(ctx, [g]) {
    const from = ctx.from as DType;
    return [isFloating(from) ? to(g!, from) : null];
  },
};

const deviceDef: OpDef<{ device: Device }> = {
  name: 'to_device',
  forward(ctx, [x], { device }) {
    ctx.from = x.device;
    return K.transfer(x, device);
  },
  backward(ctx, [g]) {
    return [K.transfer(g!, ctx.from as Device)];
  },
};

/** Converts dtype and/or device; returns x itself when nothing changes (like PyTorch). */
export function to(x: Tensor, arg: DType | Device | { dtype?: DType; device?: Device }): Tensor {
  checkTensor(x, 'to');
  let dtype: DType | undefined;
  let device: Device | undefined;
  if (typeof arg === 'string') {
    if (arg === 'cpu' || arg.startsWith('cuda')) device = arg as Device;
    else dtype = checkDType(arg, 'to');
  } else if (arg && typeof arg === 'object') {
    if (arg.dtype !== undefined) dtype = checkDType(arg.dtype, 'to');
    device = arg.device;
  } else throw new ValueError(`to: expected a dtype, a device or {dtype, device}, got ${String(arg)}`);
  if (device !== undefined) {
    const { name } = parseDevice(device, 'to');
    if (name !== x.device) x = dispatch(deviceDef, [x], { device: name });
  }
  if (dtype === undefined || dtype === x.dtype) return x;
  return dispatch(castDef, [x], { dtype });
}

// Readbacks are events of a running profiler (profiler/hook.ts): on CUDA they are where the host waits.
export function readTyped(x: Tensor): ArrayBufferView {
  checkTensor(x, 'data');
  x._storage.live('data');
  return hook.on ? hook.run('dataSync', [x], () => K.read(x)) : K.read(x);
}

/** readTyped without blocking the event loop while a CUDA tensor's copy is in flight. */
export async function readTypedAsync(x: Tensor): Promise<ArrayBufferView> {
  checkTensor(x, 'data');
  x._storage.live('data');
  // the event covers queueing the copy; the wait happens off the thread
  return hook.on ? hook.run('data', [x], () => K.readAsync(x)) : K.readAsync(x);
}

function toNumber(v: number | bigint, dtype: DType): number | boolean {
  if (dtype === 'bool') return v !== 0;
  return typeof v === 'bigint' ? Number(v) : v;
}

export function toArray(x: Tensor): unknown {
  checkTensor(x, 'toArray');
  x._storage.live('toArray');
  return hook.on ? hook.run('toArray', [x], () => nested(x)) : nested(x);
}

function nested(x: Tensor): unknown {
  const flat = K.read(x) as unknown as ArrayLike<number | bigint>;
  const shape = x.shape;
  if (shape.length === 0) return toNumber(flat[0], x.dtype);
  let k = 0;
  const build = (d: number): unknown[] => {
    const n = shape[d];
    const out = new Array(n);
    if (d === shape.length - 1) for (let i = 0; i < n; i++) out[i] = toNumber(flat[k++], x.dtype);
    else for (let i = 0; i < n; i++) out[i] = build(d + 1);
    return out;
  };
  return build(0);
}

export function item(x: Tensor): number | boolean {
  checkTensor(x, 'item');
  if (x.numel !== 1)
    throw new ShapeError(`item: a Tensor with ${x.numel} elements cannot be converted to a scalar (shape ${fmtShape(x.shape)})`);
  x._storage.live('item');
  const read = () => toNumber((K.read(x) as unknown as ArrayLike<number | bigint>)[0], x.dtype);
  return hook.on ? hook.run('item', [x], read) : read();
}

/** Computes gradients of `root` w.r.t. graph leaves, accumulating into their .grad. */
export function backward(root: Tensor, gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
  checkTensor(root, 'backward');
  if (!root.requiresGrad) throw new AutogradError('backward: element 0 of tensors does not require grad and does not have a gradFn');
  let g = gradient;
  if (g === undefined || g === null) {
    if (root.numel !== 1)
      throw new AutogradError(`backward: grad can be implicitly created only for scalar outputs (got shape ${fmtShape(root.shape)})`);
    g = ops().onesLike(root);
  } else {
    checkTensor(g, 'backward', 'gradient');
    if (!sameShape(g.shape, root.shape))
      throw new ShapeError(`backward: mismatch in shape: gradient has shape ${fmtShape(g.shape)} and output has shape ${fmtShape(root.shape)}`);
    if (g.dtype !== root.dtype) g = to(g, root.dtype);
  }
  runBackward([root], [g], opts);
  if (!(opts.retainGraph ?? opts.createGraph)) afterBackward(); // the graph's saved tensors are garbage now (src/gc.ts)
}

/**
 * Gradients of `outputs` w.r.t. `inputs` without touching .grad (torch.autograd.grad).
 * With createGraph the results are themselves differentiable (higher-order gradients).
 */
export function grad(
  outputs: Tensor | Tensor[],
  inputs: Tensor | Tensor[],
  opts: { gradOutputs?: Tensor | Tensor[]; retainGraph?: boolean; createGraph?: boolean; allowUnused?: boolean } = {},
): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  outs.forEach((t) => checkTensor(t, 'grad', 'output'));
  ins.forEach((t) => checkTensor(t, 'grad', 'input'));
  const gOuts = opts.gradOutputs === undefined ? [] : Array.isArray(opts.gradOutputs) ? opts.gradOutputs : [opts.gradOutputs];
  const roots = outs.map((o, i) => {
    if (gOuts[i]) return gOuts[i];
    if (o.numel !== 1) throw new AutogradError(`grad: grad can be implicitly created only for scalar outputs (output ${i} has shape ${fmtShape(o.shape)})`);
    return ops().onesLike(o);
  });
  const capture = ins.map((t, i) => {
    const e = edgeOf(t);
    if (!e) throw new AutogradError(`grad: input ${i} does not require grad`);
    return e;
  });
  const res = runBackward(outs, roots, { retainGraph: opts.retainGraph, createGraph: opts.createGraph }, capture);
  if (!(opts.retainGraph ?? opts.createGraph)) afterBackward();
  res.forEach((r, i) => {
    if (!r && !opts.allowUnused)
      throw new AutogradError(`grad: input ${i} was not used in the graph; set allowUnused: true if this is the desired behavior`);
  });
  return res;
}

export { mode };
