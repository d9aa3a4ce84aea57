/**
 * A finished profile: its events (a tree per thread: user ranges and ops, ops nested in the ops
 * whose forward dispatched them), key averages with roofline figures, torch.profiler's table, and
 * a Chrome trace.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { ValueError } from '../errors';
import { calibrate, DevicePeaks } from './calibrate';
import { fmtMemory, fmtNum, fmtPct, fmtShapes, fmtTime, truncate } from './format';
import type { EventKind, RawEvent } from './recorder';
import type { Schedule, TraceHandler } from './schedule';

export type Activity = 'cpu' | 'cuda';

const STEP_RANGE = /^ProfilerStep#\d+$/;

/** What a profile records (the options a finished Profile keeps). */
export interface RecordOptions {
  /** what to record: 'cpu' (op and range events on the host), 'cuda' (the device work of each op, timed by CUDA events). Default ['cpu']. */
  activities?: Activity[];
  /** record input shapes and dtypes of every op (needed by keyAverages({groupByInputShape})) */
  recordShapes?: boolean;
  /** record the bytes each op allocates (delta of live native memory around it) */
  profileMemory?: boolean;
  /** count FLOPs and bytes moved per op (src/profiler/flops.ts) and rate them against the device's peaks */
  withFlops?: boolean;
}

export interface ProfileOptions extends RecordOptions {
  /** which steps to record (profiler.schedule(...)); the running profiler's step() marks each step */
  schedule?: Schedule;
  /** called with each recorded cycle's Profile (with a schedule), or with the Profile at stop */
  onTraceReady?: TraceHandler;
}

export interface ProfilerEvent {
  id: number;
  name: string;
  /** 'op': a dispatched op; 'range': a user range (recordFunction); 'kernel': a device kernel */
  kind: EventKind;
  /** where it ran: 'cpu', 'cuda:0' (an op: the device of its inputs, or of its output for creation) */
  device: string;
  threadId: number;
  /** µs since the profile started */
  start: number;
  /** wall time, µs */
  duration: number;
  /** duration less the time covered by child events, µs */
  selfDuration: number;
  parentId: number | null;
  depth: number;
  children: ProfilerEvent[];
  inputShapes?: number[][];
  inputDtypes?: string[];
  flops?: number;
  bytes?: number;
  /** bytes allocated (live native bytes after - before), children included */
  memory?: number;
  /** memory less the children's */
  selfMemory?: number;
  /** kernels: id of the op event that launched it */
  correlationId?: number;
  /** the op threw */
  error?: boolean;
  /** the event was still open when the profile stopped (duration runs to the stop) */
  unfinished?: boolean;
  args?: Record<string, unknown>;
}

/** One row of keyAverages(): all events of one name (and input shapes) together. Times in µs. */
export interface KeyAverage {
  key: string;
  name: string;
  kind: EventKind;
  /** devices the events ran on */
  device: string;
  /** input shapes as printed ('' unless grouped by shape) */
  inputShapes: string;
  count: number;
  cpuTimeTotal: number;
  selfCpuTimeTotal: number;
  cpuTimeAvg: number;
  selfCpuTimeAvg: number;
  cpuTimeMin: number;
  cpuTimeMax: number;
  /** kernel time on the device, of the kernels these ops launched (0 on the CPU) */
  deviceTimeTotal: number;
  selfDeviceTimeTotal: number;
  cpuMemoryUsage: number;
  selfCpuMemoryUsage: number;
  /** total FLOPs of the calls, null when the op's cost is unknown */
  flops: number | null;
  bytes: number | null;
  /** flops / total time */
  gflopsPerSec: number | null;
  /** bytes / total time */
  gbPerSec: number | null;
  /** achieved rate as % of the roofline at this op's arithmetic intensity: max(GFLOP/s / peak GFLOP/s, GB/s / peak GB/s) · 100 */
  pctPeak: number | null;
  /** which ceiling applies at this arithmetic intensity */
  bound: 'memory' | 'compute' | null;
}

