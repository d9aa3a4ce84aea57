/**
 * Raw kernel calls on tensors: no argument checks beyond what the kernel needs, no autograd.
 * Ops (src/ops/) check arguments and go through dispatch(); their forward and backward bodies
 * call these.
 */
import { DType, DTYPE_CODE, DTYPE_SIZE } from './dtype';
import { fromNative } from './native_errors';
import { MemoryError } from './errors';
import { collectForMemory } from './gc';
import { addon, codes, Handle, info, KIND_ALLOC, KIND_SCALAR, KIND_TENSOR, meta, OPERAND, OPERAND_STRIDE, PARAMS } from './native';
import { contiguousStrides, numel, Shape } from './shape';
import { Device, deviceCode, Storage } from './storage';
import { Tensor } from './tensor';

export const UNARY = codes(info.unaryOps);
export const UNARY_INT_OK = new Set(info.unaryIntOk.filter((n) => n));
export const BINARY = codes(info.binaryOps);
export const REDUCE = codes(info.reduceOps);
export const ACT = codes(info.activations);
// the `approx: 'fast'` forwards (ACT_FAST rows of activations.def) as kernels '<kernel>_fast'
info.activationsFast.forEach((n, i) => (ACT[`${n}_fast`] = info.activations.length + i));

/** A fresh contiguous tensor around a native storage handle (on `device`: where the kernel ran). */
export function wrap(h: Handle, shape: Shape, dtype: DType, device: Device = 'cpu'): Tensor {
  const n = numel(shape);
  return new Tensor(new Storage(h, n * DTYPE_SIZE[dtype], device), shape.slice(), contiguousStrides(shape), 0, dtype);
}

// The device of the tensor operands described since the last writeShape(): the native side
// allocates the output there, so the JS wrapper must say the same.
let opDevice: Device = 'cpu';

export function empty(shape: Shape, dtype: DType, device: Device = 'cpu'): Tensor {
  const h = call('empty', () => addon.alloc(numel(shape) * DTYPE_SIZE[dtype], deviceCode(device))) as Handle;
  return wrap(h, shape, dtype, device);
}

function writeShape(shape: Shape): void {
  opDevice = 'cpu';
  const nd = shape.length;
  meta[0] = nd;
  for (let i = 0; i < nd; i++) meta[1 + i] = shape[i];
}

/** Describes operand k broadcast to `shape` (strides 0 where it is broadcast). */
function writeOperand(k: number, t: Tensor | number | null, dtype: DType, shape: Shape): Handle | null {
  const b = OPERAND + OPERAND_STRIDE * k;
  meta[b] = DTYPE_CODE[dtype];
  if (t === null) {
    meta[b + 2] = KIND_ALLOC;
    return null;
  }
  if (typeof t === 'number') {
    meta[b + 2] = KIND_SCALAR;
    meta[b + 3] = t;
    return null;
  }
  meta[b + 1] = t._offset;
  meta[b + 2] = KIND_TENSOR;
  opDevice = t._storage.device;
  const nd = shape.length;
  const tnd = t.shape.length;
  const lead = nd - tnd;
  for (let i = 0; i < nd; i++) {
    const j = i - lead;
    meta[b + 4 + i] = j < 0 || (t.shape[j] === 1 && shape[i] !== 1) ? 0 : t._strides[j];
  }
  return t._storage.live('op');
}

function call<T>(op: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const err = fromNative(e, op);
    if (!outOfDeviceMemory(err)) throw err;
    try {
      return f(); // after a full collection freed dead tensors' device blocks (the operands are unchanged)
    } catch (e2) {
      throw fromNative(e2, op);
    }
  }
}

/** A CUDA out-of-memory error after which a full collection freed something: worth one retry. */
function outOfDeviceMemory(err: Error): boolean {
  return err instanceof MemoryError && /\bcuda:\d+ out of memory/.test(err.message) && collectForMemory();
}

/** out = op(x) elementwise; `out` given means write in place into that (possibly strided) tensor. */
export function unary(op: string, x: Tensor, p0 = 0, p1 = 0, out: Tensor | null = null): Tensor {
  const shape = x.shape;
  writeShape(shape);
  const ho = writeOperand(0, out, x.dtype, shape);
  const hx = writeOperand(1, x, x.dtype, shape);
  meta[PARAMS] = p0;
  meta[PARAMS + 1] = p1;
  const dev = opDevice;
  const r = call(op, () => addon.unary(UNARY[op], ho, hx));
  return out ?? wrap(r as Handle, shape, x.dtype, dev);
}

/** out = a op b with broadcasting; a and b already in the compute dtype `dt` (or numbers). */
export function binary(op: string, a: Tensor | number, b: Tensor | number, dt: DType, shape: Shape, outDtype: DType, out: Tensor | null = null): Tensor {
  writeShape(shape);
  const ho = writeOperand(0, out, outDtype, shape);
  const ha = writeOperand(1, a, dt, shape);
  const hb = writeOperand(2, b, dt, shape);
  const dev = opDevice;
  const r = call(op, () => addon.binary(BINARY[op], ho, ha, hb));
  return out ?? wrap(r as Handle, shape, outDtype, dev);
}

