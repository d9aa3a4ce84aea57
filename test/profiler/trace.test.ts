import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { performance } from 'perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import * as ignis from '../../src';

const { profiler } = ignis;
const dir = mkdtempSync(join(tmpdir(), 'ignis-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('profiler: Chrome trace', () => {
  it('writes valid JSON with the fields chrome://tracing and Perfetto need', () => {
    const x = ignis.randn([8, 8], { requiresGrad: true });
    const prof = profiler.profile({ recordShapes: true, profileMemory: true, withFlops: true }, () => {
      profiler.recordFunction('train-step', () => x.matmul(x).relu().sum().backward());
    });
    const file = join(dir, 'sub', 'trace.json');
    prof.exportChromeTrace(file);
    const json = JSON.parse(readFileSync(file, 'utf8'));
    expect(Array.isArray(json.traceEvents)).toBe(true);
    expect(json.displayTimeUnit).toBe('ms');
    const xs = json.traceEvents.filter((e: { ph: string }) => e.ph === 'X');
    expect(xs.length).toBe(prof.events.length);
    for (const e of xs) {
      expect(typeof e.name).toBe('string');
      expect(typeof e.ts).toBe('number');
      expect(typeof e.dur).toBe('number');
      expect(e.dur).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(e.pid)).toBe(true);
      expect(Number.isInteger(e.tid)).toBe(true);
      expect(['cpu_op', 'user_annotation']).toContain(e.cat);
    }
    const range = xs.find((e: { name: string }) => e.name === 'train-step');
    expect(range.cat).toBe('user_annotation');
    const bmm = xs.find((e: { name: string }) => e.name === 'bmm');
    expect(bmm.args['Input Dims']).toEqual([[1, 8, 8], [1, 8, 8]]);
    expect(bmm.args['Input type']).toEqual(['float32', 'float32']);
    expect(bmm.args.FLOPs).toBe(2 * 8 * 8 * 8);
    expect(bmm.args.Device).toBe('cpu');
    // nesting survives: children lie inside the range on the same track
    expect(bmm.ts).toBeGreaterThanOrEqual(range.ts);
    expect(bmm.ts + bmm.dur).toBeLessThanOrEqual(range.ts + range.dur + 0.002);
    const meta = json.traceEvents.filter((e: { ph: string }) => e.ph === 'M');
    expect(meta.find((e: { name: string; pid: number }) => e.name === 'process_name' && e.pid === process.pid).args.name).toMatch(/CPU/);
    expect(meta.some((e: { name: string }) => e.name === 'thread_name')).toBe(true);
    expect(json.traceEvents.some((e: { ph: string }) => e.ph === 'C')).toBe(true); // memory counter
  });

  it('puts device kernels on their own track, linked to the op that launched them', () => {
    const prof = profiler.profile({}, () => {
      const op: ignis.OpDef<null> = {
        name: 'fake_cuda_op',
        forward(_c, [t]) {
          // what the CUDA backend will do: one kernel event per launch, attached to the running op
          profiler._recordKernel('fake_kernel', 'cuda:0', performance.now(), 0.05, undefined, { stream: 7 });
          return t;
        },
      };
      ignis.dispatch(op, [ignis.ones([1])], null);
    });
    const k = prof.events.find((e) => e.kind === 'kernel')!;
    const op = prof.events.find((e) => e.name === 'fake_cuda_op')!;
    expect(k.device).toBe('cuda:0');
    expect(k.correlationId).toBe(op.id);
    expect(k.duration).toBeCloseTo(50, 6);
    const ka = prof.keyAverages();
    expect(ka.find((r) => r.name === 'fake_cuda_op')!.deviceTimeTotal).toBeCloseTo(50, 6);
    expect(ka.find((r) => r.name === 'fake_kernel')!.selfDeviceTimeTotal).toBeCloseTo(50, 6);
    expect(ka.table()).toMatch(/Self CUDA\s+Self CUDA %\s+CUDA total/);
    const tr = prof.chromeTrace().traceEvents;
    const kx = tr.find((e) => e.ph === 'X' && e.name === 'fake_kernel')!;
    expect(kx.pid).toBe(0);
    expect(kx.tid).toBe(7);
    expect(kx.cat).toBe('kernel');
    const names = tr.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => (e.args as { name: string }).name);
    expect(names.length).toBe(2);
    expect(names).toContain('CUDA 0');
    expect(tr.filter((e) => e.ph === 's' || e.ph === 'f').length).toBe(2);
  });

  it('rejects a bad path', () => {
    const prof = profiler.profile({}, () => 0);
    expect(() => prof.exportChromeTrace('' as string)).toThrow(ignis.ValueError);
  });
});
