/** torch.optim.Adagrad: learning-rate decay, weight decay, initial accumulator value. */
import { Tensor } from '../tensor';
import { NativeParamStep, Optimizer, OPTIM_KIND, ParamGroup, ParamGroupSpec, ParamsArg, ParamState, stateLike } from './optimizer';

export interface AdagradOptions {
  /** learning rate (default 1e-2) */
  lr?: number;
  /** learning rate decay: clr = lr / (1 + (step − 1)·lrDecay) (default 0) */
  lrDecay?: number;
  /** L2 penalty (default 0) */
  weightDecay?: number;
  /** starting value of the sum of squared gradients (default 0) */
  initialAccumulatorValue?: number;
  /** added to the denominator (default 1e-10) */
  eps?: number;
  /** maximize the objective instead of minimizing (default false) */
  maximize?: boolean;
}

/** Adagrad, exactly as torch.optim.Adagrad: s += g²; p −= clr·g/(sqrt(s) + eps). */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: ParamsArg, opts: AdagradOptions = {}) {
    super('Adagrad', params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false }, opts);
  }
  protected validate(o: Required<AdagradOptions>, where: string): void {
    this.checkNonNeg(o, 'lr', where, 'learning rate');
    this.checkNonNeg(o, 'lrDecay', where, 'lrDecay value');
    this.checkNonNeg(o, 'weightDecay', where, 'weightDecay value');
    this.checkNonNeg(o, 'initialAccumulatorValue', where, 'initialAccumulatorValue');
    this.checkNonNeg(o, 'eps', where, 'epsilon value');
    this.checkBool(o, 'maximize', where);
  }
  /** Like PyTorch, the state (step 0, sum = initialAccumulatorValue) exists from construction. */
  override addParamGroup(spec: ParamGroupSpec): void {
    super.addParamGroup(spec);
    const g = this.paramGroups[this.paramGroups.length - 1];
    for (const p of g.params) if (!this.state.has(p)) this.state.set(p, { step: 0, sum: stateLike(p, g.initialAccumulatorValue) });
  }
  protected kind(): number {
    return OPTIM_KIND.adagrad;
  }
  protected hyper(g: ParamGroup<AdagradOptions>): number[] {
    return [g.eps, g.weightDecay, g.maximize ? 1 : 0];
  }
  protected prepare(g: ParamGroup<AdagradOptions>, p: Tensor, state: ParamState): NativeParamStep {
    if (state.step === undefined) state.step = 0;
    if (!state.sum) state.sum = stateLike(p, g.initialAccumulatorValue);
    const step = (state.step as number) + 1;
    state.step = step;
    return { slots: [state.sum as Tensor, null, null], x0: g.lr / (1 + (step - 1) * g.lrDecay) };
  }
}
