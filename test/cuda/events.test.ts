/**
 * ignis.cuda.Event (torch.cuda.Event): record / query / synchronize / elapsedTime, its errors, and
 * its lifetime (dispose, collection). The first suite runs everywhere: without CUDA an Event can be
 * made and its options checked, and record() is a DeviceError that says why.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { DeviceError, ValueError } from '../../src';
import { cudaOk, describeCuda } from './helpers';

describe('cuda.Event without a device', () => {
  it('checks its options when made, before any device is touched', () => {
    const e = new ignis.cuda.Event();
    expect(e.enableTiming).toBe(false);
    expect(e.recorded).toBe(false);
    expect(e.device).toBeNull();
    expect(String(e)).toBe('Event(device=none, enableTiming=false, recorded=false)');
    expect(new ignis.cuda.Event({ enableTiming: true }).enableTiming).toBe(true);
    expect(() => new ignis.cuda.Event({ enableTiming: 1 as unknown as boolean })).toThrow(/Event: enableTiming must be a boolean, got 1/);
    expect(() => new ignis.cuda.Event(null as unknown as object)).toThrow(ValueError);
    expect(() => new ignis.cuda.Event({ device: 'cpu' })).toThrow(DeviceError);
    expect(() => new ignis.cuda.Event({ device: -1 })).toThrow(/Event: bad device index -1/);
  });

  it('query and synchronize of an event never recorded need no device; elapsedTime names what is missing', () => {
    const a = new ignis.cuda.Event({ enableTiming: true }), b = new ignis.cuda.Event({ enableTiming: true });
    expect(a.query()).toBe(true);
    a.synchronize();
    expect(() => a.elapsedTime(b)).toThrow(/Event.elapsedTime: both events must be recorded/);
    expect(() => a.elapsedTime(new ignis.cuda.Event())).toThrow(/both events must be created with enableTiming: true/);
    expect(() => a.elapsedTime({} as ignis.CudaEvent)).toThrow(/Event.elapsedTime: expected an Event/);
    a.dispose();
    a.dispose();
    expect(() => a.query()).toThrow(/Event.query: the event was disposed/);
    expect(() => a.record()).toThrow(/Event.record: the event was disposed/);
  });

  it.skipIf(cudaOk)('record() without CUDA is a DeviceError with the reason', () => {
    expect(() => new ignis.cuda.Event().record()).toThrow(DeviceError);
    expect(() => new ignis.cuda.Event().record()).toThrow(/Event.record: the CUDA backend is not available/);
  });
});

describeCuda('cuda.Event', () => {
  it('times queued work on the device: elapsedTime between two records, query and synchronize', () => {
    const x = ignis.randn([1 << 20], { device: 'cuda' });
    const start = new ignis.cuda.Event({ enableTiming: true }), end = new ignis.cuda.Event({ enableTiming: true });
    start.record();
    expect(start.device).toBe('cuda:0');
    expect(start.recorded).toBe(true);
    let y = x;
    for (let i = 0; i < 8; i++) y = y.relu();
    end.record();
    end.synchronize();
    expect(end.query()).toBe(true);
    const ms = start.elapsedTime(end);
    expect(Number.isFinite(ms)).toBe(true);
    expect(ms).toBeGreaterThan(0);
    // the reverse order is a negative time, as cudaEventElapsedTime gives it
    expect(end.elapsedTime(start)).toBeCloseTo(-ms, 3);
    // re-recording moves the event: the time from start to end's new place includes more work
    for (let i = 0; i < 8; i++) y = y.relu();
    end.record();
    expect(start.elapsedTime(end)).toBeGreaterThanOrEqual(ms);
    expect(y.sum().item()).toBeGreaterThan(0);
    start.dispose();
    end.dispose();
  });

  it("elapsedTime waits for work still queued (as PyTorch's elapsed_time)", () => {
    const x = ignis.randn([1 << 22], { device: 'cuda' });
    const a = new ignis.cuda.Event({ enableTiming: true }).record();
    const y = x.mul(2).exp().sum();
    const b = new ignis.cuda.Event({ enableTiming: true }).record();
    expect(a.elapsedTime(b)).toBeGreaterThan(0);
    expect(b.query()).toBe(true);
    expect(Number.isFinite(y.item())).toBe(true);
  });

  it('an event without timing waits but has no elapsed time; the device is fixed by the first record', () => {
    const e = new ignis.cuda.Event().record('cuda:0');
    e.synchronize();
    expect(e.query()).toBe(true);
    const t = new ignis.cuda.Event({ enableTiming: true }).record();
    expect(() => e.elapsedTime(t)).toThrow(/both events must be created with enableTiming: true/);
    expect(() => t.elapsedTime(e)).toThrow(ValueError);
    expect(() => e.record('cuda:1')).toThrow(DeviceError);
    expect(() => new ignis.cuda.Event({ device: 'cuda:7' })).toThrow(/Event: cuda:7 does not exist/);
    expect(String(e)).toBe('Event(device=cuda:0, enableTiming=false, recorded=true)');
  });

  it('events left to the collector are freed by their finalizers; dispose frees at once', async () => {
    for (let i = 0; i < 2000; i++) new ignis.cuda.Event({ enableTiming: i % 2 === 0 }).record();
    const g = (globalThis as { gc?: () => void }).gc;
    if (g) {
      g();
      await new Promise((r) => setTimeout(r, 0));
    }
    const e = new ignis.cuda.Event().record();
    expect(e.query()).toBe(true);
    e[Symbol.dispose]();
    expect(() => e.synchronize()).toThrow(/the event was disposed/);
  });
});
