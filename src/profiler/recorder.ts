/**
 * The recorder: one dispatch listener shared by every active profiling session. It appends one
 * RawEvent per dispatched op (and per user range, per creation / readback / in-place call through
 * ./hook.ts, and per piece of device work collected from the kernel source at stop) to a buffer;
 * a session is a window [start, stop) over that buffer plus its options, turned into public
 * events when it stops. While no session is active the listener is not registered at all, so
 * dispatch pays only its `listeners.length` check.
 *
 * Nesting: a synchronous stack of open events (an op dispatched inside another op's forward is
 * its child; a sync user range is the parent of what runs inside it); when the stack is empty,
 * the innermost async user range of the current async context (AsyncLocalStorage) is the parent,
 * so `await recordFunction('load', async () => ...)` parents the ops of its own continuation only.
 */
import { AsyncLocalStorage } from 'async_hooks';
import { performance } from 'perf_hooks';
import { threadId } from 'worker_threads';
import { addListener, OpListener } from '../dispatch';
import { addon } from '../native';
import type { Tensor } from '../tensor';
import { opCost } from './flops';
import { hook } from './hook';
import { KernelRecord, KernelSource, kernelSource, monotonicOffsetMs, monotonicToPerfMs, recordArgs, ringCapacity } from './kernels';

export type EventKind = 'op' | 'range' | 'kernel';

export class RawEvent {
  /** end time (performance.now() ms); -1 while open */
  t1 = -1;
  t0 = 0;
  shapes: (readonly number[])[] | null = null;
  dtypes: string[] | null = null;
  flops = -1;
  bytes = -1;
  mem0 = 0;
  /** live bytes after - before; NaN when memory was not recorded */
  mem = NaN;
  error = false;
  /** kernels: the op event that launched them */
  correlation: RawEvent | null = null;
  /** user range arguments */
  args: Record<string, unknown> | null = null;
  constructor(
    public readonly seq: number,
    public readonly name: string,
    public readonly kind: EventKind,
    /** set from the output for events without inputs (creation on a device) */
    public device: string,
    public readonly parent: RawEvent | null,
    public readonly tid: number,
  ) {}
}

export interface Flags {
  shapes: boolean;
  memory: boolean;
  flops: boolean;
  /** record op (CPU-side) events at all */
  cpu: boolean;
  /** record device kernels (the 'cuda' activity) */
  cuda: boolean;
}

export interface SessionState {
  flags: Flags;
  startIndex: number;
  t0: number;
  t1: number;
  /** what went wrong or was lost while recording (shown with the profile) */
  warnings: string[];
}

const als = new AsyncLocalStorage<RawEvent>();

/** Live native bytes: a plain-number getter when the addon has one, else memoryStats() (builds an object: ~1 µs). */
const fastLive = (addon as unknown as { liveBytes?: () => number }).liveBytes;
const liveBytes: () => number = typeof fastLive === 'function' ? () => fastLive.call(addon) : () => addon.memoryStats().liveBytes;

class Recorder implements OpListener {
  events: RawEvent[] = [];
  stack: RawEvent[] = [];
  sessions: SessionState[] = [];
  flags: Flags = { shapes: false, memory: false, flops: false, cpu: false, cuda: false };
  /** the kernel source recording for the sessions with 'cuda' (null: none is) */
  private kernels: KernelSource | null = null;
  /** the union of shapes and flops: whether to look at the inputs at all */
  meta = false;
  seq = 0;
  /** async ranges whose promise has not settled */
  asyncOpen = 0;
  paused = 0;
  /**
   * The open step range of a scheduled profiler (ProfilerStep#N): the parent of whatever has no
   * other, kept off the sync stack so that async ranges opened inside a step still parent their
   * own continuations.
   */
  base: RawEvent | null = null;
  private remove: (() => void) | null = null;

  get active(): boolean {
    return this.sessions.length > 0;
  }

  now(): number {
    return performance.now();
  }

  private updateFlags(): void {
    const f: Flags = { shapes: false, memory: false, flops: false, cpu: false, cuda: false };
    for (const s of this.sessions) {
      f.cuda ||= s.flags.cuda;
      f.shapes ||= s.flags.shapes;
      f.memory ||= s.flags.memory;
      f.flops ||= s.flags.flops;
      f.cpu ||= s.flags.cpu;
    }
    this.flags = f;
    this.meta = f.shapes || f.flops;
    hook.on = f.cpu;
  }

  begin(flags: Flags): SessionState {
    const s: SessionState = { flags, startIndex: this.events.length, t0: 0, t1: -1, warnings: [] };
    if (flags.cuda && !this.kernels) this.startKernels(s);
    this.sessions.push(s);
    this.updateFlags();
    if (!this.remove) this.remove = addListener(this);
    s.t0 = performance.now();
    return s;
  }

