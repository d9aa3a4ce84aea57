/** Sequential, ModuleList, ModuleDict, ParameterList: modules holding modules, in order. */
import { IndexError, ValueError } from '../../errors';
import { Tensor } from '../../tensor';
import { Module, Parameter } from '../module';

function checkMod(m: unknown, op: string): Module {
  if (!(m instanceof Module)) throw new ValueError(`${op}: expected an nn.Module, got ${m === null ? 'null' : typeof m}`);
  return m;
}

function normIndex(i: number, n: number, op: string): number {
  if (!Number.isInteger(i)) throw new IndexError(`${op}: index must be an integer, got ${i}`);
  const j = i < 0 ? i + n : i;
  if (j < 0 || j >= n) throw new IndexError(`${op}: index ${i} is out of range (length ${n})`);
  return j;
}

/** Ordered children kept in a list; they print and load as (0), (1), ... like PyTorch. */
abstract class ListLike extends Module {
  /** @internal */ _items: Module[] = [];
  get length(): number {
    return this._items.length;
  }
  override *namedChildren(): Generator<[string, Module]> {
    for (let i = 0; i < this._items.length; i++) yield [String(i), this._items[i]];
  }
  /** The module at index i (negative counts from the end). */
  at(i: number): Module {
    return this._items[normIndex(i, this._items.length, `${this.constructor.name}.at`)];
  }
  get(i: number): Module {
    return this.at(i);
  }
  /** Replaces the module at index i. */
  set(i: number, m: Module): void {
    this._items[normIndex(i, this._items.length, `${this.constructor.name}.set`)] = checkMod(m, `${this.constructor.name}.set`);
  }
  append(m: Module): this {
    this._items.push(checkMod(m, `${this.constructor.name}.append`));
    return this;
  }
  extend(ms: Iterable<Module>): this {
    for (const m of ms) this.append(m);
    return this;
  }
  insert(i: number, m: Module): this {
    const n = this._items.length;
    const j = Math.max(0, Math.min(n, i < 0 ? i + n : i));
    this._items.splice(j, 0, checkMod(m, `${this.constructor.name}.insert`));
    return this;
  }
  /** Removes and returns the module at index i (default: the last). */
  pop(i = -1): Module {
    const j = normIndex(i, this._items.length, `${this.constructor.name}.pop`);
    return this._items.splice(j, 1)[0];
  }
  [Symbol.iterator](): Iterator<Module> {
    return this._items[Symbol.iterator]();
  }
  toArray(): Module[] {
    return this._items.slice();
  }
  map<T>(fn: (m: Module, i: number) => T): T[] {
    return this._items.map(fn);
  }
}

function collect(args: unknown[], op: string): [string, Module][] {
  if (args.length === 1 && Array.isArray(args[0])) args = args[0];
  else if (args.length === 1 && args[0] instanceof Map) return [...(args[0] as Map<string, unknown>)].map(([k, m]) => [k, checkMod(m, op)]);
  else if (args.length === 1 && args[0] && typeof args[0] === 'object' && !(args[0] instanceof Module))
    return Object.entries(args[0] as Record<string, unknown>).map(([k, m]) => [k, checkMod(m, op)]);
  return args.map((m, i) => [String(i), checkMod(m, op)]);
}

/**
 * Runs its modules in order, each one's output feeding the next.
 * new Sequential(a, b, c) | new Sequential([a, b, c]) | new Sequential({ conv: a, act: b }) (named).
 */
export class Sequential extends ListLike {
  /** @internal */ _names: string[] | null = null;
  constructor(...modules: (Module | Module[] | Record<string, Module> | Map<string, Module>)[]) {
    super();
    const items = collect(modules, 'Sequential');
    this._items = items.map(([, m]) => m);
    if (items.some(([k], i) => k !== String(i))) this._names = items.map(([k]) => k);
  }
  override *namedChildren(): Generator<[string, Module]> {
    for (let i = 0; i < this._items.length; i++) yield [this._names?.[i] ?? String(i), this._items[i]];
  }
  /** The module at index i, or with the given name (named Sequential). */
  override get(i: number | string): Module {
    if (typeof i === 'string') {
      const j = this._names ? this._names.indexOf(i) : /^\d+$/.test(i) ? Number(i) : -1;
      if (j < 0 || j >= this._items.length) throw new IndexError(`Sequential.get: no module named '${i}'`);
      return this._items[j];
    }
    return this.at(i);
  }
  override append(m: Module): this {
    super.append(m);
    if (this._names) this._names.push(String(this._items.length - 1));
    return this;
  }
  override insert(i: number, m: Module): this {
    if (this._names) throw new ValueError('Sequential.insert: not supported on a named Sequential');
    return super.insert(i, m);
  }
  override pop(i = -1): Module {
    const j = normIndex(i, this._items.length, 'Sequential.pop');
    this._names?.splice(j, 1);
    return super.pop(j);
  }
  /** A new Sequential over modules start..end (shared, not copied). */
  slice(start?: number, end?: number): Sequential {
    return new Sequential(this._items.slice(start, end));
  }
  forward(x: unknown, ...rest: unknown[]): any {
    let y: unknown = x;
    for (let i = 0; i < this._items.length; i++) y = i === 0 ? this._items[i].call(y, ...rest) : this._items[i].call(y);
    return y;
  }
}

