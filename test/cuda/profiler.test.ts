// The profiler's CUDA half against the real library (skipped without a GPU; the same plumbing runs
// everywhere with a fake source in test/profiler/kernels.test.ts). Kernel-time agreement with an
// independent timing and the seed CNN's kernel mix are scripts/gpu-profile-check.mjs (gpu-check.sh).
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';
import { expect, it } from 'vitest';
import * as ignis from '../../src';
import type { ProfilerEvent } from '../../src/profiler';
import { describeCuda } from './helpers';

const { profiler, F } = ignis;
const kernelsOf = (evs: ProfilerEvent[]) => evs.filter((e) => e.kind === 'kernel');

describeCuda('profiler on CUDA', () => {
  it('records each op\'s device work with its launch configuration, attributed to the op', () => {
    const x = ignis.randn([1 << 20], { device: 'cuda' });
    x.relu();
    const prof = profiler.profile({ activities: ['cpu', 'cuda'], recordShapes: true }, () => {
      x.relu();
      x.add(1).sum();
    });
    const ks = kernelsOf(prof.events);
    const relu = ks.find((k) => k.name === 'act_fwd<relu>')!;
    expect(relu).toBeDefined();
    expect(relu.device).toBe('cuda:0');
    expect(relu.duration).toBeGreaterThan(0);
    expect(relu.args).toMatchObject({ stream: 0, launches: 1, block: [256, 1, 1] });
    expect((relu.args!.grid as number[])[0]).toBeGreaterThan(0);
    const op = prof.events.find((e) => e.id === relu.correlationId)!;
    expect(op.name).toBe('relu');
    expect(op.device).toBe('cuda:0');
    expect(relu.start).toBeGreaterThanOrEqual(op.start - 20);
    expect(ks.map((k) => k.name)).toEqual(expect.arrayContaining(['binary<add>', 'reduce<sum>']));
    const row = prof.keyAverages().find((r) => r.name === 'relu')!;
    expect(row.deviceTimeTotal).toBeCloseTo(relu.duration, 6);
    expect(prof.table({ sortBy: 'cuda_time_total' })).toMatch(/CUDA total/);
    expect(prof.warnings).toEqual([]);
  });

  it('cuDNN convolutions carry the algorithm, workspace and whether they ran fused', () => {
    const x = ignis.randn([8, 16, 32, 32], { device: 'cuda' });
    const w = ignis.randn([32, 16, 3, 3], { device: 'cuda' });
    const b = ignis.randn([32], { device: 'cuda' });
    const run = () => ignis.noGrad(() => {
      F.conv2d(x, w, b, { padding: 1, activation: 'relu' });
      F.conv2d(x, w, b, { padding: 1, activation: 'gelu' });
    });
    run();
    const prof = profiler.profile({ activities: ['cpu', 'cuda'] }, run);
    const ks = kernelsOf(prof.events).filter((k) => k.name.startsWith('conv2d_fwd'));
    expect(ks.map((k) => k.name)).toEqual(['conv2d_fwd<relu>', 'conv2d_fwd<gelu>']);
    for (const k of ks) {
      expect(k.args!.library).toMatch(/^cudnn(Convolution|BackendExecute)/);
      expect(k.args!.algorithm).toMatch(/, (heuristics|benchmark)$|^graph engine -?\d+/);
      expect(k.args!.workspaceBytes).toBeGreaterThanOrEqual(0);
      expect(typeof k.args!.fused).toBe('boolean');
    }
    // GELU: one cuDNN operation graph where an engine takes it, else the conv (a graph of its own
    // or the legacy call), then Ignis's bias + GELU epilogue kernel
    // (a record with no launch of Ignis's own has no launch fields)
    if (ks[1].args!.fused) expect([ks[1].args!.library, ks[1].args!.launches]).toEqual(['cudnnBackendExecute', undefined]);
    else expect(ks[1].args!.launches).toBe(1);
    // ReLU: the graph, or cuDNN's legacy fused call, or conv + epilogue
    if (ks[0].args!.fused) expect(ks[0].args!.library).toMatch(/^(cudnnConvolutionBiasActivationForward|cudnnBackendExecute)$/);
    // without graph fusion, always the epilogue
    ignis.backends.cudnn.graphFusion = false;
    try {
      const off = profiler.profile({ activities: ['cpu', 'cuda'] }, run);
      const k = kernelsOf(off.events).filter((e) => e.name === 'conv2d_fwd<gelu>');
      expect(k[0].args).toMatchObject({ library: 'cudnnConvolutionForward', fused: false, launches: 1 });
    } finally {
      ignis.backends.cudnn.graphFusion = true;
    }
  });

  it('creation and readback carry their transfers', () => {
    const prof = profiler.profile({ activities: ['cpu', 'cuda'] }, () => {
      const t = ignis.tensor([1, 2, 3, 4], { device: 'cuda' });
      t.sum().item();
    });
    const ones = prof.events.find((e) => e.name === 'tensor')!;
    expect(ones.device).toBe('cuda:0');
    const ks = kernelsOf(prof.events);
    const h2d = ks.find((k) => k.name === 'Memcpy HtoD')!;
    expect(h2d).toBeDefined();
    // the copy is queued inside tensor() (directly or in an op it runs)
    let p: ProfilerEvent | undefined = prof.events.find((e) => e.id === h2d.correlationId);
    while (p && p !== ones) p = p.parentId === null ? undefined : prof.events.find((e) => e.id === p!.parentId);
    expect(p).toBe(ones);
    const d2h = ks.find((k) => k.name === 'Memcpy DtoH')!;
    expect(prof.events.find((e) => e.id === d2h.correlationId)!.name).toBe('item');
  });

  it('nothing is recorded outside a profile; back-to-back profiles each get their own records', () => {
    const x = ignis.randn([4096], { device: 'cuda' });
    x.neg();
    const p1 = profiler.profile({ activities: ['cuda'] }, () => x.neg());
    x.neg();
    const p2 = profiler.profile({ activities: ['cuda'] }, () => {
      x.neg();
      x.neg();
    });
    expect(kernelsOf(p1.events).map((k) => k.name)).toEqual(['unary<neg>']);
    expect(kernelsOf(p2.events).map((k) => k.name)).toEqual(['unary<neg>', 'unary<neg>']);
  });

  it('a small event ring makes the host wait but loses nothing (and says so)', () => {
    const prev = process.env.IGNIS_PROFILE_CUDA_EVENTS;
    process.env.IGNIS_PROFILE_CUDA_EVENTS = '16';
    try {
      const x = ignis.randn([1 << 16], { device: 'cuda' });
      const prof = profiler.profile({ activities: ['cpu', 'cuda'] }, () => {
        for (let i = 0; i < 200; i++) x.neg();
      });
      expect(kernelsOf(prof.events).length).toBe(200);
      for (const w of prof.warnings) expect(w).toMatch(/event ring \(16 per device\)/);
    } finally {
      if (prev === undefined) delete process.env.IGNIS_PROFILE_CUDA_EVENTS;
      else process.env.IGNIS_PROFILE_CUDA_EVENTS = prev;
    }
  });

  it('a profile records only its own thread\'s kernels; a Worker that dies owning it releases it', () => {
    const root = join(__dirname, '..', '..');
    const dist = join(root, 'dist', 'index.js');
    expect(existsSync(dist), 'dist/ is built').toBe(true);
    const r = spawnSync(process.execPath, [join(__dirname, 'profiler_workers.child.cjs')], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, IGNIS_DIST: dist },
      timeout: 60_000,
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}')).toEqual({
      foreign: [], relus: true, mainWarnings: [], workerRead: true, workerWarned: true,
      after: { names: ['unary<neg>'], warnings: [] },
    });
  }, 70_000);

  it('nvtx ranges run against the real library without a tool attached', async () => {
    const { nvtx } = ignis.cuda;
    expect(nvtx.range('r', () => 3)).toBe(3);
    await expect(nvtx.range('a', async () => 4)).resolves.toBe(4);
    const id = nvtx.rangeStart('s');
    expect(id).toBeGreaterThanOrEqual(0);
    nvtx.rangeEnd(id);
    nvtx.rangePush('p');
    nvtx.mark('m');
    nvtx.rangePop();
  });
});