export const SORT_KEYS: Record<string, keyof KeyAverage> = {
  cpu_time_total: 'cpuTimeTotal',
  self_cpu_time_total: 'selfCpuTimeTotal',
  cpu_time: 'cpuTimeAvg',
  cpu_time_avg: 'cpuTimeAvg',
  self_cpu_time_avg: 'selfCpuTimeAvg',
  cpu_time_max: 'cpuTimeMax',
  cpu_time_min: 'cpuTimeMin',
  cuda_time_total: 'deviceTimeTotal',
  self_cuda_time_total: 'selfDeviceTimeTotal',
  device_time_total: 'deviceTimeTotal',
  self_device_time_total: 'selfDeviceTimeTotal',
  cpu_memory_usage: 'cpuMemoryUsage',
  self_cpu_memory_usage: 'selfCpuMemoryUsage',
  count: 'count',
  flops: 'flops',
  bytes: 'bytes',
  gflops_per_s: 'gflopsPerSec',
  gb_per_s: 'gbPerSec',
  pct_peak: 'pctPeak',
};
for (const v of Object.values({ ...SORT_KEYS })) SORT_KEYS[v] = v; // camelCase works too

export interface TableOptions {
  /** a torch key (cpu_time_total, self_cpu_time_total, count, cpu_memory_usage, ...) or its camelCase; descending. Default: cpu_time_total */
  sortBy?: string;
  /** at most this many rows; -1 or undefined: all (torch's default is 100) */
  rowLimit?: number;
  /** longest name printed (default 55, like torch) */
  maxNameColumnWidth?: number;
  /** longest input-shapes cell (default 80) */
  maxShapesColumnWidth?: number;
}

function checkSortKey(sortBy: string | undefined, where: string): keyof KeyAverage {
  if (sortBy === undefined) return 'cpuTimeTotal';
  const k = typeof sortBy === 'string' ? SORT_KEYS[sortBy] : undefined;
  if (!k)
    throw new ValueError(
      `${where}: unknown sortBy ${JSON.stringify(sortBy)}; expected one of ${Object.keys(SORT_KEYS).filter((s) => s.includes('_') || s === 'count' || s === 'flops' || s === 'bytes').join(', ')} (or their camelCase)`,
    );
  return k;
}

function checkRowLimit(n: number | undefined, where: string): number {
  if (n === undefined || n === -1) return Infinity;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ValueError(`${where}: rowLimit must be a non-negative integer or -1, got ${String(n)}`);
  return n;
}

/** keyAverages() result: the rows (an Array) plus table(). */
export class KeyAverages extends Array<KeyAverage> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
  /** set by Profile */
  profile!: Profile;
  groupedByShape = false;

  /** Rows sorted by `key` (descending), a new plain array. */
  sorted(sortBy?: string): KeyAverage[] {
    const k = checkSortKey(sortBy, 'keyAverages.sorted');
    return [...this].sort((a, b) => num(b[k]) - num(a[k]));
  }

  /** torch.profiler's table: aligned columns, a total line under it. */
  table(opts: TableOptions = {}): string {
    return renderTable(this, opts);
  }

  override toString(): string {
    return this.table();
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : -Infinity;
}

export class Profile {
  /** every event, in start order */
  readonly events: ProfilerEvent[];
  /** top-level events (no parent inside this profile) */
  readonly roots: ProfilerEvent[];
  readonly warnings: string[];
  readonly options: Required<RecordOptions>;
  /** wall time of the whole profile, µs */
  readonly duration: number;
  /** performance.timeOrigin + start, ms since the epoch */
  readonly startEpochMs: number;
  private peaksCache = new Map<string, DevicePeaks | null>();

