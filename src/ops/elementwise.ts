/**
 * Elementwise ops: binary with broadcasting and PyTorch type promotion, unary math, where,
 * comparisons, and the in-place machinery. Kernels come from native/ops/{unary,binary}.def.
 */
import { mode } from '../autograd/mode';
import { canCast, DType, isFloating, promoteScalar, promoteTypes } from '../dtype';
import { AutogradError, DTypeError, ShapeError } from '../errors';
import * as K from '../kernels';
import { broadcastShapes, fmtShape, sameShape } from '../shape';
import { Storage } from '../storage';
import { Tensor } from '../tensor';
import { checkNumber, checkTensor, Ctx, describe, dispatch, ops, reduceGrad, TensorOrScalar } from './util';
import type { OpDef } from '../dispatch';
import { hook } from '../profiler/hook';

// ---- binary ---------------------------------------------------------------------------------

interface BinAttrs {
  scalar: number | null; // the scalar operand, if any
  scalarFirst: boolean; // scalar op tensor (e.g. 2 - x)
  dt: DType; // compute dtype
  outDt: DType;
}

type BinGrad = (g: Tensor, a: TensorOrScalar, b: TensorOrScalar, out: Tensor) => [Tensor | null, Tensor | null];

const COMPARE = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logical_and', 'logical_or', 'logical_xor']);

const BIN_GRADS: Record<string, BinGrad | undefined> = {
  add: (g) => [g, g],
  sub: (g) => [g, ops().neg(g)],
  mul: (g, a, b) => [ops().mul(g, b), ops().mul(g, a)],
  div: (g, a, b) => [
    typeof a === 'number' ? null : ops().div(g, b),
    typeof b === 'number' ? null : ops().neg(ops().div(ops().mul(g, a), ops().mul(b, b))),
  ],
  pow: (g, a, b, out) => {
    const o = ops();
    // d/da = b * a^(b-1); d/db = out * log(a), taken as 0 where a == 0 and b >= 0 (PyTorch)
    const ga = typeof b === 'number' && b === 0 ? o.mul(g, 0) : o.mul(g, o.mul(o.pow(a, typeof b === 'number' ? b - 1 : o.sub(b, 1)), b));
    let gb: Tensor | null = null;
    if (typeof b !== 'number') {
      const raw = o.mul(g, o.mul(out, typeof a === 'number' ? Math.log(a) : o.log(a)));
      gb = typeof a === 'number' ? (a === 0 ? o.mul(raw, 0) : raw) : o.where(o.logicalAnd(o.eq(a, 0), o.ge(b, 0)), 0, raw);
    }
    return [ga, gb];
  },
  maximum: (g, a, b) => {
    const o = ops();
    const half = o.mul(o.eq(a, b).to(g.dtype), 0.5);
    return [o.mul(g, o.add(o.gt(a, b).to(g.dtype), half)), o.mul(g, o.add(o.lt(a, b).to(g.dtype), half))];
  },
  minimum: (g, a, b) => {
    const o = ops();
    const half = o.mul(o.eq(a, b).to(g.dtype), 0.5);
    return [o.mul(g, o.add(o.lt(a, b).to(g.dtype), half)), o.mul(g, o.add(o.gt(a, b).to(g.dtype), half))];
  },
  fmod: (g, a, b) => {
    const o = ops();
    const q = o.div(a, b);
    return [g, o.neg(o.mul(g, o.mul(o.sign(q), o.floor(o.abs(q)))))];
  },
};

