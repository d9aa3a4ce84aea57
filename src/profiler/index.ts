/**
 * ignis.profiler, after torch.profiler:
 *
 *   const prof = ignis.profiler.profile({ activities: ['cpu'], recordShapes: true, profileMemory: true, withFlops: true }, () => {
 *     ignis.profiler.recordFunction('forward', () => model.forward(x));
 *   });
 *   console.log(prof.keyAverages().table({ sortBy: 'self_cpu_time_total', rowLimit: 10 }));
 *   prof.exportChromeTrace('trace.json');
 *
 * Every dispatched op is an event (dispatch's listener hook, so ops run inside backward too), and so
 * are creation, readback and in-place calls (./hook.ts); with 'cuda' the device work of each op is
 * timed by CUDA event pairs in the CUDA library (./kernels.ts) and shown as kernel events.
 * `IGNIS_PROFILE=1 node app.js` profiles the whole process and prints the table at exit.
 */
import * as fs from 'fs';
import { performance } from 'perf_hooks';
import { isMainThread, threadId } from 'worker_threads';
import { IgnisError, ValueError } from '../errors';
import { calibrate as calibrateImpl, DevicePeaks, hooks } from './calibrate';
import { Activity, Profile, ProfileOptions, RecordOptions } from './profile';
import { actionAt, ProfilerAction, Schedule, TraceHandler } from './schedule';
import { kernelSource } from './kernels';
import { RawEvent, recorder, SessionState } from './recorder';

export { Profile, KeyAverages, SORT_KEYS } from './profile';
export type { Activity, KeyAverage, ProfileOptions, ProfilerEvent, RecordOptions, TableOptions } from './profile';
export { schedule, tensorboardTraceHandler, ProfilerAction } from './schedule';
export type { Schedule, ScheduleSpec, TraceHandler } from './schedule';
export { registerCost, opCost, costFn } from './flops';
export type { CostFn, OpCost, TensorMeta } from './flops';
export type { DevicePeaks } from './calibrate';
export { setKernelSource as _setKernelSource, cudaKernelSource } from './kernels';
export type { KernelRecord, KernelSource } from './kernels';

/** torch.profiler.ProfilerActivity */
export const ProfilerActivity = Object.freeze({ CPU: 'cpu' as const, CUDA: 'cuda' as const });

const OPTION_KEYS = ['activities', 'recordShapes', 'profileMemory', 'withFlops', 'schedule', 'onTraceReady'] as const;

hooks.pause = () => {
  recorder.paused++;
  return () => void recorder.paused--;
};

function kernelsUnavailable(): string | null {
  try {
    return kernelSource().unavailable();
  } catch (e) {
    return String(e);
  }
}

interface Normalized {
  options: Required<RecordOptions>;
  warnings: string[];
  schedule: Schedule | null;
  onTraceReady: TraceHandler | null;
}

function normalize(opts: unknown, where: string): Normalized {
  if (opts === undefined || opts === null) opts = {};
  if (typeof opts !== 'object' || Array.isArray(opts)) throw new ValueError(`${where}: expected an options object, got ${Array.isArray(opts) ? 'an array' : typeof opts}`);
  const o = opts as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!(OPTION_KEYS as readonly string[]).includes(k)) throw new ValueError(`${where}: unknown option '${k}'; expected ${OPTION_KEYS.join(', ')}`);
  let acts = o.activities ?? ['cpu'];
  if (!Array.isArray(acts)) throw new ValueError(`${where}: activities must be an array such as ['cpu'] or ['cpu', 'cuda'], got ${typeof acts}`);
  acts = [...new Set(acts as unknown[])];
  for (const a of acts as unknown[])
    if (a !== 'cpu' && a !== 'cuda') throw new ValueError(`${where}: unknown activity ${JSON.stringify(a)}; expected 'cpu' or 'cuda'`);
  for (const k of ['recordShapes', 'profileMemory', 'withFlops'])
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new ValueError(`${where}: ${k} must be a boolean, got ${typeof o[k]}`);
  for (const k of ['schedule', 'onTraceReady'])
    if (o[k] !== undefined && typeof o[k] !== 'function') throw new ValueError(`${where}: ${k} must be a function${k === 'schedule' ? ' (profiler.schedule({wait, warmup, active}))' : ''}, got ${typeof o[k]}`);
  const warnings: string[] = [];
  const sched = (o.schedule as Schedule | undefined) ?? null;
  if (sched?.spec?.warmup === 0) warnings.push("the schedule has no warmup steps: the first recorded step includes the profiler's start-up and can skew the figures");
  const activities = acts as Activity[];
  if (activities.includes('cuda')) {
    const why = kernelsUnavailable();
    if (why !== null) warnings.push(`'cuda' activity requested but CUDA is not available (${why}); no device kernels were recorded`);
  }
  if (!activities.length) warnings.push('no activities requested: nothing was recorded');
  return {
    options: {
      activities,
      recordShapes: !!o.recordShapes,
      profileMemory: !!o.profileMemory,
      withFlops: !!o.withFlops,
    },
    warnings,
    schedule: sched,
    onTraceReady: (o.onTraceReady as TraceHandler | undefined) ?? null,
  };
}