export function where(cond: Tensor, a: Tensor | number, b: Tensor | number, dt: DType, shape: Shape): Tensor {
  writeShape(shape);
  writeOperand(0, null, dt, shape);
  const hc = writeOperand(1, cond, 'bool', shape);
  const ha = writeOperand(2, a, dt, shape);
  const hb = writeOperand(3, b, dt, shape);
  const dev = opDevice;
  return wrap(call('where', () => addon.where(null, hc, ha, hb)) as Handle, shape, dt, dev);
}

/** Copies (with dtype conversion and broadcasting) src into dst, or into a new contiguous tensor. */
export function copy(src: Tensor | number, dtype: DType, shape: Shape, dst: Tensor | null = null, srcDtype?: DType): Tensor {
  writeShape(shape);
  const ho = writeOperand(0, dst, dst ? dst.dtype : dtype, shape);
  const hs = writeOperand(1, src, typeof src === 'number' ? (srcDtype ?? 'float64') : src.dtype, shape);
  const dev = opDevice;
  const r = call('copy', () => addon.copy(ho, hs));
  return dst ?? wrap(r as Handle, shape, dtype, dev);
}

/** A tensor of `shape` filled with v, made on `device` (on CUDA one fill kernel, no host copy). */
export function full(v: number, dtype: DType, shape: Shape, device: Device = 'cpu'): Tensor {
  if (device === 'cpu') return copy(v, dtype, shape, null, 'float64');
  const t = empty(shape, dtype, device);
  copy(v, dtype, shape, t, 'float64');
  return t;
}

export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : copy(x, x.dtype, x.shape);
}

export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const r = copy(x, dtype, x.shape);
  const k = rangeOf(x); // an integer cast that keeps every value keeps the known range
  if (k && (dtype === 'int64' || (dtype === 'int32' && k.lo >= -(2 ** 31) && k.hi < 2 ** 31))) markRange(r, k.lo, k.hi);
  return r;
}

export function act(name: string, x: Tensor, params: readonly number[], out: Tensor | null = null): Tensor {
  const shape = x.shape;
  writeShape(shape);
  const ho = writeOperand(0, out, x.dtype, shape);
  const hx = writeOperand(1, x, x.dtype, shape) as Handle;
  for (let i = 0; i < 4; i++) meta[PARAMS + i] = params[i] ?? 0;
  const r = call(name, () => addon.actFwd(ACT[name], ho, hx));
  return out ?? wrap(r as Handle, shape, x.dtype, x._storage.device);
}

export function actBackward(name: string, x: Tensor, g: Tensor, params: readonly number[]): Tensor {
  const shape = x.shape;
  writeShape(shape);
  writeOperand(0, null, x.dtype, shape);
  const hx = writeOperand(1, x, x.dtype, shape) as Handle;
  const hg = writeOperand(2, g, x.dtype, shape) as Handle;
  for (let i = 0; i < 4; i++) meta[PARAMS + i] = params[i] ?? 0;
  return wrap(call(name, () => addon.actBwd(ACT[name], null, hx, hg)) as Handle, shape, x.dtype, x._storage.device);
}

/** Runs a compiled expression program (src/activations/expr.ts): forward, or backward with g. */
export function expr(program: Float64Array, x: Tensor, g: Tensor | null, op: string): Tensor {
  const shape = x.shape;
  writeShape(shape);
  writeOperand(0, null, x.dtype, shape);
  const hx = writeOperand(1, x, x.dtype, shape) as Handle;
  const hg = g ? (writeOperand(2, g, x.dtype, shape) as Handle) : null;
  return wrap(call(op, () => addon.expr(program, null, hx, hg)) as Handle, shape, x.dtype);
}

/**
 * Runs a loaded run-time kernel set (addon rtcExprLoad; src/activations/expr_cuda.ts) on CUDA:
 * forward y = f(x), or backward g * f'(x). Strided operands are copied contiguous first (the
 * generated kernels take flat arrays).
 */
export function rtcExpr(id: number, params: Float64Array, x: Tensor, g: Tensor | null, op: string): Tensor {
  const xc = contiguous(x);
  const gc = g ? contiguous(g) : null;
  const shape = xc.shape;
  writeShape(shape);
  writeOperand(0, null, xc.dtype, shape);
  const hx = writeOperand(1, xc, xc.dtype, shape) as Handle;
  const hg = gc ? (writeOperand(2, gc, xc.dtype, shape) as Handle) : null;
  const dev = opDevice;
  return wrap(call(op, () => addon.rtcExpr(id, g !== null, params, null, hx, hg)) as Handle, shape, xc.dtype, dev);
}