const binaryDefs = new Map<string, OpDef<BinAttrs>>();
function binaryDef(name: string): OpDef<BinAttrs> {
  let d = binaryDefs.get(name);
  if (d) return d;
  const grad = BIN_GRADS[name];
  d = {
    name,
    forward(ctx: Ctx, inputs: Tensor[], at: BinAttrs) {
      let a: TensorOrScalar, b: TensorOrScalar;
      if (at.scalar === null) [a, b] = [K.cast(inputs[0], at.dt), K.cast(inputs[1], at.dt)];
      else if (at.scalarFirst) [a, b] = [at.scalar, K.cast(inputs[0], at.dt)];
      else [a, b] = [K.cast(inputs[0], at.dt), at.scalar];
      const shape =
        at.scalar === null ? broadcastShapes(inputs[0].shape, inputs[1].shape, name) : inputs[0].shape;
      const out = K.binary(name, a, b, at.dt, shape, at.outDt);
      if (grad) {
        // add/sub need no operand values: not saving them keeps later in-place writes legal
        if (name !== 'add' && name !== 'sub') {
          ctx.a = a;
          ctx.b = b;
        }
        if (name === 'pow') ctx.out = out;
      }
      return out;
    },
    backward: grad
      ? (ctx, [g]) => {
          const [ga, gb] = grad(g!, ctx.a as TensorOrScalar, ctx.b as TensorOrScalar, ctx.out as Tensor);
          const ins = ctx.inputs as Tensor[];
          if ((ctx.scalarFirst as boolean)) return [gb ? reduceGrad(gb, ins[0].shape, ins[0].dtype) : null];
          const r: (Tensor | null)[] = [ga ? reduceGrad(ga, ins[0].shape, ins[0].dtype) : null];
          if (ins.length > 1) r.push(gb ? reduceGrad(gb, ins[1].shape, ins[1].dtype) : null);
          return r;
        }
      : undefined,
  };
  // keep the inputs on ctx for the gradient's shapes
  const fwd = d.forward;
  d.forward = (ctx, inputs, at) => {
    if (grad) {
      ctx.inputs = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype })); // metadata only
      ctx.scalarFirst = at.scalar !== null && at.scalarFirst;
    }
    return fwd(ctx, inputs, at);
  };
  binaryDefs.set(name, d);
  return d;
}

const CATEGORY: Record<DType, number> = { bool: 0, int32: 1, int64: 1, float32: 2, float64: 2 };

/**
 * Promotion of two tensors (PyTorch's result_type): a 0-d tensor next to a dimensioned one acts
 * like a scalar - it decides the dtype only when its category (bool < int < float) is higher.
 */
export function promoteTensors(a: Tensor, b: Tensor): DType {
  if ((a.ndim === 0) === (b.ndim === 0)) return promoteTypes(a.dtype, b.dtype);
  const [dim, zero] = a.ndim === 0 ? [b, a] : [a, b];
  return CATEGORY[zero.dtype] > CATEGORY[dim.dtype] ? zero.dtype : dim.dtype;
}

function binaryDTypes(name: string, a: TensorOrScalar | boolean, b: TensorOrScalar | boolean): [DType, DType] {
  let dt: DType;
  if (!(a instanceof Tensor)) dt = promoteScalar((b as Tensor).dtype, a);
  else if (!(b instanceof Tensor)) dt = promoteScalar(a.dtype, b);
  else dt = promoteTensors(a, b);
  if (name === 'div' && !isFloating(dt)) dt = 'float32';
  if (name === 'sub' && dt === 'bool')
    throw new DTypeError(`sub: subtraction with two bool tensors is not supported; use logicalXor() instead`);
  if (name.startsWith('logical_')) return [dt, 'bool'];
  return [dt, COMPARE.has(name) ? 'bool' : dt];
}

/** Applies the binary kernel `name` with broadcasting; a scalar operand may be a JS number. */
export function binaryOp(name: string, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  const aT = a instanceof Tensor;
  const bT = b instanceof Tensor;
  if (!aT && !bT) throw new DTypeError(`${name}: expected at least one Tensor, got ${describe(a)} and ${describe(b)}`);
  if (!aT && typeof a !== 'number' && typeof a !== 'boolean') checkTensor(a, name, 'the first operand');
  if (!bT && typeof b !== 'number' && typeof b !== 'boolean') checkTensor(b, name, 'the second operand');
  const [dt, outDt] = binaryDTypes(name, a, b); // a bool scalar keeps a bool tensor bool
  if (typeof a === 'boolean') a = a ? 1 : 0;
  if (typeof b === 'boolean') b = b ? 1 : 0;
  if (aT && bT) return dispatch(binaryDef(name), [a as Tensor, b as Tensor], { scalar: null, scalarFirst: false, dt, outDt });
  if (aT) return dispatch(binaryDef(name), [a as Tensor], { scalar: b as number, scalarFirst: false, dt, outDt });
  return dispatch(binaryDef(name), [b as Tensor], { scalar: a as number, scalarFirst: true, dt, outDt });
}