  constructor(raw: RawEvent[], t0: number, t1: number, options: Required<RecordOptions>, warnings: string[], timeOrigin: number) {
    this.options = options;
    this.warnings = warnings;
    this.duration = (t1 - t0) * 1e3;
    this.startEpochMs = timeOrigin + t0;
    const byRaw = new Map<RawEvent, ProfilerEvent>();
    const events: ProfilerEvent[] = [];
    const roots: ProfilerEvent[] = [];
    for (const r of raw) {
      const unfinished = r.t1 < 0;
      const end = unfinished ? t1 : r.t1;
      const e: ProfilerEvent = {
        id: r.seq,
        name: r.name,
        kind: r.kind,
        device: r.device,
        threadId: r.tid,
        start: (r.t0 - t0) * 1e3,
        duration: Math.max(0, (end - r.t0) * 1e3),
        selfDuration: 0,
        parentId: null,
        depth: 0,
        children: [],
      };
      if (r.shapes && options.recordShapes) {
        e.inputShapes = r.shapes.map((s) => s.slice());
        e.inputDtypes = r.dtypes!.slice();
      }
      if (options.withFlops && r.flops >= 0) e.flops = r.flops;
      if (options.withFlops && r.bytes >= 0) e.bytes = r.bytes;
      if (options.profileMemory && !Number.isNaN(r.mem)) e.memory = r.mem;
      if (r.error) e.error = true;
      if (unfinished) e.unfinished = true;
      if (r.args) e.args = r.args;
      const p = r.parent ? byRaw.get(r.parent) : undefined;
      if (p) {
        e.parentId = p.id;
        e.depth = p.depth + 1;
        p.children.push(e);
      } else if (r.kind !== 'kernel') roots.push(e);
      if (r.correlation) {
        const c = byRaw.get(r.correlation);
        if (c) e.correlationId = c.id;
      }
      byRaw.set(r, e);
      events.push(e);
    }
    for (const e of events) {
      e.selfDuration = Math.max(0, e.duration - covered(e));
      if (e.memory !== undefined) {
        let m = e.memory;
        for (const c of e.children) if (c.memory !== undefined) m -= c.memory;
        e.selfMemory = m;
      }
    }
    // kernels are collected at stop, after every op: put them in start order too (a stable sort
    // keeps ops and ranges, already in start order, as they are)
    if (events.some((e) => e.kind === 'kernel')) events.sort((a, b) => a.start - b.start);
    this.events = events;
    this.roots = roots;
  }

  /** The device's calibrated peaks (null for a device that cannot be calibrated here). */
  peaks(device = 'cpu'): DevicePeaks | null {
    if (!this.peaksCache.has(device)) {
      let p: DevicePeaks | null = null;
      try {
        p = calibrate({ device });
      } catch {
        p = null;
      }
      this.peaksCache.set(device, p);
    }
    return this.peaksCache.get(device)!;
  }

  /** Uses these peaks instead of calibrating (e.g. figures measured elsewhere). */
  setPeaks(device: string, peaks: DevicePeaks | null): void {
    this.peaksCache.set(device, peaks);
  }

