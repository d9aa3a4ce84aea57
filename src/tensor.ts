import './polyfill';
/**
 * Tensor: a strided view (shape, strides, offset, dtype) over a shared Storage, with autograd
 * state. Ops are methods here and functions in src/ops/; both go through dispatch().
 */
import type { Hook, Node } from './autograd/node';
import { DType, DTYPE_SIZE, isFloating } from './dtype';
import { AutogradError, ValueError } from './errors';
import type { Device, Storage } from './storage';
import { numel } from './shape';
import * as ops from './ops/all';
import { formatTensor } from './print';

type Scalar = number;
type TensorOrScalar = Tensor | Scalar;
type Dims = number | number[];

export class Tensor {
  /** @internal */ _storage: Storage;
  /** @internal */ _strides: number[];
  /** @internal */ _offset: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Accumulated gradient (leaves, and non-leaves after retainGrad()). */
  grad: Tensor | null = null;
  /** The op that produced this tensor (null for leaves). */
  gradFn: Node | null = null;
  /** @internal */ _outIndex = 0;
  /** @internal */ _accNode: Node | null = null;
  /** @internal */ _requiresGrad = false;
  /** @internal */ _leafHooks: Hook[] | null = null;

  constructor(storage: Storage, shape: readonly number[], strides: number[], offset: number, dtype: DType) {
    this._storage = storage;
    this.shape = shape;
    this._strides = strides;
    this._offset = offset;
    this.dtype = dtype;
  }

