import { ValueError } from './errors';
import { addon } from './native';

/**
 * Sets how many CPU threads this JS thread's ops use (torch.set_num_threads). The setting belongs to
 * the calling thread: the main thread and each worker_threads Worker keep their own, so a pool of
 * Workers can share the cores (for example `setNumThreads(1)` in each of N Workers on N cores)
 * instead of each starting a team as large as the machine. The default is every core, or
 * OMP_NUM_THREADS when set.
 */
export function setNumThreads(n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 4096)
    throw new ValueError(`setNumThreads: expected a whole number of threads from 1 to 4096, got ${String(n)}`);
  addon.setNumThreads(n);
}

/** The CPU threads this JS thread's ops use (torch.get_num_threads). */
export function getNumThreads(): number {
  return addon.getNumThreads();
}