  /**
   * Aggregates events by name (and input shapes with groupByInputShape, which needs recordShapes).
   * `peaks: false` skips the roofline figures (no calibration).
   */
  keyAverages(opts: { groupByInputShape?: boolean; peaks?: boolean } = {}): KeyAverages {
    if (opts === null || typeof opts !== 'object') throw new ValueError(`keyAverages: expected an options object, got ${String(opts)}`);
    for (const k of Object.keys(opts))
      if (k !== 'groupByInputShape' && k !== 'peaks') throw new ValueError(`keyAverages: unknown option '${k}'; expected groupByInputShape, peaks`);
    const byShape = !!opts.groupByInputShape;
    if (byShape && !this.options.recordShapes)
      throw new ValueError('keyAverages: groupByInputShape needs the profile to be recorded with recordShapes: true');
    const rows = new Map<string, KeyAverage & { _devices: Set<string> }>();
    const byId = new Map<number, ProfilerEvent>();
    for (const e of this.events) byId.set(e.id, e);
    const rowOf = (e: ProfilerEvent) => {
      const shapes = byShape && e.kind === 'op' ? fmtShapes(e.inputShapes) : '';
      // the step ranges of a scheduled profile are one row, as torch's "ProfilerStep*"
      const name = e.kind === 'range' && STEP_RANGE.test(e.name) ? 'ProfilerStep*' : e.name;
      const key = `${e.kind}\u0000${name}\u0000${shapes}`;
      let r = rows.get(key);
      if (!r) {
        r = {
          key, name, kind: e.kind, device: e.device, inputShapes: shapes, count: 0,
          cpuTimeTotal: 0, selfCpuTimeTotal: 0, cpuTimeAvg: 0, selfCpuTimeAvg: 0, cpuTimeMin: Infinity, cpuTimeMax: 0,
          deviceTimeTotal: 0, selfDeviceTimeTotal: 0, cpuMemoryUsage: 0, selfCpuMemoryUsage: 0,
          flops: null, bytes: null, gflopsPerSec: null, gbPerSec: null, pctPeak: null, bound: null,
          _devices: new Set(),
        };
        rows.set(key, r);
      }
      return r;
    };
    for (const e of this.events) {
      const r = rowOf(e);
      r._devices.add(e.device);
      r.count++;
      if (e.kind === 'kernel') {
        r.deviceTimeTotal += e.duration;
        r.selfDeviceTimeTotal += e.duration;
        // the launching op and its ancestors see the kernel's device time
        let op = e.correlationId !== undefined ? byId.get(e.correlationId) : undefined;
        let self = true;
        while (op) {
          const ro = rowOf(op);
          ro.deviceTimeTotal += e.duration;
          if (self) ro.selfDeviceTimeTotal += e.duration;
          self = false;
          op = op.parentId !== null ? byId.get(op.parentId) : undefined;
        }
        r.cpuTimeMin = 0;
        continue;
      }
      r.cpuTimeTotal += e.duration;
      r.selfCpuTimeTotal += e.selfDuration;
      if (e.duration < r.cpuTimeMin) r.cpuTimeMin = e.duration;
      if (e.duration > r.cpuTimeMax) r.cpuTimeMax = e.duration;
      if (e.memory !== undefined) r.cpuMemoryUsage += e.memory;
      if (e.selfMemory !== undefined) r.selfCpuMemoryUsage += e.selfMemory;
      if (e.flops !== undefined) r.flops = (r.flops ?? 0) + e.flops;
      if (e.bytes !== undefined) r.bytes = (r.bytes ?? 0) + e.bytes;
    }
    const out = new KeyAverages();
    out.profile = this;
    out.groupedByShape = byShape;
    const usePeaks = opts.peaks ?? this.options.withFlops;
    for (const r of rows.values()) {
      const { _devices, ...row } = r;
      row.device = [..._devices].join(',');
      if (row.cpuTimeMin === Infinity) row.cpuTimeMin = 0;
      const cpuCalls = row.kind === 'kernel' ? 0 : row.count;
      row.cpuTimeAvg = cpuCalls ? row.cpuTimeTotal / cpuCalls : 0;
      row.selfCpuTimeAvg = cpuCalls ? row.selfCpuTimeTotal / cpuCalls : 0;
      // rates over the time the work took: device time for device ops, wall time on the CPU
      const onDevice = row.device !== 'cpu' && row.deviceTimeTotal > 0;
      const secs = (onDevice ? row.deviceTimeTotal : row.cpuTimeTotal) / 1e6;
      if (secs > 0) {
        if (row.flops !== null && row.flops > 0) row.gflopsPerSec = row.flops / secs / 1e9;
        if (row.bytes !== null && row.bytes > 0) row.gbPerSec = row.bytes / secs / 1e9;
      }
      if (usePeaks && (row.gflopsPerSec !== null || row.gbPerSec !== null) && _devices.size === 1) {
        const pk = this.peaks(row.device);
        if (pk) {
          const fu = row.gflopsPerSec !== null ? row.gflopsPerSec / pk.gflops : 0;
          const bu = row.gbPerSec !== null ? row.gbPerSec / pk.bandwidthGBs : 0;
          row.pctPeak = Math.max(fu, bu) * 100;
          if (row.flops !== null && row.bytes !== null && row.bytes > 0) row.bound = row.flops / row.bytes < pk.ridge ? 'memory' : 'compute';
          else if (row.bytes !== null) row.bound = 'memory';
        }
      }
      out.push(row);
    }
    out.sort((a, b) => b.cpuTimeTotal - a.cpuTimeTotal);
    return out;
  }