/**
 * A running profiler; stop() ends it and returns the Profile. With a schedule, step() marks the end
 * of each step (torch's prof.step()): the profiler records only the steps the schedule says, each
 * in a `ProfilerStep#N` range, and hands every finished cycle's Profile to onTraceReady.
 */
export class Profiler {
  readonly options: Required<RecordOptions>;
  /** warnings for the profiles this profiler makes (options, schedule) */
  readonly warnings: string[];
  /** the steps marked so far (torch's step_num) */
  stepNum = 0;
  private readonly sched: Schedule | null;
  private readonly onTraceReady: TraceHandler | null;
  private action: ProfilerAction;
  private state: SessionState | null = null;
  /** the session is in its warmup (what it records is dropped at the first recorded step) */
  private warm = false;
  private stepRange: RawEvent | null = null;
  private last: Profile | null = null;
  private result: Profile | null = null;
  /** inside transit(): onTraceReady may not step() or stop() this profiler */
  private busy = false;

  constructor(n: Normalized) {
    this.options = n.options;
    this.warnings = n.warnings;
    this.sched = n.schedule;
    this.onTraceReady = n.onTraceReady;
    this.action = this.sched ? actionAt(this.sched, 0) : 'RECORD';
    this.transit('NONE', this.action);
    this.openStep();
  }

  get running(): boolean {
    return this.result === null;
  }

  /** What the profiler does during the current step. */
  get currentAction(): ProfilerAction {
    return this.action;
  }

  /** Marks the end of a step: the schedule decides what the next one does. */
  step(): void {
    if (this.result) throw new IgnisError('profiler.step: the profiler has stopped');
    if (this.busy) throw new IgnisError('profiler.step: called from onTraceReady; step the profiler from the training loop');
    const next = this.sched ? actionAt(this.sched, this.stepNum + 1) : 'RECORD';
    this.closeStep();
    this.stepNum++;
    const prev = this.action;
    this.action = next;
    try {
      this.transit(prev, next);
    } finally {
      this.openStep(); // also when onTraceReady threw: the next step is recorded all the same
    }
  }

  stop(): Profile {
    if (this.result) return this.result;
    if (this.busy) throw new IgnisError('profiler.stop: called from onTraceReady; stop the profiler after step() returns');
    this.closeStep();
    let made: Profile | null = null;
    try {
      made = this.transit(this.action, null);
    } finally {
      this.result =
        made ??
        this.last ??
        this.profileOf([], performance.now(), performance.now(), [`the schedule recorded no step (it never reached a RECORD step in ${this.stepNum + 1} step(s))`]);
    }
    return this.result;
  }

  private openStep(): void {
    if (this.sched && this.state) this.stepRange = recorder.openStep(`ProfilerStep#${this.stepNum}`);
  }

  private closeStep(): void {
    if (this.stepRange) recorder.closeStep(this.stepRange);
    this.stepRange = null;
  }

  private profileOf(raw: RawEvent[], t0: number, t1: number, extra: string[]): Profile {
    return new Profile(raw, t0, t1, this.options, [...this.warnings, ...extra], performance.timeOrigin);
  }

