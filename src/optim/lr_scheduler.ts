/**
 * torch.optim.lr_scheduler: learning-rate schedules that rewrite `group.lr` of an optimizer's
 * param groups. The formulas are PyTorch's (the same recursive, "chainable" forms, so the sequences
 * agree to the last bits), with camelCase names; group keys the schedulers add are camelCase too
 * (`initialLr`, and for OneCycleLR `maxLr`, `minLr`, `maxMomentum`, `baseMomentum`).
 *
 * @example
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const warmup = new optim.LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 * const cosine = new optim.CosineAnnealingLR(opt, { TMax: 95 });
 * const sched = new optim.SequentialLR(opt, [warmup, cosine], [5]);
 * for (let epoch = 0; epoch < 100; epoch++) { train(); sched.step(); }
 */
import { ValueError } from '../errors';
import { Optimizer, ParamGroup } from './optimizer';

type Group = ParamGroup<Record<string, unknown>> & { lr: number };

function bisectRight(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < a[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function checkOptimizer(o: unknown, name: string): Optimizer {
  if (!(o instanceof Optimizer)) throw new ValueError(`${name}: expected an optimizer, got ${o === null ? 'null' : typeof o}`);
  return o;
}

/** Base class: tracks lastEpoch and baseLrs, and writes the new lr into every param group. */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** Index of the last step taken (0 after construction). */
  lastEpoch: number;
  /** The groups' initial learning rates (`group.initialLr`). */
  baseLrs: number[] = [];
  /** @internal */ _lastLr: number[] = [];
  /** @internal */ _stepCount = 0;
  /** @internal */ _isInitial = false;

  /**
   * Subclasses set their own fields, then call _initialStep() (PyTorch sets attributes before
   * LRScheduler.__init__, which takes the first step; JS cannot, hence the split).
   */
  protected constructor(optimizer: Optimizer, lastEpoch = -1, bookkeeping = true) {
    const name = new.target.name;
    this.optimizer = checkOptimizer(optimizer, name);
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) throw new ValueError(`${name}: lastEpoch must be an integer >= -1, got ${lastEpoch}`);
    this.lastEpoch = lastEpoch;
    if (!bookkeeping) return;
    const groups = this.groups;
    if (lastEpoch === -1) {
      for (const g of groups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      groups.forEach((g, i) => {
        if (g.initialLr === undefined)
          throw new ValueError(`${name}: param 'initialLr' is not specified in paramGroups[${i}] when resuming a scheduler with lastEpoch >= 0`);
      });
    }
    this.baseLrs = groups.map((g) => g.initialLr as number);
  }

  protected get groups(): Group[] {
    return this.optimizer.paramGroups as unknown as Group[];
  }

  /** @internal The step the constructor takes (lastEpoch −1 → 0). */
  _initialStep(): void {
    this._stepCount = 0;
    this._isInitial = true;
    try {
      this.step();
    } finally {
      this._isInitial = false;
    }
  }

  /** The learning rates this step computes, one per param group (called by step()). */
  abstract getLr(): number[];
  /** Closed form of the schedule at lastEpoch, where one exists (used by SequentialLR at milestones). */
  protected closedFormLr?(): number[];

  /** Advances the schedule by one step (call after optimizer.step()). */
  step(): void {
    this._stepCount++;
    this._updateLr();
  }

  /** @internal */
  _updateLr(epoch?: number): void {
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      values = this.getLr();
    } else {
      this.lastEpoch = epoch;
      values = this.closedFormLr ? this.closedFormLr() : this.getLr();
    }
    const groups = this.groups;
    if (values.length !== groups.length) throw new ValueError(`${this.constructor.name}: expected ${groups.length} learning rates, got ${values.length}`);
    groups.forEach((g, i) => (g.lr = values[i]));
    this._lastLr = groups.map((g) => g.lr);
  }

  /** The learning rates set by the last step, one per param group. */
  getLastLr(): number[] {
    return this._lastLr.slice();
  }

  /** Every field except the optimizer (plain data, JSON-serialisable). */
  stateDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this)) {
      if (k === 'optimizer' || typeof v === 'function') continue;
      out[k] = Array.isArray(v) ? v.slice() : v instanceof Map ? new Map(v) : v;
    }
    return out;
  }
  loadStateDict(sd: Record<string, unknown>): void {
    if (!sd || typeof sd !== 'object') throw new ValueError(`${this.constructor.name}: loadStateDict expects an object`);
    for (const [k, v] of Object.entries(sd)) (this as unknown as Record<string, unknown>)[k] = Array.isArray(v) ? v.slice() : v;
  }
}

