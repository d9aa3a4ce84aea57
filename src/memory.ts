import { addon } from './native';

export interface DeviceMemory {
  /** live storages (a tensor and its views share one) */
  tensors: number;
  /** bytes held by live storages */
  bytes: number;
  /** bytes kept by the caching allocator for reuse */
  cachedBytes: number;
  /** high-water mark of `bytes` */
  peakBytes: number;
}

/** Live native memory per device. */
export function memory(): { cpu: DeviceMemory } {
  const m = addon.memoryStats();
  return { cpu: { tensors: m.liveCount, bytes: m.liveBytes, cachedBytes: m.cachedBytes, peakBytes: m.peakBytes } };
}

/** Returns cached (unused) blocks to the system, after freeing the blocks of collected tensors. */
export function emptyCache(): void {
  addon.emptyCache();
}
