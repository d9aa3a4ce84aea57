/**
 * The roofline's two ceilings for a device, measured once through Ignis itself and cached on disk:
 * memory bandwidth from a large float32 copy (bytes read + bytes written, like the copy figure in
 * DESIGN.md) and FLOP rate from a large float32 matmul (2·M·N·K per product). Never a datasheet
 * figure: what this machine, this build and this thread count actually reach.
 *
 * Cache: `$IGNIS_CACHE_DIR/profiler-peaks.json`, else `~/.cache/ignis/`, else `<os.tmpdir()>/ignis-cache/`,
 * one entry per fingerprint (CPU model, cores, kernel threads, ISA, oneDNN, Ignis cache version).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { threadId } from 'worker_threads';
import { addon, info } from '../native';
import * as K from '../kernels';
import { empty } from '../ops/creation';
import type { Tensor } from '../tensor';

export interface DevicePeaks {
  /** 'cpu' (later 'cuda:0', ...) */
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

const memo = new Map<string, DevicePeaks>();

/**
 * The device's peaks, from the cache when present, else measured now and cached.
 * `force: true` measures again and replaces the cached entry.
 */
export function calibrate(opts: { device?: string; force?: boolean } = {}): DevicePeaks {
  const device = opts.device ?? 'cpu';
  if (device !== 'cpu') throw new Error(`profiler.calibrate: no ${device} device in this build`);
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
  const m = measureCpu();
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

/** Forgets the in-process copy (the file stays); the next calibrate() reads the file again. */
export function clearMemo(): void {
  memo.clear();
}
