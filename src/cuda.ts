/**
 * ignis.cuda: the optional CUDA backend (native/cuda, loaded by the addon on first use; see
 * native/binding/cuda_loader.cpp). Everything here works without a GPU: isAvailable() is then
 * false and unavailableReason() says exactly why (no driver, library not built, cuDNN not found
 * and how to fix it, no device).
 *
 * @example
 * if (ignis.cuda.isAvailable()) {
 *   const x = ignis.randn([1024, 1024], { device: 'cuda' });
 *   console.log(x.matmul(x).sum().item(), ignis.cuda.memoryAllocated());
 * } else console.log(ignis.cuda.unavailableReason());
 */
import { DeviceError, ValueError } from './errors';
import { fromNative } from './native_errors';
import { addon, NvrtcCompiled, NvrtcInfo, RtcStats } from './native';
import { setDeviceMemory } from './gc';
import type { Device } from './storage';
import * as nvtx from './nvtx';
import './polyfill';

/** NVTX ranges and marks for Nsight (no-ops without CUDA): see src/nvtx.ts. */
export { nvtx };

interface Status {
  available: boolean;
  reason: string;
  library: string;
  deviceCount: number;
  versions: string;
}

let status: Status | null = null;

function load(): Status {
  if (status === null) {
    try {
      status = addon.cudaStatus();
    } catch (e) {
      status = { available: false, reason: `the CUDA backend failed to load: ${(e as Error).message}`, library: '', deviceCount: 0, versions: '' };
    }
    if (status.available) {
      nvtx._backendLoaded();
      deviceMemoryChanged();
    }
  }
  return status;
}

/** setMemoryLimit's caps by device index (0: none) */
const limits: number[] = [];

/** Tells src/gc.ts the smallest device memory (or limit): the amount of device garbage its collections wait for. */
function deviceMemoryChanged(): void {
  let least = Infinity;
  for (let i = 0; i < (status?.deviceCount ?? 0); i++) {
    let total: number;
    try {
      total = addon.cudaProps(i).totalMemory;
    } catch {
      continue; // that device's error surfaces when it is used
    }
    least = Math.min(least, limits[i] > 0 ? Math.min(limits[i], total) : total);
  }
  if (Number.isFinite(least)) setDeviceMemory(least);
}

nvtx._setAvailability(() => load().available);

/** Whether CUDA tensors can be created (a driver, a device, the library, cuDNN and cuBLAS). */
export function isAvailable(): boolean {
  return load().available;
}

/** Why isAvailable() is false, with the fix where there is one; null when CUDA is available. */
export function unavailableReason(): string | null {
  const s = load();
  return s.available ? null : s.reason;
}

/** unavailableReason() as a string ('' when available). */
export function reason(): string {
  return load().reason;
}

/** Number of visible CUDA devices (0 without CUDA). */
export function deviceCount(): number {
  return load().deviceCount;
}

/** Library versions in use: CUDA runtime, cuDNN (and the version built against), cuBLAS. */
export function versions(): string {
  return load().versions;
}

/** Where the addon looks for libignis_cuda.so. */
export function libraryPath(): string {
  return load().library;
}

function requireCuda(op: string): void {
  const s = load();
  if (!s.available) throw new DeviceError(`${op}: the CUDA backend is not available (${s.reason})`);
}

/**
 * Device code used by the addon (0 cpu, 1 + n cuda:n) and the canonical name ('cpu', 'cuda:n')
 * of a device argument. 'cuda' means cuda:0. Throws DeviceError for an unknown or absent device.
 */
export function parseDevice(d: unknown, op: string): { code: number; name: Device } {
  if (d === 'cpu') return { code: 0, name: 'cpu' };
  if (typeof d === 'string' && /^cuda(:\d+)?$/.test(d)) {
    const idx = d === 'cuda' ? 0 : Number(d.slice(5));
    requireCuda(op);
    const n = deviceCount();
    if (idx >= n) throw new DeviceError(`${op}: ${d} does not exist (${n} CUDA device${n === 1 ? '' : 's'})`);
    return { code: idx + 1, name: `cuda:${idx}` };
  }
  throw new DeviceError(`${op}: unknown device ${JSON.stringify(d)}; expected 'cpu', 'cuda' or 'cuda:N'`);
}

function index(device: number | string | undefined, op: string): number {
  if (device === undefined) device = 0;
  if (typeof device === 'string') {
    const code = parseDevice(device, op).code;
    if (code === 0) throw new DeviceError(`${op}: expected a CUDA device, got 'cpu'`);
    return code - 1;
  }
  if (!Number.isInteger(device) || device < 0) throw new ValueError(`${op}: bad device index ${device}`);
  return parseDevice(`cuda:${device}`, op).code - 1;
}

