/** The typed error for an exception thrown by the native addon (kept out of the public errors module). */
import {
  AutogradError,
  CompileError,
  DeviceError,
  DisposedError,
  DTypeError,
  IgnisError,
  IndexError,
  MemoryError,
  ShapeError,
  ValueError,
} from './errors';

/** The addon sets `kind` to one of these class names. */
const KINDS: Record<string, new (m: string) => IgnisError> = {
  IgnisError,
  ShapeError,
  DTypeError,
  DeviceError,
  IndexError,
  ValueError,
  MemoryError,
  DisposedError,
  AutogradError,
  CompileError,
};

/** Turns an error thrown by the native addon (which carries `kind`) into the matching class. */
export function fromNative(e: unknown, op: string): IgnisError {
  if (e instanceof IgnisError) return e;
  const err = e as { kind?: string; message?: string };
  const Cls = (err && err.kind && KINDS[err.kind]) || IgnisError;
  const msg = err && err.message ? err.message : String(e);
  return new Cls(msg.startsWith(op) ? msg : `${op}: ${msg}`);
}
