/**
 * The roofline's two ceilings for a device, measured once through Ignis itself and cached on disk:
 * memory bandwidth from a large float32 copy (bytes read + bytes written, like the copy figure in
 * DESIGN.md) and FLOP rate from a large float32 matmul (2·M·N·K per product). Never a datasheet
 * figure: what this machine, this build and this thread count actually reach.
 *
 * Cache: `$IGNIS_CACHE_DIR/profiler-peaks.json`, else `~/.cache/ignis/`, else `<os.tmpdir()>/ignis-cache/`,
 * one entry per fingerprint (CPU model, cores, kernel threads, ISA, oneDNN, Ignis cache version; for
 * a GPU its name, compute capability, SMs, memory, clock and the CUDA / cuDNN / cuBLAS versions).
 * On a GPU the copy is device to device and the matmul cuBLAS's, TF32 off (PyTorch's float32
 * default; with TF32 on, matmuls can show over 100%).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { threadId } from 'worker_threads';
import { addon, info } from '../native';
import * as K from '../kernels';
import * as cuda from '../cuda';
import type { Device } from '../storage';
import { empty } from '../ops/creation';
import type { Tensor } from '../tensor';

export interface DevicePeaks {
  /** 'cpu' or 'cuda:N' */
  device: string;
  /** memory bandwidth, GB/s (1e9 bytes per second), read + write */
  bandwidthGBs: number;
  /** float32 FLOP rate, GFLOP/s */
  gflops: number;
  /** FLOPs per byte where the two ceilings meet */
  ridge: number;
  /** how each figure was measured */
  method: string;
  /** ISO time of the measurement */
  measuredAt: string;
  /** the cache file it came from or was written to (null when it could not be written) */
  cacheFile: string | null;
  /** true when this call read the cache instead of measuring */
  cached: boolean;
}

const CACHE_VERSION = 1;
const COPY_ELEMS = 32 * 1024 * 1024; // 128 MiB per buffer: far past any last-level cache
const MM = 1024;

export function fingerprint(device = 'cpu'): string {
  if (device !== 'cpu') {
    const p = cuda.getDeviceProperties(device);
    return [`v${CACHE_VERSION}`, device, p.name, `cc=${p.major}.${p.minor}`, `sms=${p.multiProcessorCount}`, `mem=${p.totalMemory}`, `clock=${p.clockRateKHz}`, cuda.versions()].join('|');
  }
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m);
    if (m) model = m[1].trim();
  } catch {
    /* not Linux */
  }
  return [`v${CACHE_VERSION}`, device, model, `cores=${os.cpus().length}`, `threads=${info.threads}`, `isa=${info.isa}`, `onednn=${info.onednn}`, os.arch()].join('|');
}

function candidateDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.IGNIS_CACHE_DIR) dirs.push(process.env.IGNIS_CACHE_DIR);
  else {
    const home = os.homedir();
    if (home) dirs.push(path.join(process.env.XDG_CACHE_HOME || path.join(home, '.cache'), 'ignis'));
    dirs.push(path.join(os.tmpdir(), 'ignis-cache'));
  }
  return dirs;
}

/** The cache file in use: the first candidate directory that exists or can be created. */
export function cacheFile(): string | null {
  for (const d of candidateDirs()) {
    try {
      fs.mkdirSync(d, { recursive: true });
      fs.accessSync(d, fs.constants.W_OK);
      return path.join(d, 'profiler-peaks.json');
    } catch {
      /* next */
    }
  }
  return null;
}

type CacheData = { version: number; entries: Record<string, Omit<DevicePeaks, 'cached' | 'cacheFile'>> };

function readCache(file: string | null): CacheData {
  if (file) {
    try {
      const d = JSON.parse(fs.readFileSync(file, 'utf8')) as CacheData;
      if (d && d.version === CACHE_VERSION && d.entries && typeof d.entries === 'object') return d;
    } catch {
      /* missing or corrupt: measure again */
    }
  }
  return { version: CACHE_VERSION, entries: {} };
}