function checkGamma(gamma: unknown, name: string): number {
  if (typeof gamma !== 'number' || !Number.isFinite(gamma) || gamma < 0) throw new ValueError(`${name}: gamma must be a finite number >= 0, got ${String(gamma)}`);
  return gamma;
}

/** lr = initialLr · f(epoch) for a user function f (torch.optim.lr_scheduler.LambdaLR). */
export class LambdaLR extends LRScheduler {
  readonly lrLambdas: ((epoch: number) => number)[];
  constructor(optimizer: Optimizer, lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[], opts: { lastEpoch?: number } = {}) {
    super(optimizer, opts.lastEpoch ?? -1);
    const n = this.groups.length;
    const fns = Array.isArray(lrLambda) ? lrLambda : new Array(n).fill(lrLambda);
    if (fns.length !== n) throw new ValueError(`LambdaLR: expected ${n} lrLambdas, but got ${fns.length}`);
    if (fns.some((f) => typeof f !== 'function')) throw new ValueError('LambdaLR: lrLambda must be a function or an array of functions');
    this.lrLambdas = fns;
    this._initialStep();
  }
  getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lrLambdas[i](this.lastEpoch));
  }
}

/** Multiplies lr by gamma every stepSize steps (torch.optim.lr_scheduler.StepLR). */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: Optimizer, opts: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    super(optimizer, opts?.lastEpoch ?? -1);
    if (!Number.isInteger(opts?.stepSize) || opts.stepSize <= 0) throw new ValueError(`StepLR: stepSize must be a positive integer, got ${String(opts?.stepSize)}`);
    this.stepSize = opts.stepSize;
    this.gamma = checkGamma(opts.gamma ?? 0.1, 'StepLR');
    this._initialStep();
  }
  getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** Multiplies lr by gamma at each milestone (torch.optim.lr_scheduler.MultiStepLR). */
export class MultiStepLR extends LRScheduler {
  /** milestone → how many times it was listed */
  readonly milestones: Record<number, number>;
  readonly gamma: number;
  constructor(optimizer: Optimizer, opts: { milestones: number[]; gamma?: number; lastEpoch?: number }) {
    super(optimizer, opts?.lastEpoch ?? -1);
    if (!Array.isArray(opts?.milestones) || opts.milestones.some((m) => !Number.isInteger(m)))
      throw new ValueError('MultiStepLR: milestones must be an array of integers');
    this.milestones = {};
    for (const m of opts.milestones) this.milestones[m] = (this.milestones[m] ?? 0) + 1;
    this.gamma = checkGamma(opts.gamma ?? 0.1, 'MultiStepLR');
    this._initialStep();
  }
  getLr(): number[] {
    const c = this.milestones[this.lastEpoch];
    if (!c) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** c);
  }
  protected override closedFormLr(): number[] {
    const ms: number[] = [];
    for (const [k, c] of Object.entries(this.milestones)) for (let i = 0; i < c; i++) ms.push(Number(k));
    ms.sort((a, b) => a - b);
    return this.baseLrs.map((b) => b * this.gamma ** bisectRight(ms, this.lastEpoch));
  }
}

/** Multiplies lr by gamma every step (torch.optim.lr_scheduler.ExponentialLR). */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: Optimizer, opts: { gamma: number; lastEpoch?: number }) {
    super(optimizer, opts?.lastEpoch ?? -1);
    this.gamma = checkGamma(opts?.gamma, 'ExponentialLR');
    this._initialStep();
  }
  getLr(): number[] {
    if (this._isInitial) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
}

/** Scales lr linearly from startFactor to endFactor over totalIters steps (torch's LinearLR; warmup). */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(optimizer: Optimizer, opts: { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number } = {}) {
    super(optimizer, opts.lastEpoch ?? -1);
    const s = opts.startFactor ?? 1 / 3;
    const e = opts.endFactor ?? 1;
    if (!(s > 0 && s <= 1)) throw new ValueError(`LinearLR: startFactor expected to be greater than 0 and less or equal to 1, got ${s}`);
    if (!(e >= 0 && e <= 1)) throw new ValueError(`LinearLR: endFactor expected to be between 0 and 1, got ${e}`);
    const t = opts.totalIters ?? 5;
    if (!Number.isInteger(t) || t <= 0) throw new ValueError(`LinearLR: totalIters must be a positive integer, got ${t}`);
    this.startFactor = s;
    this.endFactor = e;
    this.totalIters = t;
    this._initialStep();
  }
  getLr(): number[] {
    if (this.lastEpoch === 0) return this.groups.map((g) => g.lr * this.startFactor);
    if (this._isInitial || this.lastEpoch > this.totalIters) return this.groups.map((g) => g.lr);
    const d = this.endFactor - this.startFactor;
    return this.groups.map((g) => g.lr * (1 + d / (this.totalIters * this.startFactor + (this.lastEpoch - 1) * d)));
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map(
      (b) => b * (this.startFactor + ((this.endFactor - this.startFactor) * Math.min(this.totalIters, this.lastEpoch)) / this.totalIters),
    );
  }
}