/** Reduces the (sorted, distinct) dims of x; the result has the kept dims' shape. */
export function reduce(op: string, x: Tensor, dims: readonly number[], outDtype: DType): Tensor {
  const nd = x.shape.length;
  const red = new Set(dims);
  const order: number[] = [];
  for (let d = 0; d < nd; d++) if (!red.has(d)) order.push(d);
  const nkeep = order.length;
  for (const d of dims) order.push(d);
  meta[0] = nd;
  const b = OPERAND;
  meta[b] = DTYPE_CODE[x.dtype];
  meta[b + 1] = x._offset;
  meta[b + 2] = KIND_TENSOR;
  const outShape: number[] = [];
  for (let i = 0; i < nd; i++) {
    const d = order[i];
    meta[1 + i] = x.shape[d];
    meta[b + 4 + i] = x._strides[d];
    if (i < nkeep) outShape.push(x.shape[d]);
  }
  meta[PARAMS] = nkeep;
  meta[PARAMS + 1] = DTYPE_CODE[outDtype];
  const h = x._storage.live(op);
  return wrap(call(op, () => addon.reduce(REDUCE[op], h)), outShape, outDtype, x._storage.device);
}

/** [B, M, K] @ [B, K, N] -> contiguous [B, M, N]; any strides. */
export function bmm(a: Tensor, b: Tensor): Tensor {
  const [B, M, K] = a.shape;
  const N = b.shape[2];
  meta[0] = B;
  meta[1] = M;
  meta[2] = K;
  meta[3] = N;
  meta[4] = DTYPE_CODE[a.dtype];
  meta[5] = a._offset;
  meta[6] = a._strides[0];
  meta[7] = a._strides[1];
  meta[8] = a._strides[2];
  meta[9] = b._offset;
  meta[10] = b._strides[0];
  meta[11] = b._strides[1];
  meta[12] = b._strides[2];
  const ha = a._storage.live('matmul');
  const hb = b._storage.live('matmul');
  return wrap(call('matmul', () => addon.bmm(ha, hb)), [B, M, N], a.dtype, a._storage.device);
}

// ---- indices known to be in range: CUDA's gather / scatter skip their check for them ------------
// On CUDA the bounds check of gather / scatter comes back to the host, a wait for the stream. An
// int64 storage that passed the check (or was made in range, as cross-entropy's targets) is not
// checked again against the same or a larger bound until it is written (its version moves). Only a
// view covering the whole storage is recorded, so any later view of it is a subset of what passed.
const validIndex = new WeakMap<Storage, { version: number; bound: number }>();

/** Records that every value of `index` (a whole int64 storage on CUDA) lies in [0, bound). */
export function markValidIndex(index: Tensor, bound: number): void {
  const s = index._storage;
  if (s.device === 'cpu' || index.dtype !== 'int64' || index._offset !== 0 || !index.isContiguous() || index.numel * 8 !== s.nbytes) return;
  validIndex.set(s, { version: s.version, bound });
}

function knownValidIndex(index: Tensor, bound: number): boolean {
  if (index.dtype !== 'int64') return false;
  const v = validIndex.get(index._storage);
  return v !== undefined && v.version === index._storage.version && v.bound <= bound;
}

// ---- integer ranges known without reading the device -------------------------------------------
// A whole int32 / int64 storage on CUDA whose values are known to lie in [lo, hi]: made by randint,
// or copied from the host (where the range is two reductions over memory the CPU has anyway, for up
// to 1M elements). Checks of class-index targets (cross-entropy, nll) then skip their kernels and their
// readback, which waits for the stream: on a GPU, a synchronization in every training step. Valid
// until the storage is written (its version moves); any view of it lies in the same range.
const knownRange = new WeakMap<Storage, { version: number; lo: number; hi: number }>();

/** Records that every value of `t` (a whole int32 / int64 storage on CUDA) lies in [lo, hi]. */
export function markRange(t: Tensor, lo: number, hi: number): void {
  const s = t._storage;
  if (s.device === 'cpu' || (t.dtype !== 'int64' && t.dtype !== 'int32') || t._offset !== 0 || !t.isContiguous() || t.numel * DTYPE_SIZE[t.dtype] !== s.nbytes) return;
  knownRange.set(s, { version: s.version, lo, hi });
}

/** [lo, hi] holding every value of `t` when known without reading the device, else null. */
export function rangeOf(t: Tensor): { lo: number; hi: number } | null {
  const r = knownRange.get(t._storage);
  return r !== undefined && r.version === t._storage.version ? { lo: r.lo, hi: r.hi } : null;
}

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const shape = index.shape;
  writeShape(shape);
  writeOperand(0, null, x.dtype, shape);
  // input operand: its own strides (not broadcast), 0 along dim
  const b = OPERAND + OPERAND_STRIDE;
  meta[b] = DTYPE_CODE[x.dtype];
  meta[b + 1] = x._offset;
  meta[b + 2] = KIND_TENSOR;
  for (let i = 0; i < shape.length; i++) meta[b + 4 + i] = i === dim ? 0 : x._strides[i];
  const hi = writeOperand(2, index, 'int64', shape) as Handle;
  meta[PARAMS] = dim;
  meta[PARAMS + 1] = x.shape[dim];
  meta[PARAMS + 2] = x._strides[dim];
  const trusted = knownValidIndex(index, x.shape[dim]);
  meta[PARAMS + 3] = trusted ? 1 : 0;
  const hx = x._storage.live('gather');
  const r = wrap(call('gather', () => addon.gather(null, hx, hi)), shape, x.dtype, x._storage.device);
  if (!trusted) markValidIndex(index, x.shape[dim]);
  return r;
}

