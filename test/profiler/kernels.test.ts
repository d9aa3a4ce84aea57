// The profiler's CUDA half without a GPU: a fake kernel source, injected through the interface the
// CUDA library fills (src/profiler/kernels.ts), stands in for the event pairs of native/cuda/profile.cpp.
// The same plumbing with the real library runs in test/cuda/profiler.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { KernelRecord, KernelSource, ProfilerEvent } from '../../src/profiler';
import { tracePid } from '../../src/profiler/profile';

const { profiler } = ignis;

const nowUs = () => Number(process.hrtime.bigint()) / 1e3;

/** Records what the CUDA library records: one entry per launch, tagged with the current op. */
class FakeSource implements KernelSource {
  running = false;
  current = 0;
  records: KernelRecord[] = [];
  starts = 0;
  stops = 0;
  capacity = 0;
  waits = 0;
  why: string | null = null;
  failStart: string | null = null;
  correlations: number[] = [];
  unavailable(): string | null {
    return this.why;
  }
  start(capacity: number): void {
    if (this.failStart) throw new ignis.DeviceError(this.failStart);
    if (this.running) throw new Error('FakeSource: started twice');
    this.running = true;
    this.capacity = capacity;
    this.starts++;
  }
  correlate(id: number): void {
    this.current = id;
    this.correlations.push(id);
  }
  stop(): { records: KernelRecord[]; waits: number } {
    this.running = false;
    this.stops++;
    const records = this.records;
    this.records = [];
    return { records, waits: this.waits };
  }
  /** device work `us` long, queued now: it starts a little later, as a kernel does */
  launch(name: string, us: number, extra: Partial<KernelRecord> = {}): void {
    if (!this.running) return;
    const last = this.records[this.records.length - 1];
    const start = Math.max(nowUs() + 3, last ? last.startUs + last.durationUs : 0);
    this.records.push({
      name, library: '', algo: '', device: 0, stream: 0, correlation: this.current, startUs: start, durationUs: us,
      grid: [0, 0, 0], block: [0, 0, 0], launches: 0, fused: -1, workspace: -1, ...extra,
    });
  }
}

let fake = new FakeSource();
function install(): FakeSource {
  fake = new FakeSource();
  profiler._setKernelSource(fake);
  return fake;
}
afterEach(() => {
  profiler._setKernelSource(null);
});

/** An op whose forward queues device work (`kernels`), and may dispatch `inner` ops in between. */
function deviceOp(name: string, steps: (string | [string, number, Partial<KernelRecord>?] | (() => void))[]): ignis.OpDef<null> {
  return {
    name,
    forward(_ctx, [x]) {
      for (const s of steps) {
        if (typeof s === 'function') s();
        else if (typeof s === 'string') fake.launch(s, 10);
        else fake.launch(s[0], s[1], s[2]);
      }
      return x.neg();
    },
  };
}

const find = (evs: ProfilerEvent[], name: string) => evs.find((e) => e.name === name)!;

