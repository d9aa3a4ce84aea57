/**
 * torch.optim: optimizers (one native call per step for all parameters of a group) and
 * learning-rate schedulers.
 */
export { Optimizer, OPTIM_KIND } from './optimizer';
export type { ParamGroup, ParamGroupSpec, ParamsArg, ParamState, OptimizerStateDict } from './optimizer';
export { SGD } from './sgd';
export type { SGDOptions } from './sgd';
export { Adam, AdamW } from './adam';
export type { AdamOptions } from './adam';
export { RMSprop } from './rmsprop';
export type { RMSpropOptions } from './rmsprop';
export { Adagrad } from './adagrad';
export type { AdagradOptions } from './adagrad';
export {
  LRScheduler, LambdaLR, StepLR, MultiStepLR, ExponentialLR, LinearLR, CosineAnnealingLR, OneCycleLR, SequentialLR, ReduceLROnPlateau,
} from './lr_scheduler';
export type { OneCycleLROptions, ReduceLROnPlateauOptions } from './lr_scheduler';
import * as lrScheduler from './lr_scheduler';
/** torch.optim.lr_scheduler under its PyTorch name (the classes are also exported directly). */
export { lrScheduler };