export function add(a: TensorOrScalar, b: TensorOrScalar, opts?: { alpha?: number }): Tensor {
  if (opts?.alpha !== undefined && opts.alpha !== 1) b = binaryOp('mul', b, opts.alpha);
  return binaryOp('add', a, b);
}
export function sub(a: TensorOrScalar, b: TensorOrScalar, opts?: { alpha?: number }): Tensor {
  if (opts?.alpha !== undefined && opts.alpha !== 1) b = binaryOp('mul', b, opts.alpha);
  return binaryOp('sub', a, b);
}
export const mul = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('mul', a, b);
export const div = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('div', a, b);
export const pow = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('pow', a, b);
export const maximum = (a: Tensor, b: Tensor): Tensor => binaryOp('maximum', a, b);
export const minimum = (a: Tensor, b: Tensor): Tensor => binaryOp('minimum', a, b);
export const fmod = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('fmod', a, b);
export const eq = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('eq', a, b);
export const ne = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('ne', a, b);
export const lt = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('lt', a, b);
export const le = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('le', a, b);
export const gt = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('gt', a, b);
export const ge = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('ge', a, b);
export const logicalAnd = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('logical_and', a, b);
export const logicalOr = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('logical_or', a, b);
export const logicalXor = (a: TensorOrScalar, b: TensorOrScalar): Tensor => binaryOp('logical_xor', a, b);

// ---- unary ----------------------------------------------------------------------------------

type UnGrad = (g: Tensor, x: Tensor, out: Tensor, p0: number, p1: number) => Tensor;
const o = ops;
const UN_GRADS: Record<string, UnGrad | null | undefined> = {
  neg: (g) => o().neg(g),
  abs: (g, x) => o().mul(g, o().sign(x)),
  sign: (g) => o().mul(g, 0),
  exp: (g, _x, out) => o().mul(g, out),
  log: (g, x) => o().div(g, x),
  log1p: (g, x) => o().div(g, o().add(x, 1)),
  expm1: (g, _x, out) => o().mul(g, o().add(out, 1)),
  sqrt: (g, _x, out) => o().div(g, o().mul(out, 2)),
  rsqrt: (g, _x, out) => o().mul(g, o().mul(o().pow(out, 3), -0.5)),
  sin: (g, x) => o().mul(g, o().cos(x)),
  cos: (g, x) => o().neg(o().mul(g, o().sin(x))),
  tanh: (g, _x, out) => o().mul(g, o().sub(1, o().mul(out, out))),
  sigmoid: (g, _x, out) => o().mul(g, o().mul(out, o().sub(1, out))),
  erf: (g, x) => o().mul(g, o().mul(o().exp(o().neg(o().mul(x, x))), 2 / Math.sqrt(Math.PI))),
  floor: (g) => o().mul(g, 0),
  ceil: (g) => o().mul(g, 0),
  round: (g) => o().mul(g, 0),
  reciprocal: (g, _x, out) => o().neg(o().mul(g, o().mul(out, out))),
  square: (g, x) => o().mul(g, o().mul(x, 2)),
  clamp: (g, x, _out, lo, hi) => o().mul(g, o().logicalAnd(o().ge(x, lo), o().le(x, hi)).to(g.dtype)),
  logical_not: null,
};

/** Which of input / output a unary gradient reads; saving only that is what lets later in-place writes be legal. */
const UN_NEEDS: Record<string, 'x' | 'out' | 'none'> = {
  neg: 'none', sign: 'none', floor: 'none', ceil: 'none', round: 'none',
  exp: 'out', expm1: 'out', sqrt: 'out', rsqrt: 'out', tanh: 'out', sigmoid: 'out', reciprocal: 'out',
};

interface UnAttrs {
  p0: number;
  p1: number;
}

const unaryDefs = new Map<string, OpDef<UnAttrs>>();
function unaryDef(name: string): OpDef<UnAttrs> {
  let d = unaryDefs.get(name);
  if (d) return d;
  const grad = UN_GRADS[name];
  d = {
    name,
    forward(ctx, [x], at) {
      const out = K.unary(name, x, at.p0, at.p1);
      if (grad) {
        // save only what the gradient formula reads (see UN_NEEDS)
        const needs = UN_NEEDS[name] ?? 'x';
        if (needs === 'x') ctx.x = x;
        else if (needs === 'out') ctx.out = out;
        ctx.p = at;
      }
      return out;
    },
    backward: grad
      ? (ctx, [g]) => {
          const p = ctx.p as UnAttrs;
          return [grad(g!, ctx.x as Tensor, ctx.out as Tensor, p.p0, p.p1)];
        }
      : undefined,
  };
  unaryDefs.set(name, d);
  return d;
}

