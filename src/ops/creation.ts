/** Tensor creation: from data, constant fills, ranges, random. */
import { mode } from '../autograd/mode';
import { checkDType, DType, DTYPE_CODE, isFloating } from '../dtype';
import { DTypeError, ShapeError, ValueError } from '../errors';
import { parseDevice } from '../cuda';
import type { Device } from '../storage';
import * as K from '../kernels';
import { defaultGenerator, Generator } from '../random';
import { checkShape, fmtShape, numel } from '../shape';
import { Tensor } from '../tensor';
import { checkNumber, checkTensor, ops } from './util';
import { recorded } from '../profiler/hook';

export interface TensorOptions {
  dtype?: DType;
  /** 'cpu' (default), 'cuda' or 'cuda:N' */
  device?: Device;
  requiresGrad?: boolean;
}

export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

type Nested = number | boolean | Nested[];

function checkDevice(d: unknown, op: string): void {
  if (d === undefined || d === 'cpu') return;
  parseDevice(d, op);  // DeviceError naming the reason when CUDA is absent
}

// Values are made on the CPU (one code path, the same numbers everywhere) and moved in one copy.
function finish(t: Tensor, opts: TensorOptions | undefined): Tensor {
  if (opts?.device !== undefined && opts.device !== 'cpu') {
    const { name } = parseDevice(opts.device, 'tensor');
    if (name !== t.device) t = K.transfer(t, name);
  }
  if (opts?.requiresGrad) t.requiresGrad = true;
  return t;
}

function opt(opts: TensorOptions | undefined, op: string, dflt: DType = 'float32'): DType {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw new ValueError(`${op}: options must be an object`);
  checkDevice(opts?.device, op);
  return opts?.dtype === undefined ? dflt : checkDType(opts.dtype, op);
}

const TYPED: Record<DType, { new (n: number): ArrayBufferView & ArrayLike<number | bigint> }> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array as never,
  bool: Uint8Array,
};

function typedDType(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Uint8Array) return 'bool';
  throw new DTypeError(`tensor: unsupported typed array ${a.constructor.name}; use Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array (bool)`);
}

/**
 * A tensor from nested arrays, a typed array or a number. dtype is inferred like PyTorch:
 * booleans -> bool, all integers -> int64, otherwise float32.
 *
 * @example ignis.tensor([[1, 2], [3, 4]], { dtype: 'float64', requiresGrad: true })
 */
function tensorImpl(data: Nested | ArrayBufferView | Tensor, opts?: TensorOptions & { shape?: number[] }): Tensor {
  if (data instanceof Tensor) return finish(ops().to(data.detach(), opt(opts, 'tensor', data.dtype)).clone().detach(), opts);
  if (ArrayBuffer.isView(data)) {
    const src = typedDType(data);
    const dtype = opt(opts, 'tensor', src);
    const n = (data as unknown as ArrayLike<unknown>).length;
    const shape = opts?.shape ? checkShape(opts.shape, 'tensor') : [n];
    if (numel(shape) !== n) throw new ShapeError(`tensor: shape ${fmtShape(shape)} does not match ${n} elements`);
    const t = K.fromTyped(data, shape, src);
    return finish(src === dtype ? t : K.cast(t, dtype), opts);
  }
  // nested arrays: infer shape, check it is rectangular
  const shape: number[] = [];
  let cur: unknown = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  checkShape(shape, 'tensor');
  const n = numel(shape);
  let kind = 'bool' as 'bool' | 'int' | 'float';
  const flat: (number | boolean)[] = new Array(n);
  let k = 0;
  const walk = (v: unknown, d: number): void => {
    if (d === shape.length) {
      if (typeof v === 'boolean') {
        /* bool */
      } else if (typeof v === 'number') {
        if (kind === 'bool') kind = 'int';
        if (kind === 'int' && !Number.isInteger(v)) kind = 'float';
      } else throw new ValueError(`tensor: expected numbers or booleans, got ${v === null ? 'null' : typeof v} at position ${k}`);
      flat[k++] = v as number | boolean;
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[d])
      throw new ShapeError(`tensor: expected a sequence of length ${shape[d]} at dim ${d} (the data is ragged)`);
    for (const e of v) walk(e, d + 1);
  };
  walk(data, 0);
  if (n === 0 && shape.length > 0) kind = 'float';
  const inferred: DType = kind === 'bool' ? 'bool' : kind === 'int' ? 'int64' : 'float32';
  const dtype = opt(opts, 'tensor', inferred);
  const arr = new TYPED[dtype](n) as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    const num = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    if (dtype === 'int64') {
      if (!Number.isFinite(num)) throw new DTypeError(`tensor: cannot convert ${num} to int64`);
      arr[i] = BigInt(Math.trunc(num));
    } else if (dtype === 'bool') arr[i] = num !== 0 ? 1 : 0;
    else if (dtype === 'int32') {
      if (!Number.isFinite(num)) throw new DTypeError(`tensor: cannot convert ${num} to int32`);
      arr[i] = Math.trunc(num);
    } else arr[i] = num;
  }
  // a `shape` option reshapes nested data too (it used to be ignored for arrays: silent garbage)
  const outShape = opts?.shape ? checkShape(opts.shape, 'tensor') : shape;
  if (numel(outShape) !== n) throw new ShapeError(`tensor: shape ${fmtShape(outShape)} does not match ${n} elements`);
  return finish(K.fromTyped(arr as unknown as ArrayBufferView, outShape, dtype), opts);
}

