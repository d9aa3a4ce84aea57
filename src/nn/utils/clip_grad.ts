/** torch.nn.utils.clip_grad_norm_ / clip_grad_value_, and L1/L2 penalty helpers. */
import { noGrad } from '../../autograd/mode';
import { ValueError } from '../../errors';
import * as ops from '../../ops/all';
import { Tensor } from '../../tensor';
import { Module } from '../module';

export type Params = Tensor | Iterable<Tensor> | Module;

/** The tensors of a params argument: one Tensor, an iterable of them, or a Module's parameters. */
export function paramList(params: Params, op: string): Tensor[] {
  if (params instanceof Tensor) return [params];
  if (params instanceof Module) return params.parameters();
  if (params && typeof (params as Iterable<Tensor>)[Symbol.iterator] === 'function') {
    const list = [...(params as Iterable<Tensor>)];
    list.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new ValueError(`${op}: parameters[${i}] is not a Tensor`);
    });
    return list;
  }
  throw new ValueError(`${op}: expected a Tensor, an iterable of Tensors or a Module`);
}

function vectorNorm(x: Tensor, p: number): Tensor {
  if (p === 0) return ops.sum(ops.to(ops.ne(x, 0), x.dtype));
  if (p === -Infinity) return ops.amin(ops.abs(x));
  return ops.norm(x, p);
}

/**
 * Rescales the gradients in place so that their total norm (the norm of all gradients taken as one
 * vector) is at most maxNorm, as torch.nn.utils.clip_grad_norm_: every gradient is multiplied by
 * min(1, maxNorm / (total + 1e-6)). Returns the total norm (before clipping) as a scalar Tensor.
 * errorIfNonfinite: throw when the total norm is NaN or infinite instead of scaling by it.
 */
export function clipGradNorm_(
  parameters: Params,
  maxNorm: number,
  normType = 2,
  opts: { errorIfNonfinite?: boolean } | boolean = {},
): Tensor {
  const op = 'clipGradNorm_';
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) throw new ValueError(`${op}: maxNorm must be a number, got ${String(maxNorm)}`);
  if (typeof normType !== 'number' || Number.isNaN(normType)) throw new ValueError(`${op}: normType must be a number, got ${String(normType)}`);
  const errorIfNonfinite = typeof opts === 'boolean' ? opts : (opts.errorIfNonfinite ?? false);
  const grads = paramList(parameters, op)
    .map((p) => p.grad)
    .filter((g): g is Tensor => g !== null);
  return noGrad(() => {
    if (grads.length === 0) return ops.tensor(0, { dtype: 'float32' });
    const dtype = grads.some((g) => g.dtype === 'float64') ? 'float64' : grads[0].dtype;
    const norms = grads.map((g) => ops.to(vectorNorm(g, normType), dtype));
    const total = vectorNorm(ops.stack(norms), normType);
    if (errorIfNonfinite) {
      const v = Number(total.item());
      if (!Number.isFinite(v))
        throw new ValueError(
          `${op}: the total norm of order ${normType} for gradients from \`parameters\` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set errorIfNonfinite: false`,
        );
    }
    const coef = ops.clamp(ops.div(maxNorm, ops.add(total, 1e-6)), null, 1.0);
    for (const g of grads) g.mul_(g.dtype === coef.dtype ? coef : ops.to(coef, g.dtype));
    return total;
  });
}

/** Clamps every gradient in place to [−clipValue, clipValue] (torch.nn.utils.clip_grad_value_). */
export function clipGradValue_(parameters: Params, clipValue: number): void {
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue)) throw new ValueError(`clipGradValue_: clipValue must be a number, got ${String(clipValue)}`);
  const v = Math.abs(clipValue);
  noGrad(() => {
    for (const p of paramList(parameters, 'clipGradValue_')) if (p.grad) p.grad.clamp_(-v, v);
  });
}

/** Σ |p| over every element of every parameter: a differentiable scalar (add λ·l1Penalty to a loss). */
export function l1Penalty(parameters: Params): Tensor {
  const ps = paramList(parameters, 'l1Penalty');
  if (!ps.length) throw new ValueError('l1Penalty: no parameters given');
  return ps.map((p) => ops.sum(ops.abs(p))).reduce((a, b) => ops.add(a, b));
}

/** Σ p² over every element of every parameter (no ½): a differentiable scalar (add λ·l2Penalty to a loss). */
export function l2Penalty(parameters: Params): Tensor {
  const ps = paramList(parameters, 'l2Penalty');
  if (!ps.length) throw new ValueError('l2Penalty: no parameters given');
  return ps.map((p) => ops.sum(ops.mul(p, p))).reduce((a, b) => ops.add(a, b));
}
