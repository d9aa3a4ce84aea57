/**
 * The profiler's entry for work that does not go through dispatch: tensor creation (zeros, randn,
 * tensor, ...), readbacks (item, toArray, dataSync, data) and the in-place wrappers (relu_, add_,
 * copy_, ...: recorded under their own name, with the op that computes them as a child, as
 * torch.profiler shows aten::relu_). Creation and readback are not graph ops (nothing to
 * differentiate; the tracer sees created tensors as constants), so they stay out of dispatch and
 * dispatch's cost is unchanged; here they cost one property test while no profiler runs:
 *
 *   return hook.on ? hook.run('zeros', [], () => impl()) : impl();
 *
 * No imports: tensor creation loads before the profiler.
 */
import type { Tensor } from '../tensor';

export const hook = {
  /** a profiler that records CPU-side events is running */
  on: false,
  /** runs fn as an op event named `name` with these inputs (the recorder installs the real one) */
  run<T>(_name: string, _inputs: Tensor[], fn: () => T): T {
    return fn();
  },
};

/** Wraps a tensor-making function so that a running profiler records each call as `name`. */
export function recorded<F extends (...args: never[]) => unknown>(name: string, f: F): F {
  const w = (...args: Parameters<F>): ReturnType<F> =>
    (hook.on ? hook.run(name, [], () => f(...args)) : f(...args)) as ReturnType<F>;
  Object.defineProperty(w, 'name', { value: name });
  return w as unknown as F;
}
