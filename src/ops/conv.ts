/**
 * Convolutions (PyTorch semantics): conv2d (groups, depthwise, dilation, asymmetric 'same'
 * padding, zeros/reflect/replicate/circular padding modes, an optional fused activation), conv1d
 * (conv2d over a unit dim) and convTranspose2d. Three native kernels carry everything: forward,
 * backward data and backward weights (native/cpu/conv.cpp: oneDNN for float32, im2col + bmm
 * otherwise); the transposed convolution's forward is the backward-data kernel and vice versa.
 * The backward ops are themselves differentiable, so conv has double backward.
 */
import { mode } from '../autograd/mode';
import type { OpDef } from '../dispatch';
import { DTypeError, ShapeError, ValueError } from '../errors';
import * as K from '../kernels';
import { fmtShape } from '../shape';
import { Tensor } from '../tensor';
import * as actFn from '../activations/functional';
import { Act, biasActGrad, biasActInPlace, resolveActivation } from './fused_act';
import { checkTensor, dispatch, ops, recording } from './util';

export type Pair = number | [number, number] | readonly number[];
export type ConvPadding = Pair | 'same' | 'valid';
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: ConvPadding;
  dilation?: Pair;
  groups?: number;
  paddingMode?: PaddingMode;
  /** activation applied to the output (fused into the convolution's output pass when no grad is recorded) */
  activation?: string | null;
  /** the activation's parameters, e.g. { negativeSlope: 0.2 } */
  activationParams?: Record<string, unknown>;
}

export interface Conv1dOptions extends Omit<Conv2dOptions, 'stride' | 'padding' | 'dilation'> {
  stride?: number | [number];
  padding?: number | [number] | 'same' | 'valid';
  dilation?: number | [number];
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  groups?: number;
  dilation?: Pair;
  /** activation applied to the output (bias and activation in one pass when no grad is recorded) */
  activation?: string | null;
  /** the activation's parameters */
  activationParams?: Record<string, unknown>;
}

/** Whether the CPU conv / pool / batch-norm kernels use oneDNN (float32). */
export const onednnEnabled = K.onednnEnabled;
/** Forces oneDNN on or off for conv / pool / batch norm (null: default; env IGNIS_DISABLE_ONEDNN=1 also disables). */
export const setOnednn = K.setOnednn;

// ---- argument helpers ----------------------------------------------------------------------------

export function pair(v: unknown, op: string, what: string, min: number): [number, number] {
  const arr = typeof v === 'number' ? [v, v] : Array.isArray(v) ? (v.length === 1 ? [v[0], v[0]] : v) : null;
  if (!arr || arr.length !== 2 || !arr.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= min))
    throw new ValueError(`${op}: ${what} must be an integer >= ${min} or a pair of them, got ${JSON.stringify(v)}`);
  return [arr[0], arr[1]];
}

export function checkFloat(x: Tensor, op: string, what: string): void {
  if (x.dtype !== 'float32' && x.dtype !== 'float64')
    throw new DTypeError(`${op}: expected ${what} to be float32 or float64, got ${x.dtype} ${fmtShape(x.shape)}`);
}

function sameDtype(op: string, x: Tensor, t: Tensor, what: string): void {
  if (t.dtype !== x.dtype)
    throw new DTypeError(`${op}: expected ${what} (${t.dtype} ${fmtShape(t.shape)}) to have the same dtype as input (${x.dtype} ${fmtShape(x.shape)})`);
}

// ---- op definitions ----------------------------------------------------------------------------

type ConvAttrs = { g: K.ConvGeom; act: Act | null };

const convDef: OpDef<ConvAttrs> = {
  name: 'conv2d',
  forward(ctx, [x, w, b], { g, act }) {
    const xc = K.contiguous(x);
    const wc = K.contiguous(w);
    ctx.x = xc;
    ctx.w = wc;
    ctx.g = g;
    ctx.hasBias = !!b;
    return K.convFwd(xc, wc, b ? K.contiguous(b) : null, g, act);
  },
  backward(ctx, [gy]) {
    const g = ctx.g as K.ConvGeom;
    const x = ctx.x as Tensor;
    const w = ctx.w as Tensor;
    const need = ctx.needsInputGrad;
    const gx = need[0] ? dispatch(convBwdDataDef, [gy!, w], { g }) : null;
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (need[1] || (ctx.hasBias && need[2])) {
      const r = dispatch(convBwdWeightDef, [x, gy!], { g, bias: !!ctx.hasBias && need[2] }, true);
      gw = need[1] ? r[0] : null;
      gb = r.length > 1 ? r[1] : null;
    }
    return [gx, gw, gb];
  },
};