function sizes(args: unknown[], op: string): [number[], TensorOptions | undefined] {
  let opts: TensorOptions | undefined;
  if (args.length && typeof args[args.length - 1] === 'object' && !Array.isArray(args[args.length - 1]))
    opts = args.pop() as TensorOptions;
  const shape = args.length === 1 && Array.isArray(args[0]) ? args[0] : args;
  return [checkShape(shape, op), opts];
}

type SizeArgs = (number | number[] | TensorOptions)[];

/** The canonical device of the options ('cpu' when absent); DeviceError for absent CUDA. */
function deviceOf(opts: TensorOptions | undefined, op: string): Device {
  return opts?.device === undefined || opts.device === 'cpu' ? 'cpu' : parseDevice(opts.device, op).name;
}

const filled = K.full;

function fullImpl(shape: number[] | number, value: number | boolean, opts?: TensorOptions): Tensor {
  const s = checkShape(shape, 'full');
  const v = typeof value === 'boolean' ? (value ? 1 : 0) : checkNumber(value, 'full', 'fill value');
  const inferred: DType = typeof value === 'boolean' ? 'bool' : Number.isInteger(value) ? 'int64' : 'float32';
  const dtype = opt(opts, 'full', inferred);
  if (!isFloating(dtype) && !Number.isFinite(v)) throw new DTypeError(`full: value ${v} cannot be represented as ${dtype}`);
  return finish(filled(v, dtype, s, deviceOf(opts, 'full')), opts);
}

function zerosImpl(...args: SizeArgs): Tensor {
  const [s, o] = sizes(args, 'zeros');
  return finish(filled(0, opt(o, 'zeros'), s, deviceOf(o, 'zeros')), o);
}
function onesImpl(...args: SizeArgs): Tensor {
  const [s, o] = sizes(args, 'ones');
  return finish(filled(1, opt(o, 'ones'), s, deviceOf(o, 'ones')), o);
}
/** Uninitialised memory (reused blocks hold old values), like torch.empty. */
function emptyImpl(...args: SizeArgs): Tensor {
  const [s, o] = sizes(args, 'empty');
  const dtype = opt(o, 'empty');
  return finish(K.empty(s, dtype, deviceOf(o, 'empty')), o);
}

const likeOpts = (x: Tensor, opts?: TensorOptions): TensorOptions => ({ dtype: x.dtype, device: x.device, ...opts });
export const zerosLike = recorded('zerosLike', (x: Tensor, opts?: TensorOptions): Tensor => zeros(checkTensor(x, 'zerosLike').shape as number[], likeOpts(x, opts)));
export const onesLike = recorded('onesLike', (x: Tensor, opts?: TensorOptions): Tensor => ones(checkTensor(x, 'onesLike').shape as number[], likeOpts(x, opts)));
export const emptyLike = recorded('emptyLike', (x: Tensor, opts?: TensorOptions): Tensor => empty(checkTensor(x, 'emptyLike').shape as number[], likeOpts(x, opts)));
export const fullLike = recorded('fullLike', (x: Tensor, v: number, opts?: TensorOptions): Tensor => full(checkTensor(x, 'fullLike').shape as number[], v, likeOpts(x, opts)));
export const randLike = recorded('randLike', (x: Tensor, opts?: RandomOptions): Tensor => rand(checkTensor(x, 'randLike').shape as number[], likeOpts(x, opts)));
export const randnLike = recorded('randnLike', (x: Tensor, opts?: RandomOptions): Tensor => randn(checkTensor(x, 'randnLike').shape as number[], likeOpts(x, opts)));

