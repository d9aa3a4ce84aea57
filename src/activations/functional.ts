/**
 * The functional activations (F.relu, F.gelu, ...), generated from the table: elementwise rows
 * call their native kernel through dispatch (one op forward, one op backward); prelu, glu and rrelu
 * are one op each way too (gated.ts), the softmax family is src/ops/softmax.ts.
 */
import { mode } from '../autograd/mode';
import type { OpDef } from '../dispatch';
import { isFloating } from '../dtype';
import { DTypeError, ShapeError, ValueError } from '../errors';
import * as K from '../kernels';
import { info } from '../native';
import * as ops from '../ops/all';
import { fmtShape, normDim } from '../shape';
import { Tensor } from '../tensor';
import { hook } from '../profiler/hook';
import * as gated from './gated';
import { backwardOfBackward, kernelDerivative } from './higher';
import { ACTIVATIONS, ActivationRow, APPROX_NAMES } from './table';

const bwdDefs = new Map<string, OpDef<number[]>>();
/** kernels whose native backward reads the forward output (ACT_OUT rows of activations.def) */
const FROM_OUTPUT = new Set(info.activationsFromOutput);
const fwdDefs = new Map<string, OpDef<number[]>>();

function bwdDef(kernel: string): OpDef<number[]> {
  let d = bwdDefs.get(kernel);
  if (!d) {
    d = {
      name: `${kernel}_backward`,
      forward(ctx, [x, g], params) {
        ctx.x = x;
        ctx.g = g;
        ctx.params = params;
        return K.actBackward(kernel, x, g, params);
      },
      // higher-order gradients (createGraph): see higher.ts
      backward(ctx, [gg]) {
        const x = ctx.x as Tensor;
        const params = ctx.params as number[];
        return backwardOfBackward(kernelDerivative(kernel, params), kernel, x, ctx.g as Tensor, gg!, (h) =>
          ops.dispatch(bwdDef(kernel), [x, h], params),
        );
      },
    };
    bwdDefs.set(kernel, d);
  }
  return d;
}

/**
 * The gradient of activation `kernel` at x (or at the output y for the kernels whose backward reads
 * it, `readsOutput`) under the upstream gradient g, as the dispatched backward op (differentiable).
 */
export function actBackward(kernel: string, x: Tensor, g: Tensor, params: number[]): Tensor {
  return ops.dispatch(bwdDef(kernel), [x, g], params);
}

/** Whether `kernel`'s backward reads the forward's output instead of its input (ACT_OUT rows). */
export const readsOutput = (kernel: string): boolean => FROM_OUTPUT.has(kernel);

/**
 * The forward op of `kernel`; `fast`: its `approx: 'fast'` forward (the ACT_FAST row, kernel
 * '<kernel>_fast'), differentiated by the exact backward kernel (the exact derivative at x; for the
 * ACT_OUT rows sigmoid and tanh, the exact formula at the fast output).
 */
function fwdDef(kernel: string, fast = false): OpDef<number[]> {
  const name = fast ? `${kernel}_fast` : kernel;
  let d = fwdDefs.get(name);
  if (!d) {
    d = {
      name,
      forward(ctx, [x], params) {
        const y = K.act(name, x, params);
        // the backward kernel's operand: the input, or for ACT_OUT rows the output (as PyTorch's
        // sigmoid_backward(g, y)), which saves the recomputation
        ctx.x = FROM_OUTPUT.has(kernel) ? y : x;
        ctx.params = params;
        return y;
      },
      backward(ctx, [g]) {
        return [actBackward(kernel, ctx.x as Tensor, g!, ctx.params as number[])];
      },
    };
    fwdDefs.set(name, d);
  }
  return d;
}

/**
 * Runs native activation kernel `kernel` with numeric params (in activations.def order); `fast`:
 * its ACT_FAST forward where one runs (float32 on the CPU; float64 and CUDA tensors take the exact
 * kernel, which is within every documented bound).
 */
