/**
 * torch.nn.utils.prune: pruning a module's parameter by a mask. Pruning `weight` of a module moves
 * the Parameter to `weight_orig` (the same Parameter object, so optimizers holding it stay valid),
 * adds the buffer `weight_mask` (0 = pruned, same dtype as the weight), and makes `weight` a plain
 * tensor `weight_orig * weight_mask` that a forward pre-hook recomputes before every forward. The
 * gradient reaching `weight_orig` is therefore zero at pruned positions, and the effective weight
 * stays zero there through training. Pruning the same parameter again prunes among the entries
 * (or, for structured pruning, the channels) still unpruned, and combines the masks, as PyTorch's
 * PruningContainer does. remove() makes the pruning permanent.
 *
 * @example
 * prune.l1Unstructured(model.fc1, 'weight', 0.5);          // 50 % of fc1.weight, smallest |w| first
 * prune.lnStructured(model.conv1, 'weight', 0.25, 2, 0);   // 25 % of the output channels, by L2 norm
 * prune.globalUnstructured([[model.conv1, 'weight'], [model.fc1, 'weight']], 'l1Unstructured', 0.2);
 * console.log(prune.sparsityReport(model).toString());
 * prune.remove(model.fc1, 'weight');
 */
import { noGrad } from '../../autograd/mode';
import { ValueError } from '../../errors';
import * as ops from '../../ops/all';
import { Tensor } from '../../tensor';
import { Module, Parameter, RemovableHandle } from '../module';

type Rec = Record<string, unknown>;

/** How much to prune: a fraction in [0, 1) or an integer count ≥ 1 (plain numbers), or explicit. */
export type PruneAmount = number | { fraction: number } | { count: number };

interface PruneRecord {
  hook: RemovableHandle;
  methods: string[];
}
const records = new WeakMap<Module, Map<string, PruneRecord>>();

function recordsOf(m: Module): Map<string, PruneRecord> {
  let r = records.get(m);
  if (!r) records.set(m, (r = new Map()));
  return r;
}

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The number of units to prune out of `size` (PyTorch's _compute_nparams_toprune + validation). */
function nToPrune(amount: PruneAmount, size: number, op: string): number {
  let count: number | undefined;
  let fraction: number | undefined;
  if (typeof amount === 'number') {
    if (Number.isNaN(amount) || amount < 0) throw new ValueError(`${op}: amount=${amount} should either be a float in the range [0, 1] or a non-negative integer`);
    if (Number.isInteger(amount) && amount >= 1) count = amount;
    else fraction = amount;
  } else if (amount && typeof amount === 'object' && 'count' in amount) count = amount.count;
  else if (amount && typeof amount === 'object' && 'fraction' in amount) fraction = amount.fraction;
  else throw new ValueError(`${op}: amount must be a number, {fraction} or {count}`);
  if (count !== undefined) {
    if (!Number.isInteger(count) || count < 0) throw new ValueError(`${op}: amount count must be a non-negative integer, got ${count}`);
    if (count > size) throw new ValueError(`${op}: amount=${count} should be smaller than the number of parameters to prune=${size}`);
    return count;
  }
  if (!(fraction! >= 0 && fraction! <= 1)) throw new ValueError(`${op}: amount=${fraction} should be a fraction in the range [0, 1]`);
  return roundHalfEven(fraction! * size);
}

function values(t: Tensor): Float64Array {
  return Float64Array.from(ops.contiguous(t.detach()).dataSync() as unknown as ArrayLike<number>);
}

function maskTensor(m: Float64Array, like: Tensor): Tensor {
  return ops.tensor(m, { dtype: like.dtype, shape: like.shape as number[], device: like.device });
}

/** Zeroes, among the positions where `mask` is 1, the k with the smallest `score`. */
function pruneSmallest(score: Float64Array, mask: Float64Array, amount: PruneAmount, op: string): Float64Array {
  const live: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) live.push(i);
  const k = nToPrune(amount, live.length, op);
  const out = Float64Array.from(mask);
  if (k === 0) return out;
  live.sort((a, b) => score[a] - score[b] || a - b);
  for (let i = 0; i < k; i++) out[live[i]] = 0;
  return out;
}

function getParam(module: Module, name: string, op: string): { orig: Tensor; mask: Float64Array | null } {
  if (!(module instanceof Module)) throw new ValueError(`${op}: expected an nn.Module`);
  if (typeof name !== 'string' || !name) throw new ValueError(`${op}: expected a parameter name`);
  const m = module as unknown as Rec;
  const orig = m[`${name}_orig`];
  if (orig instanceof Tensor && m[`${name}_mask`] instanceof Tensor) return { orig, mask: values(m[`${name}_mask`] as Tensor) };
  const p = m[name];
  if (!(p instanceof Tensor)) throw new ValueError(`${op}: module ${module.constructor.name} has no parameter or buffer with name '${name}'`);
  return { orig: p, mask: null };
}

