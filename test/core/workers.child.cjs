// Run by workers.test.ts in a child process: Ignis on the main thread and in worker_threads at the
// same time. Each thread checks exact results of ops that read the per-thread meta buffer (shapes,
// strides, activation parameters), autograd, and allocations large enough to make the storage
// sweep run; workers are terminated with tensors alive, and the main thread goes on afterwards.
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
  const iters = Number(process.env.ITERS || 300);
  const spawn = (seed, mode) =>
    new Worker(__filename, { workerData: { seed, iters, mode } });
  const done = [1, 2, 3].map((seed) => {
    const w = spawn(seed, 'finish');
    return new Promise((resolve, reject) => {
      w.on('message', resolve);
      w.on('error', reject);
    });
  });
  // these loop until terminated, holding live tensors
  const endless = [4, 5].map((seed) => spawn(seed, 'endless'));
  const mainBad = work(0, iters);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  Promise.all(done)
    .then(async (workerBad) => {
      await Promise.all(endless.map((w) => w.terminate()));
      // terminated in the middle of native calls, again and again: an exception the dying worker
      // cannot take must not abort the process
      for (let round = 0; round < 25; round++) {
        const ws = [6, 7, 8].map((seed) => spawn(seed, 'endless'));
        // once each is in its loop (it says so after its first pass), at a different moment each round
        await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
        await sleep(round % 7);
        await Promise.all(ws.map((w) => w.terminate()));
      }
      // the main thread after the workers are gone: its meta and storages are still its own
      const after = work(7, 50);
      console.log(JSON.stringify({ mainBad, workerBad, after }));
    })
    .catch((e) => {
      console.error(e);
      process.exit(3);
    });
} else {
  const { seed, iters, mode } = workerData;
  if (mode === 'finish') {
    parentPort.postMessage(work(seed, iters));
  } else {
    const keep = [];
    work(seed, 1);
    parentPort.postMessage('running');
    for (;;) {
      work(seed, 5);
      keep.push(ig.randn([1000], { device }));
      if (keep.length > 50) keep.shift();
    }
  }
}
