/**
 * The profiler's roofline peaks for a CUDA device (src/profiler/calibrate.ts: measureCuda): a device
 * copy and a cuBLAS float32 matmul, cached per GPU, and the `% peak` of ops on the GPU against them.
 * Runs on a GPU and on the CUDA emulator (where the figures are the host's, the checks the same).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { expect, it } from 'vitest';
import * as ignis from '../../src';
import { clearMemo, fingerprint } from '../../src/profiler/calibrate';
import { tempCacheDir } from '../util/cache_dir';
import { describeCuda } from './helpers';

const dir = tempCacheDir('ignis-cal-cuda-');

describeCuda('profiler: calibration of a CUDA device', () => {
  it("measures the GPU's copy bandwidth and float32 matmul rate, cached per device; % peak for its ops", () => {
    const reserved = ignis.cuda.memoryAllocated();
    const tf32 = ignis.backends.cuda.matmul.allowTf32;
    ignis.backends.cuda.matmul.allowTf32 = true; // calibration measures without TF32 and puts the setting back
    try {
      const p = ignis.profiler.profile({}, () => ignis.profiler.calibrate({ device: 'cuda', force: true }));
      expect(p.events.length).toBe(0);
      expect(ignis.backends.cuda.matmul.allowTf32).toBe(true);
    } finally {
      ignis.backends.cuda.matmul.allowTf32 = tf32;
    }
    const first = ignis.profiler.calibrate({ device: 'cuda:0' });
    expect(first.device).toBe('cuda:0');
    expect(first.bandwidthGBs).toBeGreaterThan(0);
    expect(first.gflops).toBeGreaterThan(0);
    expect(first.method).toMatch(/device copy of 128 MiB.*matmul \d+x\d+x\d+ \(TF32 off\)/);
    const data = JSON.parse(readFileSync(join(dir, 'profiler-peaks.json'), 'utf8'));
    expect(data.entries[fingerprint('cuda:0')].gflops).toBe(first.gflops);
    expect(fingerprint('cuda:0')).toContain(ignis.cuda.getDeviceName(0));
    clearMemo();
    expect(ignis.profiler.calibrate({ device: 'cuda' }).cached).toBe(true);
    expect(ignis.cuda.memoryAllocated()).toBe(reserved); // buffers freed
    // the roofline column for ops on the GPU, against these peaks
    const x = ignis.randn([1 << 20], { device: 'cuda' });
    const prof = ignis.profiler.profile({ activities: ['cpu', 'cuda'], withFlops: true }, () => {
      x.relu();
      ignis.cuda.synchronize();
    });
    const row = prof.keyAverages().find((r) => r.name === 'relu');
    expect(row?.device).toBe('cuda:0');
    expect(row?.pctPeak).toBeGreaterThan(0);
    expect(prof.keyAverages().table()).toMatch(/cuda:0 peaks [\d.]+ GB\/s, [\d.]+ GFLOP\/s/);
  }, 120000);
});
