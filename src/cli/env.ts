/**
 * Late-bound access to the package root from inside src/cli: the index imports the experiment API,
 * so this import is circular and is read only when called (by then the index is complete).
 */
import * as root from '../index';

export interface CudaApi {
  isAvailable(): boolean;
  reason(): string;
  unavailableReason?(): string | null;
  deviceCount?(): number;
  getDeviceProperties?(device?: number): { name: string; major: number; minor: number; totalMemory: number; multiProcessorCount: number };
  versions?(): string;
  nvrtc?(): { available: boolean; reason: string; path: string; version: string };
}

/** ignis.cuda */
export function cudaApi(): CudaApi {
  return root.cuda;
}