describe('profiler: CUDA kernel events (fake kernel source)', () => {
  const x = ignis.ones([4]);

  it('turns each record into a kernel event on the device, correlated to the op that queued it', () => {
    install();
    const conv = deviceOp('conv2d', [['conv2d_fwd<relu>', 120, { library: 'cudnnConvolutionBiasActivationForward', algo: 'IMPLICIT_PRECOMP_GEMM, heuristics', workspace: 4096, fused: 1 }]]);
    const act = deviceOp('gelu', [['act_fwd<gelu>', 30, { grid: [1024, 1, 1], block: [256, 1, 1], launches: 1 }]]);
    const prof = profiler.profile({ activities: ['cpu', 'cuda'] }, () => {
      ignis.dispatch(conv, [x], null);
      ignis.dispatch(act, [x], null);
    });
    expect(fake.starts).toBe(1);
    expect(fake.stops).toBe(1);
    expect(fake.capacity).toBe(16384);
    expect(prof.warnings).toEqual([]);
    const kernels = prof.events.filter((e) => e.kind === 'kernel');
    expect(kernels.map((k) => k.name)).toEqual(['conv2d_fwd<relu>', 'act_fwd<gelu>']);
    const [k0, k1] = kernels;
    expect(k0.device).toBe('cuda:0');
    expect(k0.correlationId).toBe(find(prof.events, 'conv2d').id);
    expect(k1.correlationId).toBe(find(prof.events, 'gelu').id);
    expect(k0.duration).toBeCloseTo(120, 6);
    expect(k0.args).toEqual({ stream: 0, library: 'cudnnConvolutionBiasActivationForward', algorithm: 'IMPLICIT_PRECOMP_GEMM, heuristics', workspaceBytes: 4096, fused: true });
    expect(k1.args).toEqual({ stream: 0, grid: [1024, 1, 1], block: [256, 1, 1], launches: 1 });
    // same clock as the ops: a kernel starts after the op that queued it started
    expect(k0.start).toBeGreaterThanOrEqual(find(prof.events, 'conv2d').start);
    expect(k1.start).toBeGreaterThanOrEqual(k0.start + k0.duration - 1e-6);
    // kernels are not roots and have no parent; events stay in start order
    expect(prof.roots.every((e) => e.kind !== 'kernel')).toBe(true);
    const starts = prof.events.map((e) => e.start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  });

  it('work queued after a nested op returns belongs to the outer op again', () => {
    install();
    const inner = deviceOp('inner', ['b1']);
    const outer = deviceOp('outer', ['a1', () => void ignis.dispatch(inner, [x], null), 'a2']);
    const prof = profiler.profile({ activities: ['cpu', 'cuda'] }, () => {
      ignis.dispatch(outer, [x], null);
      fake.launch('loose', 5); // between ops: no op to attribute it to
    });
    const id = (n: string) => find(prof.events, n).id;
    const corr = (n: string) => find(prof.events, n).correlationId;
    expect(corr('a1')).toBe(id('outer'));
    expect(corr('b1')).toBe(id('inner'));
    expect(corr('a2')).toBe(id('outer'));
    expect(corr('loose')).toBeUndefined();
    expect(fake.correlations[fake.correlations.length - 1]).toBe(0);
  });

  it('key averages: device time per op (self and with children) and per kernel; table sorted by cuda_time_total', () => {
    install();
    const inner = deviceOp('inner', [['b1', 50]]);
    const outer = deviceOp('outer', [['a1', 200], () => void ignis.dispatch(inner, [x], null), ['a2', 100]]);
    const small = deviceOp('small', [['c1', 5]]);
    const prof = profiler.profile({ activities: ['cpu', 'cuda'] }, () => {
      ignis.dispatch(outer, [x], null);
      ignis.dispatch(small, [x], null);
      ignis.dispatch(small, [x], null);
    });
    const ka = prof.keyAverages({ peaks: false });
    const row = (n: string) => ka.find((r) => r.name === n)!;
    expect(row('outer').deviceTimeTotal).toBeCloseTo(350, 6);
    expect(row('outer').selfDeviceTimeTotal).toBeCloseTo(300, 6);
    expect(row('inner').deviceTimeTotal).toBeCloseTo(50, 6);
    expect(row('small').deviceTimeTotal).toBeCloseTo(10, 6);
    expect(row('c1').count).toBe(2);
    expect(row('c1').kind).toBe('kernel');
    expect(row('c1').device).toBe('cuda:0');
    expect(row('c1').deviceTimeTotal).toBeCloseTo(10, 6);
    // CPU ops on the host carry no device time
    expect(row('neg').deviceTimeTotal).toBe(0);

    const byDev = ka.sorted('cuda_time_total').map((r) => r.name);
    expect(byDev.slice(0, 3)).toEqual(['outer', 'a1', 'a2']);
    expect(ka.sorted('self_cuda_time_total')[0].name).toBe('outer');

    const table = ka.table({ sortBy: 'cuda_time_total', rowLimit: 4 });
    const lines = table.split('\n');
    const header = lines[1];
    for (const col of ['Self CUDA', 'Self CUDA %', 'CUDA total', 'CUDA time avg', '# of Calls']) expect(header).toContain(col);
    const body = lines.slice(3, 7).map((l) => l.trim().split(/\s{2,}/)[0]);
    expect(body).toEqual(['outer', 'a1', 'a2', 'inner']);
    expect(table).toMatch(/Self CUDA time total: 360\.000us/);
    // every line of the table has the same width
    const widths = new Set(lines.filter((l) => l.startsWith('-') || l.includes('  ')).filter((l) => !l.startsWith('Self')).map((l) => l.length));
    expect(widths.size).toBe(1);
  });

  it('Chrome trace: kernels on their own device track, a flow arrow from each op to its kernels', () => {
    install();
    const op = deviceOp('conv2d', [['conv2d_fwd', 40, { library: 'cudnnConvolutionForward', algo: 'ALGO_1, benchmark', workspace: 0, fused: 0, grid: [64, 1, 1], block: [256, 1, 1], launches: 1 }]]);
    const prof = profiler.profile({ activities: ['cpu', 'cuda'] }, () => ignis.dispatch(op, [x], null));
    const t = JSON.parse(JSON.stringify(prof.chromeTrace())) as { traceEvents: Record<string, unknown>[] };
    const ev = t.traceEvents;
    const kernel = ev.find((e) => e.cat === 'kernel')!;
    const opEv = ev.find((e) => e.name === 'conv2d' && e.ph === 'X')!;
    const gpuPid = tracePid('cuda:0');
    expect(kernel.pid).toBe(gpuPid);
    expect(kernel.pid).not.toBe(opEv.pid);
    expect(kernel.tid).toBe(0);
    expect(kernel.ph).toBe('X');
    expect(kernel.dur).toBeCloseTo(40, 2);
    expect(kernel.args).toMatchObject({ Device: 'cuda:0', grid: [64, 1, 1], block: [256, 1, 1], algorithm: 'ALGO_1, benchmark', workspaceBytes: 0, fused: false, correlation: (opEv.args as { 'Ev Idx': number })['Ev Idx'] });
    const names = ev.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => [e.pid, (e.args as { name: string }).name]);
    expect(names).toContainEqual([gpuPid, 'CUDA 0']);
    expect(ev.some((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === gpuPid && (e.args as { name: string }).name === 'stream 0')).toBe(true);
    const s = ev.find((e) => e.ph === 's')!;
    const f = ev.find((e) => e.ph === 'f')!;
    expect(s.id).toBe(f.id);
    expect([s.pid, s.tid, s.ts]).toEqual([opEv.pid, opEv.tid, opEv.ts]);
    expect([f.pid, f.tid, f.ts, f.bp]).toEqual([kernel.pid, kernel.tid, kernel.ts, 'e']);
    expect(s.cat).toBe('ac2g');
  });

  it("activities ['cuda'] alone records kernels without op events", () => {
    install();
    const op = deviceOp('op', ['k']);
    const prof = profiler.profile({ activities: ['cuda'] }, () => ignis.dispatch(op, [x], null));
    expect(prof.events.map((e) => [e.kind, e.name])).toEqual([['kernel', 'k']]);
    expect(prof.events[0].correlationId).toBeUndefined();
    expect(fake.correlations).toEqual([]);
  });

  it('no kernel source activity unless a profile asks for cuda', () => {
    install();
    const op = deviceOp('op', ['k']);
    const prof = profiler.profile({}, () => ignis.dispatch(op, [x], null));
    expect(fake.starts).toBe(0);
    expect(fake.correlations).toEqual([]);
    expect(prof.events.some((e) => e.kind === 'kernel')).toBe(false);
  });

  it('nested sessions: each sees the kernels of its own window; recording goes on for the outer one', () => {
    install();
    const a = deviceOp('a', ['ka']);
    const b = deviceOp('b', ['kb']);
    const c = deviceOp('c', ['kc']);
    const outer = profiler.profile({ activities: ['cpu', 'cuda'] });
    ignis.dispatch(a, [x], null);
    const inner = profiler.profile({ activities: ['cpu', 'cuda'] }, () => ignis.dispatch(b, [x], null));
    ignis.dispatch(c, [x], null);
    const o = outer.stop();
    const kernels = (p: ignis.profiler.Profile) => p.events.filter((e) => e.kind === 'kernel').map((e) => e.name);
    expect(kernels(inner)).toEqual(['kb']);
    expect(kernels(o)).toEqual(['ka', 'kb', 'kc']);
    expect(fake.starts).toBe(2);
    expect(fake.running).toBe(false);
  });

  it('a full ring and a failing source become warnings, not errors', () => {
    const f = install();
    f.waits = 3;
    const op = deviceOp('op', ['k']);
    let prof = profiler.profile({ activities: ['cpu', 'cuda'] }, () => ignis.dispatch(op, [x], null));
    expect(prof.warnings).toHaveLength(1);
    expect(prof.warnings[0]).toMatch(/event ring \(16384 per device\) was full 3 time\(s\).*IGNIS_PROFILE_CUDA_EVENTS/);
    expect(prof.table()).toMatch(/Warning: the CUDA event ring/);

    const g = install();
    g.failStart = 'profiler start: CUDA error cudaErrorLaunchFailure';
    prof = profiler.profile({ activities: ['cpu', 'cuda'] }, () => ignis.dispatch(op, [x], null));
    expect(prof.warnings).toEqual(['device kernels were not recorded: profiler start: CUDA error cudaErrorLaunchFailure']);
    expect(prof.events.map((e) => e.name)).toEqual(['op', 'neg']);

    const h = install();
    h.why = 'no NVIDIA driver';
    prof = profiler.profile({ activities: ['cpu', 'cuda'] }, () => ignis.dispatch(op, [x], null));
    expect(h.starts).toBe(0);
    expect(prof.warnings).toEqual(["'cuda' activity requested but CUDA is not available (no NVIDIA driver); no device kernels were recorded"]);
  });

  it('IGNIS_PROFILE_CUDA_EVENTS sets the ring size; bad values fall back to the default', () => {
    const prev = process.env.IGNIS_PROFILE_CUDA_EVENTS;
    try {
      for (const [v, want] of [['1024', 1024], ['8', 16384], ['abc', 16384], ['2.5', 16384]] as const) {
        process.env.IGNIS_PROFILE_CUDA_EVENTS = v;
        const f = install();
        profiler.profile({ activities: ['cuda'] }, () => 0);
        expect(f.capacity).toBe(want);
      }
    } finally {
      if (prev === undefined) delete process.env.IGNIS_PROFILE_CUDA_EVENTS;
      else process.env.IGNIS_PROFILE_CUDA_EVENTS = prev;
    }
  });

  it('the CUDA backend source explains itself when CUDA is absent', () => {
    const why = profiler.cudaKernelSource.unavailable();
    if (ignis.cuda.isAvailable()) expect(why).toBeNull();
    else expect(why).toBe(ignis.cuda.unavailableReason());
  });
});

describe('profiler: CUDA kernel events under a schedule (fake kernel source)', () => {
  it("warmup steps' kernels are dropped with their ops; each cycle keeps its own steps' kernels, one device ring per cycle", () => {
    install();
    const x = ignis.ones([4]);
    const step = (i: number) => ignis.dispatch(deviceOp(`op${i}`, [`k${i}`]), [x], null);
    const got: ignis.profiler.Profile[] = [];
    const p = profiler.profile({ activities: ['cpu', 'cuda'], schedule: profiler.schedule({ wait: 1, warmup: 1, active: 2, repeat: 2 }), onTraceReady: (pr) => got.push(pr) });
    for (let i = 0; i < 9; i++) {
      step(i);
      p.step();
    }
    p.stop();
    expect(got.length).toBe(2);
    const kernels = got.map((g) => g.events.filter((e) => e.kind === 'kernel').map((k) => k.name));
    // steps 0 and 4 wait (no ring), 1 and 5 warm up (recorded, dropped), 2-3 and 6-7 are kept
    expect(kernels).toEqual([['k2', 'k3'], ['k6', 'k7']]);
    for (const g of got)
      for (const k of g.events.filter((e) => e.kind === 'kernel')) {
        const op = g.events.find((e) => e.id === k.correlationId)!;
        expect(op.name).toBe(`op${k.name.slice(1)}`);
        expect(g.events.find((e) => e.id === op.parentId)!.name).toMatch(/^ProfilerStep#/);
      }
    // the ring starts at each cycle's warmup and stops at its end: none is held in the wait steps
    expect(fake.starts).toBe(2);
    expect(fake.stops).toBe(2);
    expect(fake.running).toBe(false);
  });
});