/** In place: self[..., index[i], ...] = src[i] (reduce 0) or += (reduce 1) along dim. */
export function scatter(self: Tensor, dim: number, index: Tensor, src: Tensor | number, reduce: 0 | 1): void {
  const shape = index.shape;
  writeShape(shape);
  const b = OPERAND;
  meta[b] = DTYPE_CODE[self.dtype];
  meta[b + 1] = self._offset;
  meta[b + 2] = KIND_TENSOR;
  for (let i = 0; i < shape.length; i++) meta[b + 4 + i] = i === dim ? 0 : self._strides[i];
  const hi = writeOperand(1, index, 'int64', shape) as Handle;
  const hs = writeOperand(2, src, self.dtype, shape);
  meta[PARAMS] = dim;
  meta[PARAMS + 1] = self.shape[dim];
  meta[PARAMS + 2] = self._strides[dim];
  meta[PARAMS + 3] = reduce;
  const trusted = knownValidIndex(index, self.shape[dim]);
  meta[PARAMS + 4] = trusted ? 1 : 0;
  const h = self._storage.live('scatter');
  call('scatter', () => addon.scatter(h, hi, hs));
  self._storage.version++;
  if (!trusted) markValidIndex(index, self.shape[dim]);
}

export const RANDOM = { uniform: 0, normal: 1, randint: 2, bernoulli: 3 } as const;

/** Philox numbers for (seed, offset): the same values on every device. */
export function random(kind: keyof typeof RANDOM, shape: Shape, dtype: DType, seed: number, offset: number, p0: number, p1: number, device: Device = 'cpu'): Tensor {
  const code = deviceCode(device);
  return wrap(call(kind, () => addon.random(RANDOM[kind], DTYPE_CODE[dtype], numel(shape), seed, offset, p0, p1, code)), shape, dtype, device);
}

/**
 * A contiguous copy of x on `device` (a canonical name: 'cpu' or 'cuda:N'). CPU -> CUDA goes
 * through pinned staging buffers and is queued on the device's stream; CUDA -> CPU waits.
 */
export function transfer(x: Tensor, device: Device): Tensor {
  const c = contiguous(x);
  const es = DTYPE_SIZE[c.dtype];
  const h = c._storage.live('to');
  const r = wrap(call('to', () => addon.transfer(h, c._offset * es, numel(c.shape) * es, deviceCode(device))), x.shape, x.dtype, device);
  // integer data going to the GPU (class targets, say): its range, while the host still has it
  if (device !== 'cpu' && x._storage.device === 'cpu' && (x.dtype === 'int64' || x.dtype === 'int32') && r.numel > 0 && r.numel <= 1 << 20) {
    const dims = c.shape.map((_, i) => i);
    const end = (op: 'min' | 'max') => Number((read(reduce(op, c, dims, c.dtype)) as BigInt64Array | Int32Array)[0]);
    markRange(r, end('min'), end('max'));
  }
  return r;
}

/** Async readback of a CUDA tensor: the copy is queued, the event loop stays free until it lands. */
export async function readAsync(x: Tensor): Promise<ArrayBufferView> {
  if (x._storage.device === 'cpu') return read(x);
  const c = contiguous(x);
  const h = c._storage.live('data');
  const token = call('data', () => addon.readStart(h, c._offset, numel(c.shape), DTYPE_CODE[c.dtype]));
  for (;;) {
    const r = call('data', () => addon.readPoll(token));
    if (r) return r;
    await new Promise<void>((res) => setImmediate(res));
  }
}

/** Copy of a tensor's elements in row-major order as a typed array. */
export function read(x: Tensor): ArrayBufferView {
  const c = contiguous(x);
  const h = c._storage.live('read');
  return call('read', () => addon.read(h, c._offset, numel(c.shape), DTYPE_CODE[c.dtype]));
}

export function fromTyped(a: ArrayBufferView, shape: Shape, dtype: DType): Tensor {
  return wrap(call('tensor', () => addon.fromTyped(a)), shape, dtype);
}

// ---- nn kernels: convolution, pooling, batch norm (native/cpu/conv.cpp, pool.cpp, batchnorm.cpp) ----
// Operands must be contiguous; meta[0..] holds sizes, element offsets and flags (layouts in
// native/binding/addon.cpp next to ConvFwd, PoolFwd, BnFwd).

let onednnOverride: boolean | null = null;
/** Forces oneDNN on/off for conv, pooling and batch norm (null: back to the default). */
export function setOnednn(on: boolean | null): void {
  onednnOverride = on;
}
// IGNIS_DISABLE_ONEDNN, read once when Ignis loads (as PyTorch reads its environment): a
// process.env read is a call into the host each time, and every conv and pooling call asks
const envDisablesOnednn = ((e) => !!e && e !== '0')(process.env.IGNIS_DISABLE_ONEDNN);
/** Whether the nn kernels use oneDNN for float32: built in, not disabled by setOnednn(false) or IGNIS_DISABLE_ONEDNN=1 (read when Ignis loads). */
export function onednnEnabled(): boolean {
  if (!info.onednn) return false;
  if (onednnOverride !== null) return onednnOverride;
  return !envDisablesOnednn;
}

