/**
 * Seedable random numbers. A Generator is a (seed, offset) pair over the counter-based Philox
 * stream of native/cpu/random.cpp: each call consumes a block of counters, so the same seed gives
 * the same tensors in the same order, whatever the thread count.
 */
import { ValueError } from './errors';

export class Generator {
  private seed_: number;
  offset = 0;
  constructor(seed?: number) {
    this.seed_ = seed ?? Math.floor(Math.random() * 2 ** 52);
  }
  manualSeed(seed: number): this {
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER)
      throw new ValueError(`manualSeed: seed must be a non-negative safe integer, got ${String(seed)}`);
    this.seed_ = seed;
    this.offset = 0;
    return this;
  }
  initialSeed(): number {
    return this.seed_;
  }
  /** Reserves counters for n values and returns [seed, offset]. */
  next(n: number): [number, number] {
    const off = this.offset;
    this.offset += Math.ceil(n / 4) + 1;
    return [this.seed_, off];
  }
  getState(): { seed: number; offset: number } {
    return { seed: this.seed_, offset: this.offset };
  }
  setState(s: { seed: number; offset: number }): void {
    this.seed_ = s.seed;
    this.offset = s.offset;
  }
}

export const defaultGenerator = new Generator();

/** Seeds the default generator: every random op after this is reproducible. */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