function writeCache(file: string, data: CacheData): boolean {
  try {
    // pid and thread: Workers of one process may write at the same moment
    const tmp = `${file}.${process.pid}.${threadId}.${Date.now()}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
    fs.renameSync(tmp, file); // atomic: concurrent processes never read half a file
    return true;
  } catch {
    return false;
  }
}

/** Set by the profiler so that calibration's own ops are not recorded. */
export const hooks = { pause: (): (() => void) => () => {} };

function best(fn: () => void, warmup: number, reps: number): number {
  for (let i = 0; i < warmup; i++) fn();
  let t = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    if (dt < t) t = dt;
  }
  return t / 1e3; // seconds
}

/** Measures the CPU's ceilings now (about half a second). */
export function measureCpu(): { bandwidthGBs: number; gflops: number; method: string } {
  const resume = hooks.pause();
  const held: Tensor[] = [];
  try {
    const src = empty([COPY_ELEMS]);
    const dst = empty([COPY_ELEMS]);
    held.push(src, dst);
    K.copy(1, 'float32', src.shape, src); // first touch outside the timing
    const shape = src.shape;
    const tCopy = best(() => void K.copy(src, 'float32', shape, dst), 2, 7);
    const bandwidthGBs = (2 * COPY_ELEMS * 4) / tCopy / 1e9;

    const a = empty([1, MM, MM]);
    const b = empty([1, MM, MM]);
    held.push(a, b);
    K.copy(0.5, 'float32', a.shape, a);
    K.copy(0.25, 'float32', b.shape, b);
    const tMm = best(() => K.bmm(a, b).dispose(), 2, 7);
    const gflops = (2 * MM * MM * MM) / tMm / 1e9;
    return {
      bandwidthGBs,
      gflops,
      method: `copy of ${(COPY_ELEMS * 4) / 2 ** 20} MiB float32 (read + write), best of 7; float32 matmul ${MM}x${MM}x${MM}, best of 7; ${info.threads} threads`,
    };
  } finally {
    for (const t of held) t.dispose();
    addon.emptyCache(); // give the calibration buffers back
    resume();
  }
}

/**
 * Measures a CUDA device's ceilings now (a fraction of a second on a GPU): a 128 MiB float32 copy
 * and a float32 matmul, timed on the device between two CUDA events (cuda.Event); the matmul grows
 * from 256 until one call takes a millisecond (4096 at most), and each sample repeats the call to
 * last 5 ms, so the launch cost does not count.
 */
export function measureCuda(device: Device): { bandwidthGBs: number; gflops: number; method: string } {
  const resume = hooks.pause();
  const held: Tensor[] = [];
  const tf32 = cuda.flags.matmulAllowTf32;
  if (tf32) {
    cuda.flags.matmulAllowTf32 = false;
    cuda.applyFlags();
  }
  const start = new cuda.Event({ enableTiming: true, device });
  const end = new cuda.Event({ enableTiming: true, device });
  // seconds of device time for `inner` calls of fn
  const gpuTime = (fn: () => void, inner: number): number => {
    start.record();
    for (let i = 0; i < inner; i++) fn();
    end.record();
    return start.elapsedTime(end) / 1e3;
  };
  // seconds per call of fn: `inner` calls per sample so that a sample lasts ~5 ms, best of `reps`
  const perCall = (fn: () => void, reps: number): number => {
    fn();
    const t1 = gpuTime(fn, 1);
    const inner = Math.max(1, Math.min(50, Math.round(0.005 / Math.max(t1, 1e-7))));
    gpuTime(fn, 1);
    let t = Infinity;
    for (let r = 0; r < reps; r++) t = Math.min(t, gpuTime(fn, inner) / inner);
    return t;
  };
  try {
    const src = empty([COPY_ELEMS], { device });
    const dst = empty([COPY_ELEMS], { device });
    held.push(src, dst);
    K.copy(1, 'float32', src.shape, src);
    const shape = src.shape;
    const tCopy = perCall(() => void K.copy(src, 'float32', shape, dst), 5);
    const bandwidthGBs = (2 * COPY_ELEMS * 4) / tCopy / 1e9;

    let mm = 256;
    let a: Tensor, b: Tensor;
    for (;;) {
      a = empty([1, mm, mm], { device });
      b = empty([1, mm, mm], { device });
      K.copy(0.5, 'float32', a.shape, a);
      K.copy(0.25, 'float32', b.shape, b);
      K.bmm(a, b).dispose();
      const t = gpuTime(() => K.bmm(a, b).dispose(), 1);
      if (t >= 1e-3 || mm >= 4096) break;
      a.dispose();
      b.dispose();
      mm *= 2;
    }
    held.push(a, b);
    const tMm = perCall(() => K.bmm(a, b).dispose(), 5);
    const gflops = (2 * mm * mm * mm) / tMm / 1e9;
    return {
      bandwidthGBs,
      gflops,
      method: `device copy of ${(COPY_ELEMS * 4) / 2 ** 20} MiB float32 (read + write), best of 5; float32 matmul ${mm}x${mm}x${mm} (TF32 off), best of 5; device time between CUDA events`,
    };
  } finally {
    for (const t of held) t.dispose();
    start.dispose();
    end.dispose();
    if (tf32) {
      cuda.flags.matmulAllowTf32 = true;
      cuda.applyFlags();
    }
    resume();
  }
}

const memo = new Map<string, DevicePeaks>();

/**
 * The device's peaks, from the cache when present, else measured now and cached.
 * `force: true` measures again and replaces the cached entry.
 */
export function calibrate(opts: { device?: string; force?: boolean } = {}): DevicePeaks {
  const device = canonical(opts.device ?? 'cpu');
  const key = fingerprint(device);
  const file = cacheFile();
  if (!opts.force) {
    const m = memo.get(`${file}|${key}`);
    if (m) return m;
    const hit = readCache(file).entries[key];
    if (hit && hit.bandwidthGBs > 0 && hit.gflops > 0) {
      const p: DevicePeaks = { ...hit, cacheFile: file, cached: true };
      memo.set(`${file}|${key}`, p);
      return p;
    }
  }
  const m = device === 'cpu' ? measureCpu() : measureCuda(device);
  const entry = {
    device,
    bandwidthGBs: m.bandwidthGBs,
    gflops: m.gflops,
    ridge: m.gflops / m.bandwidthGBs,
    method: m.method,
    measuredAt: new Date().toISOString(),
  };
  let written = false;
  if (file) {
    const data = readCache(file); // re-read: another process may have added entries meanwhile
    data.entries[key] = entry;
    written = writeCache(file, data);
  }
  const p: DevicePeaks = { ...entry, cacheFile: written ? file : null, cached: false };
  memo.set(`${file}|${key}`, p);
  return p;
}

/** 'cpu', or 'cuda:N' for a CUDA device that is there (a typed error otherwise). */
function canonical(device: string): Device {
  return cuda.parseDevice(device, 'profiler.calibrate').name;
}

/** Forgets the in-process copy (the file stays); the next calibrate() reads the file again. */
export function clearMemo(): void {
  memo.clear();
}
