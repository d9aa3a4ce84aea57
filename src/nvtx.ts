/**
 * ignis.cuda.nvtx: NVTX ranges and marks, so Nsight Systems / Nsight Compute show Ignis's names
 * (torch.cuda.nvtx's API). NVTX costs nothing unless a tool is attached; without the CUDA backend
 * every function here does nothing (rangeStart returns 0), so annotated code runs anywhere.
 *
 * Every op on a CUDA device also gets a range named after it (conv2d, relu, add, ...) when a tool is
 * attached: Nsight sets NVTX_INJECTION64_PATH for the process it launches. IGNIS_NVTX=1 turns the
 * op ranges on anyway, IGNIS_NVTX=0 off. They hook in as a dispatch listener, so dispatch pays
 * nothing while they are off; on, each CUDA op costs two calls into the addon.
 *
 * @example
 * ignis.cuda.nvtx.range('forward', () => model.forward(x));   // nsys profile --trace=cuda,nvtx node train.js
 */
import { addListener, OpListener } from './dispatch';
import { ValueError } from './errors';
import { addon } from './native';
import type { Tensor } from './tensor';

type CudaState = () => boolean;

let usable: CudaState = () => false;

function native(): NonNullable<typeof addon.cudaNvtx> | null {
  return usable() && typeof addon.cudaNvtx === 'function' ? addon.cudaNvtx : null;
}

function checkName(name: unknown, op: string): string {
  if (typeof name !== 'string' || !name) throw new ValueError(`cuda.nvtx.${op}: expected a non-empty range name, got ${typeof name === 'string' ? "''" : typeof name}`);
  return name;
}

/** Opens a nested range on this thread (nvtxRangePushA); close it with rangePop(). */
export function rangePush(name: string): void {
  checkName(name, 'rangePush');
  native()?.call(addon, 0, name);
}

/** Closes the innermost range opened by rangePush(). */
export function rangePop(): void {
  native()?.call(addon, 1);
}

/** Starts a range that may end anywhere (across awaits); returns its id for rangeEnd(). 0 without CUDA. */
export function rangeStart(name: string): number {
  checkName(name, 'rangeStart');
  return (native()?.call(addon, 2, name) as number | undefined) ?? 0;
}

/** Ends a range started by rangeStart(). */
export function rangeEnd(id: number): void {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new ValueError(`cuda.nvtx.rangeEnd: expected the id rangeStart returned, got ${String(id)}`);
  if (id) native()?.call(addon, 3, id);
}

/** An instant marker. */
export function mark(name: string): void {
  checkName(name, 'mark');
  native()?.call(addon, 4, name);
}

/**
 * Runs fn inside a range named `name` and returns its result. A sync fn gets a push/pop range;
 * for an async fn (a returned promise) the range is a start/end range that ends when it settles.
 */
export function range<T>(name: string, fn: () => T): T {
  checkName(name, 'range');
  if (typeof fn !== 'function') throw new ValueError(`cuda.nvtx.range: expected a function, got ${typeof fn}`);
  const n = native();
  if (!n) return fn();
  // whether fn is async shows only once it returns: a pushed range covers the synchronous part,
  // then a start/end range (free of the thread's push/pop nesting) covers the promise
  n.call(addon, 0, name);
  let r: T;
  try {
    r = fn();
  } finally {
    n.call(addon, 1);
  }
  if (r && typeof (r as unknown as Promise<unknown>).then === 'function') {
    const id = n.call(addon, 2, `${name} (async)`) as number;
    return (r as unknown as Promise<unknown>).finally(() => n.call(addon, 3, id)) as unknown as T;
  }
  return r;
}

// ---- op ranges -----------------------------------------------------------------------------------

const opRanges: OpListener = {
  before(op: string, inputs: Tensor[]): unknown {
    if (!inputs.length || inputs[0]._storage.device === 'cpu') return false;
    addon.cudaNvtx!(0, op);
    return true;
  },
  after(token: unknown): void {
    if (token === true) addon.cudaNvtx!(1);
  },
  error(token: unknown): void {
    if (token === true) addon.cudaNvtx!(1);
  },
};

let removeOpRanges: (() => void) | null = null;

/** Whether CUDA ops get NVTX ranges in this process (see the module comment). */
export function opRangesWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.IGNIS_NVTX?.trim();
  if (v) return !/^(0|false|no|off)$/i.test(v);
  return !!env.NVTX_INJECTION64_PATH;
}

/** src/cuda.ts hands in its isAvailable (which loads the backend on first use). @internal */
export function _setAvailability(available: CudaState): void {
  usable = available;
}

/** src/cuda.ts, once the backend has loaded: installs the op ranges when wanted. @internal */
export function _backendLoaded(env: NodeJS.ProcessEnv = process.env): void {
  if (typeof addon.cudaNvtx === 'function' && opRangesWanted(env) && !removeOpRanges) removeOpRanges = addListener(opRanges);
}

/** Removes the op ranges (tests). @internal */
export function _removeOpRanges(): void {
  removeOpRanges?.();
  removeOpRanges = null;
}

/** Whether the per-op ranges are installed. */
export function opRangesActive(): boolean {
  return removeOpRanges !== null;
}