/** Convolution geometry: input [N, C, H, W], weight [O, C / G, kh, kw], output [N, O, OH, OW]. */
export interface ConvGeom {
  N: number; C: number; H: number; W: number; O: number; kh: number; kw: number; OH: number; OW: number;
  sh: number; sw: number; dh: number; dw: number; pt: number; pl: number; G: number;
}

function convMeta(g: ConvGeom, dtype: DType, o0: number, o1: number, o2: number): void {
  meta[0] = DTYPE_CODE[dtype];
  meta[1] = g.N; meta[2] = g.C; meta[3] = g.H; meta[4] = g.W;
  meta[5] = g.O; meta[6] = g.kh; meta[7] = g.kw; meta[8] = g.OH; meta[9] = g.OW;
  meta[10] = g.sh; meta[11] = g.sw; meta[12] = g.dh; meta[13] = g.dw;
  meta[14] = g.pt; meta[15] = g.pl; meta[16] = g.G;
  meta[17] = o0; meta[18] = o1; meta[19] = o2;
  meta[20] = onednnEnabled() ? 1 : 0;
  meta[21] = -1;
  meta[26] = 0;
}

type ActKernel = { kernel: string; params: readonly number[] };

function convActMeta(g: ConvGeom, x: Tensor, w: Tensor, b: Tensor | null, act: ActKernel | null, op: string): void {
  convMeta(g, x.dtype, x._offset, w._offset, b ? b._offset : 0);
  if (act) {
    const code = ACT[act.kernel];
    if (code === undefined) throw fromNative(new Error(`unknown activation kernel '${act.kernel}'`), op);
    meta[21] = code;
    for (let i = 0; i < 4; i++) meta[22 + i] = act.params[i] ?? 0;
  }
}

/** y = conv(x, w) + b, then activation `act` (a kernel of activations.def) fused into the output pass. */
export function convFwd(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeom, act: ActKernel | null = null, op = 'conv2d'): Tensor {
  convActMeta(g, x, w, b, act, op);
  const hx = x._storage.live(op), hw = w._storage.live(op), hb = b ? b._storage.live(op) : null;
  return wrap(call(op, () => addon.convFwd(hx, hw, hb)), [g.N, g.O, g.OH, g.OW], x.dtype, x._storage.device);
}

/**
 * [y, z] of a convolution with an activation in training: z = conv(x, w) + b (the pre-activation its
 * backward needs) and y = act(z). On CUDA one pass writes both (a cuDNN graph with two outputs, or
 * the epilogue); on the CPU the convolution writes z and the activation kernel reads it.
 */
export function convFwdKeep(x: Tensor, w: Tensor, b: Tensor | null, g: ConvGeom, act: ActKernel, op = 'conv2d'): [Tensor, Tensor] {
  convActMeta(g, x, w, b, act, op);
  meta[26] = 1;
  const hx = x._storage.live(op), hw = w._storage.live(op), hb = b ? b._storage.live(op) : null;
  const [hy, hz] = call(op, () => addon.convFwd(hx, hw, hb)) as unknown as [Handle, Handle];
  const shape = [g.N, g.O, g.OH, g.OW];
  return [wrap(hy, shape, x.dtype, x._storage.device), wrap(hz, shape, x.dtype, x._storage.device)];
}

/** meta[0..8] of biasAct / biasActBwd: dtype, N C S, the activation's code (-1: none) and params */
function biasActMeta(t: Tensor, N: number, C: number, S: number, act: ActKernel | null, op: string): void {
  const code = act ? ACT[act.kernel] : -1;
  if (code === undefined) throw fromNative(new Error(`unknown activation kernel '${act!.kernel}'`), op);
  meta[0] = DTYPE_CODE[t.dtype];
  meta[1] = N; meta[2] = C; meta[3] = S; meta[4] = code;
  for (let i = 0; i < 4; i++) meta[5 + i] = act?.params[i] ?? 0;
}

/**
 * The fused output pass of a layer over [N, C, S] (y contiguous): y[n, c, s] += b[c] (b may be null),
 * then the activation (null: none). Without `keep` in place, returning y; with `keep` y keeps the
 * pre-activation z (the training backward's input) and the result is a new tensor act(z).
 */
export function biasAct(y: Tensor, b: Tensor | null, N: number, C: number, S: number, act: ActKernel | null, keep: boolean, op = 'bias_act'): Tensor {
  biasActMeta(y, N, C, S, act, op);
  meta[9] = y._offset; meta[10] = b ? b._offset : 0;
  const hy = y._storage.live(op), hb = b ? b._storage.live(op) : null;
  const out = call(op, () => addon.biasAct(hy, hb, keep));
  return keep ? wrap(out, y.shape, y.dtype, y._storage.device) : y;
}

/**
 * [dz, db | null] of bias + activation over [N, C, S] (z, dy contiguous): dz = act'(z) dy and db[c] =
 * the sum of dz over n and s, in one sweep (the training backward of a convolution with a fused
 * activation). z is the pre-activation, or the output for the kernels whose backward reads it.
 */
