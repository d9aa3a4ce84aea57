import { addon, Handle } from './native';
import { DisposedError } from './errors';
import { betweenOps, youngGc } from './gc';

/** 'cpu', or a CUDA device: 'cuda' (= 'cuda:0') or 'cuda:N'. Tensors report 'cpu' or 'cuda:N'. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

/** The addon's device code: 0 cpu, 1 + n for cuda:n (a canonical name: 'cpu' or 'cuda:N'). */
export function deviceCode(d: Device): number {
  return d === 'cpu' ? 0 : d === 'cuda' ? 1 : 1 + Number(d.slice(5));
}

/**
 * A block of device memory shared by a tensor and all its views. The native buffer is freed once
 * the last JS reference is gone (the GC clears the handle's weak reference and the addon's next
 * sweep frees the block; host blocks are reported to V8 so that it collects as native memory grows,
 * and src/gc.ts collects for device blocks) or at once by dispose(). `version` counts in-place writes, so
 * autograd can tell that a tensor it saved has been modified.
 */
export class Storage {
  /** storages made so far: `serial` orders them (in-place ops use it to spot their temporaries) */
  static created = 0;
  /** the innermost open ops.scoped() region, which frees the storages made inside it */
  static scope: Storage[] | null = null;
  readonly serial = ++Storage.created;
  version = 0;
  constructor(
    public handle: Handle | null,
    public readonly nbytes: number,
    public readonly device: Device = 'cpu',
  ) {
    Storage.scope?.push(this);
    // ./gc.ts: CUDA bytes count at the device's weight
    if (youngGc.every > 0) {
      let n = nbytes;
      if (device === 'cpu') youngGc.sinceHost += nbytes;
      else n *= youngGc.deviceWeight;
      if ((youngGc.since += n) > youngGc.every * youngGc.backoff) betweenOps();
    }
  }

  get disposed(): boolean {
    return this.handle === null;
  }

  live(op: string): Handle {
    if (this.handle === null) throw new DisposedError(`${op}: tensor has been disposed`);
    return this.handle;
  }

  dispose(): void {
    if (this.handle !== null) {
      addon.free(this.handle);
      this.handle = null;
    }
  }
}