  private startKernels(s: SessionState): void {
    const src = kernelSource();
    if (src.unavailable() !== null) return; // the profile's options already warn
    try {
      src.start(ringCapacity());
      this.kernels = src;
    } catch (e) {
      s.warnings.push(`device kernels were not recorded: ${(e as Error).message}`);
    }
  }

  /** Stops the kernel source and turns its records into kernel events (correlated to their ops). */
  private collectKernels(s: SessionState): void {
    const src = this.kernels!;
    this.kernels = null;
    let got: { records: KernelRecord[]; waits: number };
    try {
      got = src.stop();
    } catch (e) {
      s.warnings.push(`device kernels were lost: ${(e as Error).message}`);
      return;
    }
    if (got.waits > 0)
      s.warnings.push(
        `the CUDA event ring (${ringCapacity()} per device) was full ${got.waits} time(s) and the host waited for the device; ` +
          'CPU times of the ops around those waits include it (raise IGNIS_PROFILE_CUDA_EVENTS)',
      );
    const byId = new Map<number, RawEvent>();
    for (const e of this.events) if (e.kind !== 'kernel') byId.set(e.seq + 1, e);
    const offset = monotonicOffsetMs();  // one for all records: their order and gaps exact
    for (const r of got.records) {
      const t0 = monotonicToPerfMs(r.startUs, offset);
      this.kernel(r.name, `cuda:${r.device}`, t0, r.durationUs / 1e3, byId.get(r.correlation) ?? null, recordArgs(r));
    }
  }

  /** Ends a session and returns its window of raw events. */
  end(s: SessionState): RawEvent[] {
    s.t1 = performance.now();
    const i = this.sessions.indexOf(s);
    if (i < 0) return [];
    if (s.flags.cuda && this.kernels) {
      // the device work of every session with 'cuda' so far; a session still running goes on recording
      this.collectKernels(s);
      if (this.sessions.some((o) => o !== s && o.flags.cuda)) this.startKernels(s);
    }
    this.sessions.splice(i, 1);
    let evs = this.events.slice(s.startIndex);
    if (s.flags.cuda && evs.some((e) => e.kind === 'kernel')) {
      // kernels collected for an earlier-started session are in this window's slice too: keep the
      // ones launched by this window's ops (or, unattributed, that started inside it)
      const mine = new Set<RawEvent>();
      for (const e of evs) if (e.kind !== 'kernel') mine.add(e);
      evs = evs.filter((e) => e.kind !== 'kernel' || (e.correlation ? mine.has(e.correlation) : e.t0 >= s.t0));
    }
    this.updateFlags();
    if (!this.sessions.length) {
      this.remove?.();
      this.remove = null;
      this.events = [];
      this.base = null;
      // open events stay on the stack (a range still running); they are simply no longer recorded
      this.stack = [];
    }
    return evs;
  }

  parentNow(): RawEvent | null {
    const s = this.stack;
    let p: RawEvent | null = null;
    if (s.length) p = s[s.length - 1];
    else if (this.asyncOpen > 0) {
      p = als.getStore() ?? null;
      while (p && p.t1 >= 0) p = p.parent; // a callback that outlived its range
    }
    // the step range sits below whatever was open when it began (a range around the training loop)
    if (this.base && (p === null || this.encloses(p, this.base))) return this.base;
    return p;
  }

  /** Whether `outer` is `ev` or one of its ancestors. */
  private encloses(outer: RawEvent, ev: RawEvent): boolean {
    for (let e: RawEvent | null = ev; e; e = e.parent) if (e === outer) return true;
    return false;
  }