export function biasActBwd(z: Tensor, dy: Tensor, N: number, C: number, S: number, act: ActKernel, wantDb: boolean, op = 'bias_act_backward'): [Tensor, Tensor | null] {
  biasActMeta(z, N, C, S, act, op);
  meta[9] = z._offset; meta[10] = dy._offset;
  const hz = z._storage.live(op), hd = dy._storage.live(op);
  const [dz, db] = call(op, () => addon.biasActBwd(hz, hd, wantDb));
  const dev = z._storage.device;
  return [wrap(dz, z.shape, z.dtype, dev), db ? wrap(db, [C], z.dtype, dev) : null];
}

/** dx [N, C, H, W] from dy [N, O, OH, OW] and w. */
export function convBwdData(dy: Tensor, w: Tensor, g: ConvGeom, op = 'conv2d_backward'): Tensor {
  convMeta(g, dy.dtype, dy._offset, w._offset, 0);
  const hd = dy._storage.live(op), hw = w._storage.live(op);
  return wrap(call(op, () => addon.convBwdData(hd, hw)), [g.N, g.C, g.H, g.W], dy.dtype, dy._storage.device);
}

/** [dw [O, C / G, kh, kw], db [O] | null] from x and dy. */
export function convBwdWeight(x: Tensor, dy: Tensor, g: ConvGeom, wantBias: boolean, op = 'conv2d_backward'): [Tensor, Tensor | null] {
  convMeta(g, x.dtype, x._offset, dy._offset, 0);
  const hx = x._storage.live(op), hd = dy._storage.live(op);
  const [dw, db] = call(op, () => addon.convBwdWeight(hx, hd, wantBias));
  const dev = x._storage.device;
  return [wrap(dw, [g.O, g.C / g.G, g.kh, g.kw], x.dtype, dev), db ? wrap(db, [g.O], x.dtype, dev) : null];
}

/** Pooling geometry ([N, C, H, W] -> [N, C, OH, OW]); `adaptive` ignores kernel/stride/padding. */
export interface PoolGeom {
  N: number; C: number; H: number; W: number; OH: number; OW: number;
  kh: number; kw: number; sh: number; sw: number; pt: number; pl: number; dh: number; dw: number;
  max: boolean; countIncludePad: boolean; divisor: number; adaptive: boolean;
}

/** What pooling's backward needs: PyTorch indices (int64 [N, C, OH, OW]) or a oneDNN workspace. */
export interface PoolAux {
  aux: Tensor | null;
  /** 0 none, 1 int64 indices, 2 oneDNN workspace (bytes in a bool tensor) */
  kind: number;
  wsBytes: number;
}

function poolMeta(g: PoolGeom, dtype: DType, off: number, auxOff: number): void {
  meta[0] = DTYPE_CODE[dtype];
  meta[1] = g.N; meta[2] = g.C; meta[3] = g.H; meta[4] = g.W; meta[5] = g.OH; meta[6] = g.OW;
  meta[7] = g.kh; meta[8] = g.kw; meta[9] = g.sh; meta[10] = g.sw; meta[11] = g.pt; meta[12] = g.pl;
  meta[13] = g.dh; meta[14] = g.dw; meta[15] = g.max ? 1 : 0; meta[16] = g.countIncludePad ? 1 : 0;
  meta[17] = g.divisor; meta[18] = off; meta[19] = onednnEnabled() ? 1 : 0; meta[20] = g.adaptive ? 1 : 0;
  meta[21] = auxOff;
}

/** mode 0: output only; 1: with PyTorch indices (max); 2: with whatever backward needs. */
export function poolFwd(x: Tensor, g: PoolGeom, mode: 0 | 1 | 2, op = 'pool2d'): [Tensor, PoolAux] {
  poolMeta(g, x.dtype, x._offset, 0);
  const hx = x._storage.live(op);
  const [y, aux, kind, wsBytes] = call(op, () => addon.poolFwd(hx, mode));
  let a: Tensor | null = null;
  const dev = x._storage.device;
  if (aux && kind === 1) a = wrap(aux, [g.N, g.C, g.OH, g.OW], 'int64', dev);
  else if (aux && kind === 2) a = wrap(aux, [Math.max(1, wsBytes)], 'bool');
  return [wrap(y, [g.N, g.C, g.OH, g.OW], x.dtype, dev), { aux: a, kind, wsBytes }];
}

export function poolBwd(dy: Tensor, g: PoolGeom, aux: PoolAux, op = 'pool2d_backward'): Tensor {
  poolMeta(g, dy.dtype, dy._offset, aux.aux ? aux.aux._offset : 0);
  const hd = dy._storage.live(op);
  const ha = aux.aux ? aux.aux._storage.live(op) : null;
  return wrap(call(op, () => addon.poolBwd(hd, ha, aux.kind, aux.wsBytes)), [g.N, g.C, g.H, g.W], dy.dtype, dy._storage.device);
}

/** Batch-norm geometry: x viewed as [N, C, S]. */
export interface BnGeom {
  N: number; C: number; S: number; eps: number; momentum: number; training: boolean;
}

function bnMeta(g: BnGeom, dtype: DType, offs: number[]): void {
  meta[0] = DTYPE_CODE[dtype];
  meta[1] = g.N; meta[2] = g.C; meta[3] = g.S; meta[4] = g.eps; meta[5] = g.momentum;
  meta[6] = g.training ? 1 : 0; meta[7] = onednnEnabled() ? 1 : 0;
  for (let i = 0; i < 5; i++) meta[8 + i] = offs[i];
}

