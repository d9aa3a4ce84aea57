/** Shared helpers for the nn layer and loss tests (test/fixtures/layers.json): deterministic inputs. */
import type { Tensor } from '../../src';
import { inputs } from '../util/inputs';

export { I64 } from '../util/inputs';

// deterministic inputs independent of the library's generator (mulberry32)
const gen = inputs(987654);
/** float64 leaf, uniform in [lo, hi). */
export const U = (shape: number[], lo = -1, hi = 1, requiresGrad = true): Tensor => gen.U(shape, lo, hi, requiresGrad);
/** float64 leaf with distinct values (no ties for max pooling). */
export const distinct = (shape: number[], requiresGrad = true): Tensor => gen.distinct(shape, requiresGrad);

/** Whether an error says an op family is not in this build (the native conv/pool/norm ops). */
export function isMissingOp(e: unknown): boolean {
  return e instanceof Error && /is not available in this build/.test(e.message);
}