/** Cosine annealing from the initial lr to etaMin over TMax steps (torch's CosineAnnealingLR). */
export class CosineAnnealingLR extends LRScheduler {
  readonly TMax: number;
  readonly etaMin: number;
  constructor(optimizer: Optimizer, opts: { TMax: number; etaMin?: number; lastEpoch?: number }) {
    super(optimizer, opts?.lastEpoch ?? -1);
    if (!Number.isInteger(opts?.TMax) || opts.TMax <= 0) throw new ValueError(`CosineAnnealingLR: TMax must be a positive integer, got ${String(opts?.TMax)}`);
    this.TMax = opts.TMax;
    this.etaMin = opts.etaMin ?? 0;
    if (typeof this.etaMin !== 'number' || Number.isNaN(this.etaMin)) throw new ValueError('CosineAnnealingLR: etaMin must be a number');
    this._initialStep();
  }
  getLr(): number[] {
    const { TMax: T, etaMin: eta, lastEpoch: e } = this;
    if (this._isInitial) return this.groups.map((g) => g.lr);
    if (this._stepCount === 1 && e > 0) return this.baseLrs.map((b) => eta + ((b - eta) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    if ((((e - 1 - T) % (2 * T)) + 2 * T) % (2 * T) === 0)
      return this.groups.map((g, i) => g.lr + ((this.baseLrs[i] - eta) * (1 - Math.cos(Math.PI / T))) / 2);
    return this.groups.map(
      (g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - eta) + eta,
    );
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.TMax))) / 2);
  }
}

export interface OneCycleLROptions {
  /** peak learning rate (one per group, or one for all) */
  maxLr: number | number[];
  /** total number of steps, or epochs × stepsPerEpoch */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  /** fraction of the cycle spent increasing the lr (default 0.3) */
  pctStart?: number;
  /** 'cos' (default) or 'linear' */
  annealStrategy?: 'cos' | 'linear';
  /** cycle momentum (SGD) or beta1 (Adam) inversely to the lr (default true) */
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  /** initialLr = maxLr / divFactor (default 25) */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4) */
  finalDivFactor?: number;
  /** a third phase annihilating the lr (default false) */
  threePhase?: boolean;
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
}

