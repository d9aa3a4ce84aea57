/**
 * One test body per op on every available device (candle's test_device!): `devices` is ['cpu']
 * plus 'cuda:0' when CUDA works. CUDA-only suites use `describeCuda`, whose title carries the
 * reason they are skipped, so a CPU-only run shows it in the report.
 */
import { describe, expect } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';

export const cudaOk = ignis.cuda.isAvailable();
export const skipNote = cudaOk ? '' : ` [skipped: no CUDA here - ${ignis.cuda.unavailableReason()}]`;
export const devices: ('cpu' | 'cuda:0')[] = cudaOk ? ['cpu', 'cuda:0'] : ['cpu'];

/** The device is the CUDA emulator (scripts/cuda-emu.mjs): host code, no run-time compiled kernels. */
export const cudaEmulated = cudaOk && process.env.IGNIS_CUDA_EMU === '1';

/** A CUDA-only suite; `rtc`: it runs NVRTC-compiled kernels, which the emulator cannot. */
export function describeCuda(name: string, fn: () => void, opts: { rtc?: boolean } = {}): void {
  // the note shows in the run's output, so a CPU-only CI log says what was not tested and why
  const why = !cudaOk ? ignis.cuda.unavailableReason() : opts.rtc && cudaEmulated ? 'the CUDA emulator runs no NVRTC-compiled kernels' : null;
  if (why !== null) console.warn(`[ignis] skipping CUDA suite "${name}": ${why}`);
  (why === null ? describe : describe.skip)(name + (why === null ? '' : cudaOk ? ` [skipped: ${why}]` : skipNote), fn);
}

/** Moves to the device; on 'cpu' a strided (non-contiguous) copy, so the CPU run also tests layouts. */
export function on(t: Tensor, device: string): Tensor {
  if (device === 'cpu') {
    if (t.ndim < 2) return t;
    // the same values through a transposed view: exercises the strided kernels
    const perm = t.shape.map((_, i) => i).reverse();
    return t.permute(perm).contiguous().permute(perm);
  }
  return t.to(device as 'cuda:0');
}

function flat(t: Tensor): number[] {
  const a = t.cpu().toArray();
  return (Array.isArray(a) ? (a as unknown[]).flat(Infinity) : [a]).map((v) => (typeof v === 'boolean' ? Number(v) : Number(v)));
}

/** |got - want| <= atol + rtol |want| elementwise, NaN matching NaN, and same shape and dtype. */
export function expectClose(got: Tensor, want: Tensor, rtol = 1e-5, atol = 1e-6, what = ''): void {
  expect(got.shape, what).toEqual(want.shape);
  expect(got.dtype, what).toBe(want.dtype);
  const g = flat(got), w = flat(want);
  for (let i = 0; i < w.length; i++) {
    if (Number.isNaN(w[i])) {
      expect(Number.isNaN(g[i]), `${what} [${i}] expected NaN, got ${g[i]}`).toBe(true);
      continue;
    }
    if (!Number.isFinite(w[i])) {
      expect(g[i], `${what} [${i}]`).toBe(w[i]);
      continue;
    }
    const err = Math.abs(g[i] - w[i]);
    if (err > atol + rtol * Math.abs(w[i])) expect(g[i], `${what} [${i}] (want ${w[i]})`).toBe(w[i]);
  }
}
