/**
 * CUDA-only behaviour: device tensors, the caching allocator, out-of-memory recovery, async
 * readback, device errors, moving modules. Skipped (with the reason in the suite title) where
 * CUDA is not available; scripts/gpu-check.sh runs them on the GPU machine.
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';
import { expect, it } from 'vitest';
import * as ignis from '../../src';
import * as K from '../../src/kernels';
import { collectForMemory, youngGc } from '../../src/gc';
import { addon } from '../../src/native';
import { cudaEmulated, describeCuda, expectClose } from './helpers';

const F = ignis.F;

const MiB = 1 << 20;

describeCuda('CUDA devices and memory', () => {
  it('reports devices, properties and versions', () => {
    expect(ignis.cuda.deviceCount()).toBeGreaterThan(0);
    const p = ignis.cuda.getDeviceProperties(0);
    expect(p.name).toBe(ignis.cuda.getDeviceName());
    expect(p.major).toBeGreaterThanOrEqual(7);
    expect(p.totalMemory).toBeGreaterThan(1 << 30);
    expect(ignis.cuda.versions()).toMatch(/cudart \d+, cuDNN 9\d+ .*cuBLAS \d+/);
  });

  it('tensors move both ways with their values, dtypes and devices', () => {
    for (const dt of ['float32', 'float64', 'int32', 'int64', 'bool'] as const) {
      const x = ignis.fmod(ignis.arange(0, 24).reshape([2, 3, 4]), 5);
      const c = x.to(dt);
      const g = c.cuda();
      expect(g.device).toBe('cuda:0');
      expect(g.dtype).toBe(dt);
      expect(g.cpu().toArray()).toEqual(c.toArray());
      expect(g.toArray()).toEqual(c.toArray());  // toArray waits for the queued copy
    }
    const x = ignis.randn([5, 6]);
    expect(x.t().cuda().toArray()).toEqual(x.t().toArray()); // a strided view moves as its values
    expect(ignis.zeros([3], { device: 'cuda' }).device).toBe('cuda:0');
    expect(ignis.ones([2, 2], { device: 'cuda:0' }).sum().item()).toBe(4);
  });

  it('mixing devices is a DeviceError naming both', () => {
    const a = ignis.ones([3]), b = ignis.ones([3], { device: 'cuda' });
    expect(() => a.add(b)).toThrow(ignis.DeviceError);
    expect(() => a.add(b)).toThrow(/cpu and cuda:0|cuda:0 and cpu/);
    expect(() => ignis.matmul(ignis.ones([2, 2]), ignis.ones([2, 2], { device: 'cuda' }))).toThrow(ignis.DeviceError);
  });

  it('CPU-only native entries refuse CUDA storages with a DeviceError, not a crash', () => {
    // every op has a CUDA path now (expression activations: test/cuda/expr.test.ts); the CPU
    // interpreter's entry itself still guards against device pointers
    const x = ignis.ones([1, 1, 4, 4], { device: 'cuda' });
    const act = ignis.defineActivation({ name: `cuda_expr_${Date.now()}`, expr: 'x * sigmoid(x)' });
    const prog = act.expr!.forwardProgram({});
    expect(() => K.expr(prog, x, null, 'expr')).toThrow(ignis.DeviceError);
    expect(() => K.expr(prog, x, null, 'expr')).toThrow(/not implemented for cuda:0 tensors yet/);
    expect(x.sum().item()).toBe(16); // and the device is fine afterwards
    ignis.activations.undefine(act.expr!.name);
  });

  it('the caching allocator reuses freed blocks and reports its figures', () => {
    ignis.cuda.emptyCache();
    const before = ignis.cuda.memoryStats();
    const a = ignis.empty([4 * MiB], { device: 'cuda' }); // 16 MiB
    const mid = ignis.cuda.memoryStats();
    expect(mid.allocated - before.allocated).toBeGreaterThanOrEqual(16 * MiB);
    a.dispose();
    const after = ignis.cuda.memoryStats();
    expect(after.allocated).toBe(before.allocated);
    expect(after.reserved).toBe(mid.reserved); // kept in the cache
    const b = ignis.empty([4 * MiB], { device: 'cuda' });
    const again = ignis.cuda.memoryStats();
    expect(again.cacheHits).toBe(after.cacheHits + 1);
    expect(again.reserved).toBe(mid.reserved);
    b.dispose();
    ignis.cuda.emptyCache();
    expect(ignis.cuda.memoryReserved()).toBeLessThan(mid.reserved);
    expect(ignis.cuda.maxMemoryAllocated()).toBeGreaterThanOrEqual(16 * MiB);
  });

  it('out of memory is a MemoryError with the allocator figures, and the process stays usable', () => {
    ignis.cuda.emptyCache();
    const base = ignis.cuda.memoryReserved();
    // room for the 64 MiB tensor below and the small blocks its sum needs, not for 32 + 64 MiB
    ignis.cuda.setMemoryLimit(base + 80 * MiB);
    try {
      const keep = ignis.empty([8 * MiB], { device: 'cuda' }); // 32 MiB
      let err: unknown;
      try {
        ignis.empty([16 * MiB], { device: 'cuda' }); // 64 MiB more: over the limit
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ignis.MemoryError);
      expect((err as Error).message).toMatch(/out of memory: tried to allocate 64\.00 MiB.*allocated .*MiB, reserved .*MiB.*limit/);
      keep.dispose();
      const ok = ignis.ones([16 * MiB], { device: 'cuda' }); // fits once the other is freed
      expect(ok.sum().item()).toBe(16 * MiB);
      ok.dispose();
    } finally {
      ignis.cuda.setMemoryLimit(0);
    }
    // a real device OOM (far beyond the card) also recovers
    expect(() => ignis.empty([2 ** 40], { device: 'cuda' })).toThrow(ignis.MemoryError);
    expect(ignis.ones([4], { device: 'cuda' }).sum().item()).toBe(4);
  });

  it('device memory held only by dead handles is collected when an allocation needs it (no dispose)', () => {
    ignis.cuda.emptyCache();
    const base = ignis.cuda.memoryReserved();
    ignis.cuda.setMemoryLimit(base + 80 * MiB);
    const gc = youngGc.every;
    youngGc.every = 0; // no collections between ops: only the out-of-memory path frees the garbage
    try {
      // 10 x 32 MiB made and dropped without dispose(): over the limit from the 3rd on, each one
      // succeeds after the allocator's failure ran a full collection that found the dead ones
      for (let i = 0; i < 10; i++) ignis.empty([8 * MiB], { device: 'cuda' }).fill_(i);
      expect(ignis.cuda.memoryReserved()).toBeLessThanOrEqual(base + 80 * MiB);
      // memory really held is still an error
      const keep = [ignis.empty([8 * MiB], { device: 'cuda' }), ignis.empty([8 * MiB], { device: 'cuda' })];
      expect(() => ignis.empty([8 * MiB], { device: 'cuda' })).toThrow(ignis.MemoryError);
      keep.forEach((t) => t.dispose());
    } finally {
      youngGc.every = gc;
      ignis.cuda.setMemoryLimit(0);
    }
  });

  it('forward passes with autograd on whose graphs are dropped (no backward, no noGrad) stay within a memory limit', () => {
    ignis.cuda.emptyCache();
    const base = ignis.cuda.memoryReserved();
    ignis.cuda.setMemoryLimit(base + 24 * MiB);
    const gc = youngGc.every;
    youngGc.every = 0; // only the out-of-memory path collects: it must find the dropped graphs
    try {
      ignis.manualSeed(0);
      const net = new ignis.nn.Sequential(new ignis.nn.Conv2d(3, 8, 3, { padding: 1 }), new ignis.nn.ReLU(), new ignis.nn.MaxPool2d(2)).to('cuda');
      const x = ignis.randn([16, 3, 32, 32], { device: 'cuda' });
      // each forward holds ~1.3 MiB (conv output, ReLU output, pooling indices) while its graph lives
      let y = net.call(x);
      for (let i = 0; i < 40; i++) y = net.call(x);
      expect(ignis.cuda.memoryReserved()).toBeLessThanOrEqual(base + 24 * MiB);
      // the collection itself: whatever graphs are still listed go, the kept one stays
      const held = ignis.cuda.memoryAllocated();
      for (let i = 0; i < 8; i++) y = net.call(x);
      const grown = ignis.cuda.memoryAllocated() - held;
      expect(collectForMemory()).toBe(true);
      expect(ignis.cuda.memoryAllocated()).toBeLessThan(held + grown / 4);
      y.sum().backward(); // the last graph is whole
      expect(net.parameters()[0].grad?.shape).toEqual([8, 3, 3, 3]);
    } finally {
      youngGc.every = gc;
      ignis.cuda.setMemoryLimit(0);
    }
  });

  it('device garbage calls for a collection at a 64th of the device memory (or limit), from IGNIS_GC_EVERY_MB up to 1 GiB', () => {
    const weight = (bytes: number) => Math.min(1, youngGc.every / Math.min(2 ** 30, Math.max(youngGc.every, bytes / 64)));
    expect(youngGc.deviceWeight).toBeCloseTo(weight(ignis.cuda.getDeviceProperties(0).totalMemory), 12);
    // the addon's count of CUDA bytes held
    const d0 = addon.trackedBytes(true), all0 = addon.trackedBytes();
    const t = ignis.empty([MiB], { device: 'cuda' });
    expect([addon.trackedBytes(true) - d0, addon.trackedBytes() - all0]).toEqual([4 * MiB, 4 * MiB]);
    t.dispose();
    expect(addon.trackedBytes(true)).toBe(d0);
    const h = ignis.empty([MiB]);
    expect(addon.trackedBytes(true)).toBe(d0); // host bytes are not device bytes
    h.dispose();
    // 20 backward passes of ~20 MiB of device storages each, collections every 4 MiB of host
    // storages: under a limit of 256 MiB above what is held (a budget of 4 MiB and a little more) a
    // collection ends each of them (and more run between ops); under 4 GiB above it (64 MiB and
    // more) one in every few
    const every = youngGc.every;
    const steps = (above: number) => {
      ignis.cuda.emptyCache();
      const limit = ignis.cuda.memoryReserved() + above;
      ignis.cuda.setMemoryLimit(limit);
      expect(youngGc.deviceWeight).toBeCloseTo(weight(Math.min(limit, ignis.cuda.getDeviceProperties(0).totalMemory)), 12);
      const x = ignis.randn([MiB], { device: 'cuda', requiresGrad: true });
      const runs = youngGc.runs;
      for (let i = 0; i < 20; i++) x.mul(2).relu().sum().backward();
      return youngGc.runs - runs;
    };
    try {
      youngGc.every = 4 * MiB;
      const small = steps(256 * MiB), big = steps(4096 * MiB);
      expect(small).toBeGreaterThanOrEqual(18);
      expect(big).toBeGreaterThanOrEqual(2);
      expect(big).toBeLessThanOrEqual(small / 2);
    } finally {
      youngGc.every = every;
      ignis.cuda.setMemoryLimit(0);
    }
    expect(youngGc.deviceWeight).toBeCloseTo(weight(ignis.cuda.getDeviceProperties(0).totalMemory), 12);
  });

  it('await data() does not block the event loop and returns the values', async () => {
    const x = ignis.randn([1 << 22], { device: 'cuda' });
    let y = x;
    for (let i = 0; i < 20; i++) y = y.mul(1.0001).add(0.0001); // queue work
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const p = y.data();
    const got = (await p) as Float32Array;
    clearInterval(timer);
    expect(got.length).toBe(1 << 22);
    const want = y.cpu().dataSync() as Float32Array;
    expect(got[12345]).toBe(want[12345]);
    expect(ticks).toBeGreaterThanOrEqual(0); // the loop kept turning (cannot assert > 0 on a fast GPU)
  });

  it('async readbacks reuse pinned buffers without mixing them up (in flight together, one after another, after emptyCache)', async () => {
    // sizes in one pooled class and across classes, plus one above the pooled range (16 MiB)
    const sizes = [1000, 1000, 1024, 3000, 1 << 20, (1 << 22) + 5];
    for (let round = 0; round < 3; round++) {
      const ts = sizes.map((n, i) => ignis.full([n], round * 10 + i, { device: 'cuda', dtype: 'float32' }));
      const got = (await Promise.all(ts.map((t) => t.data()))) as Float32Array[];
      got.forEach((a, i) => {
        expect(a.length).toBe(sizes[i]);
        expect(a[0]).toBe(round * 10 + i);
        expect(a[a.length - 1]).toBe(round * 10 + i);
      });
      if (round === 1) ignis.cuda.emptyCache();
    }
  });

  it('Module.to("cuda") moves parameters in place; a training step matches the CPU', () => {
    ignis.manualSeed(3);
    const make = (): ignis.nn.Module =>
      new ignis.nn.Sequential(new ignis.nn.Conv2d(3, 4, 3, { padding: 1 }), new ignis.nn.ReLU(), new ignis.nn.Flatten(), new ignis.nn.Linear(4 * 8 * 8, 5));
    const cpu = make();
    const gpu = make();
    gpu.loadStateDict(cpu.stateDict());
    const params = [...gpu.parameters()];
    gpu.to('cuda');
    expect([...gpu.parameters()]).toEqual(params);
    for (const p of gpu.parameters()) expect(p.device).toBe('cuda:0');
    const x = ignis.randn([6, 3, 8, 8]);
    const t = ignis.randn([6, 5]);
    ignis.backends.cudnn.allowTf32 = false;
    try {
      for (const [m, dev] of [[cpu, 'cpu'], [gpu, 'cuda']] as const) {
        const opt = new ignis.optim.Adam([...m.parameters()], { lr: 0.01 });
        for (let i = 0; i < 2; i++) {
          opt.zeroGrad();
          const y = m.call(x.to(dev)) as ignis.Tensor;
          y.sub(t.to(dev)).square().mean().backward();
          opt.step();
        }
      }
    } finally {
      ignis.backends.cudnn.allowTf32 = true;
    }
    const pc = [...cpu.parameters()], pg = [...gpu.parameters()];
    pc.forEach((p, i) => expectClose(pg[i], p, 1e-4, 1e-5, `param ${i}`));
  });

  it('prints, serialises and reloads CUDA tensors through host copies', () => {
    const x = ignis.tensor([[1.5, -2], [3, 4]], { device: 'cuda' });
    expect(String(x)).toBe(String(x.cpu()).replace('device=cpu', 'device=cuda:0'));
    const bytes = ignis.serialize({ w: x });
    const back = ignis.deserialize(bytes);
    expect(back.tensors.w.toArray()).toEqual([[1.5, -2], [3, 4]]);
  });

  it('memory holds steady over a loop that never disposes', () => {
    const x = ignis.randn([1 << 20], { device: 'cuda' });
    for (let i = 0; i < 50; i++) x.mul(2).add(1).relu();
    ignis.cuda.synchronize();
    const a = ignis.cuda.memoryReserved();
    for (let i = 0; i < 500; i++) x.mul(2).add(1).relu();
    ignis.cuda.synchronize();
    // 6 GB made: what is held stays within a collection's budget of garbage (src/gc.ts: a 64th of
    // the card's memory, up to 1 GiB) and its share of the allocator's rounding
    expect(ignis.cuda.memoryReserved()).toBeLessThanOrEqual(a + Math.max(512 * MiB, (2 * youngGc.every) / youngGc.deviceWeight));
  });

  it('worker_threads use the device at once with the main thread (the library lock)', () => {
    // the CPU twin is test/core/workers.test.ts; the child loads dist/ (gpu-check.sh carries it)
    const root = join(__dirname, '..', '..');
    const dist = join(root, 'dist', 'index.js');
    expect(existsSync(dist), 'dist/ is built').toBe(true);
    const r = spawnSync(process.execPath, ['--expose-gc', join(root, 'test', 'core', 'workers.child.cjs')], {
      cwd: root,
      encoding: 'utf8',
      // the CPU twin runs 25 rounds; the CUDA emulator (a kernel's threads one after another) fewer
      env: { ...process.env, IGNIS_DIST: dist, IGNIS_DEVICE: 'cuda', ...(cudaEmulated ? { ITERS: '80', ROUNDS: '4' } : { ITERS: '200', ROUNDS: '8' }) },
      timeout: 110_000,
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}')).toEqual({ mainBad: 0, workerBad: [0, 0, 0], endlessBad: 0, after: 0, leaked: { tensors: 0, bytes: 0 } });
  }, 120_000);

  it('IGNIS_CUDA_HOST_TIMES=1: the library tallies its host time per call and prints the table at exit', () => {
    const root = join(__dirname, '..', '..');
    const dist = join(root, 'dist', 'index.js');
    expect(existsSync(dist), 'dist/ is built').toBe(true);
    const code = `const i = require(${JSON.stringify(dist)}); const x = i.randn([64], { device: 'cuda' });
      for (let k = 0; k < 3; k++) x.relu().sum(); i.F.conv2d(i.randn([1, 2, 5, 5], { device: 'cuda' }), i.randn([3, 2, 3, 3], { device: 'cuda' })); i.cuda.synchronize();`;
    const run = (on: string) => spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8', env: { ...process.env, IGNIS_CUDA_HOST_TIMES: on }, timeout: 60_000 });
    const r = run('1');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('ignis host times');
    // name, calls, total µs, median µs: three relus (and the randn casts' launches, if any)
    const row = (name: string) => r.stderr.split('\n').find((l) => l.trim().startsWith(name));
    expect(Number(row('elementwise launch')?.trim().split(/\s+/).at(-3))).toBeGreaterThanOrEqual(3);
    expect(row('reduce launch'), r.stderr).toBeDefined();
    expect(row('conv2d forward (whole call)'), r.stderr).toBeDefined();
    expect(row('dev_malloc'), r.stderr).toBeDefined();
    // off (unset or 0): nothing printed
    expect(run('0').stderr).not.toContain('ignis host times');
  }, 60_000);

  it.skipIf(!cudaEmulated)('benchmark mode: a cudnnFind that runs out of memory falls back to the heuristics until memory comes free (emulator)', () => {
    // the emulator's cudnnFind* fails as out of device memory while IGNIS_CUDA_EMU_FIND_FAIL is set
    const x = ignis.randn([2, 3, 9, 9], { device: 'cuda' });
    const w = ignis.randn([4, 3, 3, 3], { device: 'cuda' });
    const algo = (): string => {
      const prof = ignis.profiler.profile({ activities: ['cuda'] }, () => F.conv2d(x, w, null, { padding: 1 }));
      return String(prof.events.find((e) => e.kind === 'kernel' && e.name.startsWith('conv2d_fwd'))?.args?.algorithm);
    };
    const want = F.conv2d(x.cpu(), w.cpu(), null, { padding: 1 });
    ignis.backends.cudnn.benchmark = true;
    ignis.backends.cudnn.graphFusion = false; // the legacy calls, whose algorithms cudnnFind times
    try {
      ignis.empty([1 << 20], { device: 'cuda' }).dispose(); // a cached block: the retry releases it
      process.env.IGNIS_CUDA_EMU_FIND_FAIL = '1';
      expectClose(F.conv2d(x, w, null, { padding: 1 }).cpu(), want, 1e-5, 1e-5, 'conv after a failed Find');
      expect(algo()).toMatch(/, heuristics$/);
      delete process.env.IGNIS_CUDA_EMU_FIND_FAIL;
      // remembered: nothing came free since, so no new timing (its own release does not count)
      expect(algo()).toMatch(/, heuristics$/);
      ignis.empty([1 << 20], { device: 'cuda' }).dispose();
      ignis.cuda.emptyCache(); // memory came free: timed again
      expect(algo()).toMatch(/, benchmark$/);
    } finally {
      delete process.env.IGNIS_CUDA_EMU_FIND_FAIL;
      ignis.backends.cudnn.benchmark = false;
      ignis.backends.cudnn.graphFusion = true;
    }
  });

  it.skipIf(!cudaEmulated || !!process.env.IGNIS_CUDNN_GRAPH_VERDICT)('a cuDNN graph whose first call disagrees with the unfused path is not used (emulator)', () => {
    // the emulator's graphs write 1.5 y + 1 while IGNIS_CUDA_EMU_GRAPH_WRONG is set; the first call
    // of each plan (new shapes here) compares the graph's output with the unfused path's and keeps
    // the graph only where they agree, whichever timed faster
    const x = ignis.randn([3, 2, 7, 6]), w = ignis.randn([5, 2, 3, 3]), b = ignis.randn([5]);
    const ins = [x, w, b].map((t) => t.cuda().requiresGrad_(true));
    const refs = [x, w, b].map((t) => t.detach().requiresGrad_(true));
    const fwd = (t: ignis.Tensor[]) => F.conv2d(t[0], t[1], t[2], { padding: 1, activation: 'relu' });
    process.env.IGNIS_CUDA_EMU_GRAPH_WRONG = '1';
    try {
      const y = fwd(ins);
      y.sum().backward();  // the backward data and filter graphs' first calls
      const want = fwd(refs);
      want.sum().backward();
      expectClose(y.cpu(), want, 1e-5, 1e-5, 'y');
      ins.forEach((t, i) => expectClose(t.grad!.cpu(), refs[i].grad!, 1e-4, 1e-4, ['dx', 'dw', 'db'][i]));
      // and from then on: the record names the legacy algorithm, not a graph engine
      const prof = ignis.profiler.profile({ activities: ['cuda'] }, () => ignis.noGrad(() => fwd(ins)));
      const rec = prof.events.find((e) => e.kind === 'kernel' && e.name.startsWith('conv2d_fwd'));
      expect(rec, 'the conv2d_fwd record').toBeDefined();
      expect(String(rec!.args?.algorithm)).not.toMatch(/graph engine/);
    } finally {
      delete process.env.IGNIS_CUDA_EMU_GRAPH_WRONG;
    }
  });

  it.skipIf(!cudaEmulated || !!process.env.IGNIS_CUDNN_GRAPH_VERDICT)('benchmark mode: a cuDNN graph\'s first call times every engine configuration and keeps the fastest (emulator)', () => {
    // the emulator's heuristics list two engines for a graph it takes (conv + bias + ReLU here);
    // with cudnn.benchmark the first call times both, keeps one, then compares it with the unfused
    // path. Without benchmark, the first configuration, untimed against the other.
    const root = join(__dirname, '..', '..');
    const dist = join(root, 'dist', 'index.js');
    expect(existsSync(dist), 'dist/ is built').toBe(true);
    const code = `const i = require(${JSON.stringify(dist)}); i.manualSeed(3);
      const x = i.randn([2, 3, 6, 7]), w = i.randn([4, 3, 3, 3]), b = i.randn([4]);
      i.backends.cudnn.benchmark = process.env.BENCH === '1';
      const y = i.F.conv2d(x.cuda(), w.cuda(), b.cuda(), { padding: 1, activation: 'relu' }).cpu();
      const want = i.F.conv2d(x, w, b, { padding: 1, activation: 'relu' });
      console.log(JSON.stringify(y.sub(want).abs().max().item()));`;
    const run = (bench: string) => spawnSync(process.execPath, ['-e', code], { cwd: root, encoding: 'utf8', env: { ...process.env, BENCH: bench, IGNIS_CUDNN_GRAPH_LOG: '1' }, timeout: 60_000 });
    const on = run('1');
    expect(on.status, on.stderr).toBe(0);
    expect(Number(on.stdout.trim())).toBeLessThan(1e-4);
    const timed = on.stderr.split('\n').filter((l) => / \+ bias, activation 0: graph engine \d, benchmark: [\d.]+ ms/.test(l));
    expect(timed.map((l) => / graph engine (\d)/.exec(l)![1]).sort(), on.stderr).toEqual(['0', '1']);
    const off = run('0');
    expect(off.status, off.stderr).toBe(0);
    expect(Number(off.stdout.trim())).toBeLessThan(1e-4);
    expect(off.stderr).not.toContain('benchmark');
    expect(off.stderr).toContain('graph engine 0, heuristics A');
  }, 60_000);

  it('a convolution over 2^31 elements runs in batch chunks (cuDNN indexes with 32-bit ints)', (ctx) => {
    // needs ~27 GB of device memory: skipped (visibly) on a smaller device, such as the CUDA emulator
    if (ignis.cuda.getDeviceProperties(0).totalMemory < 40 * 2 ** 30) ctx.skip();
    // [33, 1, 8192, 8192] float32 is 2.21e9 elements (8.9 GB), over 2^31 - 1; one sample is 2^26, so
    // the chunks are 31 and 2 samples. Each result is checked against the same op on single samples
    // or the two halves, which need no chunking. Peak ~27 GB of device memory (x, y and a kept z).
    const N = 33, S = 8192;
    const g: K.ConvGeom = { N, C: 1, H: S, W: S, O: 1, kh: 3, kw: 3, OH: S, OW: S, sh: 1, sw: 1, dh: 1, dw: 1, pt: 1, pl: 1, G: 1 };
    const part = (n: number): K.ConvGeom => ({ ...g, N: n });
    ignis.backends.cudnn.allowTf32 = false;
    const x = ignis.rand([N, 1, S, S], { device: 'cuda' });
    const w = ignis.randn([1, 1, 3, 3], { device: 'cuda' });
    const b = ignis.randn([1], { device: 'cuda' });
    // compared on the device: 67M-element samples are slow to bring over and walk in JS
    const close = (got: ignis.Tensor, want: ignis.Tensor, rtol: number, what: string): void => {
      const err = got.sub(want).abs().max().item() as number;
      const scale = want.abs().max().item() as number;
      expect(err, `${what}: max |diff| ${err} against max |want| ${scale}`).toBeLessThanOrEqual(rtol * Math.max(scale, 1));
    };
    try {
      // the profiler's record of the chunked call counts both library calls (profiled after a first
      // call, which also times each chunk's cuDNN graph against the legacy call: more calls)
      const y = K.convFwd(x, w, b, g);
      const prof = ignis.profiler.profile({ activities: ['cuda'] }, () => K.convFwd(x, w, b, g));
      const rec = prof.events.find((e) => e.kind === 'kernel' && e.name.startsWith('conv2d_fwd'));
      expect(rec?.args?.algorithm).toMatch(/ \(2 calls(, mixed)?\)$/);
      for (const n of [0, 30, 31, 32]) close(y.narrow(0, n, 1), K.convFwd(x.narrow(0, n, 1), w, b, part(1)), 1e-5, `forward sample ${n}`);
      y.dispose();
      // training with a fused activation: y and the kept pre-activation z, chunk by chunk
      const gelu = { kernel: 'gelu', params: [] };
      const [yk, zk] = K.convFwdKeep(x, w, b, g, gelu);
      for (const n of [0, 32]) {
        const [y1, z1] = K.convFwdKeep(x.narrow(0, n, 1), w, b, part(1), gelu);
        close(yk.narrow(0, n, 1), y1, 1e-5, `forward + gelu, sample ${n}`);
        close(zk.narrow(0, n, 1), z1, 1e-5, `kept pre-activation, sample ${n}`);
      }
      yk.dispose();
      zk.dispose();
      const dx = K.convBwdData(x, w, g);  // x doubles as dy: 1 -> 1 channel, same size
      for (const n of [0, 31, 32]) close(dx.narrow(0, n, 1), K.convBwdData(x.narrow(0, n, 1), w, part(1)), 1e-5, `backward data sample ${n}`);
      dx.dispose();
      const [dw, db] = K.convBwdWeight(x, x, g, true);
      const [dw1, db1] = K.convBwdWeight(x.narrow(0, 0, 31), x.narrow(0, 0, 31), part(31), true);
      const [dw2, db2] = K.convBwdWeight(x.narrow(0, 31, 2), x.narrow(0, 31, 2), part(2), true);
      expectClose(dw, dw1.add(dw2), 1e-4, 1e-2, 'weight gradient: the chunks add up');
      expectClose(db!, db1!.add(db2!), 1e-6, 1e-2, 'bias gradient over all 2.2e9 elements');
    } finally {
      ignis.backends.cudnn.allowTf32 = true;
      x.dispose();
      ignis.cuda.emptyCache();
    }
  }, 120_000);
});