/** The 1cycle policy (Smith & Topin), as torch.optim.lr_scheduler.OneCycleLR; step once per batch. */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  readonly annealStrategy: 'cos' | 'linear';
  readonly cycleMomentum: boolean;
  readonly useBeta1: boolean;
  readonly phases: Phase[];

  constructor(optimizer: Optimizer, opts: OneCycleLROptions) {
    const opt = checkOptimizer(optimizer, 'OneCycleLR');
    const o = opts ?? ({} as OneCycleLROptions);
    let total: number;
    if (o.totalSteps !== undefined) {
      if (!Number.isInteger(o.totalSteps) || o.totalSteps <= 0) throw new ValueError(`OneCycleLR: expected positive integer totalSteps, but got ${o.totalSteps}`);
      total = o.totalSteps;
    } else if (o.epochs !== undefined && o.stepsPerEpoch !== undefined) {
      if (!Number.isInteger(o.epochs) || o.epochs <= 0) throw new ValueError(`OneCycleLR: expected positive integer epochs, but got ${o.epochs}`);
      if (!Number.isInteger(o.stepsPerEpoch) || o.stepsPerEpoch <= 0)
        throw new ValueError(`OneCycleLR: expected positive integer stepsPerEpoch, but got ${o.stepsPerEpoch}`);
      total = o.epochs * o.stepsPerEpoch;
    } else throw new ValueError('OneCycleLR: you must define either totalSteps OR (epochs AND stepsPerEpoch)');
    const pct = o.pctStart ?? 0.3;
    if (typeof pct !== 'number' || !(pct >= 0 && pct <= 1)) throw new ValueError(`OneCycleLR: expected pctStart between 0 and 1, but got ${pct}`);
    const strategy = o.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear') throw new ValueError(`OneCycleLR: annealStrategy must be one of 'cos' or 'linear', instead got ${String(strategy)}`);
    const lastEpoch = o.lastEpoch ?? -1;
    const groups = opt.paramGroups as unknown as Group[];
    const per = (name: string, v: number | number[]): number[] => {
      if (Array.isArray(v)) {
        if (v.length !== groups.length) throw new ValueError(`OneCycleLR: expected ${groups.length} values for ${name}, got ${v.length}`);
        return v.slice();
      }
      return groups.map(() => v);
    };
    const maxLrs = per('maxLr', o.maxLr);
    const div = o.divFactor ?? 25;
    const finalDiv = o.finalDivFactor ?? 1e4;
    if (lastEpoch === -1)
      groups.forEach((g, i) => {
        g.initialLr = maxLrs[i] / div;
        g.maxLr = maxLrs[i];
        g.minLr = (g.initialLr as number) / finalDiv;
      });
    const cycle = o.cycleMomentum ?? true;
    let useBeta1 = false;
    if (cycle) {
      const d = opt.defaults as Record<string, unknown>;
      if (!('momentum' in d) && !('betas' in d)) throw new ValueError('OneCycleLR: optimizer must support momentum or beta1 with `cycleMomentum` option enabled');
      useBeta1 = 'betas' in d;
      const maxM = per('maxMomentum', o.maxMomentum ?? 0.95);
      const baseM = per('baseMomentum', o.baseMomentum ?? 0.85);
      if (lastEpoch === -1)
        groups.forEach((g, i) => {
          if (useBeta1) g.betas = [maxM[i], ...(g.betas as number[]).slice(1)];
          else g.momentum = maxM[i];
          g.maxMomentum = maxM[i];
          g.baseMomentum = baseM[i];
        });
    }
    super(opt, lastEpoch);
    this.totalSteps = total;
    this.annealStrategy = strategy;
    this.cycleMomentum = cycle;
    this.useBeta1 = useBeta1;
    this.phases = o.threePhase
      ? [
          { endStep: pct * total - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: 2 * pct * total - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
          { endStep: total - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          { endStep: pct * total - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: total - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    this._initialStep();
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'cos') return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
    return (end - start) * pct + start;
  }

  getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps)
      throw new ValueError(`OneCycleLR: tried to step ${stepNum} times. The specified number of total steps is ${this.totalSteps}`);
    return this.groups.map((g) => {
      let start = 0;
      let lr = 0;
      let mom = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const ph = this.phases[i];
        if (stepNum <= ph.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - start) / (ph.endStep - start);
          lr = this.anneal(g[ph.startLr] as number, g[ph.endLr] as number, pct);
          if (this.cycleMomentum) mom = this.anneal(g[ph.startMomentum] as number, g[ph.endMomentum] as number, pct);
          break;
        }
        start = ph.endStep;
      }
      if (this.cycleMomentum) {
        if (this.useBeta1) g.betas = [mom, ...(g.betas as number[]).slice(1)];
        else g.momentum = mom;
      }
      return lr;
    });
  }
}