export function unaryOp(name: string, x: Tensor, p0 = 0, p1 = 0): Tensor {
  checkTensor(x, name);
  if (!isFloating(x.dtype) && !K.UNARY_INT_OK.has(name)) x = K.cast(x, 'float32');
  if (x.dtype === 'bool' && name !== 'logical_not' && name !== 'abs' && name !== 'clamp')
    throw new DTypeError(`${name}: not supported for bool tensors`);
  return dispatch(unaryDef(name), [x], { p0, p1 });
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
export const sign = (x: Tensor): Tensor => unaryOp('sign', x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
export const log = (x: Tensor): Tensor => unaryOp('log', x);
export const log1p = (x: Tensor): Tensor => unaryOp('log1p', x);
export const expm1 = (x: Tensor): Tensor => unaryOp('expm1', x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unaryOp('rsqrt', x);
export const sin = (x: Tensor): Tensor => unaryOp('sin', x);
export const cos = (x: Tensor): Tensor => unaryOp('cos', x);
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);
export const erf = (x: Tensor): Tensor => unaryOp('erf', x);
export const floor = (x: Tensor): Tensor => unaryOp('floor', x);
export const ceil = (x: Tensor): Tensor => unaryOp('ceil', x);
export const round = (x: Tensor): Tensor => unaryOp('round', x);
export const reciprocal = (x: Tensor): Tensor => unaryOp('reciprocal', x);
export const square = (x: Tensor): Tensor => unaryOp('square', x);
/** Elementwise NOT; a bool result (NaN counts as true, like PyTorch). */
export const logicalNot = (x: Tensor): Tensor => eq(checkTensor(x, 'logicalNot'), 0);

/** Clamps into [min, max]; either bound may be omitted (null/undefined). NaN stays NaN. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  checkTensor(x, 'clamp');
  if ((min === undefined || min === null) && (max === undefined || max === null))
    throw new DTypeError("clamp: at least one of 'min' or 'max' must not be None");
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  checkNumber(lo, 'clamp', 'min');
  checkNumber(hi, 'clamp', 'max');
  if (!isFloating(x.dtype) && (!Number.isInteger(lo) && Number.isFinite(lo) || !Number.isInteger(hi) && Number.isFinite(hi)))
    x = K.cast(x, 'float32');
  return unaryOp('clamp', x, lo, hi);
}

// ---- where ----------------------------------------------------------------------------------

interface WhereAttrs {
  a: number | null;
  b: number | null;
  dt: DType;
}

const whereDef: OpDef<WhereAttrs> = {
  name: 'where',
  forward(ctx, inputs, at) {
    const cond = inputs[0];
    let i = 1;
    const a: TensorOrScalar = at.a === null ? K.cast(inputs[i++], at.dt) : at.a;
    const b: TensorOrScalar = at.b === null ? K.cast(inputs[i++], at.dt) : at.b;
    let shape = cond.shape as number[];
    if (a instanceof Tensor) shape = broadcastShapes(shape, a.shape, 'where');
    if (b instanceof Tensor) shape = broadcastShapes(shape, b.shape, 'where');
    ctx.cond = cond;
    ctx.inputs = inputs.map((t) => ({ shape: t.shape, dtype: t.dtype })); // metadata only
    ctx.at = at;
    return K.where(cond, a, b, at.dt, shape);
  },
  backward(ctx, [g]) {
    const cond = ctx.cond as Tensor;
    const at = ctx.at as WhereAttrs;
    const ins = ctx.inputs as Tensor[];
    const res: (Tensor | null)[] = [null];
    let i = 1;
    if (at.a === null) {
      res.push(reduceGrad(where(cond, g!, 0), ins[i].shape, ins[i].dtype));
      i++;
    }
    if (at.b === null) res.push(reduceGrad(where(cond, 0, g!), ins[i].shape, ins[i].dtype));
    return res;
  },
};

/** Elementwise cond ? a : b with broadcasting; a or b may be numbers. */
export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  checkTensor(cond, 'where', 'condition');
  if (cond.dtype !== 'bool') throw new DTypeError(`where: expected condition to be a bool tensor, got ${cond.dtype}`);
  let dt: DType;
  if (a instanceof Tensor && b instanceof Tensor) dt = promoteTensors(a, b);
  else if (a instanceof Tensor) dt = promoteScalar(a.dtype, checkNumber(b, 'where', 'other'));
  else if (b instanceof Tensor) dt = promoteScalar(b.dtype, checkNumber(a, 'where', 'input'));
  else dt = Number.isInteger(a) && Number.isInteger(b) ? 'int64' : 'float32';
  const inputs = [cond];
  if (a instanceof Tensor) inputs.push(a);
  if (b instanceof Tensor) inputs.push(b);
  return dispatch(whereDef, inputs, { a: a instanceof Tensor ? null : (a as number), b: b instanceof Tensor ? null : (b as number), dt });
}

export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkTensor(x, 'maskedFill');
  checkTensor(mask, 'maskedFill', 'mask');
  if (mask.dtype !== 'bool') throw new DTypeError(`maskedFill: expected mask to be a bool tensor, got ${mask.dtype}`);
  const shape = broadcastShapes(x.shape, mask.shape, 'maskedFill');
  if (!sameShape(shape, x.shape))
    throw new ShapeError(`maskedFill: mask of shape ${fmtShape(mask.shape)} must broadcast to input shape ${fmtShape(x.shape)}`);
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : checkNumber(value, 'maskedFill', 'value');
  if (!isFloating(x.dtype) && !Number.isInteger(v))
    throw new DTypeError(`maskedFill: value ${v} cannot be cast to ${x.dtype}`);
  const r = where(mask, v, x);
  return r.dtype === x.dtype ? r : ops().to(r, x.dtype);
}

