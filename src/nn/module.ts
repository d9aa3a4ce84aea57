/**
 * nn.Module: fields that are Parameters or Modules are discovered without registration
 * (PyTorch's __setattr__ bookkeeping, done by walking own properties, in declaration order).
 * Plain arrays of Modules / Parameters are discovered too (named `field.0`, `field.1`, ...), but
 * ModuleList / ParameterList are the documented way. `call(x)` runs hooks and forward; modules
 * print as a tree with extraRepr() like PyTorch.
 *
 * @example
 * class Net extends nn.Module {
 *   conv1 = new nn.Conv2d(1, 32, 3);
 *   fc = new nn.Linear(32, 10);
 *   forward(x: Tensor) { return this.fc.call(F.relu(this.conv1.call(x)).mean([2, 3])); }
 * }
 */
import { mode } from '../autograd/mode';
import { checkDType, DType, isFloating } from '../dtype';
import { ValueError } from '../errors';
import { parseDevice } from '../cuda';
import type { Device } from '../storage';
import * as ops from '../ops/all';
import { Tensor } from '../tensor';

/** A Tensor that is a module's learnable state (requiresGrad by default). */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(data._storage, data.shape, data._strides, data._offset, data.dtype);
    this.requiresGrad = requiresGrad;
  }
  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}

export type ForwardHook = (module: Module, input: unknown[], output: unknown) => unknown;
export type ForwardPreHook = (module: Module, input: unknown[]) => unknown[] | void;
export interface RemovableHandle {
  remove(): void;
}

/** What loadStateDict found (with strict: false; strict mode throws instead). */
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Thrown by loadStateDict: lists missing, unexpected and shape-mismatched keys. */
export class StateDictError extends ValueError {
  constructor(
    message: string,
    readonly missingKeys: string[],
    readonly unexpectedKeys: string[],
    readonly mismatched: string[],
  ) {
    super(message);
  }
}

type Rec = Record<string, unknown>;

function isModuleArray(v: unknown): v is Module[] {
  return Array.isArray(v) && v.length > 0 && v.every((m) => m instanceof Module);
}
function isParamArray(v: unknown): v is Parameter[] {
  return Array.isArray(v) && v.length > 0 && v.every((m) => m instanceof Parameter);
}

