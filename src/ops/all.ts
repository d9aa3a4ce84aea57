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