/** Installs (or updates) the mask on module.name: the reparametrisation described at the top. */
function applyMask(module: Module, name: string, newMask: Float64Array, method: string): Module {
  const m = module as unknown as Rec;
  const recs = recordsOf(module);
  let rec = recs.get(name);
  if (!(m[`${name}_orig`] instanceof Tensor)) {
    const orig = m[name];
    if (!(orig instanceof Tensor)) throw new ValueError(`prune: module has no parameter '${name}'`);
    delete m[name];
    m[`${name}_orig`] = orig;
  }
  const orig = m[`${name}_orig`] as Tensor;
  module.registerBuffer(`${name}_mask`, maskTensor(newMask, orig));
  m[name] = ops.mul(orig, m[`${name}_mask`] as Tensor);
  if (!rec) {
    const hook = module.registerForwardPreHook((mod) => {
      const r = mod as unknown as Rec;
      r[name] = ops.mul(r[`${name}_orig`] as Tensor, r[`${name}_mask`] as Tensor);
    });
    rec = { hook, methods: [] };
    recs.set(name, rec);
  }
  rec.methods.push(method);
  return module;
}

/** Prunes the `amount` entries of module[name] with the smallest absolute value (or importance score). */
export function l1Unstructured(module: Module, name: string, amount: PruneAmount, opts: { importanceScores?: Tensor } = {}): Module {
  const op = 'prune.l1Unstructured';
  const { orig, mask } = getParam(module, name, op);
  const score = values(opts.importanceScores ?? orig).map(Math.abs);
  if (score.length !== orig.numel) throw new ValueError(`${op}: importanceScores must have the shape of the parameter`);
  const m = pruneSmallest(score, mask ?? new Float64Array(orig.numel).fill(1), amount, op);
  return applyMask(module, name, m, 'l1Unstructured');
}

/** Prunes `amount` entries of module[name] chosen at random (ignis.manualSeed makes it repeatable). */
export function randomUnstructured(module: Module, name: string, amount: PruneAmount): Module {
  const op = 'prune.randomUnstructured';
  const { orig, mask } = getParam(module, name, op);
  const score = values(ops.rand(orig.shape as number[], { dtype: 'float64' }));
  const m = pruneSmallest(score, mask ?? new Float64Array(orig.numel).fill(1), amount, op);
  return applyMask(module, name, m, 'randomUnstructured');
}

/** Per-channel (index along dim) L_n norms of t, n a positive number or Infinity. */
function channelNorms(v: Float64Array, shape: readonly number[], dim: number, n: number): Float64Array {
  const size = shape[dim];
  let inner = 1;
  for (let i = dim + 1; i < shape.length; i++) inner *= shape[i];
  const acc = new Float64Array(size).fill(n === -Infinity ? Infinity : 0);
  for (let i = 0; i < v.length; i++) {
    const c = Math.floor(i / inner) % size;
    const a = Math.abs(v[i]);
    if (n === Infinity) acc[c] = Math.max(acc[c], a);
    else if (n === -Infinity) acc[c] = Math.min(acc[c], a);
    else if (n === 0) acc[c] += a !== 0 ? 1 : 0;
    else acc[c] += a ** n;
  }
  if (Number.isFinite(n) && n !== 0) for (let c = 0; c < size; c++) acc[c] = acc[c] ** (1 / n);
  return acc;
}

function structuredMask(
  orig: Tensor,
  mask: Float64Array | null,
  amount: PruneAmount,
  dim: number,
  score: (live: number[]) => number[],
  op: string,
): Float64Array {
  const shape = orig.shape;
  if (shape.length === 0) throw new ValueError(`${op}: structured pruning needs a tensor with at least one dim`);
  const d = dim < 0 ? dim + shape.length : dim;
  if (!Number.isInteger(d) || d < 0 || d >= shape.length) throw new ValueError(`${op}: dim ${dim} is out of range for a ${shape.length}-d tensor`);
  const size = shape[d];
  let inner = 1;
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i];
  const base = mask ?? new Float64Array(orig.numel).fill(1);
  // channels not yet fully pruned
  const alive = new Array(size).fill(false);
  for (let i = 0; i < base.length; i++) if (base[i] !== 0) alive[Math.floor(i / inner) % size] = true;
  const live: number[] = [];
  for (let c = 0; c < size; c++) if (alive[c]) live.push(c);
  const k = nToPrune(amount, live.length, op);
  const s = score(live);
  const order = live.map((c, j) => [c, s[j]] as const).sort((a, b) => a[1] - b[1] || a[0] - b[0]);
  const drop = new Set(order.slice(0, k).map(([c]) => c));
  const out = Float64Array.from(base);
  if (drop.size) for (let i = 0; i < out.length; i++) if (drop.has(Math.floor(i / inner) % size)) out[i] = 0;
  return out;
}

