// Run by workers.test.ts in a child process: Ignis on the main thread and in worker_threads at the
// same time. Each thread checks exact results of ops that read the per-thread meta buffer (shapes,
// strides, activation parameters), autograd, and allocations large enough to make the storage
// sweep run; workers are terminated with tensors alive (leaving none behind), and the main thread
// goes on afterwards. Run with --expose-gc.
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const ig = require(process.env.IGNIS_DIST);
const device = process.env.IGNIS_DEVICE || 'cpu';  // 'cuda': the CUDA library's lock and shared state

function work(seed, iters) {
  let bad = 0;
  for (let i = 0; i < iters; i++) {
    const n = 257 + ((seed * 31 + i) % 200);
    const a = ig.arange(n, { dtype: 'float64', device });
    // sum over k of (2k + seed) = n(n-1) + n*seed
    if (a.mul(2).add(seed).sum().item() !== n * (n - 1) + n * seed) bad++;
    // leaky_relu with a per-thread slope: the parameter travels in meta
    const slope = 0.01 * (seed + 1);
    const y = ig.F.leakyRelu(a.sub(n), slope).sum().item();
    let want = 0;
    for (let k = 0; k < n; k++) want += (k - n) * slope;
    if (Math.abs(y - want) > 1e-9 * Math.abs(want)) bad++;
    // a transposed (strided) view: strides travel in meta
    const m = ig.arange(6 * n, { dtype: 'float32', device }).reshape([6, n]).transpose(0, 1).contiguous();
    if (m.shape[0] !== n || m.select(0, 3).select(0, 5).item() !== 5 * n + 3) bad++;
    // oneDNN (conv, matmul, behind their own locks) and softmax: all-ones inputs give exact sums
    const c = ig.F.conv2d(ig.ones([1, 2, 5, 5], { device }), ig.ones([3, 2, 3, 3], { device }));
    if (c.sum().item() !== 3 * 9 * 18) bad++;
    if (ig.ones([4, 5], { device }).matmul(ig.ones([5, 6], { device })).sum().item() !== 4 * 6 * 5) bad++;
    if (Math.abs(ig.softmax(ig.arange(n, { dtype: 'float64', device }), 0).sum().item() - 1) > 1e-12) bad++;
    // autograd
    const x = ig.tensor([seed + 1, 2, 3], { dtype: 'float64', requiresGrad: true, device });
    x.mul(x).sum().backward();
    const g = x.grad.toArray();
    if (g[0] !== 2 * (seed + 1) || g[2] !== 6) bad++;
    // 8 MiB blocks: the tracked-bytes sweep runs every few iterations
    if (i % 10 === 0) {
      const big = ig.full([2 * 1024 * 1024], seed, { dtype: 'float32', device });
      if (big.sum().item() !== seed * 2 * 1024 * 1024) bad++;
    }
  }
  return bad;
}

if (isMainThread) {
  const { addon } = require(require('node:path').join(require('node:path').dirname(process.env.IGNIS_DIST), 'native.js'));
  const iters = Number(process.env.ITERS || 300);
  const spawn = (seed, mode) => new Worker(__filename, { workerData: { seed, iters, mode } });
  // a worker's report: 'running' once it is in its loop, then (mode 'finish') its count of bad
  // results; `exited` once its thread is gone (its env's cleanup, which frees its storages, done)
  const reports = (w) => {
    const running = new Promise((resolve) => w.once('message', resolve));
    const exited = new Promise((resolve) => w.once('exit', resolve));
    const result = new Promise((resolve, reject) => {
      w.on('message', (m) => m !== 'running' && resolve(m));
      w.on('error', reject);
      w.on('exit', (code) => reject(new Error(`worker exited (${code}) before reporting`)));
    });
    return { running, result, exited };
  };
  // CPU memory is process-wide: with the GC run and collected handles swept, what is left is live
  const settled = () => {
    global.gc();
    addon.sweepGarbage();
    const m = ig.memory().cpu;
    return { tensors: m.tensors, bytes: m.bytes + (device === 'cuda' ? ig.cuda.memoryAllocated() : 0) };
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  (async () => {
    const finish = [1, 2, 3].map((seed) => reports(spawn(seed, 'finish')));
    // these loop until terminated, holding live tensors, and report any bad result they see
    let endlessBad = 0;
    const endless = [4, 5].map((seed) => {
      const w = spawn(seed, 'endless');
      w.on('message', (m) => { if (typeof m === 'number') endlessBad += m; });
      return w;
    });
    // start once every worker computes, so that all five run alongside the main thread
    await Promise.all([...finish.map((r) => r.running), ...endless.map((w) => new Promise((r) => w.once('message', r)))]);
    const mainBad = work(0, iters);
    const workerBad = await Promise.all(finish.map((r) => r.result));
    await Promise.all(endless.map((w) => w.terminate()));
    // the finishing workers end on their own after their report: the memory they still hold until
    // then is process-wide, so `before` waits for them (with 16 cores one could still be exiting)
    await Promise.all(finish.map((r) => r.exited));
    // terminated in the middle of native calls, again and again: an exception the dying worker
    // cannot take must not abort the process, nor leave its storages behind
    const before = settled();
    const rounds = Number(process.env.ROUNDS || 25);
    for (let round = 0; round < rounds; round++) {
      const ws = [6, 7, 8].map((seed) => spawn(seed, 'endless'));
      // once each is in its loop (it says so after its first pass), at a different moment each round
      await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
      await sleep(round % 7);
      await Promise.all(ws.map((w) => w.terminate()));
    }
    const left = settled();
    // the main thread after the workers are gone: its meta and storages are still its own
    const after = work(7, 50);
    console.log(JSON.stringify({ mainBad, workerBad, endlessBad, after, leaked: { tensors: left.tensors - before.tensors, bytes: left.bytes - before.bytes } }));
  })().catch((e) => {
    console.error(e);
    process.exit(3);
  });
} else {
  const { seed, iters, mode } = workerData;
  if (mode === 'finish') {
    work(seed, 1);
    parentPort.postMessage('running');
    parentPort.postMessage(work(seed, iters));
  } else {
    const keep = [];
    const first = work(seed, 1);
    parentPort.postMessage('running');
    if (first) parentPort.postMessage(first);
    for (;;) {
      const bad = work(seed, 5);
      if (bad) parentPort.postMessage(bad);
      keep.push(ig.randn([1000], { device }));
      if (keep.length > 50) keep.shift();
    }
  }
}