/**
 * A convolution with a fused activation while autograd records (issue 6, fusion in training): the
 * forward writes the pre-activation z (convolution + bias) and y = act(z) (on CUDA in one pass: a
 * cuDNN graph with both outputs, or the epilogue writing both), keeping z (or y, for the activations
 * whose backward reads the output); the backward computes the activation gradient
 * dz and the bias gradient in one sweep (bias_act_backward), then the convolution's data and weight
 * gradients from dz. Under createGraph the backward is built from differentiable ops instead (z
 * recomputed by a recorded convolution), so higher-order gradients work.
 */
const convActDef: OpDef<{ g: K.ConvGeom; act: Act }> = {
  name: 'conv2d_act',
  forward(ctx, [x, w, b], { g, act }) {
    const xc = K.contiguous(x);
    const wc = K.contiguous(w);
    const bc = b ? K.contiguous(b) : null;
    const fromOut = actFn.readsOutput(act.kernel);
    let y: Tensor, z: Tensor;
    if (fromOut) {
      // the backward reads the output: no pre-activation to keep
      const zt = K.convFwd(xc, wc, bc, g, null);
      y = K.act(act.kernel, zt, act.params);
      zt._storage.dispose();
      z = y;
    } else {
      [y, z] = K.convFwdKeep(xc, wc, bc, g, act);
    }
    ctx.x = xc;
    ctx.w = wc;
    ctx.z = z;
    ctx.inputs = [x, w, b];
    ctx.g = g;
    ctx.act = act;
    return y;
  },
  backward(ctx, [gy]) {
    const g = ctx.g as K.ConvGeom;
    const act = ctx.act as Act;
    const need = ctx.needsInputGrad;
    const [x0, w0, b0] = ctx.inputs as (Tensor | undefined)[];
    const wantDb = !!b0 && !!need[2];
    // under createGraph the gradients below are recorded from the inputs themselves
    const x = mode.grad ? x0! : (ctx.x as Tensor), w = mode.grad ? w0! : (ctx.w as Tensor);
    // on the CPU the weight-gradient kernel (oneDNN's) sums the bias gradient on its way through dz,
    // almost free; a separate sum in the sweep cost 2.7x the activation's backward (seed CNN). On
    // CUDA cuDNN's filter gradient has no bias: the sweep sums it.
    const dbWithWeights = wantDb && !!need[1] && !mode.grad && x.device === 'cpu';
    const [dz, dbSweep] = biasActGrad(act, ctx.z as Tensor, gy!, { N: g.N, C: g.O, S: g.OH * g.OW }, wantDb && !dbWithWeights,
      () => dispatch(convDef, b0 ? [x, w, b0] : [x, w], { g, act: null }), [0, 2, 3]);
    const gx = need[0] ? dispatch(convBwdDataDef, [dz, w], { g }) : null;
    const r = need[1] ? dispatch(convBwdWeightDef, [x, dz], { g, bias: dbWithWeights }, true) : null;
    const gw = r ? r[0] : null;
    const db = dbWithWeights ? r![1] : dbSweep;
    return b0 ? [gx, gw, db] : [gx, gw];
  },
};

/** dx = conv_backward_data(dy, w); also the transposed convolution's forward. Differentiable. */
function bwdDataDef(name: string): OpDef<{ g: K.ConvGeom }> {
  return {
    name,
    forward(ctx, [dy, w], { g }) {
      const dyc = K.contiguous(dy);
      const wc = K.contiguous(w);
      ctx.dy = dyc;
      ctx.w = wc;
      ctx.g = g;
      return K.convBwdData(dyc, wc, g, name);
    },
    backward(ctx, [gdx]) {
      const g = ctx.g as K.ConvGeom;
      const need = ctx.needsInputGrad;
      return [
        need[0] ? dispatch(convDef, [gdx!, ctx.w as Tensor], { g, act: null }) : null,
        need[1] ? dispatch(convBwdWeightDef, [gdx!, ctx.dy as Tensor], { g, bias: false }, true)[0] : null,
      ];
    },
  };
}
const convBwdDataDef = bwdDataDef('conv2d_backward_data');
const convTransposeDef = bwdDataDef('conv_transpose2d');

