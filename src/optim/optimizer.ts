/**
 * torch.optim.Optimizer: parameter groups with per-group options, per-parameter state, stateDict
 * in PyTorch's layout, and a step that updates every parameter of a group in one native call
 * (native/cpu/optim.cpp: OpenMP over all elements of all parameters), never through autograd.
 *
 * @example
 * const opt = new optim.SGD([{ params: model.features.parameters(), lr: 0.1 }, { params: model.head.parameters() }], { lr: 0.01, momentum: 0.9 });
 * for (const [x, y] of loader) {
 *   opt.zeroGrad();
 *   lossFn.call(model.call(x), y).backward();
 *   opt.step();
 * }
 */
import { enableGrad } from '../autograd/mode';
import { DType, DTYPE_CODE, isFloating } from '../dtype';
import { DTypeError, ShapeError, ValueError } from '../errors';
import * as K from '../kernels';
import type { Handle } from '../native';
import { hook } from '../profiler/hook';
import { Tensor } from '../tensor';

/** A parameter group as given to a constructor or addParamGroup: params plus option overrides. */
export interface ParamGroupSpec {
  params: Iterable<Tensor> | Tensor;
  [option: string]: unknown;
}

/** A parameter group inside an optimizer: every option filled in (defaults for missing ones). */
export type ParamGroup<O> = Required<O> & { params: Tensor[]; [key: string]: unknown };

export type ParamsArg = Iterable<Tensor> | Iterable<ParamGroupSpec>;

/** Per-parameter state: the step count and the state tensors, by name. */
export type ParamState = Record<string, Tensor | number>;

/** Optimizer.stateDict(): state keyed by parameter index, groups listing their parameter indices. */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

/** What a subclass hands the native step for one parameter. */
export interface NativeParamStep {
  /** Up to three state tensors (contiguous, the parameter's dtype and shape), null where unused. */
  slots: (Tensor | null)[];
  /** Per-parameter scalars (bias corrections, the first-step flag, ...). */
  x0?: number;
  x1?: number;
}

export const OPTIM_KIND = { sgd: 0, adam: 1, rmsprop: 2, adagrad: 3 } as const;
const HEADER = 16;
const RECORD = 8;
const MAX_HYPER = 14;

/** A zero-filled (or `value`-filled) contiguous tensor like p: optimizer state. */
export function stateLike(p: Tensor, value = 0): Tensor {
  return K.full(value, p.dtype, p.shape, p.device);
}

function isTensorIterable(x: unknown): x is Iterable<unknown> {
  return x !== null && typeof x === 'object' && typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function';
}

export abstract class Optimizer<O extends object = Record<string, unknown>> {
  /** Options every group starts from. */
  readonly defaults: Required<O>;
  paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state (created on the first step), keyed by the parameter tensor. */
  state = new Map<Tensor, ParamState>();
  /** The optimizer's name, used in error messages ('SGD', 'Adam', ...). */
  readonly name: string;