  // torch.profiler's transitions: prepare (begin recording, as warmup), start (what is recorded
  // from here on is kept), stop (the Profile), ready (onTraceReady). `to` null: the profiler stops.
  // Returns the Profile made by a stop at the end of the run.
  private transit(from: ProfilerAction, to: ProfilerAction | null): Profile | null {
    const recording = (a: ProfilerAction | null) => a === 'RECORD' || a === 'RECORD_AND_SAVE';
    const steps: ('prepare' | 'start' | 'stop' | 'ready')[] = [];
    let wrong: string | null = null;
    if (from === 'RECORD_AND_SAVE' || (to === null && recording(from))) steps.push('stop', 'ready');
    else if (from === 'RECORD' && (to === 'NONE' || to === 'WARMUP')) {
      wrong = `RECORD followed by ${to}: steps ${this.stepNum - 1} and ${this.stepNum}; the recorded steps were dropped`;
      steps.push('stop');
    } else if (from === 'WARMUP' && (to === 'NONE' || to === null)) {
      if (to === 'NONE') wrong = `WARMUP followed by NONE at step ${this.stepNum}; nothing was recorded`;
      steps.push('stop');
    }
    if (to !== null && (from === 'NONE' || from === 'RECORD_AND_SAVE' || steps.includes('stop'))) {
      if (to === 'WARMUP') steps.push('prepare');
      else if (recording(to)) steps.push('prepare', 'start');
    } else if (from === 'WARMUP' && recording(to)) steps.push('start');
    if (wrong) this.warnings.push(`incorrect schedule: ${wrong}`);

    let made: Profile | null = null;
    let failure: unknown = null;
    for (const s of steps) {
      if (s === 'prepare') {
        this.state = recorder.begin({
          cpu: this.options.activities.includes('cpu'),
          cuda: this.options.activities.includes('cuda'),
          shapes: this.options.recordShapes,
          memory: this.options.profileMemory,
          flops: this.options.withFlops,
        });
        this.warm = to === 'WARMUP'; // recording from the first step: nothing to drop at 'start'
      } else if (s === 'start') {
        if (this.warm) recorder.restart(this.state!);
        this.warm = false;
      } else if (s === 'stop') {
        const st = this.state!;
        this.state = null;
        const raw = recorder.end(st);
        if (!this.warm) {
          made = this.profileOf(raw, st.t0, st.t1, st.warnings);
          this.last = made;
        }
        this.warm = false;
      } else if (made && this.onTraceReady) {
        // the handler's error reaches the caller, after the profiler has moved on to the next step
        this.busy = true;
        try {
          this.onTraceReady(made, this);
        } catch (e) {
          failure ??= e;
        } finally {
          this.busy = false;
        }
      }
    }
    if (failure) throw failure;
    return to === null ? made : null;
  }
}

/**
 * Profiles fn (sync or async), which gets the running Profiler (for step() with a schedule):
 * returns the Profile, or a Promise of it when fn returns a promise. With no fn, returns a running
 * Profiler (call .stop()).
 */
export function profile(opts: ProfileOptions, fn: (p: Profiler) => Promise<unknown>): Promise<Profile>;
export function profile(opts: ProfileOptions, fn: (p: Profiler) => unknown): Profile;
export function profile(opts?: ProfileOptions): Profiler;
export function profile(opts?: ProfileOptions, fn?: (p: Profiler) => unknown): Profile | Promise<Profile> | Profiler {
  const n = normalize(opts, 'profiler.profile');
  if (fn !== undefined && typeof fn !== 'function') throw new ValueError(`profiler.profile: expected a function to profile, got ${typeof fn}`);
  const p = new Profiler(n);
  if (!fn) return p;
  let r: unknown;
  try {
    r = fn(p);
  } catch (e) {
    p.stop();
    throw e;
  }
  if (r && typeof (r as Promise<unknown>).then === 'function')
    return (r as Promise<unknown>).then(
      () => p.stop(),
      (e) => {
        p.stop();
        throw e;
      },
    );
  return p.stop();
}

let current: Profiler | null = null;

/** Starts the process-wide profiler (torch: prof.start()); stop() returns its Profile. */
export function start(opts?: ProfileOptions): Profiler {
  if (current) throw new IgnisError('profiler.start: the profiler is already running; call profiler.stop() first');
  current = new Profiler(normalize(opts, 'profiler.start'));
  return current;
}

/** Stops the profiler started by start() and returns its Profile. */
export function stop(): Profile {
  if (!current) throw new IgnisError('profiler.stop: the profiler is not running; call profiler.start() first');
  const p = current;
  current = null;
  return p.stop();
}

/** Whether any profiler (start(), profile(), IGNIS_PROFILE) is recording. */
export function isProfiling(): boolean {
  return recorder.active;
}

/** A user range opened by recordFunction(name) without a function: end() it (or `using` it). */
export interface RecordFunctionHandle {
  end(): void;
  [Symbol.dispose](): void;
}

const NOOP_HANDLE: RecordFunctionHandle = { end() {}, [Symbol.dispose]() {} };

/**
 * A named user range (torch.profiler.record_function). recordFunction(name, fn) runs fn inside
 * the range and returns its result (a promise for an async fn; the range ends when it settles).
 * recordFunction(name) opens the range and returns a handle to end() or `using`. Ranges nest,
 * and ops inside one are its children. Costs one check when no profiler is running.
 */