// ---- in place ---------------------------------------------------------------------------------

/**
 * Runs an out-of-place computation and writes its result into `self`. When autograd records,
 * the computation reads a clone of self, so what backward saved is never the overwritten data,
 * and self takes over the result's place in the graph (PyTorch's in-place semantics).
 */
export function inplace<T extends Tensor>(self: T, name: string, compute: (src: Tensor) => Tensor): T {
  checkTensor(self, name, 'self');
  // a running profiler records the in-place op under its own name (relu_, add_), its computation as a child
  return hook.on ? hook.run(name, [self], () => inplaceImpl(self, name, compute)) : inplaceImpl(self, name, compute);
}

function inplaceImpl<T extends Tensor>(self: T, name: string, compute: (src: Tensor) => Tensor): T {
  self._storage.live(name);
  const recording = mode.grad;
  if (recording && self.requiresGrad && self.isLeaf)
    throw new AutogradError(`${name}: a leaf Variable that requires grad is being used in an in-place operation.`);
  if (recording) ops().checkInplaceView(self, name);
  const src = recording && self.requiresGrad ? ops().clone(self) : self;
  const mark = Storage.created;
  let r = compute(src);
  // self did not require grad but another operand does: the recorded op may have saved self,
  // which is overwritten below, so record it again over a copy of self
  if (recording && r.requiresGrad && src === self) r = compute(ops().clone(self));
  if (!canCast(r.dtype, self.dtype))
    throw new DTypeError(`${name}: result type ${r.dtype} can't be cast to the desired output type ${self.dtype}`);
  if (!sameShape(r.shape, self.shape))
    throw new ShapeError(`${name}: output with shape ${fmtShape(self.shape)} doesn't match the broadcast shape ${fmtShape(r.shape)}`);
  K.copy(r, self.dtype, self.shape, self);
  self._storage.version++;
  // r was made by compute and no autograd node can hold it: free it now (as PyTorch's refcount
  // would) instead of leaving a block per in-place op to the GC
  if (r._storage.serial > mark && !r.requiresGrad) r._storage.dispose();
  if (recording) {
    if (r.requiresGrad) {
      self.gradFn = r.gradFn;
      self._outIndex = r._outIndex;
      self._requiresGrad = true;
    } else if (self.requiresGrad && !self.isLeaf) {
      self.gradFn = null;
      self._requiresGrad = false;
    }
    ops().rebaseInplaceView(self);
  }
  return self;
}

