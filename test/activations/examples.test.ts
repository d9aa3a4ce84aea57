/**
 * The custom-activation examples in examples/ run and produce what they claim (each exports
 * main(log) and runs it when executed directly).
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { main as compositionMain } from '../../examples/custom_activation_composition';
import { main as exprMain } from '../../examples/custom_activation_expr';
import { main as functionMain } from '../../examples/custom_activation_function';

const quiet = (): ((...a: unknown[]) => void) & { lines: string[] } => {
  const lines: string[] = [];
  return Object.assign((...a: unknown[]) => void lines.push(a.map(String).join(' ')), { lines });
};

describe('examples/', () => {
  it('custom_activation_composition.ts', () => {
    const log = quiet();
    const r = compositionMain(log);
    const xs = [-3, -1, 0, 1, 3];
    r.y.forEach((v, i) => expect(v).toBeCloseTo((xs[i] + Math.sqrt(xs[i] ** 2 + 4)) / 2, 12));
    r.grad.forEach((v, i) => expect(v).toBeCloseTo((1 + xs[i] / Math.sqrt(xs[i] ** 2 + 4)) / 2, 12));
    expect(r.gradcheck).toBe(true);
    expect(log.lines.length).toBeGreaterThanOrEqual(5);
    expect(ignis.activations.list()).not.toContain('squareplus'); // cleaned up
  });

  it('custom_activation_function.ts', () => {
    const log = quiet();
    const r = functionMain(log);
    const xs = [-2, -1, 0, 1, 2];
    r.y.forEach((v, i) => expect(v).toBeCloseTo(xs[i] + Math.sin(0.5 * xs[i]) ** 2 / 0.5, 12));
    r.grad.forEach((v, i) => expect(v).toBeCloseTo(1 + Math.sin(xs[i]), 12));
    expect(r.gradcheck).toBe(true);
    expect(ignis.activations.list()).not.toContain('snake');
  });

  it('custom_activation_expr.ts', () => {
    const log = quiet();
    const r = exprMain(log);
    expect(r.maxDiffSwish).toBeLessThan(1e-12);
    expect(r.maxDiffGrad).toBeLessThan(1e-12);
    expect(r.parseError).toMatch(/at position 8/);
    expect(log.lines.some((l) => l.startsWith('d/dx swish_expr ='))).toBe(true);
    expect(ignis.activations.list()).not.toContain('swish_expr');
  });

  it('run twice (names are released each time)', () => {
    expect(() => {
      compositionMain(() => {});
      functionMain(() => {});
      exprMain(() => {});
    }).not.toThrow();
  });
});
