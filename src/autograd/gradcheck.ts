/**
 * Finite-difference gradient check (torch.autograd.gradcheck): compares the analytical Jacobian
 * (by backward) with central differences, in float64. Inputs that require grad are perturbed.
 */
import { IgnisError } from '../errors';
import * as ops from '../ops/all';
import { Tensor } from '../tensor';
import { noGrad } from './mode';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** throw a GradcheckError (default) or return false on mismatch */
  raiseException?: boolean;
}

export class GradcheckError extends IgnisError {}

function flatValues(t: Tensor): Float64Array {
  return Float64Array.from(ops.readTyped(ops.to(t, 'float64')) as Float64Array);
}

export function gradcheck(fn: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], opts: GradcheckOptions = {}): boolean {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const raise = opts.raiseException ?? true;
  for (const x of inputs)
    if (x.requiresGrad && x.dtype !== 'float64')
      throw new GradcheckError(`gradcheck: inputs requiring grad must be float64 (got ${x.dtype} [${x.shape.join(', ')}])`);
  const run = (): Tensor[] => {
    const r = fn(...inputs);
    return Array.isArray(r) ? r : [r];
  };
  const outs0 = run();
  const outSizes = outs0.map((o) => o.numel);
  const diffIdx = inputs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  for (const i of diffIdx) {
    const x = inputs[i];
    const n = x.numel;
    // numerical: perturb each element of x (contiguous copy, written back through copy_)
    const base = flatValues(x);
    const numerical: Float64Array[] = outs0.map((_, k) => new Float64Array(n * outSizes[k]));
    for (let j = 0; j < n; j++) {
      const eval1 = (delta: number): Float64Array[] => {
        const v = base.slice();
        v[j] += delta;
        noGrad(() => ops.copy_(x, ops.tensor(v, { dtype: 'float64' }).reshape(x.shape as number[])));
        return run().map(flatValues);
      };
      const plus = eval1(eps);
      const minus = eval1(-eps);
      for (let k = 0; k < outs0.length; k++)
        for (let m = 0; m < outSizes[k]; m++) numerical[k][m * n + j] = (plus[k][m] - minus[k][m]) / (2 * eps);
    }
    noGrad(() => ops.copy_(x, ops.tensor(base, { dtype: 'float64' }).reshape(x.shape as number[])));
    // analytical: one backward per output element
    for (let k = 0; k < outs0.length; k++) {
      for (let m = 0; m < outSizes[k]; m++) {
        const outs = run();
        const o = outs[k];
        if (!o.requiresGrad) continue;
        const gv = new Float64Array(outSizes[k]);
        gv[m] = 1;
        const [g] = ops.grad(o, x, { gradOutputs: ops.tensor(gv, { dtype: o.dtype === 'float32' ? 'float32' : 'float64' }).reshape(o.shape as number[]), allowUnused: true });
        const a = g ? flatValues(g) : new Float64Array(n);
        for (let j = 0; j < n; j++) {
          const num = numerical[k][m * n + j];
          if (!(Math.abs(a[j] - num) <= atol + rtol * Math.abs(num))) {
            const msg = `gradcheck: Jacobian mismatch for output ${k} with respect to input ${i}: d out[${m}] / d in[${j}] analytical ${a[j]} vs numerical ${num}`;
            if (raise) throw new GradcheckError(msg);
            return false;
          }
        }
      }
    }
  }
  return true;
}

/**
 * Second-derivative check (torch.autograd.gradgradcheck): gradcheck of the map
 * (inputs, gradOutputs) -> d <fn(inputs), gradOutputs> / d inputs computed with createGraph, so
 * the backward of every backward on the way is compared with central differences. gradOutputs
 * default to randn float64 tensors shaped like the outputs (pass them for a reproducible check).
 */
export function gradgradcheck(fn: (...xs: Tensor[]) => Tensor | Tensor[], inputs: Tensor[], gradOutputs?: Tensor[], opts: GradcheckOptions = {}): boolean {
  const outs0 = fn(...inputs);
  const outList = Array.isArray(outs0) ? outs0 : [outs0];
  const gos =
    gradOutputs ?? outList.map((o) => ops.randn(o.shape as number[], { dtype: 'float64' }).requiresGrad_(true));
  if (gos.length !== outList.length)
    throw new GradcheckError(`gradgradcheck: expected ${outList.length} gradOutputs (one per output), got ${gos.length}`);
  const diff = inputs.map((x, i) => (x.requiresGrad ? i : -1)).filter((i) => i >= 0);
  if (!diff.length) throw new GradcheckError('gradgradcheck: no input requires grad');
  const firstOrder = (...xs: Tensor[]): Tensor[] => {
    const ins = xs.slice(0, inputs.length);
    const r = fn(...ins);
    const os = Array.isArray(r) ? r : [r];
    const gs = ops.grad(os, diff.map((i) => ins[i]), { gradOutputs: xs.slice(inputs.length), createGraph: true, allowUnused: true });
    return gs.map((g, k) => g ?? ops.zerosLike(ins[diff[k]]));
  };
  return gradcheck(firstOrder, [...inputs, ...gos], opts);
}
