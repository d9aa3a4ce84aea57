/** torch.optim.SGD: momentum, dampening, Nesterov, weight decay, maximize (PyTorch's update rule). */
import { Tensor } from '../tensor';
import { NativeParamStep, Optimizer, OPTIM_KIND, ParamGroup, ParamsArg, ParamState, stateLike } from './optimizer';

export interface SGDOptions {
  /** learning rate (default 1e-3) */
  lr?: number;
  /** momentum factor (default 0) */
  momentum?: number;
  /** dampening for momentum (default 0) */
  dampening?: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0) */
  nesterov?: boolean;
  /** L2 penalty added to the gradient (default 0) */
  weightDecay?: number;
  /** maximize the objective instead of minimizing (default false) */
  maximize?: boolean;
}

/**
 * Stochastic gradient descent (optionally with momentum), exactly as torch.optim.SGD:
 * g = ±grad + weightDecay·p; buf = momentum·buf + (1 − dampening)·g (buf = g on the first step);
 * g = nesterov ? g + momentum·buf : buf; p −= lr·g.
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsArg, opts: SGDOptions = {}) {
    super('SGD', params, { lr: 1e-3, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false }, opts);
  }
  protected validate(o: Required<SGDOptions>, where: string): void {
    this.checkNonNeg(o, 'lr', where, 'learning rate');
    this.checkNonNeg(o, 'momentum', where, 'momentum value');
    this.checkNonNeg(o, 'weightDecay', where, 'weightDecay value');
    if (typeof o.dampening !== 'number' || Number.isNaN(o.dampening)) this.fail(`dampening must be a number (${where})`);
    this.checkBool(o, 'nesterov', where);
    this.checkBool(o, 'maximize', where);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) this.fail(`Nesterov momentum requires a momentum and zero dampening (${where})`);
  }
  protected kind(): number {
    return OPTIM_KIND.sgd;
  }
  protected hyper(g: ParamGroup<SGDOptions>): number[] {
    return [g.lr, g.momentum, g.dampening, g.nesterov ? 1 : 0, g.weightDecay, g.maximize ? 1 : 0];
  }
  protected prepare(g: ParamGroup<SGDOptions>, p: Tensor, state: ParamState): NativeParamStep {
    if (g.momentum === 0) return { slots: [null, null, null] };
    let buf = state.momentumBuffer as Tensor | undefined;
    const first = !buf;
    if (!buf) state.momentumBuffer = buf = stateLike(p);
    return { slots: [buf, null, null], x0: first ? 1 : 0 };
  }
}