export function applyKernel(kernel: string, x: Tensor, params: number[], inplace = false, op = kernel, fast = false): Tensor {
  ops.checkTensor(x, op);
  if (!isFloating(x.dtype)) throw new DTypeError(`${op}: expected a floating point tensor, got ${x.dtype} ${fmtShape(x.shape)}`);
  for (const p of params) if (typeof p !== 'number' || Number.isNaN(p)) throw new ValueError(`${op}: parameters must be numbers, got ${String(p)}`);
  fast = fast && x.dtype === 'float32' && x._storage.device === 'cpu' && FAST.has(kernel);
  if (inplace) {
    // no autograd to record: write straight into x's memory
    if (!(mode.grad && x.requiresGrad)) {
      x._storage.live(op);
      const run = (): Tensor => {
        K.act(fast ? `${kernel}_fast` : kernel, x, params, x);
        x._storage.version++;
        return x;
      };
      // not a dispatched op: a running profiler records it under its in-place name (profiler/hook.ts)
      return hook.on ? hook.run(`${op}_`, [x], run) : run();
    }
    return ops.inplace(x, `${op}_`, (s) => ops.dispatch(fwdDef(kernel, fast), [s], params));
  }
  return ops.dispatch(fwdDef(kernel, fast), [x], params);
}

/** kernels with a native `approx: 'fast'` forward (ACT_FAST rows of activations.def) */
const FAST = new Set(info.activationsFast);

/**
 * Reads the `approx` option: false for 'none' (the default, the exact kernel), true for 'fast' on a
 * row that has one (table.ts `approx`); anything else is a ValueError naming the valid choices.
 */
export function wantsFast(row: ActivationRow, p: Record<string, unknown>): boolean {
  const a = p.approx;
  if (a === undefined || a === null || a === 'none') return false;
  const valid = ['none', ...APPROX_NAMES.filter((n) => row.approx?.[n])];
  if (typeof a === 'string' && valid.includes(a)) return true;
  const withFast = ACTIVATIONS.filter((r) => r.approx?.fast).map((r) => r.name);
  throw new ValueError(
    `${row.name}: approx must be ${valid.map((v) => `'${v}'`).join(' or ')}, got ${typeof a === 'string' ? `'${a}'` : String(a)}` +
      (valid.length === 1 ? ` (${row.name} has no fast approximation; activations with one: ${withFast.join(', ')})` : ''),
  );
}

export type ActivationOptions = Record<string, number | string | boolean | Tensor | null | undefined> & { inplace?: boolean };

/** Merges positional parameters (PyTorch style: F.leaky_relu(x, 0.2)) and an options object. */
export function resolveParams(row: ActivationRow, args: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of row.params) out[p.name] = p.default;
  let i = 0;
  for (const a of args) {
    if (a !== null && typeof a === 'object' && !(a instanceof Tensor)) {
      for (const [k, v] of Object.entries(a as object)) {
        if (k !== 'inplace' && k !== 'training' && k !== 'generator' && k !== 'approx' && !(k in out))
          throw new ValueError(`${row.name}: unknown option '${k}'; expected ${[...row.params.map((p) => p.name), 'inplace', 'approx'].join(', ')}`);
        if (v !== undefined) out[k] = v;
      }
    } else if (a !== undefined) {
      if (i >= row.params.length) throw new ValueError(`${row.name}: too many arguments`);
      out[row.params[i++].name] = a;
    }
  }
  return out;
}

function num(row: ActivationRow, p: Record<string, unknown>, name: string): number {
  const v = p[name];
  if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(`${row.name}: ${name} must be a number, got ${String(v)}`);
  return v;
}

type Impl = (x: Tensor, p: Record<string, unknown>, row: ActivationRow) => Tensor;

const elementwise: Impl = (x, p, row) =>
  applyKernel(row.kernel!, x, row.params.map((s) => num(row, p, s.name)), !!p.inplace, row.name, p.approx === 'fast');