  // ---- the dispatch listener --------------------------------------------------------------
  before(op: string, inputs: Tensor[], _attrs: unknown): unknown {
    if (this.paused || !this.flags.cpu) return null;
    const ev = new RawEvent(this.seq++, op, 'op', inputs.length ? inputs[0]._storage.device : 'cpu', this.parentNow(), threadId);
    if (this.meta) {
      const n = inputs.length;
      const shapes = new Array<readonly number[]>(n);
      const dtypes = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        shapes[i] = inputs[i].shape;
        dtypes[i] = inputs[i].dtype;
      }
      ev.shapes = shapes;
      ev.dtypes = dtypes;
    }
    if (this.flags.memory) ev.mem0 = liveBytes();
    this.events.push(ev);
    this.stack.push(ev);
    if (this.kernels) this.kernels.correlate(ev.seq + 1);
    ev.t0 = performance.now();
    return ev;
  }

  after(token: unknown, op: string, inputs: Tensor[], attrs: unknown, outputs: Tensor[]): void {
    const t1 = performance.now();
    if (!(token instanceof RawEvent)) return;
    token.t1 = t1;
    if (this.flags.memory) token.mem = liveBytes() - token.mem0;
    if (this.flags.flops) {
      const c = opCost(op, inputs, outputs, attrs);
      if (c.flops !== undefined) token.flops = c.flops;
      if (c.bytes !== undefined) token.bytes = c.bytes;
    }
    this.pop(token);
  }

  /** hook.run (./hook.ts): fn as an op event, for work outside dispatch (creation, readback, in place). */
  run<T>(name: string, inputs: Tensor[], fn: () => T): T {
    const tok = this.before(name, inputs, null);
    let r: T;
    try {
      r = fn();
    } catch (e) {
      this.error(tok);
      throw e;
    }
    if (tok instanceof RawEvent) {
      const out = r !== null && typeof r === 'object' && '_storage' in (r as object) ? [r as unknown as Tensor] : [];
      if (!inputs.length && out.length) tok.device = out[0]._storage.device;
      this.after(tok, name, inputs, null, out);
    }
    return r;
  }

  error(token: unknown): void {
    const t1 = performance.now();
    if (!(token instanceof RawEvent)) return;
    token.t1 = t1;
    token.error = true;
    if (this.flags.memory) token.mem = liveBytes() - token.mem0;
    this.pop(token);
  }

  /** Removes ev from the stack, closing anything above it that was left open. */
  pop(ev: RawEvent): void {
    const s = this.stack;
    const top = s.length - 1;
    if (top >= 0 && s[top] === ev) s.length = top;
    else {
      const i = s.lastIndexOf(ev);
      if (i < 0) return;
      for (let j = i + 1; j < s.length; j++) if (s[j].t1 < 0) s[j].t1 = ev.t1;
      s.length = i;
    }
    if (this.kernels && ev.kind === 'op') {
      const c = this.current();
      this.kernels.correlate(c ? c.seq + 1 : 0);
    }
  }

  // ---- user ranges ----------------------------------------------------------------------------
  openRange(name: string, args: Record<string, unknown> | null): RawEvent | null {
    if (this.paused) return null;
    const ev = new RawEvent(this.seq++, name, 'range', 'cpu', this.parentNow(), threadId);
    ev.args = args;
    if (this.flags.memory) ev.mem0 = liveBytes();
    this.events.push(ev);
    this.stack.push(ev);
    ev.t0 = performance.now();
    return ev;
  }

  closeRange(ev: RawEvent): void {
    if (ev.t1 >= 0) return;
    ev.t1 = performance.now();
    if (this.flags.memory) ev.mem = liveBytes() - ev.mem0;
    this.pop(ev);
  }

  /** Opens a step range (see `base`); null while paused or when nothing records. */
  openStep(name: string): RawEvent | null {
    if (!this.active || this.paused || !this.flags.cpu) return null;
    const ev = new RawEvent(this.seq++, name, 'range', 'cpu', this.parentNow(), threadId);
    if (this.flags.memory) ev.mem0 = liveBytes();
    this.events.push(ev);
    this.base = ev;
    ev.t0 = performance.now();
    return ev;
  }

  closeStep(ev: RawEvent): void {
    if (ev.t1 < 0) {
      ev.t1 = performance.now();
      if (this.flags.memory) ev.mem = liveBytes() - ev.mem0;
    }
    if (this.base === ev) this.base = ev.parent && ev.parent.t1 < 0 ? ev.parent : null;
  }

  /** Drops what session s recorded so far (a scheduled profiler's warmup steps); it goes on recording. */
  restart(s: SessionState): void {
    s.startIndex = this.events.length;
    s.t0 = performance.now();
  }

  /** Takes an async range off the sync stack: its continuation finds it through the async context. */
  detach(ev: RawEvent): void {
    const i = this.stack.lastIndexOf(ev);
    if (i >= 0) this.stack.splice(i, 1);
  }

  runIn<T>(ev: RawEvent, fn: () => T): T {
    return als.run(ev, fn);
  }

  /**
   * A device kernel (the CUDA backend calls this with the kernel's device-side start and duration
   * in the same clock as performance.now(), and the op event that launched it).
   */
  kernel(name: string, device: string, t0: number, dur: number, launchedBy: RawEvent | null, args: Record<string, unknown> | null = null): RawEvent | null {
    if (!this.active || this.paused) return null;
    const ev = new RawEvent(this.seq++, name, 'kernel', device, null, threadId);
    ev.t0 = t0;
    ev.t1 = t0 + dur;
    ev.correlation = launchedBy;
    ev.args = args;
    this.events.push(ev);
    return ev;
  }

  /** The op event currently running (what a backend attaches its kernels to). */
  current(): RawEvent | null {
    const s = this.stack;
    for (let i = s.length - 1; i >= 0; i--) if (s[i].kind === 'op') return s[i];
    return null;
  }
}

export const recorder = new Recorder();
hook.run = (name, inputs, fn) => recorder.run(name, inputs, fn);
