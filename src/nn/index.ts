export { Module, Parameter, StateDictError } from './module';
export type { ForwardHook, ForwardPreHook, RemovableHandle, LoadResult } from './module';
export * from './activation';
export { Linear } from './layers/linear';
export { Conv1d, Conv2d, ConvTranspose2d } from './layers/conv';
export type { ConvLayerOptions, ConvTransposeLayerOptions, PaddingMode } from './layers/conv';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d } from './layers/pooling';
export { BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm } from './layers/normalization';
export type { BatchNormLayerOptions } from './layers/normalization';
export { Dropout, Dropout2d } from './layers/dropout';
export { Identity, Flatten, Unflatten } from './layers/shape';
export { Embedding } from './layers/embedding';
export { Upsample, UpsamplingNearest2d, UpsamplingBilinear2d } from './layers/upsample';
export { Sequential, ModuleList, ModuleDict, ParameterList } from './layers/containers';
export {
  CrossEntropyLoss, NLLLoss, MSELoss, L1Loss, SmoothL1Loss, HuberLoss, BCELoss, BCEWithLogitsLoss,
} from './loss';
export type { Reduction } from './loss';
export { summary } from './summary';
export type { SummaryResult, SummaryRow } from './summary';
import * as init from './init';
import * as functional from './functional';
export { functional, init };
import * as utils from './utils';
/** torch.nn.utils: clipGradNorm_, parametersToVector, l1Penalty/l2Penalty, prune. */
export { utils };
