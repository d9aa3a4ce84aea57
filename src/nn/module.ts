/**
 * nn.Module: fields that are Parameters or Modules are discovered without registration
 * (PyTorch's __setattr__ bookkeeping, done by walking own properties). `call(x)` runs hooks and
 * forward; modules print as a tree with extraRepr().
 */
import { ValueError } from '../errors';
import { Tensor } from '../tensor';

/** A Tensor that is a module's learnable state (requiresGrad by default). */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(data._storage, data.shape, data._strides, data._offset, data.dtype);
    this.requiresGrad = requiresGrad;
  }
}

export type ForwardHook = (module: Module, input: unknown[], output: unknown) => unknown;
export type ForwardPreHook = (module: Module, input: unknown[]) => unknown[] | void;

export abstract class Module {
  training = true;
  /** @internal */ _buffers = new Set<string>();
  /** @internal */ _hooks: ForwardHook[] = [];
  /** @internal */ _preHooks: ForwardPreHook[] = [];

  abstract forward(...args: unknown[]): unknown;

  /** Runs forward pre-hooks, forward, then forward hooks (PyTorch's module(x)). */
  call(...args: unknown[]): any {
    let input = args;
    for (const h of this._preHooks) {
      const r = h(this, input);
      if (r) input = r;
    }
    let out = this.forward(...input);
    for (const h of this._hooks) {
      const r = h(this, input, out);
      if (r !== undefined) out = r;
    }
    return out;
  }

  registerForwardHook(h: ForwardHook): { remove(): void } {
    this._hooks.push(h);
    return { remove: () => void this._hooks.splice(this._hooks.indexOf(h) >>> 0, 1) };
  }
  registerForwardPreHook(h: ForwardPreHook): { remove(): void } {
    this._preHooks.push(h);
    return { remove: () => void this._preHooks.splice(this._preHooks.indexOf(h) >>> 0, 1) };
  }

  /** Non-trainable state (running statistics) that belongs in stateDict. */
  registerBuffer(name: string, t: Tensor | null): void {
    (this as unknown as Record<string, unknown>)[name] = t;
    this._buffers.add(name);
  }

  *namedChildren(): Generator<[string, Module]> {
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) yield [k, v];
  }
  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [k, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${k}` : k);
  }
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }
  *namedParameters(prefix = ''): Generator<[string, Parameter]> {
    const seen = new Set<Tensor>();
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [k, v] of Object.entries(m)) {
        if (v instanceof Parameter && !seen.has(v)) {
          seen.add(v);
          yield [mp ? `${mp}.${k}` : k, v];
        }
      }
    }
  }
  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }
  *namedBuffers(): Generator<[string, Tensor]> {
    for (const [mp, m] of this.namedModules()) {
      for (const k of m._buffers) {
        const v = (m as unknown as Record<string, unknown>)[k];
        if (v instanceof Tensor) yield [mp ? `${mp}.${k}` : k, v];
      }
    }
  }
  buffers(): Tensor[] {
    return [...this.namedBuffers()].map(([, b]) => b);
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  apply(fn: (m: Module) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    const none = opts.setToNone ?? true;
    for (const p of this.parameters()) {
      if (!p.grad) continue;
      if (none) p.grad = null;
      else p.grad.zero_();
    }
  }
  requiresGrad_(v = true): this {
    for (const p of this.parameters()) p.requiresGrad = v;
    return this;
  }
  /** Parameters and buffers by dotted name. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, p] of this.namedParameters()) out[k] = p.detach();
    for (const [k, b] of this.namedBuffers()) out[k] = b;
    return out;
  }

  extraRepr(): string {
    return '';
  }
  toString(): string {
    const kids = [...this.namedChildren()];
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (!kids.length) return `${head})`;
    const body = kids.map(([k, m]) => `  (${k}): ${m.toString().split('\n').join('\n  ')}`).join('\n');
    return `${head}\n${body}\n)`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

export function checkModule(m: unknown, op: string): Module {
  if (!(m instanceof Module)) throw new ValueError(`${op}: expected an nn.Module`);
  return m;
}