const convBwdWeightDef: OpDef<{ g: K.ConvGeom; bias: boolean }> = {
  name: 'conv2d_backward_weight',
  forward(ctx, [x, dy], { g, bias }) {
    const xc = K.contiguous(x);
    const dyc = K.contiguous(dy);
    ctx.x = xc;
    ctx.dy = dyc;
    ctx.g = g;
    const [dw, db] = K.convBwdWeight(xc, dyc, g, bias, 'conv2d_backward_weight');
    return db ? [dw, db] : [dw];
  },
  backward(ctx, [gdw, gdb]) {
    // dw = sum_n dy (*) x; db = sum dy
    const g = ctx.g as K.ConvGeom;
    const need = ctx.needsInputGrad;
    const o = ops();
    let gx: Tensor | null = null;
    let gdy: Tensor | null = null;
    if (gdw) {
      if (need[0]) gx = dispatch(convBwdDataDef, [ctx.dy as Tensor, gdw], { g });
      if (need[1]) gdy = dispatch(convDef, [ctx.x as Tensor, gdw], { g, act: null });
    }
    if (gdb && need[1]) {
      const e = o.expand(o.reshape(gdb, [1, g.O, 1, 1]), [g.N, g.O, g.OH, g.OW]);
      gdy = gdy ? o.add(gdy, e) : o.contiguous(e);
    }
    return [gx, gdy];
  },
};

// ---- public ops --------------------------------------------------------------------------------

