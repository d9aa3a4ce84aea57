// ignis.cuda.nvtx: the user API and the per-op ranges' switch. Without the CUDA backend every call
// is a no-op that still runs the user's code (what these tests check on a machine without a GPU);
// test/cuda/profiler.test.ts runs the same calls against the real library.
import { afterEach, describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { listeners } from '../../src/dispatch';
import { _backendLoaded, _removeOpRanges, opRangesActive, opRangesWanted } from '../../src/nvtx';

const { nvtx } = ignis.cuda;
const hasCuda = ignis.cuda.isAvailable();

afterEach(() => {
  if (!hasCuda) _removeOpRanges();
});

describe('cuda.nvtx', () => {
  it('range(name, fn) returns what fn returns, sync or async, and rethrows', async () => {
    expect(nvtx.range('forward', () => 42)).toBe(42);
    await expect(nvtx.range('load', async () => 'done')).resolves.toBe('done');
    expect(() => nvtx.range('bad', () => { throw new RangeError('inner'); })).toThrow(RangeError);
    await expect(nvtx.range('bad', async () => { throw new RangeError('later'); })).rejects.toThrow('later');
  });

  it('push/pop, start/end and mark work (no-ops without CUDA: start gives 0)', () => {
    nvtx.rangePush('a');
    nvtx.mark('here');
    nvtx.rangePop();
    const id = nvtx.rangeStart('b');
    expect(Number.isInteger(id) && id >= 0).toBe(true);
    if (!hasCuda) expect(id).toBe(0);
    nvtx.rangeEnd(id);
  });

  it('bad arguments raise ValueError', () => {
    expect(() => nvtx.range('', () => 0)).toThrow(ignis.ValueError);
    expect(() => nvtx.range(5 as unknown as string, () => 0)).toThrow(/non-empty range name, got number/);
    expect(() => nvtx.range('x', 'f' as unknown as () => number)).toThrow(/expected a function/);
    expect(() => nvtx.rangePush(undefined as unknown as string)).toThrow(/rangePush/);
    expect(() => nvtx.mark('')).toThrow(/cuda\.nvtx\.mark/);
    expect(() => nvtx.rangeEnd(-1)).toThrow(/rangeEnd: expected the id rangeStart returned/);
    expect(() => nvtx.rangeEnd(1.5)).toThrow(ignis.ValueError);
  });

  it('per-op ranges: on under a tool (NVTX_INJECTION64_PATH) or IGNIS_NVTX=1, off with IGNIS_NVTX=0', () => {
    expect(opRangesWanted({})).toBe(false);
    expect(opRangesWanted({ NVTX_INJECTION64_PATH: '/opt/nsight/libToolsInjection64.so' })).toBe(true);
    expect(opRangesWanted({ IGNIS_NVTX: '1' })).toBe(true);
    expect(opRangesWanted({ IGNIS_NVTX: 'off', NVTX_INJECTION64_PATH: '/x.so' })).toBe(false);
    expect(opRangesWanted({ IGNIS_NVTX: '0' })).toBe(false);
  });

  it.skipIf(hasCuda)('the per-op ranges are a dispatch listener that leaves CPU ops alone', () => {
    const before = listeners.length;
    _backendLoaded({ IGNIS_NVTX: '1' });
    expect(opRangesActive()).toBe(true);
    expect(listeners.length).toBe(before + 1);
    _backendLoaded({ IGNIS_NVTX: '1' }); // once only
    expect(listeners.length).toBe(before + 1);
    const x = ignis.ones([3]);
    expect(x.add(1).relu().sum().item()).toBe(6);
    expect(() => x.matmul(ignis.ones([2]))).toThrow(ignis.ShapeError);
    _removeOpRanges();
    expect(listeners.length).toBe(before);
    _backendLoaded({});
    expect(opRangesActive()).toBe(false);
  });
});
