/** Late-bound access to the package root from inside src/cli (the index imports the experiment API). */
export interface CudaApi {
  isAvailable(): boolean;
  reason(): string;
  unavailableReason?(): string | null;
  deviceCount?(): number;
}

/** ignis.cuda, read when called so that src/cli needs no import cycle with src/index. */
export function cudaApi(): CudaApi {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const root = require('../index') as { cuda: CudaApi };
  return root.cuda;
}
