import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { clearMemo, fingerprint } from '../../src/profiler/calibrate';
import { tempCacheDir } from '../util/cache_dir';

const dir = tempCacheDir('ignis-cal-');

describe('profiler: calibration', () => {
  it('measures bandwidth and FLOP rate through Ignis once, then reads the cache', () => {
    const before = ignis.memory().cpu.bytes;
    const p = ignis.profiler.profile({}, () => ignis.profiler.calibrate({ force: true }));
    expect(p.events.length).toBe(0); // calibration's own ops are not recorded
    const first = ignis.profiler.calibrate();
    expect(first.bandwidthGBs).toBeGreaterThan(0.5);
    expect(first.gflops).toBeGreaterThan(0.5);
    expect(first.ridge).toBeCloseTo(first.gflops / first.bandwidthGBs, 9);
    expect(first.method).toMatch(/copy.*matmul/);
    const file = join(dir, 'profiler-peaks.json');
    expect(existsSync(file)).toBe(true);
    expect(first.cacheFile).toBe(file);
    const data = JSON.parse(readFileSync(file, 'utf8'));
    expect(data.entries[fingerprint('cpu')].gflops).toBe(first.gflops);
    clearMemo();
    const again = ignis.profiler.calibrate();
    expect(again.cached).toBe(true);
    expect(again.gflops).toBe(first.gflops);
    expect(ignis.memory().cpu.bytes).toBe(before); // buffers freed
  }, 60000);
});

describe('profiler: calibration of another device (the measurement on a GPU: test/cuda/calibrate.test.ts)', () => {
  const cudaOk = ignis.cuda.isAvailable();
  it('a device that is not there is a typed error', () => {
    expect(() => ignis.profiler.calibrate({ device: 'tpu' })).toThrow(ignis.DeviceError);
    if (!cudaOk) expect(() => ignis.profiler.calibrate({ device: 'cuda' })).toThrow(ignis.DeviceError);
    else expect(() => ignis.profiler.calibrate({ device: `cuda:${ignis.cuda.deviceCount()}` })).toThrow(ignis.DeviceError);
  });
});