/** [y, saveMean [C], saveVar [C]]; updates rm / rv in place when training. */
export function bnFwd(x: Tensor, w: Tensor | null, b: Tensor | null, rm: Tensor | null, rv: Tensor | null, g: BnGeom, op = 'batch_norm'): [Tensor, Tensor, Tensor] {
  const off = (t: Tensor | null): number => (t ? t._offset : 0);
  bnMeta(g, x.dtype, [x._offset, off(w), off(b), off(rm), off(rv)]);
  const h = (t: Tensor | null): Handle | null => (t ? t._storage.live(op) : null);
  const [y, sm, sv] = call(op, () => addon.bnFwd(h(x)!, h(w), h(b), h(rm), h(rv)));
  const dev = x._storage.device;
  return [wrap(y, x.shape, x.dtype, dev), wrap(sm, [g.C], x.dtype, dev), wrap(sv, [g.C], x.dtype, dev)];
}

/** [dx, dw | null, db | null]. */
export function bnBwd(x: Tensor, dy: Tensor, w: Tensor | null, sm: Tensor, sv: Tensor, g: BnGeom, wantW: boolean, wantB: boolean, op = 'batch_norm_backward'): [Tensor, Tensor | null, Tensor | null] {
  bnMeta(g, x.dtype, [x._offset, dy._offset, w ? w._offset : 0, sm._offset, sv._offset]);
  const hx = x._storage.live(op), hd = dy._storage.live(op), hw = w ? w._storage.live(op) : null;
  const hm = sm._storage.live(op), hv = sv._storage.live(op);
  const [dx, dw, db] = call(op, () => addon.bnBwd(hx, hd, hw, hm, hv, wantW, wantB));
  const dev = x._storage.device;
  return [wrap(dx, x.shape, x.dtype, dev), dw ? wrap(dw, [g.C], x.dtype, dev) : null, db ? wrap(db, [g.C], x.dtype, dev) : null];
}

// ---- softmax / logSoftmax / softmin along one dim (native/cpu/softmax.cpp, native/cuda/softmax.cu)
// Operands contiguous, viewed as [outer, D, inner]; meta layout next to SoftmaxFwd in addon.cpp.

/** Sizes of x viewed as [outer, D, inner] around dim d. */
export function softmaxGeom(shape: readonly number[], d: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < d; i++) outer *= shape[i];
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape.length ? shape[d] : 1, inner];
}

function softmaxMeta(dtype: DType, shape: readonly number[], d: number, log: boolean, neg: boolean, o0: number, o1: number): void {
  const [outer, D, inner] = softmaxGeom(shape, d);
  meta[0] = DTYPE_CODE[dtype];
  meta[1] = outer; meta[2] = D; meta[3] = inner; meta[4] = log ? 1 : 0;
  meta[5] = o0; meta[6] = o1; meta[7] = neg ? 1 : 0;
}

/**
 * softmax (log false) or logSoftmax (log true) of a contiguous floating x along dim d; neg: of -x
 * (softmin), without materialising -x.
 */
export function softmaxFwd(x: Tensor, d: number, log: boolean, op = log ? 'logSoftmax' : 'softmax', neg = false): Tensor {
  softmaxMeta(x.dtype, x.shape, d, log, neg, x._offset, 0);
  const h = x._storage.live(op);
  return wrap(call(op, () => addon.softmaxFwd(h)), x.shape, x.dtype, x._storage.device);
}

/**
 * The input gradient from the forward's output y and the upstream gradient g (both contiguous);
 * neg: of the forward with neg (the gradient through -x, negated).
 */
export function softmaxBwd(y: Tensor, g: Tensor, d: number, log: boolean, op = log ? 'logSoftmax_backward' : 'softmax_backward', neg = false): Tensor {
  softmaxMeta(y.dtype, y.shape, d, log, neg, y._offset, g._offset);
  const hy = y._storage.live(op), hg = g._storage.live(op);
  return wrap(call(op, () => addon.softmaxBwd(hy, hg)), y.shape, y.dtype, y._storage.device);
}

// ---- cross entropy with class-index targets (native/cpu/index.h, cuda/index.cu; meta next to NllFwd in addon.cpp) --

const NLL_REDUCE = { none: 0, sum: 1, mean: 2 } as const;

/**
 * Per row m of contiguous log-probabilities logp [M, C] and contiguous int64 targets t [M]: wi[m]
 * = w[t] (1 without w) and the loss -w[t]·logp[m, t], both 0 where t is ignoreIndex. Returns
 * [loss [M], wi, null] for 'none'; for 'sum' / 'mean' [the sum / the weighted mean (shape []), wi,
 * the sum of the weights (shape [])], reduced in the same kernel (double accumulation).
 */
