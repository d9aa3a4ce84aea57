/**
 * The one dispatch point. Every differentiable op reaches its kernels through dispatch(), which
 * (1) checks the inputs are live and on one device, (2) runs the op's forward, (3) records the
 * autograd node when any input requires grad, (4) tells an active tracer and (5) an active
 * profiler. Autograd, tracing and profiling are therefore never special-cased per op.
 */
import { mode } from './autograd/mode';
import { BackwardFn, Ctx, Edge, edgeOf, Node } from './autograd/node';
import { DeviceError, DisposedError } from './errors';
import type { Tensor } from './tensor';

export interface OpDef<A = unknown> {
  readonly name: string;
  /** Computes the outputs from the inputs with raw kernels; may stash what backward needs on ctx. */
  forward(ctx: Ctx, inputs: Tensor[], attrs: A): Tensor | Tensor[];
  /** Gradients of the inputs given the gradients of the outputs (written with dispatched ops). */
  backward?: BackwardFn;
}

/** A listener on every dispatched op (the tracer, the profiler). */
export interface OpListener {
  /** Called before the op runs; the returned token is handed back to after(). */
  before(op: string, inputs: Tensor[], attrs: unknown): unknown;
  after(token: unknown, op: string, inputs: Tensor[], attrs: unknown, outputs: Tensor[]): void;
  /** Called instead of after() when the op's forward throws (the error is rethrown). */
  error?(token: unknown, op: string, err: unknown): void;
}

export const listeners: OpListener[] = [];

export function addListener(l: OpListener): () => void {
  listeners.push(l);
  return () => {
    const i = listeners.indexOf(l);
    if (i >= 0) listeners.splice(i, 1);
  };
}

export function dispatch<A>(op: OpDef<A>, inputs: Tensor[], attrs: A): Tensor;
export function dispatch<A>(op: OpDef<A>, inputs: Tensor[], attrs: A, multi: true): Tensor[];
export function dispatch<A>(op: OpDef<A>, inputs: Tensor[], attrs: A, multi = false): Tensor | Tensor[] {
  let needGrad = false;
  const device = inputs.length ? inputs[0]._storage.device : 'cpu';
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if (t._storage.handle === null) throw new DisposedError(`${op.name}: input ${i} has been disposed`);
    if (t._storage.device !== device)
      throw new DeviceError(`${op.name}: expected all tensors on the same device, got ${device} and ${t._storage.device} (input ${i})`);
    if (t.requiresGrad) needGrad = true;
  }
  needGrad = needGrad && mode.grad && op.backward !== undefined;
  let tokens: unknown[] | null = null;
  let seen: OpListener[] | null = null;
  if (listeners.length) {
    // a snapshot: a listener added or removed inside forward must not get an unpaired after()
    seen = listeners.slice();
    tokens = seen.map((l) => l.before(op.name, inputs, attrs));
  }

  const ctx = new Ctx(op.name);
  let res: Tensor | Tensor[];
  try {
    res = op.forward(ctx, inputs, attrs);
  } catch (e) {
    if (seen) for (let i = 0; i < seen.length; i++) seen[i].error?.(tokens![i], op.name, e);
    throw e;
  }
  const outs = Array.isArray(res) ? res : [res];

  if (needGrad) {
    ctx.needsInputGrad = inputs.map((t) => t.requiresGrad);
    ctx.snapshot();
    const next: (Edge | null)[] = inputs.map(edgeOf);
    const node = new Node(op.name, ctx, op.backward!, next, outs.length);
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i];
      if (o.dtype === 'float32' || o.dtype === 'float64') {
        o.requiresGrad = true;
        o.gradFn = node;
        o._outIndex = i;
      }
    }
  }
  if (seen) for (let i = 0; i < seen.length; i++) seen[i].after(tokens![i], op.name, inputs, attrs, outs);
  return multi ? outs : outs[0];
}
