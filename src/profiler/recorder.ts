/**
 * The recorder: one dispatch listener shared by every active profiling session. It appends one
 * RawEvent per dispatched op (and per user range, and later per device kernel) to a buffer;
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
    public readonly device: string,
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
}

export interface SessionState {
  flags: Flags;
  startIndex: number;
  t0: number;
  t1: number;
}

const als = new AsyncLocalStorage<RawEvent>();

/** Live native bytes: a plain-number getter when the addon has one, else memoryStats() (builds an object: ~1 µs). */
const fastLive = (addon as unknown as { liveBytes?: () => number }).liveBytes;
const liveBytes: () => number = typeof fastLive === 'function' ? () => fastLive.call(addon) : () => addon.memoryStats().liveBytes;

class Recorder implements OpListener {
  events: RawEvent[] = [];
  stack: RawEvent[] = [];
  sessions: SessionState[] = [];
  flags: Flags = { shapes: false, memory: false, flops: false, cpu: false };
  /** the union of shapes and flops: whether to look at the inputs at all */
  meta = false;
  seq = 0;
  /** async ranges whose promise has not settled */
  asyncOpen = 0;
  paused = 0;
  private remove: (() => void) | null = null;

  get active(): boolean {
    return this.sessions.length > 0;
  }

  now(): number {
    return performance.now();
  }

  private updateFlags(): void {
    const f: Flags = { shapes: false, memory: false, flops: false, cpu: false };
    for (const s of this.sessions) {
      f.shapes ||= s.flags.shapes;
      f.memory ||= s.flags.memory;
      f.flops ||= s.flags.flops;
      f.cpu ||= s.flags.cpu;
    }
    this.flags = f;
    this.meta = f.shapes || f.flops;
  }

  begin(flags: Flags): SessionState {
    const s: SessionState = { flags, startIndex: this.events.length, t0: 0, t1: -1 };
    this.sessions.push(s);
    this.updateFlags();
    if (!this.remove) this.remove = addListener(this);
    s.t0 = performance.now();
    return s;
  }

  /** Ends a session and returns its window of raw events. */
  end(s: SessionState): RawEvent[] {
    s.t1 = performance.now();
    const i = this.sessions.indexOf(s);
    if (i < 0) return [];
    this.sessions.splice(i, 1);
    const evs = this.events.slice(s.startIndex);
    this.updateFlags();
    if (!this.sessions.length) {
      this.remove?.();
      this.remove = null;
      this.events = [];
      // open events stay on the stack (a range still running); they are simply no longer recorded
      this.stack = [];
    }
    return evs;
  }

  parentNow(): RawEvent | null {
    const s = this.stack;
    if (s.length) return s[s.length - 1];
    if (this.asyncOpen > 0) {
      let p = als.getStore() ?? null;
      while (p && p.t1 >= 0) p = p.parent; // a callback that outlived its range
      return p;
    }
    return null;
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
    if (top >= 0 && s[top] === ev) {
      s.length = top;
      return;
    }
    const i = s.lastIndexOf(ev);
    if (i < 0) return;
    for (let j = i + 1; j < s.length; j++) if (s[j].t1 < 0) s[j].t1 = ev.t1;
    s.length = i;
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