  /** Shorthand for keyAverages().table(opts). */
  table(opts: TableOptions & { groupByInputShape?: boolean } = {}): string {
    const { groupByInputShape, ...t } = opts;
    return this.keyAverages({ groupByInputShape }).table(t);
  }

  /** Writes the trace in the Chrome trace event format (chrome://tracing, ui.perfetto.dev). */
  exportChromeTrace(file: string): void {
    if (typeof file !== 'string' || !file) throw new ValueError(`exportChromeTrace: expected a file path, got ${String(file)}`);
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const json = JSON.stringify(this.chromeTrace());
    // a .gz name is written gzipped, as torch's export_chrome_trace does (Perfetto opens both)
    fs.writeFileSync(file, file.endsWith('.gz') ? zlib.gzipSync(json) : json);
  }

  /** The Chrome trace as an object: { traceEvents, displayTimeUnit, otherData }. */
  chromeTrace(): { traceEvents: Record<string, unknown>[]; displayTimeUnit: string; otherData: Record<string, unknown> } {
    return chromeTrace(this);
  }

  toString(): string {
    return this.table();
  }
}

/** Time of e covered by its children (union of their intervals, clipped to e). */
function covered(e: ProfilerEvent): number {
  const ch = e.children;
  if (!ch.length) return 0;
  const end = e.start + e.duration;
  let sorted = ch;
  for (let i = 1; i < ch.length; i++)
    if (ch[i].start < ch[i - 1].start) {
      sorted = [...ch].sort((a, b) => a.start - b.start);
      break;
    }
  let total = 0;
  let curS = -Infinity;
  let curE = -Infinity;
  for (const c of sorted) {
    const s = Math.max(c.start, e.start);
    const f = Math.min(c.start + c.duration, end);
    if (f <= s) continue;
    if (s > curE) {
      if (curE > curS) total += curE - curS;
      curS = s;
      curE = f;
    } else if (f > curE) curE = f;
  }
  if (curE > curS) total += curE - curS;
  return total;
}

// ---- the table ----------------------------------------------------------------------------------

interface Column {
  header: string;
  cell: (r: KeyAverage) => string;
}