/** 2-D convolution: x [N, C, H, W] (or [C, H, W]), weight [O, C / groups, kh, kw], bias [O]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  checkTensor(x, op, 'input');
  checkTensor(weight, op, 'weight');
  if (bias !== undefined && bias !== null) checkTensor(bias, op, 'bias');
  if (x.ndim === 3) return ops().squeeze(conv2d(ops().unsqueeze(x, 0), weight, bias, opts), 0);
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected a 3-D or 4-D input, got ${fmtShape(x.shape)}`);
  if (weight.ndim !== 4) throw new ShapeError(`${op}: expected a 4-D weight [out, in / groups, kh, kw], got ${fmtShape(weight.shape)}`);
  checkFloat(x, op, 'input');
  sameDtype(op, x, weight, 'weight');
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ValueError(`${op}: groups must be a positive integer, got ${String(groups)}`);
  const [N, C, H, W] = x.shape;
  const [O, Cg, kh, kw] = weight.shape;
  if (Cg * groups !== C)
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} has ${C} channels but weight ${fmtShape(weight.shape)} with groups=${groups} expects ${Cg * groups}`);
  if (O % groups !== 0) throw new ShapeError(`${op}: out channels (${O}, weight ${fmtShape(weight.shape)}) must be divisible by groups (${groups})`);
  if (O === 0 || kh === 0 || kw === 0) throw new ShapeError(`${op}: weight ${fmtShape(weight.shape)} is empty`);
  if (bias) {
    sameDtype(op, x, bias, 'bias');
    if (bias.ndim !== 1 || bias.shape[0] !== O) throw new ShapeError(`${op}: expected bias of shape [${O}], got ${fmtShape(bias.shape)}`);
  }
  const [sh, sw] = pair(opts.stride ?? 1, op, 'stride', 1);
  const [dh, dw] = pair(opts.dilation ?? 1, op, 'dilation', 1);
  let pt: number, pb: number, pl: number, pr: number;
  const padding = opts.padding ?? 0;
  if (padding === 'same') {
    if (sh !== 1 || sw !== 1) throw new ValueError(`${op}: padding='same' is not supported for strided convolutions`);
    const th = dh * (kh - 1);
    const tw = dw * (kw - 1);
    pt = th >> 1;
    pb = th - pt;
    pl = tw >> 1;
    pr = tw - pl;
  } else if (padding === 'valid') {
    pt = pb = pl = pr = 0;
  } else {
    [pt, pl] = pair(padding, op, 'padding', 0);
    pb = pt;
    pr = pl;
  }
  const pm = opts.paddingMode ?? 'zeros';
  let xin = x;
  let Hp = H;
  let Wp = W;
  if (pm !== 'zeros') {
    if (pm !== 'reflect' && pm !== 'replicate' && pm !== 'circular')
      throw new ValueError(`${op}: paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular', got ${String(pm)}`);
    if (pt || pb || pl || pr) xin = ops().pad(x, [pl, pr, pt, pb], pm);
    Hp = H + pt + pb;
    Wp = W + pl + pr;
    pt = pb = pl = pr = 0;
  }
  if (x.device !== 'cpu' && (pb !== pt || pr !== pl)) {
    // padding='same' with an even dilated kernel pads one more row / column at the bottom / right;
    // cuDNN pads both sides alike, so those zeros go into the input (pad is differentiable)
    xin = ops().pad(xin, [0, pr - pl, 0, pb - pt]);
    Hp += pb - pt;
    Wp += pr - pl;
    pb = pt;
    pr = pl;
  }
  const OH = Math.floor((Hp + pt + pb - dh * (kh - 1) - 1) / sh) + 1;
  const OW = Math.floor((Wp + pl + pr - dw * (kw - 1) - 1) / sw) + 1;
  if (OH < 1 || OW < 1)
    throw new ShapeError(`${op}: input ${fmtShape(x.shape)} (padded ${Hp + pt + pb}x${Wp + pl + pr}) is smaller than the dilated kernel ${dh * (kh - 1) + 1}x${dw * (kw - 1) + 1}`);
  const g: K.ConvGeom = { N, C, H: Hp, W: Wp, O, kh, kw, OH, OW, sh, sw, dh, dw, pt, pl, G: groups };
  const inputs = bias ? [xin, weight, bias] : [xin, weight];
  if (opts.activation) {
    const act = resolveActivation(op, opts.activation, opts.activationParams);
    if (act.kernel) return dispatch(recording(inputs) ? convActDef : convDef, inputs, { g, act: act.kernel });
    return act.apply(dispatch(convDef, inputs, { g, act: null }));
  }
  return dispatch(convDef, inputs, { g, act: null });
}

/** 1-D convolution: x [N, C, L] (or [C, L]), weight [O, C / groups, k]; conv2d over a unit height. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  const op = 'conv1d';
  checkTensor(x, op, 'input');
  checkTensor(weight, op, 'weight');
  if (x.ndim === 2) return ops().squeeze(conv1d(ops().unsqueeze(x, 0), weight, bias, opts), 0);
  if (x.ndim !== 3) throw new ShapeError(`${op}: expected a 2-D or 3-D input, got ${fmtShape(x.shape)}`);
  if (weight.ndim !== 3) throw new ShapeError(`${op}: expected a 3-D weight [out, in / groups, k], got ${fmtShape(weight.shape)}`);
  const one = (v: unknown, what: string, min: number): number => {
    const a = Array.isArray(v) ? v : [v];
    if (a.length !== 1 || typeof a[0] !== 'number' || !Number.isInteger(a[0]) || a[0] < min)
      throw new ValueError(`${op}: ${what} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return a[0];
  };
  const padding = opts.padding ?? 0;
  const p2: ConvPadding = padding === 'same' || padding === 'valid' ? padding : [0, one(padding, 'padding', 0)];
  const o = ops();
  const y = conv2d(o.unsqueeze(x, 2), o.unsqueeze(weight, 2), bias, {
    ...opts,
    stride: [1, one(opts.stride ?? 1, 'stride', 1)],
    dilation: [1, one(opts.dilation ?? 1, 'dilation', 1)],
    padding: p2,
  });
  return o.squeeze(y, 2);
}

/** Transposed 2-D convolution: x [N, Cin, H, W], weight [Cin, Cout / groups, kh, kw], bias [Cout]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'conv_transpose2d';
  checkTensor(x, op, 'input');
  checkTensor(weight, op, 'weight');
  if (bias !== undefined && bias !== null) checkTensor(bias, op, 'bias');
  if (x.ndim === 3) return ops().squeeze(convTranspose2d(ops().unsqueeze(x, 0), weight, bias, opts), 0);
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected a 3-D or 4-D input, got ${fmtShape(x.shape)}`);
  if (weight.ndim !== 4) throw new ShapeError(`${op}: expected a 4-D weight [in, out / groups, kh, kw], got ${fmtShape(weight.shape)}`);
  checkFloat(x, op, 'input');
  sameDtype(op, x, weight, 'weight');
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ValueError(`${op}: groups must be a positive integer, got ${String(groups)}`);
  const [N, Cin, H, W] = x.shape;
  const [Cw, Og, kh, kw] = weight.shape;
  if (Cw !== Cin) throw new ShapeError(`${op}: input ${fmtShape(x.shape)} has ${Cin} channels but weight ${fmtShape(weight.shape)} expects ${Cw}`);
  if (Cin % groups !== 0) throw new ShapeError(`${op}: in channels (${Cin}) must be divisible by groups (${groups})`);
  if (Og === 0 || kh === 0 || kw === 0) throw new ShapeError(`${op}: weight ${fmtShape(weight.shape)} is empty`);
  const Cout = Og * groups;
  if (bias) {
    sameDtype(op, x, bias, 'bias');
    if (bias.ndim !== 1 || bias.shape[0] !== Cout) throw new ShapeError(`${op}: expected bias of shape [${Cout}], got ${fmtShape(bias.shape)}`);
  }
  const [sh, sw] = pair(opts.stride ?? 1, op, 'stride', 1);
  const [ph, pw] = pair(opts.padding ?? 0, op, 'padding', 0);
  const [oph, opw] = pair(opts.outputPadding ?? 0, op, 'outputPadding', 0);
  const [dh, dw] = pair(opts.dilation ?? 1, op, 'dilation', 1);
  if ((oph >= sh && oph >= dh) || (opw >= sw && opw >= dw))
    throw new ValueError(`${op}: outputPadding (${oph}, ${opw}) must be smaller than either stride (${sh}, ${sw}) or dilation (${dh}, ${dw})`);
  const Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
  const Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
  if (Ho < 1 || Wo < 1) throw new ShapeError(`${op}: output size ${Ho}x${Wo} for input ${fmtShape(x.shape)} is too small`);
  // the convolution whose backward-data pass this is: input [N, Cout, Ho, Wo] -> output [N, Cin, H, W]
  const g: K.ConvGeom = { N, C: Cout, H: Ho, W: Wo, O: Cin, kh, kw, OH: H, OW: W, sh, sw, dh, dw, pt: ph, pl: pw, G: groups };
  const act = opts.activation ? resolveActivation(op, opts.activation, opts.activationParams) : null;
  const y = dispatch(convTransposeDef, [x, weight], { g });
  // no grad recorded: the bias and a one-kernel activation in one pass over the fresh output;
  // otherwise (and for composed activations) the ops, differentiable
  if (act?.kernel && !recording([x, weight, bias])) return biasActInPlace(y, bias ?? null, Cout, act.kernel);
  const yb = bias ? ops().add(y, ops().reshape(bias, [1, Cout, 1, 1])) : y;
  return act ? act.apply(yb) : yb;
}

// ---- pad ---------------------------------------------------------------------------------------

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/** Constant padding (negative pads crop); its adjoint is the same op with negated pads and value 0. */
const constantPadDef: OpDef<{ pads: number[]; value: number }> = {
  name: 'constant_pad',
  forward(ctx, [x], { pads, value }) {
    ctx.pads = pads;
    const nd = x.ndim;
    const outShape = x.shape.slice();
    const srcStart = new Array<number>(nd).fill(0);
    const dstStart = new Array<number>(nd).fill(0);
    const len = x.shape.slice();
    for (let i = 0; i < pads.length / 2; i++) {
      const d = nd - 1 - i;
      const l = pads[2 * i];
      const r = pads[2 * i + 1];
      outShape[d] = x.shape[d] + l + r;
      srcStart[d] = Math.max(0, -l);
      dstStart[d] = Math.max(0, l);
      len[d] = Math.max(0, x.shape[d] - Math.max(0, -l) - Math.max(0, -r));
    }
    const out = K.full(value, x.dtype, outShape, x.device);
    if (len.every((n) => n > 0)) {
      const os = out._strides;
      let oo = out._offset;
      let xo = x._offset;
      for (let d = 0; d < nd; d++) {
        oo += dstStart[d] * os[d];
        xo += srcStart[d] * x._strides[d];
      }
      const src = new Tensor(x._storage, len, x._strides.slice(), xo, x.dtype);
      const dst = new Tensor(out._storage, len, os.slice(), oo, x.dtype);
      K.copy(src, x.dtype, len, dst);
    }
    return out;
  },
  backward(ctx, [g]) {
    return [dispatch(constantPadDef, [g!], { pads: (ctx.pads as number[]).map((p) => -p), value: 0 })];
  },
};