/** A list of modules whose parameters are registered; it has no forward of its own. */
export class ModuleList extends ListLike {
  constructor(modules: Iterable<Module> = []) {
    super();
    for (const m of modules) this.append(m);
  }
  forward(): never {
    throw new ValueError('ModuleList: has no forward(); iterate over it and call the modules');
  }
  /** Like PyTorch, runs of identical modules print once: `(0-2): 3 x Linear(...)`. */
  override toString(): string {
    if (!this._items.length) return 'ModuleList()';
    const reprs = this._items.map((m) => m.toString());
    const lines: string[] = [];
    for (let i = 0; i < reprs.length; ) {
      let j = i;
      while (j + 1 < reprs.length && reprs[j + 1] === reprs[i]) j++;
      const body = reprs[i].split('\n').join('\n  ');
      lines.push(i === j ? `(${i}): ${body}` : `(${i}-${j}): ${j - i + 1} x ${body}`);
      i = j + 1;
    }
    return `ModuleList(\n  ${lines.join('\n  ')}\n)`;
  }
}

/** Modules by name (insertion order kept, numeric-looking keys included). */
export class ModuleDict extends Module {
  /** @internal */ _map = new Map<string, Module>();
  constructor(modules: Record<string, Module> | Map<string, Module> | [string, Module][] = {}) {
    super();
    const entries = modules instanceof Map ? [...modules] : Array.isArray(modules) ? modules : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }
  override *namedChildren(): Generator<[string, Module]> {
    yield* this._map;
  }
  get size(): number {
    return this._map.size;
  }
  get(key: string): Module {
    const m = this._map.get(key);
    if (!m) throw new IndexError(`ModuleDict: no module named '${key}'`);
    return m;
  }
  set(key: string, m: Module): this {
    if (typeof key !== 'string' || !key || key.includes('.')) throw new ValueError(`ModuleDict: invalid key ${JSON.stringify(key)}`);
    this._map.set(key, checkMod(m, 'ModuleDict.set'));
    return this;
  }
  has(key: string): boolean {
    return this._map.has(key);
  }
  delete(key: string): boolean {
    return this._map.delete(key);
  }
  pop(key: string): Module {
    const m = this.get(key);
    this._map.delete(key);
    return m;
  }
  keys(): string[] {
    return [...this._map.keys()];
  }
  values(): Module[] {
    return [...this._map.values()];
  }
  entries(): [string, Module][] {
    return [...this._map.entries()];
  }
  update(modules: Record<string, Module> | Map<string, Module>): this {
    for (const [k, m] of modules instanceof Map ? modules : Object.entries(modules)) this.set(k, m);
    return this;
  }
  [Symbol.iterator](): Iterator<[string, Module]> {
    return this._map[Symbol.iterator]();
  }
  forward(): never {
    throw new ValueError('ModuleDict: has no forward(); look modules up by name and call them');
  }
}

/** A list of Parameters registered on the module (named 0, 1, ...). */
export class ParameterList extends Module {
  /** @internal */ _params: Parameter[] = [];
  constructor(params: Iterable<Tensor> = []) {
    super();
    for (const p of params) this.append(p);
  }
  override *_ownParameters(): Generator<[string, Parameter]> {
    for (let i = 0; i < this._params.length; i++) yield [String(i), this._params[i]];
  }
  get length(): number {
    return this._params.length;
  }
  at(i: number): Parameter {
    return this._params[normIndex(i, this._params.length, 'ParameterList.at')];
  }
  append(p: Tensor): this {
    if (!(p instanceof Tensor)) throw new ValueError('ParameterList.append: expected a Tensor');
    this._params.push(p instanceof Parameter ? p : new Parameter(p));
    return this;
  }
  [Symbol.iterator](): Iterator<Parameter> {
    return this._params[Symbol.iterator]();
  }
  override extraRepr(): string {
    return this._params.map((p, i) => `(${i}): Parameter containing: [${p.dtype} of size ${p.shape.join('x')}]`).join('\n');
  }
  forward(): never {
    throw new ValueError('ParameterList: has no forward()');
  }
}