  protected constructor(name: string, params: ParamsArg, baseDefaults: Required<O>, opts: O = {} as O) {
    this.name = name;
    if (opts === null || typeof opts !== 'object') this.fail(`options must be an object, got ${String(opts)}`);
    for (const k of Object.keys(opts))
      if (!(k in baseDefaults)) this.fail(`unknown option '${k}' (expected one of ${Object.keys(baseDefaults).join(', ')})`);
    const defaults = { ...baseDefaults } as Required<O>;
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) (defaults as Record<string, unknown>)[k] = v;
    this.validate(defaults, 'options');
    this.defaults = defaults;
    if (params instanceof Tensor) throw new ValueError(`${name}: params argument given to the optimizer should be an iterable of Tensors or objects, but got a Tensor`);
    if (!isTensorIterable(params)) throw new ValueError(`${name}: params must be an iterable of Tensors or of parameter groups ({params, ...options})`);
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new ValueError(`${name}: optimizer got an empty parameter list`);
    const groups: ParamGroupSpec[] =
      list[0] instanceof Tensor ? [{ params: list as Tensor[] }] : (list as ParamGroupSpec[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Checks one set of options (the defaults or a group's); throws ValueError naming the optimizer. */
  protected abstract validate(opts: Required<O>, where: string): void;
  /** Native kernel id and hyperparameters for a group (native/cpu/optim.h). */
  protected abstract kind(group: ParamGroup<O>): number;
  protected abstract hyper(group: ParamGroup<O>): number[];
  /** Creates/updates the state of one parameter for this step and returns what the kernel needs. */
  protected abstract prepare(group: ParamGroup<O>, p: Tensor, state: ParamState): NativeParamStep;

  /** Option names this optimizer accepts (the keys of its defaults). */
  get optionNames(): string[] {
    return Object.keys(this.defaults);
  }

  protected fail(msg: string): never {
    throw new ValueError(`${this.name}: ${msg}`);
  }
  protected checkNonNeg(opts: Record<string, unknown>, key: string, where: string, label = key): void {
    const v = opts[key];
    if (typeof v !== 'number' || Number.isNaN(v)) this.fail(`${label} must be a number, got ${String(v)} (${where})`);
    if ((v as number) < 0) this.fail(`Invalid ${label}: ${v} (must be >= 0) (${where})`);
  }
  protected checkBool(opts: Record<string, unknown>, key: string, where: string): void {
    if (typeof opts[key] !== 'boolean') this.fail(`${key} must be a boolean, got ${String(opts[key])} (${where})`);
  }

  /** Adds a group of parameters with its own options (the missing ones from the defaults). */
  addParamGroup(spec: ParamGroupSpec): void {
    if (!spec || typeof spec !== 'object' || !('params' in spec)) this.fail('a parameter group must be an object with a params field');
    const known = new Set(Object.keys(this.defaults));
    for (const k of Object.keys(spec)) {
      if (k !== 'params' && k !== 'name' && !known.has(k))
        this.fail(`unknown option '${k}' in parameter group (expected one of ${[...known].join(', ')})`);
    }
    const raw = spec.params instanceof Tensor ? [spec.params] : isTensorIterable(spec.params) ? [...spec.params] : null;
    if (!raw) this.fail('params of a parameter group must be a Tensor or an iterable of Tensors');
    const params: Tensor[] = [];
    const inGroup = new Set<Tensor>();
    for (const p of raw) {
      if (!(p instanceof Tensor)) this.fail(`can only optimize Tensors, got ${typeof p}`);
      if (!p.isLeaf) this.fail("can't optimize a non-leaf Tensor");
      if (!isFloating(p.dtype)) throw new DTypeError(`${this.name}: can only optimize floating point parameters, got ${p.dtype}`);
      if (inGroup.has(p)) continue; // PyTorch warns about duplicates; keep the first
      inGroup.add(p);
      params.push(p);
    }
    for (const g of this.paramGroups)
      for (const p of g.params) if (inGroup.has(p)) this.fail('some parameters appear in more than one parameter group');
    const group = { ...this.defaults } as ParamGroup<O>;
    for (const [k, v] of Object.entries(spec)) if (k !== 'params') (group as Record<string, unknown>)[k] = v;
    this.validate(group, `param group ${this.paramGroups.length}`);
    group.params = params;
    this.paramGroups.push(group);
  }

  /** Resets the gradients of all optimized parameters: to null (default) or to zero. */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    const none = opts.setToNone ?? true;
    for (const g of this.paramGroups)
      for (const p of g.params) {
        if (!p.grad) continue;
        if (none) p.grad = null;
        else {
          p.grad = p.grad.detach();
          p.grad.zero_();
        }
      }
  }

  /**
   * One optimization step over every parameter that has a gradient. `closure` (re-evaluates the
   * model and returns the loss) runs first, with gradients enabled; its result is returned.
   */
  step<L = unknown>(closure?: () => L): L | undefined {
    if (closure !== undefined && typeof closure !== 'function') this.fail('step: closure must be a function');
    // a running profiler records the step (closure included) as torch.profiler does
    // ("Optimizer.step#Adam.step"), so the fused update kernels it queues belong to an op
    return hook.on ? hook.run(`Optimizer.step#${this.name}.step`, [], () => this.stepAll(closure)) : this.stepAll(closure);
  }

  private stepAll<L>(closure?: () => L): L | undefined {
    const loss = closure !== undefined ? enableGrad(closure) : undefined;
    for (const g of this.paramGroups) this.stepGroup(g);
    return loss;
  }

  private stepGroup(group: ParamGroup<O>): void {
    const byDtype = new Map<DType, { p: Tensor; work: Tensor; g: Tensor; st: NativeParamStep }[]>();
    for (const p of group.params) {
      const grad = p.grad;
      if (!grad) continue;
      if (grad.shape.length !== p.shape.length || grad.shape.some((s, i) => s !== p.shape[i]))
        throw new ShapeError(`${this.name}: gradient of shape [${grad.shape.join(', ')}] does not match its parameter's shape [${p.shape.join(', ')}]`);
      // fail before touching the state (a disposed tensor must not advance the step count)
      p._storage.live(this.name);
      grad._storage.live(this.name);
      let state = this.state.get(p);
      if (!state) {
        state = {};
        this.state.set(p, state);
      }
      const st = this.prepare(group, p, state);
      const g = K.contiguous(K.cast(grad, p.dtype));
      const work = p.isContiguous() ? p : K.contiguous(p);
      let list = byDtype.get(p.dtype);
      if (!list) byDtype.set(p.dtype, (list = []));
      list.push({ p, work, g, st });
    }
    if (!byDtype.size) return;
    const kind = this.kind(group);
    const hyper = this.hyper(group);
    if (hyper.length > MAX_HYPER) throw new Error(`${this.name}: too many hyperparameters`);
    for (const [dtype, items] of byDtype) {
      const desc = new Float64Array(HEADER + RECORD * items.length);
      const handles: (Handle | null)[] = new Array(5 * items.length);
      desc[0] = DTYPE_CODE[dtype];
      desc[1] = items.length;
      for (let i = 0; i < hyper.length; i++) desc[2 + i] = hyper[i];
      items.forEach(({ work, g, st }, i) => {
        const r = HEADER + RECORD * i;
        desc[r] = work.numel;
        desc[r + 1] = work._offset;
        desc[r + 2] = g._offset;
        handles[5 * i] = work._storage.live(this.name);
        handles[5 * i + 1] = g._storage.live(this.name);
        for (let j = 0; j < 3; j++) {
          const s = st.slots[j] ?? null;
          if (s && (s.dtype !== dtype || !s.isContiguous() || s.numel !== work.numel))
            throw new DTypeError(`${this.name}: state tensor ${j} of a parameter does not match it (dtype ${s.dtype}, ${s.numel} elements)`);
          handles[5 * i + 2 + j] = s ? s._storage.live(this.name) : null;
          desc[r + 3 + j] = s ? s._offset : 0;
        }
        desc[r + 6] = st.x0 ?? 0;
        desc[r + 7] = st.x1 ?? 0;
      });
      K.optimStep(kind, handles, desc, `${this.name}.step`);
      for (const { p, work, st } of items) {
        if (work !== p) K.copy(work, p.dtype, p.shape, p);
        p._storage.version++;
        for (const s of st.slots) if (s) s._storage.version++;
      }
    }
  }

  /** Parameters in index order (the numbering stateDict uses). */
  protected orderedParams(): Tensor[] {
    const out: Tensor[] = [];
    for (const g of this.paramGroups) out.push(...g.params);
    return out;
  }

  /**
   * The optimizer's state in PyTorch's layout: `state[i]` for parameter i (numbered across the
   * groups in order) and `paramGroups` with every option and `params` as those indices. State
   * tensors are the live ones (as in PyTorch); clone them to keep a snapshot.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    this.orderedParams().forEach((p, i) => index.set(p, i));
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    const paramGroups = this.paramGroups.map((g) => {
      const out: Record<string, unknown> & { params: number[] } = { params: [] };
      for (const [k, v] of Object.entries(g)) if (k !== 'params') out[k] = Array.isArray(v) ? v.slice() : v;
      out.params = g.params.map((p) => index.get(p)!);
      return out;
    });
    return { state, paramGroups };
  }

  /**
   * Restores options and state saved by stateDict() (of an optimizer over parameters of the same
   * shapes, in the same group structure). State tensors are copied and cast to each parameter's dtype.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    if (!sd || typeof sd !== 'object' || !Array.isArray(sd.paramGroups) || typeof sd.state !== 'object')
      this.fail('loadStateDict: expected an object with state and paramGroups');
    if (sd.paramGroups.length !== this.paramGroups.length)
      this.fail(`loadStateDict: loaded state dict has ${sd.paramGroups.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    sd.paramGroups.forEach((g, i) => {
      if (!Array.isArray(g.params) || g.params.length !== this.paramGroups[i].params.length)
        this.fail("loadStateDict: loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
    });
    const byIndex = new Map<number, Tensor>();
    sd.paramGroups.forEach((g, i) => g.params.forEach((idx, j) => byIndex.set(idx, this.paramGroups[i].params[j])));
    const newState = new Map<Tensor, ParamState>();
    for (const [k, s] of Object.entries(sd.state)) {
      const p = byIndex.get(Number(k));
      if (!p) continue;
      const copy: ParamState = {};
      for (const [name, v] of Object.entries(s)) {
        if (v instanceof Tensor) {
          if (v.shape.length !== p.shape.length || v.shape.some((d, j) => d !== p.shape[j]))
            throw new ShapeError(`${this.name}: loadStateDict: state '${name}' of parameter ${k} has shape [${v.shape.join(', ')}], the parameter [${p.shape.join(', ')}]`);
          const c = K.copy(v, p.dtype, p.shape, null);
          copy[name] = c.device === p.device ? c : K.transfer(c, p.device);
        } else copy[name] = v;
      }
      newState.set(p, copy);
    }
    this.paramGroups = sd.paramGroups.map((g, i) => {
      const ng: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') ng[k] = Array.isArray(v) ? v.slice() : v;
      ng.params = this.paramGroups[i].params;
      return ng as ParamGroup<O>;
    });
    this.state = newState;
  }

  toString(): string {
    const lines = [`${this.name} (`];
    this.paramGroups.forEach((g, i) => {
      lines.push(`Parameter Group ${i}`);
      for (const k of Object.keys(g).sort()) if (k !== 'params') lines.push(`    ${k}: ${JSON.stringify(g[k])}`);
    });
    lines.push(')');
    return lines.join('\n');
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
