/** torch.optim.RMSprop: smoothing constant alpha, centered variant, momentum, weight decay. */
import { Tensor } from '../tensor';
import { NativeParamStep, Optimizer, OPTIM_KIND, ParamGroup, ParamsArg, ParamState, stateLike } from './optimizer';

export interface RMSpropOptions {
  /** learning rate (default 1e-2) */
  lr?: number;
  /** smoothing constant (default 0.99) */
  alpha?: number;
  /** added to the denominator (default 1e-8) */
  eps?: number;
  /** L2 penalty (default 0) */
  weightDecay?: number;
  /** momentum factor (default 0) */
  momentum?: number;
  /** normalise by the estimated variance of the gradient (default false) */
  centered?: boolean;
  /** maximize the objective instead of minimizing (default false) */
  maximize?: boolean;
}

/**
 * RMSprop, exactly as torch.optim.RMSprop: v = α·v + (1 − α)·g²; centered: ḡ = lerp(ḡ, g, 1 − α),
 * avg = sqrt(v − ḡ²) + eps, else sqrt(v) + eps; momentum: b = μ·b + g/avg, p −= lr·b; else p −= lr·g/avg.
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: ParamsArg, opts: RMSpropOptions = {}) {
    super('RMSprop', params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false }, opts);
  }
  protected validate(o: Required<RMSpropOptions>, where: string): void {
    this.checkNonNeg(o, 'lr', where, 'learning rate');
    this.checkNonNeg(o, 'eps', where, 'epsilon value');
    this.checkNonNeg(o, 'momentum', where, 'momentum value');
    this.checkNonNeg(o, 'weightDecay', where, 'weightDecay value');
    this.checkNonNeg(o, 'alpha', where, 'alpha value');
    this.checkBool(o, 'centered', where);
    this.checkBool(o, 'maximize', where);
  }
  protected kind(): number {
    return OPTIM_KIND.rmsprop;
  }
  protected hyper(g: ParamGroup<RMSpropOptions>): number[] {
    return [g.lr, g.alpha, g.eps, g.weightDecay, g.momentum, g.centered ? 1 : 0, g.maximize ? 1 : 0];
  }
  protected prepare(g: ParamGroup<RMSpropOptions>, p: Tensor, state: ParamState): NativeParamStep {
    if (state.step === undefined) {
      state.step = 0;
      state.squareAvg = stateLike(p);
    }
    if (g.momentum > 0 && !state.momentumBuffer) state.momentumBuffer = stateLike(p);
    if (g.centered && !state.gradAvg) state.gradAvg = stateLike(p);
    state.step = (state.step as number) + 1;
    return {
      slots: [state.squareAvg as Tensor, g.momentum > 0 ? (state.momentumBuffer as Tensor) : null, g.centered ? (state.gradAvg as Tensor) : null],
    };
  }
}
