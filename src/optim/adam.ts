/** torch.optim.Adam and AdamW (decoupled weight decay), with amsgrad and maximize. */
import { Tensor } from '../tensor';
import { NativeParamStep, Optimizer, OPTIM_KIND, ParamGroup, ParamsArg, ParamState, stateLike } from './optimizer';

export interface AdamOptions {
  /** learning rate (default 1e-3) */
  lr?: number;
  /** coefficients of the running averages of the gradient and its square (default [0.9, 0.999]) */
  betas?: [number, number];
  /** added to the denominator (default 1e-8) */
  eps?: number;
  /** weight decay: L2 penalty for Adam (default 0), decoupled for AdamW (default 1e-2) */
  weightDecay?: number;
  /** use the maximum of past squared-gradient averages (AMSGrad; default false) */
  amsgrad?: boolean;
  /** maximize the objective instead of minimizing (default false) */
  maximize?: boolean;
}

/**
 * Adam, exactly as torch.optim.Adam: m = lerp(m, g, 1 − β1); v = β2·v + (1 − β2)·g²;
 * p −= lr/(1 − β1^t) · m / (sqrt(v̂)/sqrt(1 − β2^t) + eps), with v̂ = max(v̂, v) for amsgrad.
 */
export class Adam extends Optimizer<AdamOptions> {
  /** AdamW: weight decay is applied to the parameter (p *= 1 − lr·wd), not added to the gradient. */
  protected decoupled = false;

  constructor(params: ParamsArg, opts: AdamOptions = {}, name = 'Adam', defaultWeightDecay = 0) {
    super(name, params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: defaultWeightDecay, amsgrad: false, maximize: false }, opts);
  }
  protected validate(o: Required<AdamOptions>, where: string): void {
    this.checkNonNeg(o, 'lr', where, 'learning rate');
    this.checkNonNeg(o, 'eps', where, 'epsilon value');
    this.checkNonNeg(o, 'weightDecay', where, 'weightDecay value');
    const b = o.betas as unknown;
    if (!Array.isArray(b) || b.length !== 2) this.fail(`betas must be a pair of numbers, got ${String(b)} (${where})`);
    for (let i = 0; i < 2; i++) {
      const v = b[i];
      if (typeof v !== 'number' || !(v >= 0 && v < 1)) this.fail(`Invalid beta parameter at index ${i}: ${v} (must be in [0, 1)) (${where})`);
    }
    this.checkBool(o, 'amsgrad', where);
    this.checkBool(o, 'maximize', where);
  }
  protected kind(): number {
    return OPTIM_KIND.adam;
  }
  protected hyper(g: ParamGroup<AdamOptions>): number[] {
    const [b1, b2] = g.betas;
    return [g.lr, b1, b2, g.eps, g.weightDecay, g.amsgrad ? 1 : 0, g.maximize ? 1 : 0, this.decoupled ? 1 : 0];
  }
  protected prepare(g: ParamGroup<AdamOptions>, p: Tensor, state: ParamState): NativeParamStep {
    if (state.step === undefined) {
      state.step = 0;
      state.expAvg = stateLike(p);
      state.expAvgSq = stateLike(p);
      if (g.amsgrad) state.maxExpAvgSq = stateLike(p);
    }
    if (g.amsgrad && !state.maxExpAvgSq) state.maxExpAvgSq = stateLike(p);
    const step = (state.step as number) + 1;
    state.step = step;
    const [b1, b2] = g.betas;
    const bc1 = 1 - b1 ** step;
    const bc2 = 1 - b2 ** step;
    return {
      slots: [state.expAvg as Tensor, state.expAvgSq as Tensor, g.amsgrad ? (state.maxExpAvgSq as Tensor) : null],
      x0: g.lr / bc1,
      x1: bc2 ** 0.5,
    };
  }
}

/** AdamW (Loshchilov & Hutter): Adam with decoupled weight decay (default 1e-2), as torch.optim.AdamW. */
export class AdamW extends Adam {
  constructor(params: ParamsArg, opts: AdamOptions = {}) {
    super(params, opts, 'AdamW', 1e-2);
    this.decoupled = true;
  }
}