function call<T>(op: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fromNative(e, op);
  }
}

export interface DeviceProperties {
  name: string;
  major: number;
  minor: number;
  multiProcessorCount: number;
  totalMemory: number;
  maxThreadsPerBlock: number;
  warpSize: number;
  l2CacheSize: number;
  clockRateKHz: number;
}

export function getDeviceProperties(device?: number | string): DeviceProperties {
  const i = index(device, 'getDeviceProperties');
  return call('getDeviceProperties', () => addon.cudaProps(i));
}

export function getDeviceName(device?: number | string): string {
  return getDeviceProperties(device).name;
}

/** Waits for all queued work on the device. */
export function synchronize(device?: number | string): void {
  const i = index(device, 'synchronize');
  call('synchronize', () => addon.cudaSync(i));
}

export interface CudaMemoryStats {
  allocated: number;
  reserved: number;
  maxAllocated: number;
  limit: number;
  allocCalls: number;
  cacheHits: number;
  deviceFree: number;
  deviceTotal: number;
}

/** The caching allocator's figures (bytes) for one device. */
export function memoryStats(device?: number | string): CudaMemoryStats {
  const i = index(device, 'memoryStats');
  return call('memoryStats', () => addon.cudaMemStats(i));
}
/** Bytes in blocks held by live tensors (rounded to the allocator's size classes). */
export const memoryAllocated = (device?: number | string): number => memoryStats(device).allocated;
/** Bytes obtained from the driver: live blocks plus the cache. */
export const memoryReserved = (device?: number | string): number => memoryStats(device).reserved;
/** High-water mark of memoryAllocated() since start or resetPeakMemoryStats(). */
export const maxMemoryAllocated = (device?: number | string): number => memoryStats(device).maxAllocated;

export function resetPeakMemoryStats(device?: number | string): void {
  const i = index(device, 'resetPeakMemoryStats');
  call('resetPeakMemoryStats', () => addon.cudaMemOp(1, i));
}

/** Returns cached blocks to the driver (after freeing the blocks of collected tensors). */
export function emptyCache(device?: number | string): void {
  if (!isAvailable()) return;
  const i = index(device, 'emptyCache');
  call('emptyCache', () => addon.cudaMemOp(0, i));
}

/** Caps memoryReserved(); allocations beyond it raise MemoryError. 0 removes the cap. */
export function setMemoryLimit(bytes: number, device?: number | string): void {
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0)
    throw new ValueError(`setMemoryLimit: expected a byte count >= 0 (0 = no limit), got ${String(bytes)}`);
  const i = index(device, 'setMemoryLimit');
  call('setMemoryLimit', () => addon.cudaMemOp(2, i, bytes));
  limits[i] = bytes;
  deviceMemoryChanged();
}

/**
 * Backend switches, PyTorch's names and defaults (torch.backends.cuda / torch.backends.cudnn), plus
 * Ignis's cudnnGraphFusion: conv + bias + activation as one cuDNN operation graph where an engine
 * takes it (else the convolution, then Ignis's bias + activation epilogue).
 */
export const flags = {
  matmulAllowTf32: false,
  cudnnAllowTf32: true,
  cudnnBenchmark: false,
  cudnnGraphFusion: true,
  cudnnDeterministic: false,
};

/** Sends `flags` to the backend (called by the setters of ignis.backends). */
export function applyFlags(seed?: number): void {
  if (!isAvailable()) return;
  addon.cudaConfig(flags.matmulAllowTf32, flags.cudnnAllowTf32, flags.cudnnBenchmark, flags.cudnnGraphFusion, seed, flags.cudnnDeterministic);
}

/**
 * NVRTC as the addon finds it (CUDA_PATH, the nvidia-cuda-nvrtc wheel, LD_LIBRARY_PATH,
 * /usr/local/cuda): expression activations compile their CUDA kernels with it at first use.
 * Works without a GPU or driver.
 */
export function nvrtc(): NvrtcInfo {
  return call('nvrtc', () => addon.nvrtcInfo());
}

/** Counters of the run-time kernel cache: NVRTC compiles (and their total ms), loads on a device, cache hits. */
export function kernelCacheStats(): RtcStats {
  return call('kernelCacheStats', () => addon.rtcStats());
}

/**
 * Compiles CUDA source with NVRTC for compute capability `arch` (80 = sm_80) and discards the
 * result: the compile-only check the tests run without a GPU. A CompileError carries NVRTC's log.
 */
export function nvrtcCompile(source: string, arch: number, what = 'nvrtc'): NvrtcCompiled {
  return call(what, () => addon.nvrtcCompile(source, arch, what));
}

