/**
 * Custom differentiable ops, PyTorch's autograd.Function:
 *
 *   class MyReLU extends ignis.autograd.Function {
 *     static forward(ctx, x) { ctx.saveForBackward(x); return x.clamp(0); }
 *     static backward(ctx, g) { const [x] = ctx.savedTensors; return g.mul(x.gt(0).float()); }
 *   }
 *   const y = MyReLU.apply(x);
 *
 * forward runs with autograd off; backward returns one gradient (or null) per tensor input.
 */
import { dispatch, OpDef } from '../dispatch';
import { AutogradError, ShapeError } from '../errors';
import { fmtShape, sameShape } from '../shape';
import { Tensor } from '../tensor';
import { mode } from './mode';
import type { Ctx } from './node';

export type FunctionCtx = Ctx & { markNonDifferentiable?: (...t: Tensor[]) => void };

export class Function {
  static forward(_ctx: FunctionCtx, ..._args: unknown[]): Tensor | Tensor[] {
    throw new AutogradError(`${this.name}: forward is not implemented`);
  }
  static backward(_ctx: FunctionCtx, ..._grads: (Tensor | null)[]): Tensor | null | (Tensor | null)[] {
    throw new AutogradError(`${this.name}: backward is not implemented`);
  }

  /** Runs forward and records one autograd node whose backward is the class's backward. */
  static apply(...args: unknown[]): Tensor | Tensor[] | any {
    const cls = this as typeof Function;
    const tensorIdx: number[] = [];
    args.forEach((a, i) => a instanceof Tensor && tensorIdx.push(i));
    const inputs = tensorIdx.map((i) => args[i] as Tensor);
    let multi = false;
    const def: OpDef<null> = {
      name: cls.name || 'Function',
      forward(ctx) {
        const prev = mode.grad;
        mode.grad = false;
        try {
          const r = cls.forward(ctx as FunctionCtx, ...args.map((a) => (a instanceof Tensor ? a.detach() : a)));
          multi = Array.isArray(r);
          const outs = multi ? (r as Tensor[]) : [r as Tensor];
          // outputs that alias an input are wrapped so the graph gets a fresh node
          return outs.map((o) => (inputs.some((t) => t._storage === o._storage && t === o) ? o.detach() : o));
        } finally {
          mode.grad = prev;
        }
      },
      backward(ctx, grads) {
        const r = cls.backward(ctx as FunctionCtx, ...grads);
        const list = Array.isArray(r) ? r : [r];
        if (list.length < inputs.length)
          throw new AutogradError(`${def.name}: backward returned ${list.length} gradients, expected one per tensor input (${inputs.length})`);
        return inputs.map((t, k) => {
          const g = list[k] ?? null;
          if (g && !sameShape(g.shape, t.shape))
            throw new ShapeError(`${def.name}: backward returned a gradient of shape ${fmtShape(g.shape)} for input ${k} of shape ${fmtShape(t.shape)}`);
          return g;
        });
      },
    };
    const outs = dispatch(def, inputs, null, true);
    return multi ? outs : outs[0];
  }
}