function renderTable(rows: KeyAverages, opts: TableOptions): string {
  if (opts === null || typeof opts !== 'object') throw new ValueError(`table: expected an options object, got ${String(opts)}`);
  const known = ['sortBy', 'rowLimit', 'maxNameColumnWidth', 'maxShapesColumnWidth'];
  for (const k of Object.keys(opts)) if (!known.includes(k)) throw new ValueError(`table: unknown option '${k}'; expected ${known.join(', ')}`);
  const sortKey = checkSortKey(opts.sortBy, 'table');
  const limit = checkRowLimit(opts.rowLimit, 'table');
  const prof = rows.profile;
  const o = prof.options;
  const hasDevice = rows.some((r) => r.deviceTimeTotal > 0);
  const hasMem = o.profileMemory;
  const hasFlops = o.withFlops;
  const hasPeak = rows.some((r) => r.pctPeak !== null);
  const hasShapes = rows.groupedByShape;

  const cpuRows = rows.filter((r) => r.kind !== 'kernel');
  // torch divides by the sum of self times (the profile's CPU time)
  const selfCpuTotal = cpuRows.reduce((s, r) => s + r.selfCpuTimeTotal, 0);
  const selfDevTotal = rows.filter((r) => r.kind === 'kernel').reduce((s, r) => s + r.selfDeviceTimeTotal, 0);
  const pct = (v: number, tot: number) => fmtPct(tot > 0 ? (100 * v) / tot : NaN);

  const cols: Column[] = [
    { header: 'Self CPU %', cell: (r) => (r.kind === 'kernel' ? '0.00%' : pct(r.selfCpuTimeTotal, selfCpuTotal)) },
    { header: 'Self CPU', cell: (r) => fmtTime(r.selfCpuTimeTotal) },
    { header: 'CPU total %', cell: (r) => (r.kind === 'kernel' ? '0.00%' : pct(r.cpuTimeTotal, selfCpuTotal)) },
    { header: 'CPU total', cell: (r) => fmtTime(r.cpuTimeTotal) },
    { header: 'CPU time avg', cell: (r) => fmtTime(r.cpuTimeAvg) },
  ];
  if (hasDevice)
    cols.push(
      { header: 'Self CUDA', cell: (r) => fmtTime(r.selfDeviceTimeTotal) },
      { header: 'Self CUDA %', cell: (r) => pct(r.selfDeviceTimeTotal, selfDevTotal) },
      { header: 'CUDA total', cell: (r) => fmtTime(r.deviceTimeTotal) },
      { header: 'CUDA time avg', cell: (r) => fmtTime(r.count ? r.deviceTimeTotal / r.count : 0) },
    );
  if (hasMem)
    cols.push({ header: 'CPU Mem', cell: (r) => fmtMemory(r.cpuMemoryUsage) }, { header: 'Self CPU Mem', cell: (r) => fmtMemory(r.selfCpuMemoryUsage) });
  cols.push({ header: '# of Calls', cell: (r) => String(r.count) });
  if (hasFlops)
    cols.push(
      { header: 'Total GFLOPs', cell: (r) => (r.flops === null ? '--' : fmtNum(r.flops / 1e9)) },
      { header: 'GFLOP/s', cell: (r) => fmtNum(r.gflopsPerSec) },
      { header: 'GB/s', cell: (r) => fmtNum(r.gbPerSec) },
    );
  if (hasPeak) cols.push({ header: '% peak', cell: (r) => (r.pctPeak === null ? '--' : `${fmtPct(r.pctPeak)} ${r.bound === 'compute' ? 'C' : 'M'}`) });

  const sorted = [...rows].sort((a, b) => num(b[sortKey]) - num(a[sortKey])).slice(0, limit);
  const nameW = Math.min(Math.max(4, ...sorted.map((r) => r.name.length)) + 4, (opts.maxNameColumnWidth ?? 55) + 4);
  const cellW = Math.max(12, ...cols.map((c) => c.header.length));
  const shapesW = hasShapes ? Math.min(Math.max(12, ...sorted.map((r) => r.inputShapes.length)), opts.maxShapesColumnWidth ?? 80) : 0;
  const SP = '  ';
  const sep = ['-'.repeat(nameW), ...cols.map(() => '-'.repeat(cellW)), ...(hasShapes ? ['-'.repeat(shapesW)] : [])].join(SP) + SP;
  const line = (name: string, cells: string[], shapes: string) =>
    [name.padStart(nameW), ...cells.map((c) => c.padStart(cellW)), ...(hasShapes ? [shapes.padEnd(shapesW)] : [])].join(SP) + SP;

  const out: string[] = [];
  out.push(sep);
  out.push(line('Name', cols.map((c) => c.header), 'Input Shapes'));
  out.push(sep);
  for (const r of sorted) out.push(line(truncate(r.name, nameW - 4), cols.map((c) => c.cell(r)), truncate(r.inputShapes, shapesW)));
  out.push(sep);
  out.push(`Self CPU time total: ${fmtTime(selfCpuTotal)}`);
  if (hasDevice) out.push(`Self CUDA time total: ${fmtTime(selfDevTotal)}`);
  if (hasPeak) {
    const devices = [...new Set(sorted.filter((r) => r.pctPeak !== null).map((r) => r.device))].sort();
    for (const d of devices) {
      const pk = prof.peaks(d);
      if (pk)
        out.push(
          `% peak: of the roofline at each op's FLOPs/byte (C compute-, M memory-bound); ${d} peaks ${pk.bandwidthGBs.toFixed(1)} GB/s, ${pk.gflops.toFixed(1)} GFLOP/s (measured ${pk.measuredAt.slice(0, 10)}${pk.cacheFile ? `, ${pk.cacheFile}` : ''})`,
        );
    }
  }
  for (const w of prof.warnings) out.push(`Warning: ${w}`);
  return out.join('\n') + '\n';
}

// ---- the Chrome trace -----------------------------------------------------------------------------

/** Chrome trace pid of a device track: the process for the host, the device index for a GPU (as torch does). */
export function tracePid(device: string): number {
  if (device === 'cpu') return process.pid;
  const m = /:(\d+)$/.exec(device);
  return m ? Number(m[1]) : 0;
}

