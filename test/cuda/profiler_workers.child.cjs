// Run by test/cuda/profiler.test.ts in a child process (GPU only): a CUDA profile belongs to the JS
// thread that started it. While the main thread profiles, a Worker keeps queuing its own kernels and
// reading results back; none of them may show up in the main thread's profile, and the Worker's own
// attempt to record kernels meanwhile gets a warning instead. A Worker that ends while it owns the
// profile releases it. Prints one JSON line.
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const ig = require(process.env.IGNIS_DIST);

const kernelNames = (p) => p.events.filter((e) => e.kind === 'kernel').map((e) => e.name);

if (!isMainThread) {
  const { flag, mode } = workerData;  // flag[0]: the worker is running; flag[1]: main asks it to stop
  const y = ig.randn([1 << 15], { device: 'cuda' });
  if (mode === 'owner') {
    ig.profiler.start({ activities: ['cuda'] });  // never stopped: the Worker is terminated
    y.neg();
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    for (;;) y.neg().sum().item();
  }
  let reads = 0;
  let warnings = null;
  while (Atomics.load(flag, 1) === 0) {
    y.neg();
    reads += y.exp().sum().item() > 0 ? 1 : 0;  // a readback: waits without the library lock
    if (Atomics.load(flag, 0) === 0) {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    }
    if (warnings === null && Atomics.load(flag, 2) === 1)
      warnings = ig.profiler.profile({ activities: ['cuda'] }, () => y.neg()).warnings;
  }
  parentPort.postMessage({ reads, warnings });
} else {
  const waitFor = (flag) => {
    while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0, 50);
  };
  (async () => {
    const out = {};
    // 1. the main thread profiles while a Worker runs its own kernels
    const flag = new Int32Array(new SharedArrayBuffer(12));
    const w = new Worker(__filename, { workerData: { flag, mode: 'busy' } });
    const done = new Promise((resolve, reject) => { w.on('message', resolve); w.on('error', reject); });
    waitFor(flag);
    const x = ig.randn([1 << 16], { device: 'cuda' });
    x.relu();
    const p = ig.profiler.profile({ activities: ['cpu', 'cuda'] }, () => {
      for (let i = 0; i < 50; i++) x.relu();
      x.relu().sum().item();
      Atomics.store(flag, 2, 1);  // the Worker now tries to profile too
      const until = Date.now() + 300;
      while (Date.now() < until) x.relu();
    });
    const names = kernelNames(p);
    out.foreign = names.filter((n) => !['act_fwd<relu>', 'reduce<sum>', 'Memcpy DtoH'].includes(n));
    out.relus = names.filter((n) => n === 'act_fwd<relu>').length >= 51;
    out.mainWarnings = p.warnings;
    Atomics.store(flag, 1, 1);
    const msg = await done;
    out.workerRead = msg.reads > 0;
    out.workerWarned = (msg.warnings || []).some((s) => /another thread/.test(s));
    // 2. a Worker that owns the profile is terminated: the main thread can profile afterwards
    const f2 = new Int32Array(new SharedArrayBuffer(12));
    const owner = new Worker(__filename, { workerData: { flag: f2, mode: 'owner' } });
    owner.on('error', () => {});
    waitFor(f2);
    await owner.terminate();
    const after = ig.profiler.profile({ activities: ['cuda'] }, () => x.neg());
    out.after = { names: kernelNames(after), warnings: after.warnings };
    console.log(JSON.stringify(out));
  })().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
