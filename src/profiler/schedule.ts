/**
 * Step schedules for long runs (torch.profiler.schedule, ProfilerAction, tensorboard_trace_handler):
 *
 *   const prof = ignis.profiler.profile({
 *     schedule: ignis.profiler.schedule({ wait: 1, warmup: 1, active: 3, repeat: 2 }),
 *     onTraceReady: ignis.profiler.tensorboardTraceHandler('./log'),
 *   });
 *   for (const batch of loader) { trainStep(batch); prof.step(); }
 *   prof.stop();
 *
 * A schedule maps the step number to what the profiler does during that step; the Profiler in
 * ./index.ts runs torch's transitions between those actions.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isMainThread, threadId } from 'worker_threads';
import { ValueError } from '../errors';
import type { Profile } from './profile';

/** What the profiler does during a step (torch.profiler.ProfilerAction). */
export type ProfilerAction = 'NONE' | 'WARMUP' | 'RECORD' | 'RECORD_AND_SAVE';
export const ProfilerAction = Object.freeze({
  NONE: 'NONE' as const,
  WARMUP: 'WARMUP' as const,
  RECORD: 'RECORD' as const,
  RECORD_AND_SAVE: 'RECORD_AND_SAVE' as const,
});
const ACTIONS: readonly string[] = Object.values(ProfilerAction);

/** step number (0, 1, ...) → action; any function of this shape is a schedule. */
export type Schedule = ((step: number) => ProfilerAction) & { readonly spec?: ScheduleSpec };

export interface ScheduleSpec {
  /** steps with the profiler off at the start of each cycle */
  wait: number;
  /** steps recorded and thrown away before the active ones (hooks on, caches and device rings warm) */
  warmup: number;
  /** steps recorded; the last one hands the cycle's Profile to onTraceReady */
  active: number;
  /** cycles to run (0: until the profiler stops) */
  repeat?: number;
  /** steps with the profiler off before the first cycle */
  skipFirst?: number;
  /** nonzero: the first cycle starts without its wait steps */
  skipFirstWait?: number;
}

/** What a profiler with a schedule calls at the end of each recorded cycle. */
export type TraceHandler = (profile: Profile, profiler: { readonly stepNum: number }) => void;

/**
 * torch.profiler.schedule: skip `skipFirst` steps, then cycles of `wait` steps off, `warmup` steps
 * recorded and dropped, `active` steps recorded (the last one RECORD_AND_SAVE); `repeat` cycles
 * (0: no end).
 */
export function schedule(spec: ScheduleSpec): Schedule {
  if (spec === null || typeof spec !== 'object') throw new ValueError(`profiler.schedule: expected {wait, warmup, active[, repeat, skipFirst, skipFirstWait]}, got ${String(spec)}`);
  const known = ['wait', 'warmup', 'active', 'repeat', 'skipFirst', 'skipFirstWait'];
  for (const k of Object.keys(spec)) if (!known.includes(k)) throw new ValueError(`profiler.schedule: unknown option '${k}'; expected ${known.join(', ')}`);
  const { wait, warmup, active, repeat = 0, skipFirst = 0, skipFirstWait = 0 } = spec;
  const count = (name: string, v: unknown, min: number) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw new ValueError(`profiler.schedule: ${name} must be an integer >= ${min}, got ${typeof v === 'number' ? v : typeof v}`);
  };
  count('wait', wait, 0);
  count('warmup', warmup, 0);
  count('active', active, 1);
  count('repeat', repeat, 0);
  count('skipFirst', skipFirst, 0);
  count('skipFirstWait', skipFirstWait, 0);
  const cycle = wait + warmup + active;
  const fn = (step: number): ProfilerAction => {
    if (!Number.isInteger(step) || step < 0) throw new ValueError(`profiler.schedule: the step must be an integer >= 0, got ${step}`);
    if (step < skipFirst) return 'NONE';
    let s = step - skipFirst;
    if (skipFirstWait !== 0) s += wait;
    if (repeat > 0 && s / cycle >= repeat) return 'NONE';
    const m = s % cycle;
    if (m < wait) return 'NONE';
    if (m < wait + warmup) return 'WARMUP';
    return m < cycle - 1 ? 'RECORD' : 'RECORD_AND_SAVE';
  };
  return Object.assign(fn, { spec: Object.freeze({ wait, warmup, active, repeat, skipFirst, skipFirstWait }) });
}

/** The schedule's action for `step`, checked (a user's schedule may return anything). */
export function actionAt(sched: Schedule, step: number): ProfilerAction {
  const a = sched(step);
  if (!ACTIONS.includes(a as string))
    throw new ValueError(`profiler: the schedule returned ${JSON.stringify(a)} for step ${step}; expected one of ${ACTIONS.join(', ')}`);
  return a;
}

let fileSeq = 0;

/**
 * torch.profiler.tensorboard_trace_handler: an onTraceReady that writes each cycle's Chrome trace to
 * `dir/<workerName>.<time in ns>.pt.trace.json` (`.gz` with `gzip: true`). workerName defaults to
 * `<hostname>_<pid>` (plus `_worker<threadId>` in a worker_threads Worker). The files open in
 * Perfetto (ui.perfetto.dev) and chrome://tracing.
 */
export function tensorboardTraceHandler(dir: string, opts: { workerName?: string; gzip?: boolean } = {}): TraceHandler {
  if (typeof dir !== 'string' || !dir) throw new ValueError(`profiler.tensorboardTraceHandler: expected a directory, got ${String(dir)}`);
  if (opts === null || typeof opts !== 'object') throw new ValueError(`profiler.tensorboardTraceHandler: expected an options object, got ${String(opts)}`);
  for (const k of Object.keys(opts))
    if (k !== 'workerName' && k !== 'gzip') throw new ValueError(`profiler.tensorboardTraceHandler: unknown option '${k}'; expected workerName, gzip`);
  if (opts.workerName !== undefined && (typeof opts.workerName !== 'string' || !opts.workerName || /[/\\]/.test(opts.workerName)))
    throw new ValueError(`profiler.tensorboardTraceHandler: workerName must be a non-empty name without path separators, got ${JSON.stringify(opts.workerName)}`);
  const worker = opts.workerName ?? `${os.hostname()}_${process.pid}${isMainThread ? '' : `_worker${threadId}`}`;
  return (prof) => {
    fs.mkdirSync(dir, { recursive: true });
    // ns since the epoch as torch names them; the sequence number keeps two cycles in one ms apart
    const ns = BigInt(Date.now()) * 1_000_000n + BigInt(fileSeq++ % 1_000_000);
    prof.exportChromeTrace(path.join(dir, `${worker}.${ns}.pt.trace.json${opts.gzip ? '.gz' : ''}`));
  };
}