export interface EventOptions {
  /** whether elapsedTime() can be read (as torch.cuda.Event's enable_timing; default false) */
  enableTiming?: boolean;
  /** the device the event belongs to (default: set by the first record(), else cuda:0) */
  device?: number | string;
}

/**
 * torch.cuda.Event: a marker in a device's queue of work. `record()` puts it after everything
 * queued so far on the device (Ignis has one stream per device); `query()` says whether that work
 * is done, `synchronize()` waits for it, and `elapsedTime(end)` reads the GPU time between two
 * timing events, as PyTorch's benchmarks time kernels:
 *
 * @example
 * const start = new ignis.cuda.Event({ enableTiming: true }), end = new ignis.cuda.Event({ enableTiming: true });
 * start.record();
 * for (let i = 0; i < 10; i++) y = x.relu();
 * end.record();
 * console.log(start.elapsedTime(end) / 10, 'ms a call');
 *
 * The native event is made at the first record() and freed by dispose() or, when the Event is
 * collected, by its finalizer. Without CUDA, constructing works and record() raises DeviceError.
 * Not in this version: `wait(stream)` (one stream per device keeps every op in order) and
 * interprocess events.
 */
export class Event {
  readonly enableTiming: boolean;
  private _dev: number | null;
  private _handle: object | null = null;
  private _recorded = false;
  private _disposed = false;

  constructor(options: EventOptions = {}) {
    if (options === null || typeof options !== 'object') throw new ValueError(`Event: expected an options object, got ${String(options)}`);
    const timing = options.enableTiming ?? false;
    if (typeof timing !== 'boolean') throw new ValueError(`Event: enableTiming must be a boolean, got ${String(timing)}`);
    this.enableTiming = timing;
    this._dev = options.device === undefined ? null : index(options.device, 'Event');
  }

  /** The event's device ('cuda:N'), or null before the first record() when none was given. */
  get device(): Device | null {
    return this._dev === null ? null : `cuda:${this._dev}`;
  }

  /** Whether record() has been called. */
  get recorded(): boolean {
    return this._recorded;
  }

  private live(op: string): object | null {
    if (this._disposed) throw new ValueError(`${op}: the event was disposed`);
    return this._handle;
  }

  /** Queues the event after the work queued so far on its device (the first call may name the device). */
  record(device?: number | string): this {
    this.live('Event.record');
    const dev = device === undefined ? (this._dev ?? index(undefined, 'Event.record')) : index(device, 'Event.record');
    if (this._dev !== null && dev !== this._dev)
      throw new DeviceError(`Event.record: the event belongs to cuda:${this._dev}, not cuda:${dev}`);
    if (this._handle === null) this._handle = call('Event.record', () => addon.cudaEventNew(dev, this.enableTiming));
    this._dev = dev;
    const h = this._handle;
    call('Event.record', () => addon.cudaEventOp(0, h));
    this._recorded = true;
    return this;
  }

  /** True when the work before the last record() is done (true for an event never recorded). */
  query(): boolean {
    const h = this.live('Event.query');
    if (h === null) return true;
    return call('Event.query', () => addon.cudaEventOp(1, h)) as boolean;
  }

  /** Waits until the work before the last record() is done (returns at once if never recorded). */
  synchronize(): void {
    const h = this.live('Event.synchronize');
    if (h !== null) call('Event.synchronize', () => addon.cudaEventOp(2, h));
  }

  /**
   * Milliseconds of GPU time from this event to `end` (both recorded, both with enableTiming, one
   * device); waits for both, as PyTorch's elapsed_time does.
   */
  elapsedTime(end: Event): number {
    const op = 'Event.elapsedTime';
    if (!(end instanceof Event)) throw new ValueError(`${op}: expected an Event, got ${typeof end}`);
    const a = this.live(op);
    const b = end.live(op);
    if (!this.enableTiming || !end.enableTiming) throw new ValueError(`${op}: both events must be created with enableTiming: true`);
    if (a === null || b === null || !this._recorded || !end._recorded)
      throw new ValueError(`${op}: both events must be recorded before the elapsed time is read`);
    if (this._dev !== end._dev) throw new DeviceError(`${op}: the events belong to cuda:${this._dev} and cuda:${end._dev}`);
    return call(op, () => addon.cudaEventOp(3, a, b)) as number;
  }

  /** Frees the native event now (later calls raise ValueError); safe to call twice. */
  dispose(): void {
    if (this._handle !== null) addon.cudaEventOp(4, this._handle);
    this._handle = null;
    this._disposed = true;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `Event(device=${this.device ?? 'none'}, enableTiming=${this.enableTiming}, recorded=${this._recorded})`;
  }
}
