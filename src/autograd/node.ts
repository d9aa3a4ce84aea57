import { AutogradError } from '../errors';
import type { Tensor } from '../tensor';

/** Where a gradient flows next: output `index` of `node`. */
export interface Edge {
  node: Node;
  index: number;
}

export type Hook = (grad: Tensor) => Tensor | void | undefined;

/**
 * Backward context handed to an op's backward: what forward saved and why.
 * Saved tensors are checked against in-place modification when read.
 */
export class Ctx {
  private _saved: Tensor[] = [];
  private _versions: number[] = [];
  released = false;
  private _snap: [string, Tensor, number][] | null = null;
  private _freed = false;
  /** needsInputGrad[i]: whether input i requires a gradient. */
  needsInputGrad: boolean[] = [];
  [key: string]: unknown;

  constructor(public readonly op: string) {}

  saveForBackward(...ts: Tensor[]): void {
    this._saved = ts;
    this._versions = ts.map((t) => (t ? t._storage.version : 0));
  }

  get savedTensors(): Tensor[] {
    if (this.released)
      throw new AutogradError(
        `${this.op}: trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Specify retainGraph: true the first time.`,
      );
    for (let i = 0; i < this._saved.length; i++) {
      const t = this._saved[i];
      if (t && t._storage.version !== this._versions[i])
        throw new AutogradError(
          `${this.op}: one of the variables needed for gradient computation has been modified by an inplace operation: [${t.dtype} [${t.shape.join(', ')}]] is at version ${t._storage.version}; expected version ${this._versions[i]} instead.`,
        );
    }
    return this._saved;
  }

  /**
   * Records the version of every tensor the op's forward stashed on ctx (ctx.x = ..., besides
   * saveForBackward), so backward can tell that one was modified in place in between.
   */
  snapshot(): void {
    let snap: [string, Tensor, number][] | null = null;
    for (const k of Object.keys(this)) {
      const v = this[k];
      if (isTensorLike(v)) (snap ??= []).push([k, v, v._storage.version]);
    }
    this._snap = snap;
  }

  /** Throws if a tensor recorded by snapshot() has been modified in place since. */
  checkVersions(): void {
    const snap = this._snap;
    if (!snap) return;
    for (const [, t, v] of snap)
      if (t._storage.version !== v)
        throw new AutogradError(
          `${this.op}: one of the variables needed for gradient computation has been modified by an inplace operation: [${t.dtype} [${t.shape.join(', ')}]] is at version ${t._storage.version}; expected version ${v} instead.`,
        );
  }

  /** Whether release() dropped tensors that backward needs (a second backward must fail). */
  get freedTensors(): boolean {
    return this._freed;
  }

  release(): void {
    this.released = true;
    let freed = this._saved.length > 0;
    this._saved = [];
    // drop the tensors forward stashed on ctx so their memory can go before the graph does
    for (const k of Object.keys(this)) {
      const v = this[k];
      if (isTensorLike(v) || (Array.isArray(v) && v.some(isTensorLike))) {
        delete this[k];
        freed = true;
      }
    }
    this._snap = null;
    this._freed = freed;
  }
}

function isTensorLike(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && '_storage' in v && 'shape' in v;
}

export type BackwardFn = (ctx: Ctx, grads: (Tensor | null)[]) => (Tensor | null | undefined)[];

/** A recorded op in the autograd graph (PyTorch's grad_fn). */
export class Node {
  /** hooks on the gradient of output i (tensor.registerHook on a non-leaf) */
  hooks: Hook[][] | null = null;
  /** non-leaf tensors that asked for retainGrad, by output index */
  retain: (Tensor | null)[] | null = null;
  constructor(
    public readonly name: string,
    public readonly ctx: Ctx,
    public readonly backwardFn: BackwardFn | null,
    public readonly next: (Edge | null)[],
    public readonly numOutputs = 1,
    /** set on AccumulateGrad nodes: the leaf that receives the gradient */
    public readonly leaf: Tensor | null = null,
  ) {}
}

/** The gradient sink of a leaf tensor, created on first use. */
export function accumulateNode(leaf: Tensor): Node {
  if (!leaf._accNode) leaf._accNode = new Node('AccumulateGrad', new Ctx('AccumulateGrad'), null, [], 1, leaf);
  return leaf._accNode;
}

/** The edge through which gradient reaches t (null when t does not require grad). */
export function edgeOf(t: Tensor): Edge | null {
  if (!t.requiresGrad) return null;
  if (t.gradFn) return { node: t.gradFn, index: t._outIndex };
  return { node: accumulateNode(t), index: 0 };
}
