/**
 * Native memory and V8's garbage collector. A tensor's native block is freed when its JS handle
 * dies (dispose() frees at once); the addon reports every host block to V8
 * (napi_adjust_external_memory), and left alone V8 answers 64 MB of external growth with
 * incremental marking and a full mark-compact of the whole heap: on the dev VM one per seed-CNN
 * training step, 4-5 ms of its 22. (CUDA blocks are not reported: above its limit V8 runs a
 * marking step of up to milliseconds at every new block, which on an H200 made a seed-CNN step
 * 8 ms of host time for 2.8 ms of GPU work. The collections below count them, and a CUDA
 * allocation that fails runs a full collection and retries: kernels.ts.) The handles of a step's
 * intermediate tensors die young, so a young-generation collection (a scavenge, a fraction of a
 * millisecond) finds them just as well. So Ignis runs one at the end of each backward pass that
 * made 8 MB or more, and between ops after every `IGNIS_GC_EVERY_MB` (default 32) of new storages
 * still held (up to 16 times that while those collections keep finding the tensors alive; storages
 * already disposed call for none), and a full one whenever the bytes held have doubled (from 1 GiB
 * on), and sweeps the blocks of the dead handles back into the caching allocators. In a training
 * loop the external total then falls back every step, and V8 rarely has a reason for a full
 * collection (tensors that outlive two scavenges, such as the gradients, move to the old generation
 * and wait for one). CUDA bytes weigh less in these amounts: a device's garbage calls for a
 * collection (between ops, or at the end of backward) once there is a 64th of the smallest card's
 * memory of it (or of its setMemoryLimit; at least `every`, at most 1 GiB), not 32 MB between ops
 * and 8 MB at the end of backward as host bytes do. A scavenge costs the host 0.3-0.5 ms whatever
 * it finds (the seed CNN's step on the CUDA emulator, dev VM), a quarter of a host-bound training
 * step when it runs every step; on an 80 GB card the seed CNN at batch 256 collects about every
 * fifth step. While a profiler records, each collection is an event of its own ("[gc] young
 * collection", "[gc] full collection"), not time of the op it interrupted.
 *
 * The collector's `gc` function is not public without `node --expose-gc`: Ignis takes it from a
 * fresh vm context with the flag set for that moment only (as jest's leak detector does), so the
 * process's own globals are unchanged. Where that fails, or with IGNIS_GC_EVERY_MB=0, V8 decides
 * alone, as before.
 */
import * as v8 from 'v8';
import * as vm from 'vm';
import { addon } from './native';
import { hook } from './profiler/hook';

type GcFn = (opts?: { type?: 'major' | 'minor' }) => void;