/**
 * Prunes whole channels (slices along `dim`, e.g. dim 0 = a conv's output channels) with the
 * smallest L_n norm (n = 1, 2, Infinity, ...), as torch.nn.utils.prune.ln_structured.
 */
export function lnStructured(module: Module, name: string, amount: PruneAmount, n: number, dim = -1, opts: { importanceScores?: Tensor } = {}): Module {
  const op = 'prune.lnStructured';
  if (typeof n !== 'number' || Number.isNaN(n)) throw new ValueError(`${op}: n must be a number (1, 2, Infinity, ...), got ${String(n)}`);
  const { orig, mask } = getParam(module, name, op);
  const sv = values(opts.importanceScores ?? orig);
  if (sv.length !== orig.numel) throw new ValueError(`${op}: importanceScores must have the shape of the parameter`);
  const d = dim < 0 ? dim + orig.ndim : dim;
  const m = structuredMask(orig, mask, amount, dim, (live) => {
    const norms = channelNorms(sv, orig.shape, d, n);
    return live.map((c) => norms[c]);
  }, op);
  return applyMask(module, name, m, 'lnStructured');
}

/** Prunes whole channels along `dim` chosen at random. */
export function randomStructured(module: Module, name: string, amount: PruneAmount, dim = -1): Module {
  const op = 'prune.randomStructured';
  const { orig, mask } = getParam(module, name, op);
  const m = structuredMask(orig, mask, amount, dim, (live) => Array.from(values(ops.rand([live.length], { dtype: 'float64' }))), op);
  return applyMask(module, name, m, 'randomStructured');
}

/** Applies a given mask (1 keep, 0 prune) to module[name], combined with any existing mask. */
export function customFromMask(module: Module, name: string, mask: Tensor): Module {
  const op = 'prune.customFromMask';
  const { orig, mask: old } = getParam(module, name, op);
  if (!(mask instanceof Tensor) || mask.numel !== orig.numel) throw new ValueError(`${op}: mask must be a Tensor with the parameter's shape`);
  const mv = values(mask);
  const out = new Float64Array(orig.numel);
  for (let i = 0; i < out.length; i++) out[i] = (old ? old[i] : 1) * (mv[i] !== 0 ? 1 : 0);
  return applyMask(module, name, out, 'customFromMask');
}

/** Reparametrises module[name] with an all-ones mask (torch.nn.utils.prune.identity). */
export function identity(module: Module, name: string): Module {
  const { orig, mask } = getParam(module, name, 'prune.identity');
  return applyMask(module, name, mask ?? new Float64Array(orig.numel).fill(1), 'identity');
}

export type GlobalPruningMethod = 'l1Unstructured' | 'randomUnstructured' | typeof l1Unstructured | typeof randomUnstructured;

/**
 * Prunes `amount` of all the entries of several parameters together (the smallest |w| across all
 * of them for 'l1Unstructured'), as torch.nn.utils.prune.global_unstructured.
 */
export function globalUnstructured(
  parameters: Iterable<[Module, string]>,
  pruningMethod: GlobalPruningMethod,
  amount: PruneAmount,
  opts: { importanceScores?: Map<[Module, string], Tensor> } = {},
): void {
  const op = 'prune.globalUnstructured';
  const list = [...parameters];
  if (!list.length) throw new ValueError(`${op}: no parameters given`);
  const method =
    pruningMethod === l1Unstructured || pruningMethod === 'l1Unstructured'
      ? 'l1'
      : pruningMethod === randomUnstructured || pruningMethod === 'randomUnstructured'
        ? 'random'
        : null;
  if (!method) throw new ValueError(`${op}: pruningMethod must be 'l1Unstructured' or 'randomUnstructured' (or those functions)`);
  const parts = list.map((entry) => {
    if (!Array.isArray(entry) || entry.length !== 2) throw new ValueError(`${op}: parameters must be [module, name] pairs`);
    const [mod, name] = entry;
    const { orig, mask } = getParam(mod, name, op);
    const imp = opts.importanceScores?.get(entry);
    const sv = method === 'l1' ? values(imp ?? orig).map(Math.abs) : values(ops.rand([orig.numel], { dtype: 'float64' }));
    return { mod, name, orig, mask: mask ?? new Float64Array(orig.numel).fill(1), score: sv };
  });
  const total = parts.reduce((n, p) => n + p.orig.numel, 0);
  const score = new Float64Array(total);
  const mask = new Float64Array(total);
  let off = 0;
  for (const p of parts) {
    score.set(p.score, off);
    mask.set(p.mask, off);
    off += p.orig.numel;
  }
  const out = pruneSmallest(score, mask, amount, op);
  off = 0;
  for (const p of parts) {
    applyMask(p.mod, p.name, out.slice(off, off + p.orig.numel), method === 'l1' ? 'l1Unstructured' : 'randomUnstructured');
    off += p.orig.numel;
  }
}

