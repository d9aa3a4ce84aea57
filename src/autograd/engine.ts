/**
 * The backward pass: topological order over the recorded nodes (Kahn's algorithm on dependency
 * counts), gradients summed per node output, hooks and retainGrad applied as each gradient is
 * complete, leaves accumulate into .grad. autograd.grad() runs the same walk but captures the
 * gradients of the requested inputs instead of touching .grad.
 */
import { AutogradError, ShapeError } from '../errors';
import { fmtShape, sameShape } from '../shape';
import type { Tensor } from '../tensor';
import { mode } from './mode';
import { Edge, edgeOf, Node } from './node';
import * as ops from '../ops/all';

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

function addGrad(a: Tensor | null, b: Tensor): Tensor {
  return a === null ? b : ops.add(a, b);
}

export function runBackward(
  roots: Tensor[],
  rootGrads: Tensor[],
  opts: BackwardOptions,
  capture: Edge[] | null = null,
): (Tensor | null)[] {
  const createGraph = !!opts.createGraph;
  const retainGraph = opts.retainGraph ?? createGraph;
  const rootEdges: Edge[] = roots.map((r, i) => {
    const e = edgeOf(r);
    if (!e) throw new AutogradError(`backward: element ${i} of tensors does not require grad and does not have a gradFn`);
    return e;
  });

  // dependency counts
  const deps = new Map<Node, number>();
  const seen = new Set<Node>();
  const stack: Node[] = rootEdges.map((e) => e.node);
  for (const n of stack) seen.add(n);
  while (stack.length) {
    const n = stack.pop()!;
    for (const e of n.next) {
      if (!e) continue;
      deps.set(e.node, (deps.get(e.node) ?? 0) + 1);
      if (!seen.has(e.node)) {
        seen.add(e.node);
        stack.push(e.node);
      }
    }
  }

  const buffers = new Map<Node, (Tensor | null)[]>();
  const captured: (Tensor | null)[] = capture ? capture.map(() => null) : [];
  const prevMode = mode.grad;
  mode.grad = createGraph;
  try {
    for (let i = 0; i < rootEdges.length; i++) {
      const e = rootEdges[i];
      let buf = buffers.get(e.node);
      if (!buf) buffers.set(e.node, (buf = new Array(e.node.numOutputs).fill(null)));
      buf[e.index] = addGrad(buf[e.index], rootGrads[i]);
    }
    const ready: Node[] = [];
    for (const e of rootEdges) if (!deps.get(e.node) && !ready.includes(e.node)) ready.push(e.node);

    while (ready.length) {
      const node = ready.pop()!;
      const grads = buffers.get(node) ?? new Array<Tensor | null>(node.numOutputs).fill(null);
      buffers.delete(node);
      for (let i = 0; i < grads.length; i++) {
        let g = grads[i];
        if (g === null) continue;
        const hs = node.hooks?.[i];
        if (hs) for (const h of hs) {
          const r = h(g);
          if (r) g = r;
        }
        grads[i] = g;
        const keep = node.retain?.[i];
        if (keep) keep.grad = createGraph ? g : g.detach();
        if (capture) capture.forEach((c, k) => {
          if (c.node === node && c.index === i) captured[k] = captured[k] ? ops.add(captured[k]!, g!) : g;
        });
      }
      if (node.leaf) {
        const g = grads[0];
        if (g && !capture) {
          const leaf = node.leaf;
          const gg = createGraph ? g : g.detach();
          leaf.grad = leaf.grad ? (createGraph ? ops.add(leaf.grad, gg) : ops.add(leaf.grad.detach(), gg)) : gg;
        }
        continue;
      }
      let inGrads: (Tensor | null | undefined)[] = [];
      if (node.backwardFn && grads.some((g) => g !== null)) {
        if (node.ctx.released && node.ctx.freedTensors)
          throw new AutogradError(
            `${node.name}: trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Specify retainGraph: true the first time.`,
          );
        node.ctx.checkVersions();
        inGrads = node.backwardFn(node.ctx, grads);
      }
      if (!retainGraph) node.ctx.release();
      for (let i = 0; i < node.next.length; i++) {
        const e = node.next[i];
        if (!e) continue;
        const g = inGrads[i];
        if (g) {
          let buf = buffers.get(e.node);
          if (!buf) buffers.set(e.node, (buf = new Array(e.node.numOutputs).fill(null)));
          buf[e.index] = addGrad(buf[e.index], g);
        }
        const left = (deps.get(e.node) ?? 1) - 1;
        deps.set(e.node, left);
        if (left === 0) ready.push(e.node);
      }
    }
  } finally {
    mode.grad = prevMode;
  }
  return captured;
}

export function checkGradShape(op: string, g: Tensor, t: Tensor): void {
  if (!sameShape(g.shape, t.shape))
    throw new ShapeError(`${op}: gradient has shape ${fmtShape(g.shape)}, expected ${fmtShape(t.shape)}`);
}