function fmtShape(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/** Replaces t's data in place (keeping the object, as PyTorch's module.to keeps Parameters). */
// Moves a parameter or buffer to another device in place (the object is kept, as for dtypes).
function moveInPlace(t: Tensor, device: Device): void {
  const c = ops.to(t.detach(), device);
  const w = t as unknown as { _storage: unknown; _strides: number[]; _offset: number };
  w._storage = c._storage;
  w._strides = c._strides;
  w._offset = c._offset;
  if (t.grad) t.grad = ops.to(t.grad.detach(), device);
}

function convertInPlace(t: Tensor, dtype: DType): void {
  const c = ops.contiguous(ops.to(t.detach(), dtype));
  const w = t as unknown as { _storage: unknown; _strides: number[]; _offset: number; dtype: DType; shape: readonly number[] };
  w._storage = c._storage;
  w._strides = c._strides;
  w._offset = c._offset;
  w.dtype = dtype;
  if (t.grad) t.grad = ops.to(t.grad.detach(), dtype);
}

export abstract class Module {
  training = true;
  /** @internal */ _buffers = new Set<string>();
  /** @internal */ _nonPersistent = new Set<string>();
  /** @internal */ _hooks: ForwardHook[] = [];
  /** @internal */ _preHooks: ForwardPreHook[] = [];

  abstract forward(...args: any[]): any;

  /** Runs forward pre-hooks, forward, then forward hooks (PyTorch's module(x)). */
  call(...args: any[]): any {
    let input = args;
    if (this._preHooks.length)
      for (const h of this._preHooks.slice()) {
        const r = h(this, input);
        if (r !== undefined && r !== null) input = Array.isArray(r) ? r : [r];
      }
    let out = this.forward(...input);
    if (this._hooks.length)
      for (const h of this._hooks.slice()) {
        const r = h(this, input, out);
        if (r !== undefined) out = r;
      }
    return out;
  }

  /** hook(module, inputs, output) after forward; a returned value replaces the output. */
  registerForwardHook(h: ForwardHook, opts: { prepend?: boolean } = {}): RemovableHandle {
    if (typeof h !== 'function') throw new ValueError('registerForwardHook: expected a function');
    if (opts.prepend) this._hooks.unshift(h);
    else this._hooks.push(h);
    return { remove: () => void (this._hooks.includes(h) && this._hooks.splice(this._hooks.indexOf(h), 1)) };
  }
  /** hook(module, inputs) before forward; a returned array replaces the inputs. */
  registerForwardPreHook(h: ForwardPreHook, opts: { prepend?: boolean } = {}): RemovableHandle {
    if (typeof h !== 'function') throw new ValueError('registerForwardPreHook: expected a function');
    if (opts.prepend) this._preHooks.unshift(h);
    else this._preHooks.push(h);
    return { remove: () => void (this._preHooks.includes(h) && this._preHooks.splice(this._preHooks.indexOf(h), 1)) };
  }

  /**
   * Non-trainable state (running statistics) that belongs in stateDict (unless persistent is
   * false). The tensor becomes the field `name`.
   */
  registerBuffer(name: string, t: Tensor | null, persistent = true): void {
    if (typeof name !== 'string' || !name || name.includes('.')) throw new ValueError(`registerBuffer: invalid buffer name ${JSON.stringify(name)}`);
    if (t !== null && !(t instanceof Tensor)) throw new ValueError(`registerBuffer: buffer '${name}' must be a Tensor or null`);
    if (t instanceof Parameter) throw new ValueError(`registerBuffer: '${name}' is a Parameter; assign it as a field instead`);
    (this as unknown as Rec)[name] = t;
    this._buffers.add(name);
    if (!persistent) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
  }
  /** Sets a Parameter field (PyTorch's register_parameter). */
  registerParameter(name: string, p: Parameter | null): void {
    if (p !== null && !(p instanceof Parameter)) throw new ValueError(`registerParameter: '${name}' must be a Parameter or null`);
    (this as unknown as Rec)[name] = p;
  }
  /** Sets a child module field (PyTorch's add_module / register_module). */
  registerModule(name: string, m: Module | null): void {
    if (m !== null && !(m instanceof Module)) throw new ValueError(`registerModule: '${name}' must be a Module or null`);
    (this as unknown as Rec)[name] = m;
  }
  addModule(name: string, m: Module | null): void {
    this.registerModule(name, m);
  }

  *namedChildren(): Generator<[string, Module]> {
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module) yield [k, v];
      else if (isModuleArray(v)) for (let i = 0; i < v.length; i++) yield [`${k}.${i}`, v[i]];
    }
  }
  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }
  /** This module and every descendant (each once), depth first, with dotted names. */
  *namedModules(prefix = '', memo: Set<Module> = new Set()): Generator<[string, Module]> {
    if (memo.has(this)) return;
    memo.add(this);
    yield [prefix, this];
    for (const [k, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${k}` : k, memo);
  }
  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }
  /** This module's own Parameters (not its children's). */
  *_ownParameters(): Generator<[string, Parameter]> {
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Parameter) yield [k, v];
      else if (isParamArray(v)) for (let i = 0; i < v.length; i++) yield [`${k}.${i}`, v[i]];
    }
  }
  *namedParameters(prefix = '', recurse = true): Generator<[string, Parameter]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [k, v] of m._ownParameters()) {
        if (seen.has(v)) continue;
        seen.add(v);
        yield [mp ? `${mp}.${k}` : k, v];
      }
    }
  }
  parameters(recurse = true): Parameter[] {
    return [...this.namedParameters('', recurse)].map(([, p]) => p);
  }
  *namedBuffers(prefix = '', recurse = true): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const k of m._buffers) {
        const v = (m as unknown as Rec)[k];
        if (v instanceof Tensor && !seen.has(v)) {
          seen.add(v);
          yield [mp ? `${mp}.${k}` : k, v];
        }
      }
    }
  }
  buffers(recurse = true): Tensor[] {
    return [...this.namedBuffers('', recurse)].map(([, b]) => b);
  }
  /** The submodule at a dotted path ('' is this module). */
  getSubmodule(target: string): Module {
    if (!target) return this;
    for (const [k, m] of this.namedModules()) if (k === target) return m;
    throw new ValueError(`getSubmodule: ${this.constructor.name} has no submodule '${target}'`);
  }
  getParameter(target: string): Parameter {
    for (const [k, p] of this.namedParameters()) if (k === target) return p;
    throw new ValueError(`getParameter: ${this.constructor.name} has no parameter '${target}'`);
  }
  /** Total number of parameter elements (optionally only trainable ones). */
  numParameters(opts: { onlyTrainable?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!opts.onlyTrainable || p.requiresGrad) n += p.numel;
    return n;
  }

  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new ValueError('train: mode is expected to be boolean');
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** fn on every submodule (children first), then on this one; as PyTorch's apply. */
  apply(fn: (m: Module) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }
  /** Resets gradients: to null (setToNone, the default, like PyTorch 2) or to zero. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    const none = opts.setToNone ?? true;
    for (const p of this.parameters()) {
      if (!p.grad) continue;
      if (none) p.grad = null;
      else {
        p.grad = p.grad.detach();
        p.grad.zero_();
      }
    }
  }
  requiresGrad_(v = true): this {
    for (const p of this.parameters()) p.requiresGrad = v;
    return this;
  }

  /**
   * Casts floating parameters and buffers to a dtype in place (the Parameter objects are kept,
   * so optimizers holding them stay valid). Devices: 'cpu', 'cuda', 'cuda:N' (parameters and
   * buffers move in place; create the optimizer after or before, it keeps working).
   */
  to(arg: DType | Device | { dtype?: DType; device?: Device }): this {
    let dtype: DType | undefined;
    let device: string | undefined;
    if (typeof arg === 'string') {
      if (arg === 'cpu' || arg === 'cuda' || arg.startsWith('cuda:')) device = arg as Device;
      else dtype = checkDType(arg, 'Module.to');
    } else if (arg && typeof arg === 'object') {
      if (arg.dtype !== undefined) dtype = checkDType(arg.dtype, 'Module.to');
      device = arg.device;
    } else throw new ValueError(`Module.to: expected a dtype, a device or {dtype, device}, got ${String(arg)}`);
    if (device !== undefined) {
      const { name } = parseDevice(device, 'Module.to');
      const prev = mode.grad;
      mode.grad = false;
      try {
        for (const p of this.parameters()) if (p.device !== name) moveInPlace(p, name);
        for (const b of this.buffers()) if (b.device !== name) moveInPlace(b, name);
      } finally {
        mode.grad = prev;
      }
    }
    if (dtype === undefined) return this;
    if (!isFloating(dtype)) throw new ValueError(`Module.to: only floating point dtypes are accepted, got ${dtype}`);
    const prev = mode.grad;
    mode.grad = false;
    try {
      for (const p of this.parameters()) if (isFloating(p.dtype) && p.dtype !== dtype) convertInPlace(p, dtype);
      for (const b of this.buffers()) if (isFloating(b.dtype) && b.dtype !== dtype) convertInPlace(b, dtype);
    } finally {
      mode.grad = prev;
    }
    return this;
  }
  float(): this {
    return this.to('float32');
  }
  double(): this {
    return this.to('float64');
  }
  /** Moves parameters and buffers to a CUDA device (cuda:0 by default). */
  cuda(device: number | Device = 0): this {
    return this.to(typeof device === 'number' ? (`cuda:${device}` as Device) : device);
  }
  cpu(): this {
    return this.to('cpu');
  }

  /**
   * Parameters and persistent buffers by dotted name, module by module (params first), as
   * PyTorch orders them. The tensors share memory with the module (detached).
   */
  stateDict(opts: { keepVars?: boolean } = {}): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [mp, m] of this.namedModules()) {
      const pre = mp ? `${mp}.` : '';
      for (const [k, p] of m._ownParameters()) if (!(pre + k in out)) out[pre + k] = opts.keepVars ? p : p.detach();
      for (const k of m._buffers) {
        const v = (m as unknown as Rec)[k];
        if (v instanceof Tensor && !m._nonPersistent.has(k)) out[pre + k] = opts.keepVars ? v : v.detach();
      }
    }
    return out;
  }

  /**
   * Copies tensors from a state dict into this module's parameters and buffers (under noGrad).
   * strict (default true): missing or unexpected keys throw a StateDictError listing them all.
   * A shape mismatch always throws.
   */
  loadStateDict(dict: Record<string, Tensor> | Map<string, Tensor>, opts: { strict?: boolean } = {}): LoadResult {
    const strict = opts.strict ?? true;
    if (!dict || typeof dict !== 'object') throw new ValueError('loadStateDict: expected an object of tensors');
    const src = dict instanceof Map ? Object.fromEntries(dict) : dict;
    const own = this.stateDict();
    const missing: string[] = [];
    const unexpected: string[] = [];
    const mismatched: string[] = [];
    const mismatchMsgs: string[] = [];
    for (const k of Object.keys(own)) if (!(k in src)) missing.push(k);
    for (const k of Object.keys(src)) {
      if (!(k in own)) {
        unexpected.push(k);
        continue;
      }
      const v = src[k];
      if (!(v instanceof Tensor)) {
        mismatched.push(k);
        mismatchMsgs.push(`value for ${k} is not a Tensor`);
        continue;
      }
      const mine = own[k];
      if (mine.shape.length !== v.shape.length || mine.shape.some((s, i) => s !== v.shape[i])) {
        mismatched.push(k);
        mismatchMsgs.push(
          `size mismatch for ${k}: copying a param with shape ${fmtShape(v.shape)} from checkpoint, the shape in current model is ${fmtShape(mine.shape)}.`,
        );
      }
    }
    const errs: string[] = [];
    if (strict && missing.length) errs.push(`Missing key(s) in state_dict: ${missing.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && unexpected.length) errs.push(`Unexpected key(s) in state_dict: ${unexpected.map((k) => `"${k}"`).join(', ')}.`);
    errs.push(...mismatchMsgs);
    if (errs.length)
      throw new StateDictError(
        `Error(s) in loading state_dict for ${this.constructor.name}:\n\t${errs.join('\n\t')}`,
        missing,
        unexpected,
        mismatched,
      );
    const prev = mode.grad;
    mode.grad = false;
    try {
      for (const k of Object.keys(own)) if (k in src) ops.copy_(own[k], src[k]);
    } finally {
      mode.grad = prev;
    }
    return { missingKeys: missing, unexpectedKeys: unexpected };
  }

  /** Extra text inside the module's parentheses when printed (PyTorch's extra_repr). */
  extraRepr(): string {
    return '';
  }
  /** The module tree as PyTorch prints it. */
  toString(): string {
    const kids = [...this.namedChildren()];
    const extra = this.extraRepr();
    const head = `${this.constructor.name}(`;
    if (!kids.length) return `${head}${extra})`;
    const lines: string[] = [];
    if (extra) lines.push(...extra.split('\n'));
    for (const [k, m] of kids) lines.push(`(${k}): ${m.toString().split('\n').join('\n  ')}`);
    return `${head}\n  ${lines.join('\n  ')}\n)`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

export function checkModule(m: unknown, op: string): Module {
  if (!(m instanceof Module)) throw new ValueError(`${op}: expected an nn.Module`);
  return m;
}

/** Python's repr of a float (1e-05, 0.1, 2.0), for PyTorch-style module printing. */
export function pyFloat(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return `${x}.0`;
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    const [m, e] = x.toExponential().split('e');
    const n = Number(e);
    return `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(x);
}

/** Python's repr of a tuple of ints: (3,) / (3, 3). */
export function pyTuple(v: readonly number[]): string {
  return v.length === 1 ? `(${v[0]},)` : `(${v.join(', ')})`;
}

/** Python's repr of a bool. */
export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}
