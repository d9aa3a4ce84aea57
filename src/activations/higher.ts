/**
 * Higher-order gradients of the activations. The native kernels compute y = f(x) and g f'(x) in one
 * pass each; differentiating g f'(x) again (autograd.grad with createGraph, gradient penalties,
 * Hessian-vector products, PINNs) needs f''(x). Rather than a third native kernel per row, each
 * row of native/ops/activations.def has its derivative f' written once, in the expression language
 * of src/activations/expr.ts (table.ts, KERNEL_DERIVATIVES); the expression engine differentiates
 * it symbolically as often as asked and runs every level as one native expression pass (the same
 * interpreter custom expression activations use). The drift test checks each f' against the native backward kernel.
 *
 * The backward op `<kernel>_backward` (inputs x, g; output gx = g f'(x)) then differentiates as
 *   d gx / d g = f'(x)        -> grad_g = the native backward kernel with gg in place of g,
 *   d gx / d x = g f''(x)     -> grad_x = gg g f''(x),
 * and both are dispatched ops that differentiate again, to any order. For the ACT_OUT kernels
 * (sigmoid, tanh, logsigmoid), whose backward reads the forward's output y, f' is written in y and
 * the gradient flows to y and from there through the forward op, as PyTorch's sigmoid_backward.
 */
import type { OpDef } from '../dispatch';
import * as K from '../kernels';
import * as ops from '../ops/all';
import type { Tensor } from '../tensor';
import { bind, compile, derivative, Node, parse, toString } from './expr';
import { KERNEL_DERIVATIVES } from './table';

const parsed = new Map<string, Node>();

/** f' of `kernel` with its parameters bound (values in kernel order). */
export function kernelDerivative(kernel: string, params: readonly number[]): Node {
  const d = KERNEL_DERIVATIVES[kernel];
  if (!d) throw new Error(`internal: no derivative expression for activation kernel ${kernel}`);
  let ast = parsed.get(kernel);
  if (!ast) parsed.set(kernel, (ast = parse(d.expr, d.params)));
  return bind(ast, Object.fromEntries(d.params.map((p, i) => [p, params[i] ?? 0])));
}

const unaryOps = new Map<string, OpDef<null>>();

/**
 * The op computing node(x) elementwise (one native expression pass), differentiable to any order:
 * its backward is g * node'(x), built from the same kind of op.
 */
function exprOp(node: Node, name: string): OpDef<null> {
  const key = toString(node);
  let d = unaryOps.get(key);
  if (!d) {
    const program = compile(node);
    d = {
      name,
      forward(ctx, [x]) {
        ctx.x = x;
        return K.expr(program, x, null, name);
      },
      backward: (ctx, [g]) => [ops.mul(g!, applyExpr(derivative(node), ctx.x as Tensor, `${name}_grad`))],
    };
    if (unaryOps.size > 256) unaryOps.clear();
    unaryOps.set(key, d);
  }
  return d;
}

/** node(x) as a dispatched, differentiable op named `name`. */
export function applyExpr(node: Node, x: Tensor, name: string): Tensor {
  return ops.dispatch(exprOp(node, name), [x], null);
}

/**
 * Gradients of gx = g f'(x) with respect to x and g, given gg (the gradient of gx): f' is `d`,
 * `bwdG(gg)` computes gg f'(x) (the fused first-order kernel where there is one).
 */
export function backwardOfBackward(d: Node, name: string, x: Tensor, g: Tensor, gg: Tensor, bwdG: (gg: Tensor) => Tensor): [Tensor, Tensor] {
  const gradX = ops.mul(ops.mul(gg, g), applyExpr(derivative(d), x, `${name}_grad2`));
  return [gradX, bwdG(gg)];
}