export function recordFunction<T>(name: string, fn: () => T, args?: Record<string, unknown>): T;
export function recordFunction(name: string): RecordFunctionHandle;
export function recordFunction<T>(name: string, fn?: () => T, args?: Record<string, unknown>): T | RecordFunctionHandle {
  if (typeof name !== 'string' || !name) throw new ValueError(`profiler.recordFunction: expected a non-empty name, got ${typeof name === 'string' ? "''" : typeof name}`);
  if (fn !== undefined && typeof fn !== 'function') throw new ValueError(`profiler.recordFunction: expected a function, got ${typeof fn}`);
  if (fn === undefined) {
    if (!recorder.active) return NOOP_HANDLE;
    const ev = recorder.openRange(name, null);
    if (!ev) return NOOP_HANDLE;
    const end = () => recorder.closeRange(ev);
    return { end, [Symbol.dispose]: end };
  }
  if (!recorder.active) return fn();
  const ev = recorder.openRange(name, args ?? null);
  if (!ev) return fn();
  let r: T;
  try {
    r = recorder.runIn(ev, fn);
  } catch (e) {
    recorder.closeRange(ev);
    throw e;
  }
  if (r && typeof (r as unknown as Promise<unknown>).then === 'function') {
    recorder.detach(ev);
    recorder.asyncOpen++;
    const done = () => {
      recorder.asyncOpen--;
      recorder.closeRange(ev);
    };
    return (r as unknown as Promise<unknown>).then(
      (v) => {
        done();
        return v;
      },
      (e) => {
        done();
        throw e;
      },
    ) as unknown as T;
  }
  recorder.closeRange(ev);
  return r;
}

/**
 * The device's roofline ceilings (GB/s from a large copy, GFLOP/s from a large float32 matmul,
 * both through Ignis), measured once and cached on disk; `force` measures again.
 */
export function calibrate(opts: { device?: string; force?: boolean } = {}): DevicePeaks {
  return calibrateImpl(opts);
}

/**
 * For device backends: records a kernel that op event `launchedBy` (recorder.current() at launch)
 * ran on `device`, `start` in performance.now() ms, `durationMs` long.
 * @internal
 */
export function _recordKernel(name: string, device: string, start: number, durationMs: number, launchedBy: RawEvent | null = recorder.current(), args?: Record<string, unknown>): void {
  recorder.kernel(name, device, start, durationMs, launchedBy, args ?? null);
}

// ---- IGNIS_PROFILE=1 ------------------------------------------------------------------------------

/**
 * IGNIS_PROFILE=1 (or a comma list of shapes, memory, flops, cuda; 'all' for the first three) profiles the
 * whole process and prints the table to stderr when it exits. IGNIS_PROFILE_SORT (default
 * self_cpu_time_total), IGNIS_PROFILE_ROWS (default 30) and IGNIS_PROFILE_TRACE=path (also
 * writes a Chrome trace) refine it. Each worker_threads Worker that loads Ignis profiles itself and
 * prints its own table when it ends, titled with its thread id; its trace goes to
 * path-with-`.worker<id>`-before-the-extension, so threads never write one file.
 */
function installEnvProfiler(spec: string): void {
  const words = spec.toLowerCase().split(/[,\s]+/).filter(Boolean);
  const all = words.includes('all');
  const opts: ProfileOptions = {
    activities: words.includes('cuda') ? ['cpu', 'cuda'] : ['cpu'],
    recordShapes: all || words.includes('shapes'),
    profileMemory: all || words.includes('memory'),
    withFlops: all || words.includes('flops'),
  };
  const sortBy = process.env.IGNIS_PROFILE_SORT || 'self_cpu_time_total';
  const rows = Number(process.env.IGNIS_PROFILE_ROWS || 30);
  const traceEnv = process.env.IGNIS_PROFILE_TRACE;
  const trace = traceEnv && !isMainThread ? traceEnv.replace(/(\.[^./\\]*)?$/, `.worker${threadId}$1`) : traceEnv;
  const who = isMainThread ? '' : ` in worker ${threadId}`;
  const p = profile(opts);
  process.once('exit', () => {
    try {
      const prof = p.stop();
      const text = prof.keyAverages({ groupByInputShape: opts.recordShapes }).table({ sortBy, rowLimit: Number.isInteger(rows) && rows >= 0 ? rows : 30 });
      fs.writeSync(2, `\nignis profiler (IGNIS_PROFILE=${spec})${who}: ${prof.events.length} events over ${(prof.duration / 1e3).toFixed(1)} ms\n${text}`);
      if (trace) {
        prof.exportChromeTrace(trace);
        fs.writeSync(2, `Chrome trace written to ${trace}\n`);
      }
    } catch (e) {
      fs.writeSync(2, `ignis profiler: could not print the profile: ${String(e)}\n`);
    }
  });
}

const envSpec = process.env.IGNIS_PROFILE;
if (envSpec && !/^(0|false|no|off)$/i.test(envSpec.trim())) installEnvProfiler(envSpec.trim());