function padIndex(mode: PadMode, n: number, l: number, r: number): BigInt64Array {
  const idx = new BigInt64Array(n + l + r);
  for (let o = 0; o < idx.length; o++) {
    let i = o - l;
    if (mode === 'replicate') i = Math.min(Math.max(i, 0), n - 1);
    else if (mode === 'circular') i = ((i % n) + n) % n;
    else {
      // reflect without repeating the edge
      const period = 2 * (n - 1);
      if (period === 0) i = 0;
      else {
        i = ((i % period) + period) % period;
        if (i >= n) i = period - i;
      }
    }
    idx[o] = BigInt(i);
  }
  return idx;
}

/**
 * Pads the trailing dims (F.pad): pads = [left, right] for the last dim, then the one before...
 * mode 'constant' (negative pads crop) | 'reflect' | 'replicate' | 'circular'.
 */
export function pad(x: Tensor, pads: readonly number[], mode: PadMode = 'constant', value = 0): Tensor {
  const op = 'pad';
  checkTensor(x, op, 'input');
  if (!Array.isArray(pads) || pads.length % 2 !== 0 || pads.some((p) => typeof p !== 'number' || !Number.isInteger(p)))
    throw new ValueError(`${op}: pads must be an even-length array of integers, got ${JSON.stringify(pads)}`);
  if (pads.length / 2 > x.ndim) throw new ShapeError(`${op}: ${pads.length / 2} padded dims for input ${fmtShape(x.shape)} with ${x.ndim} dims`);
  if (mode === 'constant') {
    if (typeof value !== 'number')
      throw new ValueError(`${op}: value must be a number, got ${String(value)}`);
    for (let i = 0; i < pads.length / 2; i++) {
      const d = x.ndim - 1 - i;
      if (x.shape[d] + pads[2 * i] + pads[2 * i + 1] < 0)
        throw new ShapeError(`${op}: padding ${JSON.stringify(pads)} makes dim ${d} of input ${fmtShape(x.shape)} negative`);
    }
    if (pads.every((p) => p === 0)) return x;
    return dispatch(constantPadDef, [x], { pads: [...pads], value });
  }
  if (mode !== 'reflect' && mode !== 'replicate' && mode !== 'circular')
    throw new ValueError(`${op}: mode must be 'constant', 'reflect', 'replicate' or 'circular', got ${String(mode)}`);
  const np = pads.length / 2;
  if (np > 3 || x.ndim < np + 1)
    throw new ShapeError(`${op}: ${mode} padding of ${np} dims needs a ${np + 1}-D or ${np + 2}-D input, got ${fmtShape(x.shape)}`);
  let y = x;
  const o = ops();
  for (let i = 0; i < np; i++) {
    const d = x.ndim - 1 - i;
    const l = pads[2 * i];
    const r = pads[2 * i + 1];
    const n = x.shape[d];
    if (l < 0 || r < 0) throw new ValueError(`${op}: negative padding is only supported in constant mode, got ${JSON.stringify(pads)}`);
    if (mode === 'reflect' && (l >= n || r >= n))
      throw new ValueError(`${op}: padding (${l}, ${r}) should be less than the corresponding input dimension ${d} (size ${n}) for reflect mode, input ${fmtShape(x.shape)}`);
    if (mode === 'circular' && (l > n || r > n))
      throw new ValueError(`${op}: padding (${l}, ${r}) should be at most the input dimension ${d} (size ${n}) for circular mode`);
    if (mode === 'replicate' && n === 0 && l + r > 0) throw new ShapeError(`${op}: cannot replicate-pad an empty dim of ${fmtShape(x.shape)}`);
    if (l === 0 && r === 0) continue;
    y = o.indexSelect(y, d, o.tensor(padIndex(mode, n, l, r), { dtype: 'int64', device: y.device }));
  }
  return y;
}
