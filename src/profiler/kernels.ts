/**
 * Device kernel sources for the profiler's 'cuda' activity. The CUDA backend is the real one
 * (native/cuda/profile.cpp: a CUDA event pair around each backend entry's work, from a ring of
 * preallocated events); tests inject a fake through the same interface (setKernelSource).
 *
 * The recorder drives a source like this: start(capacity) when the first session with 'cuda'
 * begins; correlate(id) before each recorded op (that op's id) and after it (the enclosing op's,
 * or 0), so every piece of device work carries the op that queued it; stop() when a session with
 * 'cuda' ends, which waits for the device and returns the records. Record start times are
 * CLOCK_MONOTONIC microseconds, the clock of process.hrtime.
 */
import { performance } from 'perf_hooks';
import { isAvailable, unavailableReason } from '../cuda';
import { addon, NativeKernelRecord } from '../native';

export type KernelRecord = NativeKernelRecord;

export interface KernelSource {
  /** null when kernels can be recorded, else why not (shown as a profile warning) */
  unavailable(): string | null;
  /** starts recording, with room for `capacity` pieces of work per device before it must wait */
  start(capacity: number): void;
  /** the op id that the work queued from now on belongs to (0: none) */
  correlate(id: number): void;
  /** stops, waits for the device, returns what ran; `waits`: how often a full ring made the host wait */
  stop(): { records: KernelRecord[]; waits: number };
}

/** The CUDA backend's source. */
export const cudaKernelSource: KernelSource = {
  unavailable() {
    if (!isAvailable()) return unavailableReason() ?? 'CUDA is not available';
    if (typeof addon.cudaProfStart !== 'function') return 'this build of the addon predates CUDA kernel profiling: rebuild ignis';
    return null;
  },
  start(capacity) {
    addon.cudaProfStart!(capacity);
  },
  correlate(id) {
    addon.cudaProfCorrelate!(id);
  },
  stop() {
    return addon.cudaProfStop!();
  },
};

let source: KernelSource = cudaKernelSource;

/** The source the next profile with 'cuda' uses. */
export function kernelSource(): KernelSource {
  return source;
}

/**
 * Replaces the kernel source (tests: a fake that fills records like the CUDA library does);
 * null restores the CUDA backend's. Returns the previous one.
 * @internal
 */
export function setKernelSource(s: KernelSource | null): KernelSource {
  const prev = source;
  source = s ?? cudaKernelSource;
  return prev;
}

/** Event pairs per device (IGNIS_PROFILE_CUDA_EVENTS overrides; 16 to 4194304). */
export function ringCapacity(): number {
  const v = Number(process.env.IGNIS_PROFILE_CUDA_EVENTS);
  return Number.isInteger(v) && v >= 16 && v <= 4194304 ? v : 16384;
}

/**
 * performance.now() minus CLOCK_MONOTONIC, in ms (both count from the same clock; the difference is
 * the time origin): of a few tries, the one whose two reads of performance.now() around the
 * monotonic read lie closest, so that a preemption between the reads does not shift it. Read once
 * per batch of conversions: a fresh offset per record moved records 10 µs apart past each other on
 * a loaded machine.
 */
export function monotonicOffsetMs(): number {
  let gap = Infinity;
  let offset = 0;
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    const m = Number(process.hrtime.bigint()) / 1e6;
    const b = performance.now();
    if (b - a < gap) {
      gap = b - a;
      offset = (a + b) / 2 - m;
    }
  }
  return offset;
}

/** CLOCK_MONOTONIC µs -> performance.now() ms, with an offset from monotonicOffsetMs(). */
export function monotonicToPerfMs(us: number, offsetMs = monotonicOffsetMs()): number {
  return us / 1e3 + offsetMs;
}

/** The trace / event arguments of one record, in torch.profiler's names where it has one. */
export function recordArgs(r: KernelRecord): Record<string, unknown> {
  const a: Record<string, unknown> = { stream: r.stream };
  if (r.launches > 0) {
    a.grid = r.grid.slice();
    a.block = r.block.slice();
    a.launches = r.launches;
  }
  if (r.library) {
    a.library = r.library;
    if (r.algo) a.algorithm = r.algo;
    if (r.workspace >= 0) a.workspaceBytes = r.workspace;
  }
  if (r.fused >= 0) a.fused = r.fused === 1;
  return a;
}