/**
 * Runs schedulers one after another, switching at the milestones (torch's SequentialLR), e.g. a
 * LinearLR warmup followed by CosineAnnealingLR.
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: LRScheduler[];
  readonly milestones: number[];

  constructor(optimizer: Optimizer, schedulers: LRScheduler[], milestones: number[], opts: { lastEpoch?: number } = {}) {
    super(optimizer, (opts.lastEpoch ?? -1) + 1, false);
    if (!Array.isArray(schedulers) || schedulers.length < 1) throw new ValueError('SequentialLR: expects at least one scheduler');
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) throw new ValueError(`SequentialLR: scheduler at index ${i} is not an LRScheduler`);
      if (s instanceof ReduceLROnPlateau)
        throw new ValueError(`SequentialLR: does not support ReduceLROnPlateau (scheduler at index ${i}), which needs a metric in step()`);
      if (s.optimizer !== optimizer)
        throw new ValueError(`SequentialLR: expects all schedulers to belong to the same optimizer, but the scheduler at index ${i} has another one`);
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1)
      throw new ValueError(
        `SequentialLR: expects number of schedulers provided to be one more than the number of milestone points, but got ${schedulers.length} schedulers and ${Array.isArray(milestones) ? milestones.length : 'no'} milestones`,
      );
    this.schedulers = schedulers;
    this.milestones = milestones.slice();
    for (const g of this.groups) g.lr = g.initialLr as number;
    for (const s of schedulers) s.lastEpoch -= 1;
    const idx = bisectRight(this.milestones, 0);
    schedulers[idx]._initialStep();
    this._lastLr = schedulers[idx].getLastLr();
    this.baseLrs = this.groups.map((g) => g.initialLr as number);
  }

  getLr(): number[] {
    return this._lastLr.slice();
  }

  override step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const s = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s._updateLr(0);
    else s.step();
    this._lastLr = s.getLastLr();
  }

  override stateDict(): Record<string, unknown> {
    const sd = super.stateDict();
    sd.schedulers = this.schedulers.map((s) => s.stateDict());
    return sd;
  }
  override loadStateDict(sd: Record<string, unknown>): void {
    const { schedulers, ...rest } = sd;
    super.loadStateDict(rest);
    if (Array.isArray(schedulers)) schedulers.forEach((s, i) => this.schedulers[i]?.loadStateDict(s as Record<string, unknown>));
  }
}

export interface ReduceLROnPlateauOptions {
  /** 'min' (default): reduce when the metric stops decreasing; 'max': stops increasing */
  mode?: 'min' | 'max';
  /** new lr = lr · factor (default 0.1, must be < 1) */
  factor?: number;
  /** bad epochs tolerated before reducing (default 10) */
  patience?: number;
  /** significance threshold (default 1e-4) */
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  /** epochs to wait after a reduction (default 0) */
  cooldown?: number;
  /** lower bound on the lr, per group or for all (default 0) */
  minLr?: number | number[];
  /** reductions smaller than eps are ignored (default 1e-8) */
  eps?: number;
}

/** Reduces the lr when a metric has stopped improving (torch's ReduceLROnPlateau): step(metric). */
export class ReduceLROnPlateau extends LRScheduler {
  readonly factor: number;
  readonly patience: number;
  readonly cooldown: number;
  readonly eps: number;
  readonly mode: 'min' | 'max';
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  minLrs: number[];
  defaultMinLr: number | null;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  modeWorse: number;

  constructor(optimizer: Optimizer, opts: ReduceLROnPlateauOptions = {}) {
    super(optimizer, 0, false);
    const factor = opts.factor ?? 0.1;
    if (!(factor < 1)) throw new ValueError(`ReduceLROnPlateau: factor should be < 1.0, got ${factor}`);
    this.factor = factor;
    const groups = this.groups;
    const minLr = opts.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== groups.length) throw new ValueError(`ReduceLROnPlateau: expected ${groups.length} minLrs, got ${minLr.length}`);
      this.defaultMinLr = null;
      this.minLrs = minLr.slice();
    } else {
      this.defaultMinLr = minLr;
      this.minLrs = groups.map(() => minLr);
    }
    this.patience = opts.patience ?? 10;
    this.cooldown = opts.cooldown ?? 0;
    this.eps = opts.eps ?? 1e-8;
    const mode = opts.mode ?? 'min';
    const tm = opts.thresholdMode ?? 'rel';
    if (mode !== 'min' && mode !== 'max') throw new ValueError(`ReduceLROnPlateau: mode ${String(mode)} is unknown!`);
    if (tm !== 'rel' && tm !== 'abs') throw new ValueError(`ReduceLROnPlateau: threshold mode ${String(tm)} is unknown!`);
    this.mode = mode;
    this.thresholdMode = tm;
    this.threshold = opts.threshold ?? 1e-4;
    this.modeWorse = mode === 'min' ? Infinity : -Infinity;
    this.best = this.modeWorse;
    this._lastLr = groups.map((g) => g.lr);
  }

  getLr(): number[] {
    return this.groups.map((g) => g.lr);
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /** Records the epoch's metric (a number or a one-element tensor) and reduces the lr if it plateaued. */
  override step(metric?: number | { item(): number | boolean }): void {
    if (metric === undefined) throw new ValueError('ReduceLROnPlateau: step() needs the metric value');
    const current = typeof metric === 'number' ? metric : Number(metric.item());
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this._lastLr = this.groups.map((g) => g.lr);
  }

  private reduceLr(): void {
    const groups = this.groups;
    if (groups.length !== this.minLrs.length) {
      if (this.defaultMinLr === null)
        throw new ValueError(`ReduceLROnPlateau: the number of param groups (${groups.length}) differs from when it was created (${this.minLrs.length})`);
      this.minLrs = groups.map(() => this.defaultMinLr as number);
    }
    groups.forEach((g, i) => {
      const old = g.lr;
      const nw = Math.max(old * this.factor, this.minLrs[i]);
      if (old - nw > this.eps) g.lr = nw;
    });
  }
}