const IMPLS: Record<string, Impl> = {
  gelu(x, p, row) {
    const a = p.approximate;
    if (a !== 'none' && a !== 'tanh') throw new ValueError(`gelu: approximate must be 'none' or 'tanh', got ${String(a)}`);
    return applyKernel(a === 'tanh' ? 'gelu_tanh' : 'gelu', x, [], false, row.name, p.approx === 'fast');
  },
  swish(x, p, row) {
    const beta = p.beta;
    // a learnable beta is a composition (exact, whatever `approx` says)
    if (beta instanceof Tensor) return ops.mul(x, ops.sigmoid(ops.mul(x, beta)));
    return applyKernel('swish', x, [num(row, p, 'beta')], false, row.name, p.approx === 'fast');
  },
  threshold(x, p, row) {
    if (p.threshold === null || p.value === null) throw new ValueError('threshold: threshold and value are required');
    return elementwise(x, p, row);
  },
  hardtanh(x, p, row) {
    if (num(row, p, 'maxVal') < num(row, p, 'minVal')) throw new ValueError('hardtanh: maxVal cannot be less than minVal');
    return elementwise(x, p, row);
  },
  softshrink(x, p, row) {
    if (num(row, p, 'lambd') < 0) throw new ValueError(`softshrink: lambd must be >= 0, got ${String(p.lambd)}`);
    return elementwise(x, p, row);
  },
  prelu(x, p) {
    const w = p.weight;
    if (!(w instanceof Tensor)) throw new ValueError('prelu: expected a weight tensor: F.prelu(x, weight)');
    if (w.numel !== 1 && (x.ndim < 2 || x.shape[1] !== w.numel))
      throw new ShapeError(`prelu: weight has ${w.numel} parameters but input ${fmtShape(x.shape)} has ${x.ndim < 2 ? 1 : x.shape[1]} channels`);
    return gated.prelu(x, w);
  },
  rrelu(x, p, row) {
    const lower = num(row, p, 'lower');
    const upper = num(row, p, 'upper');
    if (lower > upper) throw new ValueError(`rrelu: lower (${lower}) must not exceed upper (${upper})`);
    if (!p.training) return applyKernel('leaky_relu', x, [(lower + upper) / 2], !!p.inplace, 'rrelu');
    const f = (s: Tensor): Tensor => gated.rreluTrain(s, lower, upper);
    // in place: compute from the source ops.inplace hands over (a copy while autograd records), not
    // from x itself, whose overwrite would invalidate what the op saved for backward
    return p.inplace ? ops.inplace(x, 'rrelu_', f) : f(x);
  },
  glu(x, p, row) {
    const d = normDim(num(row, p, 'dim'), x.ndim, 'glu');
    if (x.shape[d] % 2 !== 0) throw new ShapeError(`glu: halving dimension must be even, but dimension ${d} is size ${x.shape[d]}`);
    return gated.glu(x, d);
  },
  softmax: (x, p, row) => ops.softmax(x, dimOf(p, row)),
  log_softmax: (x, p, row) => ops.logSoftmax(x, dimOf(p, row)),
  softmin: (x, p, row) => ops.softmin(x, dimOf(p, row)),
};

function dimOf(p: Record<string, unknown>, row: ActivationRow): number {
  if (p.dim === null || p.dim === undefined) throw new ValueError(`${row.name}: dim is required (the implicit choice of dim is deprecated in PyTorch)`);
  return num(row, p, 'dim');
}

export type ActivationFn = (x: Tensor, ...args: unknown[]) => Tensor;

/** Builds F.<fn> for a row. prelu takes (x, weight). */
export function makeFunctional(row: ActivationRow): ActivationFn {
  const impl = IMPLS[row.name] ?? elementwise;
  if (row.name === 'prelu')
    return (x: Tensor, weight?: unknown) => {
      ops.checkTensor(x, 'prelu');
      return impl(x, { weight }, row);
    };
  return (x: Tensor, ...args: unknown[]) => {
    ops.checkTensor(x, row.name);
    const p = resolveParams(row, args);
    if (p.inplace && !row.inplace) throw new ValueError(`${row.name}: has no in-place variant`);
    wantsFast(row, p);  // validates `approx` for every row, also those whose impl ignores it
    return impl(x, p, row);
  };
}

/** F: every table activation as a function, keyed by its camelCase name. */
export const functional: Record<string, ActivationFn> = Object.fromEntries(ACTIVATIONS.map((r) => [r.fn, makeFunctional(r)]));
