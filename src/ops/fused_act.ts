/**
 * Layers with a fused activation (issue 6, fusion): the activation named by conv2d's or linear's
 * `activation` option resolved to one native kernel of activations.def, and the training backward
 * both share: the activation and bias gradients in one sweep over the kept pre-activation
 * (bias_act_backward), or, under createGraph, from differentiable ops.
 */
import { mode } from '../autograd/mode';
import type { OpDef } from '../dispatch';
import { ValueError } from '../errors';
import * as K from '../kernels';
import { Tensor } from '../tensor';
import * as actFn from '../activations/functional';
import * as actReg from '../activations/registry';
import { dispatch, ops } from './util';

/** an activation kernel of activations.def and its numeric params */
export type Act = { kernel: string; params: number[] };

export interface ResolvedAct {
  /** native kernel and its numeric params, when the activation is one elementwise kernel */
  kernel: Act | null;
  /** applies the activation as ordinary (differentiable) ops */
  apply: (y: Tensor) => Tensor;
}

/** `e` with `op: ` in front of its message when it is one of Ignis's ValueErrors (else e itself) */
function named(op: string, e: unknown): unknown {
  return e instanceof ValueError ? new ValueError(`${op}: ${e.message}`) : e;
}

/**
 * The activation `name` (a built-in or a registered custom one) with `params`, for op `op` (its
 * errors say `op: ...`): one native kernel where it is one, else the activation applied as ops.
 */
export function resolveActivation(op: string, name: string, params: Record<string, unknown> | undefined): ResolvedAct {
  try {
    return resolve(name, params, op);
  } catch (e) {
    throw named(op, e);
  }
}

function resolve(name: string, params: Record<string, unknown> | undefined, op: string): ResolvedAct {
  const { row, custom } = actReg.lookup(name);
  const fn = actFn.functional[row.fn] ?? (custom ? null : undefined);
  const apply = (y: Tensor): Tensor => {
    try {
      if (custom) return custom.forward(y, { ...custom.params, ...((params ?? {}) as Record<string, number>) });
      if (!fn) throw new ValueError(`unknown activation '${name}'`);
      return params ? fn(y, params) : fn(y);
    } catch (e) {
      throw named(op, e);
    }
  };
  if (custom || !row.elementwise || !row.kernel) return { kernel: null, apply };
  const p = actFn.resolveParams(row, params ? [params] : []);
  let kernel = row.kernel;
  if (row.name === 'gelu') {
    if (p.approximate !== 'none' && p.approximate !== 'tanh') throw new ValueError(`gelu approximate must be 'none' or 'tanh'`);
    return { kernel: { kernel: p.approximate === 'tanh' ? 'gelu_tanh' : 'gelu', params: [] }, apply };
  }
  const nums: number[] = [];
  for (const s of row.params) {
    const v = p[s.name];
    if (typeof v === 'number' && !Number.isNaN(v)) {
      nums.push(v);
      continue;
    }
    // a numeric option given as something else is the caller's error, found here rather than at
    // the first forward; tensor-valued and non-numeric options (swish's learnable): compose
    if (typeof s.default === 'number' && !(v instanceof Tensor)) throw new ValueError(`${row.name}: ${s.name} must be a number, got ${String(v)}`);
    return { kernel: null, apply };
  }
  if (!(kernel in K.ACT)) kernel = '';
  return { kernel: kernel ? { kernel, params: nums } : null, apply };
}

/**
 * y = act(y + b) over y viewed as [N, C, S], in place: the output pass of a layer whose own op made
 * y just now (convTranspose2d without autograd). Never recorded for autograd.
 */
const biasActDef: OpDef<{ N: number; C: number; S: number; act: Act }> = {
  name: 'bias_act',
  forward(_ctx, [y, b], a) {
    return K.biasAct(y, b ? K.contiguous(b) : null, a.N, a.C, a.S, a.act, false);
  },
};

/** act(y + b[c]) over a fresh, contiguous y [N, C, S...] in one pass, reusing y's memory (no autograd) */
export function biasActInPlace(y: Tensor, b: Tensor | null, C: number, act: Act): Tensor {
  const N = y.shape[0];
  return dispatch(biasActDef, b ? [y, b] : [y], { N, C, S: y.numel / Math.max(1, N * C), act });
}

/** [dz, db] of bias + activation in one native sweep (K.biasActBwd); db only when asked for. */
const biasActBwdDef: OpDef<{ N: number; C: number; S: number; act: Act; wantDb: boolean }> = {
  name: 'bias_act_backward',
  forward(_ctx, [z, dy], a) {
    const [dz, db] = K.biasActBwd(z, K.contiguous(dy), a.N, a.C, a.S, a.act, a.wantDb);
    return db ? [dz, db] : [dz];
  },
};

/**
 * [dz, db | null] of a fused layer's training backward over its output viewed as [N, C, S] (C the
 * bias's channels): dz = act'(z) gy and db = the sum of dz per channel. `kept` is what the forward
 * kept: the pre-activation z, or the output for the activations whose backward reads it. Under
 * createGraph the gradient is built from differentiable ops, z from `recompute` (a recorded forward
 * without the activation) and db summed over `dbDims`, so higher-order gradients work.
 */
export function biasActGrad(
  act: Act,
  kept: Tensor,
  gy: Tensor,
  view: { N: number; C: number; S: number },
  wantDb: boolean,
  recompute: () => Tensor,
  dbDims: number[],
): [Tensor, Tensor | null] {
  if (mode.grad) {
    const at = actFn.readsOutput(act.kernel) ? kept : recompute();
    const dz = actFn.actBackward(act.kernel, at, gy, act.params);
    return [dz, wantDb ? ops().sum(dz, dbDims) : null];
  }
  const r = dispatch(biasActBwdDef, [kept, gy], { ...view, act, wantDb }, true);
  return [r[0], wantDb ? r[1] : null];
}
