/** Shared fixture for the optim / nn.utils tests (test/fixtures/optim.json) and its tolerances. */
import type { DType } from '../../src';
import { loadFixture } from '../util/fixtures';

export const fixture = loadFixture('optim.json');

/** [rtol, atol] of a comparison with PyTorch's result in `dtype`. */
export function tol(dtype: DType): [number, number] {
  return dtype === 'float64' ? [1e-11, 1e-12] : [2e-5, 2e-6];
}
