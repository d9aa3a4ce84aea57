/**
 * Late-bound access to the native conv / pool / norm / resize ops (src/ops/conv.ts, pool.ts,
 * norm.ts, exported through src/ops/all). Looked up when a layer runs, so the nn layer set
 * compiles and loads whether or not an op family is present in this build.
 */
import { IgnisError, ValueError } from '../../errors';
import * as all from '../../ops/all';
import type { Tensor } from '../../tensor';

export type IntOrPair = number | number[];
export type Padding = IntOrPair | 'same' | 'valid';

export interface ConvOptions {
  stride?: IntOrPair;
  padding?: Padding;
  dilation?: IntOrPair;
  groups?: number;
  paddingMode?: 'zeros' | 'reflect' | 'replicate' | 'circular';
  activation?: string | null;
  activationParams?: Record<string, unknown>;
}
export interface ConvTransposeOptions {
  stride?: IntOrPair;
  padding?: IntOrPair;
  outputPadding?: IntOrPair;
  groups?: number;
  dilation?: IntOrPair;
  activation?: string | null;
  activationParams?: Record<string, unknown>;
}
export interface MaxPoolOptions {
  kernelSize: IntOrPair;
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  ceilMode?: boolean;
  returnIndices?: boolean;
}
export interface AvgPoolOptions {
  kernelSize: IntOrPair;
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}
export interface BatchNormOptions {
  training?: boolean;
  momentum?: number | null;
  eps?: number;
}
export interface InterpolateOptions {
  size?: IntOrPair | null;
  scaleFactor?: number | number[] | null;
  mode?: 'nearest' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear' | 'area' | 'nearest-exact';
  alignCorners?: boolean | null;
}
type T = Tensor;
type B = Tensor | null | undefined;

/** The signatures the native op families export. */
export interface NativeNN {
  conv1d(x: T, w: T, b: B, o?: ConvOptions): T;
  conv2d(x: T, w: T, b: B, o?: ConvOptions): T;
  convTranspose2d(x: T, w: T, b: B, o?: ConvTransposeOptions): T;
  maxPool2d(x: T, o: MaxPoolOptions): T | [T, T];
  avgPool2d(x: T, o: AvgPoolOptions): T;
  adaptiveAvgPool2d(x: T, outputSize: IntOrPair | (number | null)[]): T;
  adaptiveMaxPool2d(x: T, outputSize: IntOrPair | (number | null)[], returnIndices?: boolean): T | [T, T];
  batchNorm(x: T, runningMean: B, runningVar: B, weight: B, bias: B, o?: BatchNormOptions): T;
  layerNorm(x: T, normalizedShape: number[], weight: B, bias: B, eps?: number): T;
  groupNorm(x: T, numGroups: number, weight: B, bias: B, eps?: number): T;
  pad(x: T, pads: number[], mode?: string, value?: number): T;
  interpolate(x: T, o: InterpolateOptions): T;
}

/** The native op `name`, or a clear error when this build does not have it. */
export function nativeOp<K extends keyof NativeNN>(name: K): NativeNN[K] {
  const f = (all as unknown as Partial<NativeNN>)[name];
  if (typeof f !== 'function') throw new IgnisError(`${name}: this op is not available in this build of ignis (src/ops has no '${name}')`);
  return f as NativeNN[K];
}

export function hasNativeOp(name: keyof NativeNN): boolean {
  return typeof (all as unknown as Record<string, unknown>)[name] === 'function';
}

/** An int or an n-tuple as an n-tuple. */
export function ntuple(v: IntOrPair, n: number, what: string, op: string): number[] {
  const a = typeof v === 'number' ? new Array(n).fill(v) : Array.isArray(v) ? v.slice() : null;
  if (!a || a.length !== n || a.some((x) => typeof x !== 'number' || !Number.isInteger(x)))
    throw new ValueError(`${op}: ${what} must be an int or a list of ${n} ints, got ${JSON.stringify(v)}`);
  return a;
}