function findGc(): GcFn | null {
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return own as GcFn;
  try {
    v8.setFlagsFromString('--expose-gc');
    try {
      const g = vm.runInNewContext('gc') as unknown;
      return typeof g === 'function' ? (g as GcFn) : null;
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  } catch {
    return null;
  }
}

function everyBytes(): number {
  const e = process.env.IGNIS_GC_EVERY_MB;
  const mb = e === undefined || e.trim() === '' ? 32 : Number(e);
  return Number.isFinite(mb) && mb > 0 ? mb * 1024 * 1024 : 0;
}

/**
 * since: bytes of storages made since the last young collection, CUDA ones times `deviceWeight`;
 * sinceHost: the host storages' share; every: the amount that calls for one (0: off); backoff: the
 * factor on `every` for collections between ops, raised while they find little dead (a training
 * forward, whose tensors the graph keeps alive until backward) and lowered when they find plenty
 * (an inference loop without dispose()); deviceWeight: what a CUDA byte counts (setDeviceMemory).
 */
export const youngGc = { since: 0, sinceHost: 0, every: everyBytes(), backoff: 1, runs: 0, skipped: 0, majors: 0, majorAt: 0, deviceWeight: 1 };
/** the native bytes held above which a young collection is followed by a full one (then twice what is left) */
const MAJOR_MIN = 1 << 30;
youngGc.majorAt = MAJOR_MIN;
/** heldBytes() right after the last collection (-1: none yet) */
let trackedAfter = -1;

/** the most device garbage that waits for a collection (times the backoff between ops) */
const DEVICE_BUDGET_MAX = 1 << 30;

/**
 * The memory of the smallest CUDA device, or its setMemoryLimit (src/cuda.ts calls this): a CUDA
 * byte then counts `deviceWeight` of a host byte in `since` and in the bytes held, so that device
 * garbage calls for a collection at `every / deviceWeight` bytes: a 64th of `bytes`, from `every`
 * up to 1 GiB.
 */
export function setDeviceMemory(bytes: number): void {
  const budget = Math.min(DEVICE_BUDGET_MAX, Math.max(youngGc.every, bytes / 64));
  const weight = youngGc.every > 0 && budget > 0 ? Math.min(1, youngGc.every / budget) : 1;
  if (weight === youngGc.deviceWeight) return;
  youngGc.deviceWeight = weight;
  // the bytes held after the last collection were weighed the old way: now is the new baseline
  if (trackedAfter >= 0) trackedAfter = heldBytes();
}

/** the thread's native bytes held, CUDA ones at their weight (garbage not yet swept included) */
function heldBytes(): number {
  const all = addon.trackedBytes();
  if (youngGc.deviceWeight === 1) return all;
  const dev = addon.trackedBytes(true);
  return all - dev + dev * youngGc.deviceWeight;
}

let gcFn: GcFn | null | undefined;

/** One collection and the sweep of the blocks it found dead; an event of its own while a profiler records. */
function collect(g: GcFn, type: 'minor' | 'major', name: string): void {
  const run = () => {
    // a full collection is gc() without options: on Node 20, gc({ type: 'major' }) left most of a
    // loop's dead autograd graphs alive (its forward tensors on CUDA: 370 -> 324 MB, against
    // 535 -> 1 MB for gc()), so an out-of-memory retry found nothing to free
    if (type === 'major') g();
    else g({ type });
    addon.sweepGarbage();
  };
  if (hook.on) hook.run(name, [], run);
  else run();
}

/**
 * Runs a young-generation collection and frees the native blocks of the handles it found dead.
 * `boundary`: called where the step's tensors are known to be garbage (the end of backward), so
 * what it finds says nothing about the collections between ops.
 */
export function collectYoung(boundary = false): void {
  const since = youngGc.since;
  youngGc.since = 0;
  youngGc.sinceHost = 0;
  if (gcFn === undefined) gcFn = findGc();
  if (!gcFn || typeof addon.trackedBytes !== 'function') {
    youngGc.every = 0; // V8 alone, as before
    return;
  }
  const g = gcFn;
  collect(g, 'minor', '[gc] young collection');
  youngGc.runs++;
  if (addon.trackedBytes() > youngGc.majorAt) {
    // handles that outlived two scavenges wait for a full collection, which V8 runs only as its own
    // heap grows (device blocks are not external memory to it): one here whenever the native bytes
    // held have doubled since the last, so dead tensors of the old generation are bounded too
    collect(g, 'major', '[gc] full collection');
    youngGc.majors++;
    youngGc.majorAt = Math.max(MAJOR_MIN, 2 * addon.trackedBytes());
  }
  // of the bytes made since the last collection, how many are still held (by whatever freed the
  // rest: this sweep, dispose(), or a collection V8 ran meanwhile)
  const tracked = heldBytes();
  const held = tracked - trackedAfter;
  const first = trackedAfter < 0;
  trackedAfter = tracked;
  if (!boundary && !first) youngGc.backoff = held > (since * 3) / 4 ? Math.min(youngGc.backoff * 2, 16) : Math.max(1, youngGc.backoff / 2);
}

/**
 * Between ops, once `every * backoff` bytes of storages were made since the last collection: a
 * collection only when the native bytes held grew by that much since then. Blocks that dispose()
 * (or ops.scoped) already gave back need none, and a scavenge per op costs more than many kernels
 * in a loop over large tensors that frees its outputs (on an H200, 0.26 ms per 64M-element
 * activation call whose kernel takes 0.14).
 */
export function betweenOps(): void {
  if (trackedAfter >= 0) {
    const grown = heldBytes() - trackedAfter;
    if (grown <= youngGc.every * youngGc.backoff) {
      // most of it is gone already (disposed, or a collection V8 ran): as good as a collection that
      // found plenty dead, so the backoff comes down the same way
      youngGc.since = Math.max(0, grown); // check again once that much more has been made
      youngGc.sinceHost = Math.min(youngGc.sinceHost, youngGc.since);
      youngGc.backoff = Math.max(1, youngGc.backoff / 2);
      youngGc.skipped++;
      return;
    }
  }
  collectYoung();
}

/**
 * A CUDA allocation failed: a full collection (the dead handles in the old generation too) and a
 * sweep, so that the blocks of tensors nobody holds go back to the caching allocator. True when it
 * freed something (the caller then retries once).
 */
export function collectForMemory(): boolean {
  if (gcFn === undefined) gcFn = findGc();
  if (!gcFn || typeof addon.trackedBytes !== 'function') return false;
  const before = addon.trackedBytes();
  collect(gcFn, 'major', '[gc] full collection (out of device memory)');
  const after = addon.trackedBytes();
  trackedAfter = heldBytes();
  youngGc.majorAt = Math.max(MAJOR_MIN, 2 * after);
  return after < before;
}

/**
 * The end of a backward pass: the forward's saved tensors were just released. A quarter of the
 * usual amount of host storages calls for a collection here, so that one runs at the end of every
 * step that made 8 MB or more of them even when a collection between ops (which found the forward's
 * tensors alive) reset the count; the collections between ops then stop finding garbage and back
 * off. Device storages call for one at their usual amount (`every` at their weight), whatever the
 * backoff: a step that made less waits for the next.
 */
export function afterBackward(): void {
  if (youngGc.every <= 0 || (youngGc.sinceHost <= youngGc.every / 4 && youngGc.since <= youngGc.every)) return;
  if (trackedAfter >= 0 && heldBytes() - trackedAfter <= youngGc.every / 4) return; // nothing new to free
  collectYoung(true);
}