  // ---- metadata --------------------------------------------------------------------------
  get device(): Device {
    return this._storage.device;
  }
  get ndim(): number {
    return this.shape.length;
  }
  dim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return numel(this.shape);
  }
  size(dim?: number): number | readonly number[] {
    if (dim === undefined) return this.shape;
    return this.shape[ops.normDim(dim, this.ndim, 'size')];
  }
  stride(): number[] {
    return this._strides.slice();
  }
  get storageOffset(): number {
    return this._offset;
  }
  get itemsize(): number {
    return DTYPE_SIZE[this.dtype];
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get isDisposed(): boolean {
    return this._storage.disposed;
  }
  /** Number of in-place modifications of the underlying storage (PyTorch's _version). */
  get version(): number {
    return this._storage.version;
  }
  isContiguous(): boolean {
    let st = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this._strides[i] !== st) return false;
      st *= this.shape[i];
    }
    return true;
  }

  // ---- autograd --------------------------------------------------------------------------
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(v: boolean) {
    if (v && !isFloating(this.dtype))
      throw new AutogradError(`requiresGrad: only floating point tensors can require gradients (got ${this.dtype})`);
    if (!v && this.gradFn) throw new AutogradError('requiresGrad: you can only change requiresGrad flags of leaf variables');
    this._requiresGrad = v;
  }
  requiresGrad_(v = true): this {
    this.requiresGrad = v;
    return this;
  }
  /** Computes the gradient of this tensor w.r.t. the graph leaves (torch.Tensor.backward). */
  backward(gradient?: Tensor, opts: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    ops.backward(this, gradient, opts);
  }
  /** A tensor sharing storage with this one, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this._storage, this.shape, this._strides, this._offset, this.dtype);
  }
  detach_(): this {
    this.gradFn = null;
    this._requiresGrad = false;
    return this;
  }
  /** Keep .grad for this non-leaf tensor after backward. */
  retainGrad(): void {
    if (!this.requiresGrad) throw new AutogradError("retainGrad: can't retain grad on a tensor that doesn't require grad");
    if (!this.gradFn) return;
    const n = this.gradFn;
    if (!n.retain) n.retain = new Array(n.numOutputs).fill(null);
    n.retain[this._outIndex] = this;
  }
  get retainsGrad(): boolean {
    return !!this.gradFn?.retain?.[this._outIndex];
  }
  /** hook(grad) runs when this tensor's gradient is computed; it may return a replacement. */
  registerHook(hook: Hook): { remove(): void } {
    if (!this.requiresGrad) throw new AutogradError("registerHook: cannot register a hook on a tensor that doesn't require gradient");
    let list: Hook[];
    if (this.gradFn) {
      const n = this.gradFn;
      if (!n.hooks) n.hooks = Array.from({ length: n.numOutputs }, () => []);
      list = n.hooks[this._outIndex];
    } else {
      const n = ops.accumulateNode(this);
      if (!n.hooks) n.hooks = [[]];
      list = n.hooks[0];
    }
    list.push(hook);
    return { remove: () => void list.splice(list.indexOf(hook) >>> 0, 1) };
  }

  // ---- memory ----------------------------------------------------------------------------
  /** Frees the native memory now. The tensor (and every view of its storage) becomes unusable. */
  dispose(): void {
    this._storage.dispose();
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- readback --------------------------------------------------------------------------
  /** Nested JS arrays (numbers; booleans for bool tensors). */
  toArray(): unknown {
    return ops.toArray(this);
  }
  /** A copy of the elements, row-major, as a typed array (BigInt64Array for int64). */
  dataSync(): ArrayBufferView {
    return ops.readTyped(this);
  }
  /** Async readback; resolves with the same copy as dataSync() without blocking later device work. */
  async data(): Promise<ArrayBufferView> {
    return ops.readTypedAsync(this);
  }
  /** The value of a one-element tensor. */
  item(): number | boolean {
    return ops.item(this);
  }
  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- conversion ------------------------------------------------------------------------
  to(arg: DType | Device | { dtype?: DType; device?: Device }): Tensor {
    return ops.to(this, arg);
  }
  float(): Tensor { return ops.to(this, 'float32'); }
  double(): Tensor { return ops.to(this, 'float64'); }
  int(): Tensor { return ops.to(this, 'int32'); }
  long(): Tensor { return ops.to(this, 'int64'); }
  bool(): Tensor { return ops.to(this, 'bool'); }
  cpu(): Tensor { return ops.to(this, 'cpu'); }
  /** A copy on a CUDA device ('cuda:0' by default); this tensor itself when already there. */
  cuda(device: number | Device = 0): Tensor { return ops.to(this, typeof device === 'number' ? (`cuda:${device}` as Device) : device); }
  clone(): Tensor { return ops.clone(this); }
  contiguous(): Tensor { return ops.contiguous(this); }

  // ---- views -----------------------------------------------------------------------------
  view(...shape: (number | number[])[]): Tensor { return ops.view(this, flatArgs(shape)); }
  reshape(...shape: (number | number[])[]): Tensor { return ops.reshape(this, flatArgs(shape)); }
  permute(...dims: (number | number[])[]): Tensor { return ops.permute(this, flatArgs(dims)); }
  transpose(d0: number, d1: number): Tensor { return ops.transpose(this, d0, d1); }
  t(): Tensor { return ops.tT(this); }
  get T(): Tensor { return ops.permute(this, this.shape.map((_, i) => this.ndim - 1 - i)); }
  squeeze(dim?: Dims): Tensor { return ops.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return ops.unsqueeze(this, dim); }
  expand(...shape: (number | number[])[]): Tensor { return ops.expand(this, flatArgs(shape)); }
  expandAs(other: Tensor): Tensor { return ops.expand(this, other.shape as number[]); }
  narrow(dim: number, start: number, length: number): Tensor { return ops.narrow(this, dim, start, length); }
  slice(dim: number, start?: number, end?: number, step?: number): Tensor { return ops.slice(this, dim, start, end, step); }
  select(dim: number, index: number): Tensor { return ops.select(this, dim, index); }
  /** NumPy-style indexing: numbers select, 'a:b:c' / ':' / '...' slice, null inserts a dim. */
  index(...spec: ops.IndexSpec[]): Tensor { return ops.index(this, spec); }
  flatten(startDim = 0, endDim = -1): Tensor { return ops.flatten(this, startDim, endDim); }
  unflatten(dim: number, sizes: number[]): Tensor { return ops.unflatten(this, dim, sizes); }
  split(splitSize: number | number[], dim = 0): Tensor[] { return ops.split(this, splitSize, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return ops.chunk(this, chunks, dim); }
  unbind(dim = 0): Tensor[] { return ops.unbind(this, dim); }

  // ---- elementwise -----------------------------------------------------------------------
  add(o: TensorOrScalar, opts?: { alpha?: number }): Tensor { return ops.add(this, o, opts); }
  sub(o: TensorOrScalar, opts?: { alpha?: number }): Tensor { return ops.sub(this, o, opts); }
  mul(o: TensorOrScalar): Tensor { return ops.mul(this, o); }
  div(o: TensorOrScalar): Tensor { return ops.div(this, o); }
  pow(o: TensorOrScalar): Tensor { return ops.pow(this, o); }
  maximum(o: Tensor): Tensor { return ops.maximum(this, o); }
  minimum(o: Tensor): Tensor { return ops.minimum(this, o); }
  fmod(o: TensorOrScalar): Tensor { return ops.fmod(this, o); }
  eq(o: TensorOrScalar): Tensor { return ops.eq(this, o); }
  ne(o: TensorOrScalar): Tensor { return ops.ne(this, o); }
  lt(o: TensorOrScalar): Tensor { return ops.lt(this, o); }
  le(o: TensorOrScalar): Tensor { return ops.le(this, o); }
  gt(o: TensorOrScalar): Tensor { return ops.gt(this, o); }
  ge(o: TensorOrScalar): Tensor { return ops.ge(this, o); }
  logicalAnd(o: TensorOrScalar): Tensor { return ops.logicalAnd(this, o); }
  logicalOr(o: TensorOrScalar): Tensor { return ops.logicalOr(this, o); }
  logicalXor(o: TensorOrScalar): Tensor { return ops.logicalXor(this, o); }
  logicalNot(): Tensor { return ops.logicalNot(this); }
  neg(): Tensor { return ops.neg(this); }
  abs(): Tensor { return ops.abs(this); }
  sign(): Tensor { return ops.sign(this); }
  exp(): Tensor { return ops.exp(this); }
  log(): Tensor { return ops.log(this); }
  log1p(): Tensor { return ops.log1p(this); }
  expm1(): Tensor { return ops.expm1(this); }
  sqrt(): Tensor { return ops.sqrt(this); }
  rsqrt(): Tensor { return ops.rsqrt(this); }
  sin(): Tensor { return ops.sin(this); }
  cos(): Tensor { return ops.cos(this); }
  tanh(): Tensor { return ops.tanh(this); }
  sigmoid(): Tensor { return ops.sigmoid(this); }
  erf(): Tensor { return ops.erf(this); }
  floor(): Tensor { return ops.floor(this); }
  ceil(): Tensor { return ops.ceil(this); }
  round(): Tensor { return ops.round(this); }
  reciprocal(): Tensor { return ops.reciprocal(this); }
  square(): Tensor { return ops.square(this); }
  clamp(min?: number | null, max?: number | null): Tensor { return ops.clamp(this, min, max); }
  clip(min?: number | null, max?: number | null): Tensor { return ops.clamp(this, min, max); }
  where(cond: Tensor, other: TensorOrScalar): Tensor { return ops.where(cond, this, other); }
  maskedFill(mask: Tensor, value: number): Tensor { return ops.maskedFill(this, mask, value); }

  // ---- in place --------------------------------------------------------------------------
  add_(o: TensorOrScalar, opts?: { alpha?: number }): this { return ops.binaryInplace(this, 'add', o, opts); }
  sub_(o: TensorOrScalar, opts?: { alpha?: number }): this { return ops.binaryInplace(this, 'sub', o, opts); }
  mul_(o: TensorOrScalar): this { return ops.binaryInplace(this, 'mul', o); }
  div_(o: TensorOrScalar): this { return ops.binaryInplace(this, 'div', o); }
  pow_(o: TensorOrScalar): this { return ops.inplace(this, 'pow_', (s) => ops.pow(s, o)); }
  clamp_(min?: number | null, max?: number | null): this { return ops.inplace(this, 'clamp_', (s) => ops.clamp(s, min, max)); }
  neg_(): this { return ops.inplace(this, 'neg_', (s) => ops.neg(s)); }
  exp_(): this { return ops.inplace(this, 'exp_', (s) => ops.exp(s)); }
  sqrt_(): this { return ops.inplace(this, 'sqrt_', (s) => ops.sqrt(s)); }
  maskedFill_(mask: Tensor, value: number): this { return ops.inplace(this, 'maskedFill_', (s) => ops.maskedFill(s, mask, value)); }
  zero_(): this { return ops.fill_(this, 0); }
  fill_(v: number | boolean): this { return ops.fill_(this, v); }
  copy_(src: Tensor): this { return ops.copy_(this, src); }
  uniform_(low = 0, high = 1): this { return ops.uniform_(this, low, high); }
  normal_(mean = 0, std = 1): this { return ops.normal_(this, mean, std); }
  scatter_(dim: number, index: Tensor, src: TensorOrScalar): this { return ops.scatter_(this, dim, index, src, 0); }
  scatterAdd_(dim: number, index: Tensor, src: Tensor): this { return ops.scatter_(this, dim, index, src, 1); }

  // ---- reductions ------------------------------------------------------------------------
  sum(dim?: Dims | null, keepdim = false): Tensor { return ops.sum(this, dim, keepdim); }
  mean(dim?: Dims | null, keepdim = false): Tensor { return ops.mean(this, dim, keepdim); }
  prod(dim?: Dims | null, keepdim = false): Tensor { return ops.prod(this, dim, keepdim); }
  amax(dim?: Dims | null, keepdim = false): Tensor { return ops.amax(this, dim, keepdim); }
  amin(dim?: Dims | null, keepdim = false): Tensor { return ops.amin(this, dim, keepdim); }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): ops.ValuesIndices;
  max(other: Tensor): Tensor;
  max(dim?: number | Tensor, keepdim = false): Tensor | ops.ValuesIndices {
    return ops.max(this, dim as number, keepdim);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): ops.ValuesIndices;
  min(other: Tensor): Tensor;
  min(dim?: number | Tensor, keepdim = false): Tensor | ops.ValuesIndices {
    return ops.min(this, dim as number, keepdim);
  }
  argmax(dim?: number | null, keepdim = false): Tensor { return ops.argmax(this, dim, keepdim); }
  argmin(dim?: number | null, keepdim = false): Tensor { return ops.argmin(this, dim, keepdim); }
  var(dim?: Dims | null, opts?: { correction?: number; keepdim?: boolean }): Tensor { return ops.var_(this, dim, opts); }
  std(dim?: Dims | null, opts?: { correction?: number; keepdim?: boolean }): Tensor { return ops.std(this, dim, opts); }
  logsumexp(dim: Dims, keepdim = false): Tensor { return ops.logsumexp(this, dim, keepdim); }
  norm(p: number = 2, dim?: Dims | null, keepdim = false): Tensor { return ops.norm(this, p, dim, keepdim); }
  all(): Tensor { return ops.all(this); }
  any(): Tensor { return ops.any(this); }

  // ---- linear algebra, indexing, softmax -------------------------------------------------
  matmul(o: Tensor): Tensor { return ops.matmul(this, o); }
  mm(o: Tensor): Tensor { return ops.mm(this, o); }
  bmm(o: Tensor): Tensor { return ops.bmm(this, o); }
  dot(o: Tensor): Tensor { return ops.dot(this, o); }
  gather(dim: number, index: Tensor): Tensor { return ops.gather(this, dim, index); }
  scatter(dim: number, index: Tensor, src: TensorOrScalar): Tensor { return ops.scatter(this, dim, index, src); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return ops.scatterAdd(this, dim, index, src); }
  indexSelect(dim: number, index: Tensor): Tensor { return ops.indexSelect(this, dim, index); }
  softmax(dim: number): Tensor { return ops.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return ops.logSoftmax(this, dim); }
}

function flatArgs(a: (number | number[])[]): number[] {
  if (a.length === 1 && Array.isArray(a[0])) return a[0];
  for (const v of a) if (Array.isArray(v)) throw new ValueError('expected sizes as numbers or one array');
  return a as number[];
}