export function nllFwd(logp: Tensor, t: Tensor, w: Tensor | null, ignoreIndex: number, reduction: 'none' | 'sum' | 'mean' = 'none'): [Tensor, Tensor, Tensor | null] {
  const [M, C] = logp.shape;
  meta[0] = DTYPE_CODE[logp.dtype];
  meta[1] = M; meta[2] = C; meta[3] = ignoreIndex;
  meta[4] = logp._offset; meta[5] = t._offset; meta[6] = w ? w._offset : 0; meta[7] = NLL_REDUCE[reduction];
  const op = 'crossEntropy';
  const hl = logp._storage.live(op), ht = t._storage.live(op), hw = w ? w._storage.live(op) : null;
  const [loss, wi, denom] = call(op, () => addon.nllFwd(hl, ht, hw));
  const dev = logp._storage.device;
  const scalar = reduction !== 'none';
  return [wrap(loss, scalar ? [] : [M], logp.dtype, dev), wrap(wi, [M], logp.dtype, dev), denom ? wrap(denom, [], logp.dtype, dev) : null];
}

/**
 * The input gradient of cross entropy through log_softmax: gx[m, c] = k·(exp(logp[m, c]) - [c =
 * t[m]]), k = wi[m]·(g / denom) with g holding M values (reduction 'none') or one, denom (the mean's
 * sum of weights) or null, k = 0 where t[m] is ignoreIndex; all operands contiguous.
 */
export function ceBwd(logp: Tensor, t: Tensor, wi: Tensor, g: Tensor, denom: Tensor | null, ignoreIndex: number): Tensor {
  const [M, C] = logp.shape;
  meta[0] = DTYPE_CODE[logp.dtype];
  meta[1] = M; meta[2] = C; meta[3] = g.numel === 1 && M !== 1 ? 0 : 1;
  meta[4] = logp._offset; meta[5] = t._offset; meta[6] = wi._offset; meta[7] = g._offset; meta[8] = denom ? denom._offset : 0;
  meta[9] = ignoreIndex;
  const op = 'crossEntropy_backward';
  const hl = logp._storage.live(op), ht = t._storage.live(op), hwi = wi._storage.live(op), hg = g._storage.live(op);
  const hd = denom ? denom._storage.live(op) : null;
  return wrap(call(op, () => addon.ceBwd(hl, ht, hwi, hg, hd)), [M, C], logp.dtype, logp._storage.device);
}

// ---- PReLU / GLU (native/cpu/gated.h, native/cuda/gated.cu); meta layouts next to PreluFwd in addon.cpp --

/** PReLU of a contiguous x viewed as [outer, C, inner] with C slopes w (contiguous). */
export function preluFwd(x: Tensor, w: Tensor, geom: [number, number, number], op = 'prelu'): Tensor {
  meta[0] = DTYPE_CODE[x.dtype];
  meta[1] = geom[0]; meta[2] = geom[1]; meta[3] = geom[2];
  meta[4] = x._offset; meta[5] = w._offset;
  const hx = x._storage.live(op), hw = w._storage.live(op);
  return wrap(call(op, () => addon.preluFwd(hx, hw)), x.shape, x.dtype, x._storage.device);
}

/** [gx | null, gw | null] of PReLU (x, w, g contiguous; gw has w's shape). */
export function preluBwd(x: Tensor, w: Tensor, g: Tensor, geom: [number, number, number], wantX: boolean, wantW: boolean, op = 'prelu_backward'): [Tensor | null, Tensor | null] {
  meta[0] = DTYPE_CODE[x.dtype];
  meta[1] = geom[0]; meta[2] = geom[1]; meta[3] = geom[2];
  meta[4] = x._offset; meta[5] = w._offset; meta[6] = g._offset;
  const hx = x._storage.live(op), hw = w._storage.live(op), hg = g._storage.live(op);
  const [gx, gw] = call(op, () => addon.preluBwd(hx, hw, hg, wantX, wantW));
  const dev = x._storage.device;
  return [gx ? wrap(gx, x.shape, x.dtype, dev) : null, gw ? wrap(gw, w.shape, w.dtype, dev) : null];
}

/** GLU of a contiguous x viewed as [outer, 2, M]: a sigmoid(b); the result has shape `yShape`. */
export function gluFwd(x: Tensor, outer: number, M: number, yShape: number[], op = 'glu'): Tensor {
  meta[0] = DTYPE_CODE[x.dtype];
  meta[1] = outer; meta[2] = M; meta[3] = x._offset;
  const hx = x._storage.live(op);
  return wrap(call(op, () => addon.gluFwd(hx)), yShape, x.dtype, x._storage.device);
}

/** The input gradient of GLU (x and g contiguous). */
export function gluBwd(x: Tensor, g: Tensor, outer: number, M: number, op = 'glu_backward'): Tensor {
  meta[0] = DTYPE_CODE[x.dtype];
  meta[1] = outer; meta[2] = M; meta[3] = x._offset; meta[4] = g._offset;
  const hx = x._storage.live(op), hg = g._storage.live(op);
  return wrap(call(op, () => addon.gluBwd(hx, hg)), x.shape, x.dtype, x._storage.device);
}

/**
 * One optimizer step over many parameters in one native call (native/cpu/optim.h). `handles` has
 * [param, grad, state0, state1, state2] per parameter; `desc` is laid out as optim.h documents.
 */
export function optimStep(kind: number, handles: (Handle | null)[], desc: Float64Array, op: string): void {
  call(op, () => addon.optimStep(kind, handles, desc));
}