/** arange(end) | arange(start, end, step?) with options last. int64 when all arguments are integers. */
function arangeImpl(...args: (number | TensorOptions)[]): Tensor {
  let opts: TensorOptions | undefined;
  if (args.length && typeof args[args.length - 1] === 'object') opts = args.pop() as TensorOptions;
  const nums = args as number[];
  nums.forEach((v, i) => checkNumber(v, 'arange', `argument ${i}`));
  let [start, end, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? 1];
  if (nums.length === 0 || nums.length > 3) throw new ValueError('arange: expected (end), (start, end) or (start, end, step)');
  if (step === 0) throw new ValueError('arange: step must be nonzero');
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw new ValueError('arange: start and end must be finite');
  if ((end - start) * step < 0) throw new ValueError(`arange: upper bound and larger bound inconsistent with step sign (start ${start}, end ${end}, step ${step})`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const allInt = nums.every((v) => Number.isInteger(v));
  const dtype = opt(opts, 'arange', allInt ? 'int64' : 'float32');
  checkShape([n], 'arange');
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(K.cast(K.fromTyped(data, [n], 'float64'), dtype), opts);
  void end;
}

function linspaceImpl(start: number, end: number, steps: number, opts?: TensorOptions): Tensor {
  checkNumber(start, 'linspace', 'start');
  checkNumber(end, 'linspace', 'end');
  checkShape([steps], 'linspace');
  const dtype = opt(opts, 'linspace');
  const data = new Float64Array(steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // symmetric evaluation, as PyTorch does, so both ends are exact
  for (let i = 0; i < steps; i++) data[i] = i < steps / 2 ? start + i * step : end - (steps - 1 - i) * step;
  return finish(K.cast(K.fromTyped(data, [steps], 'float64'), dtype), opts);
}

function eyeImpl(n: number, m?: number | TensorOptions, opts?: TensorOptions): Tensor {
  if (typeof m === 'object') [opts, m] = [m, undefined];
  const cols = m ?? n;
  checkShape([n, cols], 'eye');
  const dtype = opt(opts, 'eye');
  const data = new Float64Array(n * cols);
  for (let i = 0; i < Math.min(n, cols); i++) data[i * cols + i] = 1;
  return finish(K.cast(K.fromTyped(data, [n, cols], 'float64'), dtype), opts);
}

// Philox on the tensor's device: the same (seed, offset) gives the same numbers on CPU and CUDA.
function randomTensor(kind: 'uniform' | 'normal' | 'randint' | 'bernoulli', shape: number[], dtype: DType, g: Generator, p0: number, p1: number, device: Device = 'cpu'): Tensor {
  const [seed, off] = g.next(numel(shape));
  return K.random(kind, shape, dtype, seed, off, p0, p1, device);
}

function genOf(opts: RandomOptions | undefined, op: string): Generator {
  const g = opts?.generator ?? defaultGenerator;
  if (!(g instanceof Generator)) throw new ValueError(`${op}: generator must be an ignis.Generator`);
  return g;
}

/** Uniform on [0, 1). */
function randImpl(...args: (number | number[] | RandomOptions)[]): Tensor {
  const [s, o] = sizes(args, 'rand');
  const dtype = opt(o, 'rand');
  if (!isFloating(dtype)) throw new DTypeError(`rand: expected a floating dtype, got ${dtype}`);
  return finish(randomTensor('uniform', s, dtype, genOf(o, 'rand'), 0, 1, deviceOf(o, 'rand')), o);
}

/** Standard normal. */
function randnImpl(...args: (number | number[] | RandomOptions)[]): Tensor {
  const [s, o] = sizes(args, 'randn');
  const dtype = opt(o, 'randn');
  if (!isFloating(dtype)) throw new DTypeError(`randn: expected a floating dtype, got ${dtype}`);
  return finish(randomTensor('normal', s, dtype, genOf(o, 'randn'), 0, 1, deviceOf(o, 'randn')), o);
}

/** Integers uniform on [low, high): randint(high, shape) or randint(low, high, shape). */
function randintImpl(a: number, b: number | number[], c?: number[] | RandomOptions, d?: RandomOptions): Tensor {
  let low: number, high: number, shape: number[], o: RandomOptions | undefined;
  if (Array.isArray(b)) [low, high, shape, o] = [0, a, b, c as RandomOptions | undefined];
  else [low, high, shape, o] = [a, b, c as number[], d];
  checkNumber(low, 'randint', 'low');
  checkNumber(high, 'randint', 'high');
  if (!Number.isInteger(low) || !Number.isInteger(high)) throw new ValueError('randint: low and high must be integers');
  if (high <= low) throw new ValueError(`randint: expected low < high, got low=${low}, high=${high}`);
  const s = checkShape(shape, 'randint');
  const dtype = opt(o, 'randint', 'int64');
  const t = randomTensor('randint', s, dtype, genOf(o, 'randint'), low, high, deviceOf(o, 'randint'));
  K.markRange(t, low, high - 1); // (on CUDA: index checks against it need not read it back)
  return finish(t, o);
}

/** Bernoulli(p) samples as the given dtype (float32 by default). */
function bernoulliImpl(shape: number[], p: number, opts?: RandomOptions): Tensor {
  const s = checkShape(shape, 'bernoulli');
  checkNumber(p, 'bernoulli', 'p');
  if (p < 0 || p > 1) throw new ValueError(`bernoulli: p must be in [0, 1], got ${p}`);
  return finish(randomTensor('bernoulli', s, opt(opts, 'bernoulli'), genOf(opts, 'bernoulli'), p, 0, deviceOf(opts, 'bernoulli')), opts);
}

function fillRandom<T extends Tensor>(self: T, kind: 'uniform' | 'normal', p0: number, p1: number, op: string, g?: Generator): T {
  checkTensor(self, op);
  if (!isFloating(self.dtype)) throw new DTypeError(`${op}: expected a floating tensor, got ${self.dtype}`);
  const r = randomTensor(kind, self.shape as number[], self.dtype, g ?? defaultGenerator, p0, p1, self.device);
  const prev = mode.grad;
  mode.grad = false;
  try {
    return ops().copy_(self, r);
  } finally {
    mode.grad = prev;
  }
}

function uniform_Impl<T extends Tensor>(self: T, low = 0, high = 1, g?: Generator): T {
  checkNumber(low, 'uniform_', 'low');
  checkNumber(high, 'uniform_', 'high');
  if (low > high) throw new ValueError(`uniform_: expects low <= high, got low=${low}, high=${high}`);
  return fillRandom(self, 'uniform', low, high, 'uniform_', g);
}

function normal_Impl<T extends Tensor>(self: T, mean = 0, std = 1, g?: Generator): T {
  checkNumber(mean, 'normal_', 'mean');
  checkNumber(std, 'normal_', 'std');
  if (std < 0) throw new ValueError(`normal_: expects std >= 0.0, got ${std}`);
  return fillRandom(self, 'normal', mean, std, 'normal_', g);
}

// ---- the public functions: each call is an event while a profiler runs (profiler/hook.ts) ----
/**
 * A tensor from nested arrays, a typed array or a number. dtype is inferred like PyTorch:
 * booleans -> bool, all integers -> int64, otherwise float32.
 *
 * @example ignis.tensor([[1, 2], [3, 4]], { dtype: 'float64', requiresGrad: true })
 */
export const tensor = recorded('tensor', tensorImpl);
export const full = recorded('full', fullImpl);
export const zeros = recorded('zeros', zerosImpl);
export const ones = recorded('ones', onesImpl);
/** Uninitialised memory (reused blocks hold old values), like torch.empty. */
export const empty = recorded('empty', emptyImpl);
/** arange(end) | arange(start, end, step?) with options last. int64 when all arguments are integers. */
export const arange = recorded('arange', arangeImpl);
export const linspace = recorded('linspace', linspaceImpl);
export const eye = recorded('eye', eyeImpl);
/** Uniform on [0, 1). */
export const rand = recorded('rand', randImpl);
/** Standard normal. */
export const randn = recorded('randn', randnImpl);
/** Integers uniform on [low, high): randint(high, shape) or randint(low, high, shape). */
export const randint = recorded('randint', randintImpl);
/** Bernoulli(p) samples as the given dtype (float32 by default). */
export const bernoulli = recorded('bernoulli', bernoulliImpl);
export const uniform_ = recorded('uniform_', uniform_Impl);
export const normal_ = recorded('normal_', normal_Impl);

export { DTYPE_CODE };
