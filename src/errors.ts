/**
 * Typed errors. Every message names the op, and where they matter the shapes, dtypes and device
 * involved, e.g. `add: shapes [2, 3] and [4] are not broadcastable`.
 */
export class IgnisError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** Shapes that do not fit together (broadcasting, matmul, view sizes, cat). */
export class ShapeError extends IgnisError {}
/** A dtype an op does not take, or a result that cannot be cast to the destination dtype. */
export class DTypeError extends IgnisError {}
/** Tensors on different devices, or a device that does not exist. */
export class DeviceError extends IgnisError {}
/** Dims or indices out of range. */
export class IndexError extends IgnisError {}
/** Bad argument values: negative, non-integer or NaN sizes, unknown options. */
export class ValueError extends IgnisError {}
/** An allocation that cannot be satisfied. */
export class MemoryError extends IgnisError {}
/** Use of a tensor after dispose(). */
export class DisposedError extends IgnisError {}
/** Generated code that does not compile (expression activations on CUDA: the message carries NVRTC's log). */
export class CompileError extends IgnisError {}
/** Autograd misuse: backward twice, in-place on a saved tensor, leaf in-place, non-scalar backward. */
export class AutogradError extends IgnisError {}
