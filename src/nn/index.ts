export { Module, Parameter } from './module';
export type { ForwardHook, ForwardPreHook } from './module';
export * from './activation';
import * as functional from './functional';
export { functional };
