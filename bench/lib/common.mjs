// Shared helpers for the Ignis benchmarks: timing with tinybench, the PyTorch peer, machine info.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';

const here = path.dirname(fileURLToPath(import.meta.url));
export const PEER = path.join(here, '..', 'peers', 'torch_peer.py');

/** IGNIS_BENCH_QUICK=1: a smoke run with a handful of iterations (figures are then rough). */
export const QUICK = /^(1|true|yes)$/i.test(process.env.IGNIS_BENCH_QUICK ?? '');

/** Scales a repetition count or a time budget down for a smoke run. */
export function budget(full, quick) {
  return QUICK ? quick : full;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Lets the event loop turn: Node-API finalizers (which free native tensor memory) run in setImmediate. */
export const tick = () => new Promise((r) => setImmediate(r));

/**
 * Times `fn` with tinybench. Each sample calls fn once; fn performs `inner` ops, so the result is
 * seconds per op. `yieldBetween` awaits a macrotask after each sample (untimed), so tensors that
 * died in the previous sample can be freed as they would be in an application whose event loop
 * turns; without it the loop is fully synchronous.
 */
export async function measure(fn, { inner = 1, time = 1000, iterations = 10, warmupTime = 200, warmupIterations = 5, yieldBetween = true } = {}) {
  const bench = new Bench({ time, iterations, warmupTime, warmupIterations, throws: true });
  bench.add('x', fn, yieldBetween ? { afterEach: tick } : {});
  await bench.run();
  const task = bench.tasks[0];
  const r = task.result;
  if (!r || r.error) throw r?.error ?? new Error('benchmark produced no result');
  const samples = r.latency.samples.map((ms) => ms / 1e3 / inner);
  return { median_s: median(samples), samples: samples.length, inner };
}

/**
 * Times `a` and `b` alternately, one sample of each in turn (a, b, a, b, …), for at least
 * `iterations` pairs and `time` ms, after `warmupIterations` untimed pairs; returns
 * {a: {median_s, samples}, b: {median_s, samples}}. For a figure that is held against another one
 * measured in the same process (an activation against the copy roofline): drift in the machine's
 * memory bandwidth over the seconds of a measurement then hits both alike.
 */
export async function measureAlternating(a, b, { time = 1000, iterations = 10, warmupIterations = 5 } = {}) {
  const ta = [];
  const tb = [];
  const once = (fn, into) => {
    const t0 = process.hrtime.bigint();
    fn();
    into?.push(Number(process.hrtime.bigint() - t0) / 1e9);
  };
  for (let i = 0; i < warmupIterations; i++) {
    once(a);
    once(b);
    await tick();
  }
  const start = performance.now();
  while (ta.length < iterations || performance.now() - start < time) {
    once(a, ta);
    await tick();
    once(b, tb);
    await tick();
  }
  return { a: { median_s: median(ta), samples: ta.length }, b: { median_s: median(tb), samples: tb.length } };
}

let torchInfo;
/** {version} if python3 can import torch, else null (checked once). */
export function torchAvailable() {
  if (torchInfo !== undefined) return torchInfo;
  const r = spawnSync('python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  torchInfo = r.status === 0 ? { version: r.stdout.trim() } : null;
  return torchInfo;
}

/** Runs bench/peers/torch_peer.py; returns its JSON (median_s per op) or null when torch is missing. */
export function torchPeer(name, { sizes = {}, threads, reps = 50, warmup = 5, inner = 1 } = {}) {
  if (!torchAvailable()) return null;
  const args = [PEER, name, '--threads', String(threads), '--reps', String(reps), '--warmup', String(warmup), '--inner', String(inner)];
  for (const [k, v] of Object.entries(sizes)) args.push('--size', `${k}=${v}`);
  const r = spawnSync('python3', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`torch peer ${name} failed (${r.status}): ${r.stderr || r.stdout}`);
  const out = JSON.parse(r.stdout);
  delete out.samples_s;
  return out;
}

export function machine() {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m);
    if (m) model = m[1].trim();
  } catch {
    /* not Linux */
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return { cpu: model, cores, os: `${os.type()} ${os.release()}`, node: process.version, loadavg1: Number(os.loadavg()[0].toFixed(2)) };
}