function chromeTrace(p: Profile): { traceEvents: Record<string, unknown>[]; displayTimeUnit: string; otherData: Record<string, unknown> } {
  const te: Record<string, unknown>[] = [];
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const tracks = new Map<number, string>();
  const threads = new Set<string>();
  const hostPid = tracePid('cpu');
  const byId = new Map<number, ProfilerEvent>();
  for (const e of p.events) byId.set(e.id, e);
  tracks.set(hostPid, `ignis (pid ${process.pid}) CPU`);
  for (const e of p.events) {
    const device = e.kind === 'kernel' ? e.device : 'cpu';
    const pid = tracePid(device);
    if (!tracks.has(pid)) tracks.set(pid, device.toUpperCase().replace(':', ' '));
    const tid = e.kind === 'kernel' ? Number(e.args?.stream ?? 7) : e.threadId;
    threads.add(`${pid}:${tid}:${e.kind === 'kernel' ? `stream ${tid}` : tid === 0 ? 'main thread' : `worker ${tid}`}`);
    const args: Record<string, unknown> = { 'Device': e.device, 'Ev Idx': e.id };
    if (e.inputShapes) {
      args['Input Dims'] = e.inputShapes;
      args['Input type'] = e.inputDtypes;
    }
    if (e.flops !== undefined) args['FLOPs'] = e.flops;
    if (e.bytes !== undefined) args['Bytes'] = e.bytes;
    if (e.memory !== undefined) args['Memory'] = e.memory;
    if (e.correlationId !== undefined) args['correlation'] = e.correlationId;
    if (e.error) args['error'] = true;
    if (e.unfinished) args['unfinished'] = true;
    if (e.args) for (const [k, v] of Object.entries(e.args)) args[k] = v;
    te.push({
      ph: 'X',
      cat: e.kind === 'op' ? 'cpu_op' : e.kind === 'range' ? 'user_annotation' : 'kernel',
      name: e.name,
      pid,
      tid,
      ts: round(e.start),
      dur: round(e.duration),
      args,
    });
    if (e.kind === 'kernel' && e.correlationId !== undefined) {
      const op = byId.get(e.correlationId);
      if (op) {
        // flow arrow from the launching op to its kernel
        te.push({ ph: 's', id: e.id, pid: hostPid, tid: op.threadId, ts: round(op.start), cat: 'ac2g', name: 'ac2g' });
        te.push({ ph: 'f', id: e.id, pid, tid, ts: round(e.start), cat: 'ac2g', name: 'ac2g', bp: 'e' });
      }
    }
  }
  if (p.options.profileMemory) {
    // a counter track of the bytes allocated by top-level events, cumulatively
    let live = 0;
    te.push({ ph: 'C', name: 'CPU memory allocated', pid: hostPid, tid: 0, ts: 0, args: { bytes: 0 } });
    const tops = p.events.filter((e) => e.kind !== 'kernel' && e.parentId === null && e.memory !== undefined);
    for (const e of tops) {
      live += e.memory!;
      te.push({ ph: 'C', name: 'CPU memory allocated', pid: hostPid, tid: 0, ts: round(e.start + e.duration), args: { bytes: live } });
    }
  }
  const meta: Record<string, unknown>[] = [];
  let order = 0;
  for (const [pid, name] of tracks) {
    meta.push({ ph: 'M', name: 'process_name', pid, tid: 0, args: { name } });
    meta.push({ ph: 'M', name: 'process_sort_index', pid, tid: 0, args: { sort_index: order++ } });
  }
  for (const t of threads) {
    const [pid, tid, name] = t.split(':');
    meta.push({ ph: 'M', name: 'thread_name', pid: Number(pid), tid: Number(tid), args: { name } });
  }
  return {
    traceEvents: [...meta, ...te],
    displayTimeUnit: 'ms',
    otherData: {
      producer: 'ignis.profiler',
      baseTimeNanoseconds: Math.round(p.startEpochMs * 1e6),
      options: p.options,
      warnings: p.warnings,
    },
  };
}
