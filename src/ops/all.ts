/** The whole op set, one namespace (Tensor methods and the public API call into it). */
export * from './util';
export * from './core';
export * from './creation';
export * from './elementwise';
export * from './views';
export * from './reduce';
export * from './linalg';
export * from './indexing';
export * from './softmax';
export { noGrad } from '../autograd/mode';
export { conv1d, conv2d, convTranspose2d, pad, setOnednn, onednnEnabled } from './conv';
export type { Conv2dOptions, Conv1dOptions, ConvTranspose2dOptions, ConvPadding, PaddingMode, PadMode } from './conv';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d, interpolate } from './pool';
export type { MaxPool2dOptions, AvgPool2dOptions, AdaptiveSize, InterpolateOptions } from './pool';
export { batchNorm, layerNorm, groupNorm } from './norm';
export type { BatchNormOptions } from './norm';