/**
 * Makes the pruning of module[name] permanent: `name` becomes a Parameter again (the same object
 * that was `name_orig`, now holding orig * mask), and `name_orig`, `name_mask` and the hook go away.
 */
export function remove(module: Module, name: string): Module {
  const m = module as unknown as Rec;
  const rec = records.get(module)?.get(name);
  if (!rec || !(m[`${name}_orig`] instanceof Tensor))
    throw new ValueError(`prune.remove: parameter '${name}' of module ${module?.constructor?.name} has to be pruned before pruning can be removed`);
  const orig = m[`${name}_orig`] as Tensor;
  const mask = m[`${name}_mask`] as Tensor;
  noGrad(() => orig.mul_(mask));
  rec.hook.remove();
  records.get(module)!.delete(name);
  delete m[`${name}_orig`];
  delete m[`${name}_mask`];
  module._buffers.delete(`${name}_mask`);
  module._nonPersistent?.delete(`${name}_mask`);
  m[name] = orig instanceof Parameter ? orig : new Parameter(orig);
  return module;
}

/** Whether the module or any of its submodules has a pruned parameter. */
export function isPruned(module: Module): boolean {
  for (const m of module.modules()) {
    const r = records.get(m);
    if (r && r.size) return true;
  }
  return false;
}

/** The pruning methods applied (in order) to each pruned parameter of this module (not its children). */
export function pruningHistory(module: Module): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, r] of records.get(module) ?? []) out[k] = r.methods.slice();
  return out;
}

export interface SparsityRow {
  /** dotted parameter name, e.g. 'conv1.weight' */
  name: string;
  pruned: boolean;
  numel: number;
  zeros: number;
  /** zeros / numel */
  sparsity: number;
}

export interface SparsityReport {
  rows: SparsityRow[];
  total: { numel: number; zeros: number; sparsity: number };
  toString(): string;
}

/**
 * Zeros per parameter of the model (the effective weights: orig * mask for pruned ones) and in
 * total; `toString()` prints a table.
 */
export function sparsityReport(module: Module, opts: { onlyPruned?: boolean } = {}): SparsityReport {
  const rows: SparsityRow[] = [];
  noGrad(() => {
    for (const [path, m] of module.namedModules()) {
      const r = m as unknown as Rec;
      const prunedNames = new Set(records.get(m)?.keys() ?? []);
      const pre = path ? `${path}.` : '';
      const seen = new Set<string>();
      for (const [k, v] of Object.entries(r)) {
        let name: string;
        let eff: Tensor;
        let pruned = false;
        if (k.endsWith('_orig') && prunedNames.has(k.slice(0, -5)) && v instanceof Tensor) {
          name = k.slice(0, -5);
          eff = ops.mul(v, r[`${name}_mask`] as Tensor);
          pruned = true;
        } else if (v instanceof Parameter) {
          name = k;
          eff = v;
        } else continue;
        if (seen.has(name) || (opts.onlyPruned && !pruned)) continue;
        seen.add(name);
        const zeros = Number(ops.sum(ops.to(ops.eq(eff, 0), 'float64')).item());
        rows.push({ name: pre + name, pruned, numel: eff.numel, zeros, sparsity: eff.numel ? zeros / eff.numel : 0 });
      }
    }
  });
  const numel = rows.reduce((n, r) => n + r.numel, 0);
  const zeros = rows.reduce((n, r) => n + r.zeros, 0);
  const total = { numel, zeros, sparsity: numel ? zeros / numel : 0 };
  return {
    rows,
    total,
    toString(): string {
      const w = Math.max(9, ...rows.map((r) => r.name.length));
      const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(w)}  ${b.padStart(10)}  ${c.padStart(10)}  ${d.padStart(8)}`;
      const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
      return [
        line('parameter', 'numel', 'zeros', 'sparsity'),
        ...rows.map((r) => line(r.name + (r.pruned ? ' *' : ''), String(r.numel), String(r.zeros), pct(r.sparsity))),
        line('total', String(numel), String(zeros), pct(total.sparsity)),
      ].join('\n');
    },
  };
}