export function fill_<T extends Tensor>(self: T, v: number | boolean): T {
  // NaN is a value like any other for float tensors (x.fill_(NaN), as PyTorch); ints reject it below
  const val = typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'number' && Number.isNaN(v) && isFloating(self.dtype) ? v : checkNumber(v, 'fill_', 'value');
  if (!isFloating(self.dtype) && !Number.isInteger(val) && Number.isFinite(val))
    throw new DTypeError(`fill_: value ${val} cannot be cast to ${self.dtype} without loss`);
  if (!isFloating(self.dtype) && !Number.isFinite(val)) throw new DTypeError(`fill_: value ${val} cannot be cast to ${self.dtype}`);
  return inplace(self, 'fill_', () => K.full(val, self.dtype, self.shape, self.device));
}

// In-place kernels that write straight into inputs[0]: taken only when nothing is recorded (no
// backward), so in-place ops cost one pass and no temporary, as in PyTorch.
const copyIntoDef: OpDef<null> = {
  name: 'copy_',
  forward: (_ctx, [self, src]) => K.copy(src, self.dtype, self.shape, self),
};
const binaryIntoDefs = new Map<string, OpDef<number | null>>();
function binaryIntoDef(name: string): OpDef<number | null> {
  let d = binaryIntoDefs.get(name);
  if (!d) {
    d = {
      name: `${name}_`,
      forward: (_ctx, [self, other], scalar) => K.binary(name, self, other ?? scalar!, self.dtype, self.shape, self.dtype, self),
    };
    binaryIntoDefs.set(name, d);
  }
  return d;
}

/**
 * self.add_(other) & co: one kernel writing into self when nothing is recorded, the operand has
 * self's dtype (or is a number that keeps it), broadcasts to self's shape and does not share self's
 * memory; otherwise the general in-place path (compute, then copy into self; autograd aware).
 */
export function binaryInplace<T extends Tensor>(self: T, name: 'add' | 'sub' | 'mul' | 'div', other: TensorOrScalar, opts?: { alpha?: number }): T {
  const general = (): T =>
    inplace(self, `${name}_`, (s) => (name === 'add' ? add(s, other, opts) : name === 'sub' ? sub(s, other, opts) : binaryOp(name, s, other)));
  if ((opts?.alpha ?? 1) !== 1 || !(self instanceof Tensor)) return general();
  const oT = other instanceof Tensor;
  if (!oT && typeof other !== 'number') return general();
  if (oT && (other._storage === self._storage || other.dtype !== self.dtype)) return general();
  if (mode.grad && (self.requiresGrad || (oT && other.requiresGrad))) return general();
  if (oT && !sameShape(broadcastShapes(self.shape, other.shape, `${name}_`), self.shape)) return general();
  const [dt, outDt] = binaryDTypes(name, self, other);
  if (dt !== self.dtype || outDt !== self.dtype) return general();
  self._storage.live(`${name}_`);
  dispatch(binaryIntoDef(name), oT ? [self, other] : [self], oT ? null : other);
  self._storage.version++;
  return self;
}

export function copy_<T extends Tensor>(self: T, src: Tensor): T {
  checkTensor(src, 'copy_', 'src');
  const shape = broadcastShapes(self.shape, src.shape, 'copy_');
  if (!sameShape(shape, self.shape))
    throw new ShapeError(`copy_: source of shape ${fmtShape(src.shape)} cannot be broadcast to ${fmtShape(self.shape)}`);
  // across devices: move the source first (differentiable: its gradient moves back)
  if (self._storage.device !== src._storage.device) src = ops().to(src, self.device);
  // nothing to record and no overlap: one kernel straight into self (cast and broadcast included)
  if (!(mode.grad && (self.requiresGrad || src.requiresGrad)) && src._storage !== self._storage) {
    checkTensor(self, 'copy_', 'self');
    dispatch(copyIntoDef, [self, sameShape(src.shape, self.shape) ? src : ops().expand(src, self.shape as number[])], null);
    self._storage.version++;
    return self;
  }
  return inplace(self, 'copy_', () => {
    const e = sameShape(src.shape, self.shape) ? src : ops().expand(src, self.shape as number[]);
    return e.dtype === self.dtype ? ops().clone(e) : ops().to(e, self.dtype);
  });
}
