#!/usr/bin/env node
// Ignis benchmark harness.
//
//   node --expose-gc bench/run.mjs [filter ...] [--json out.json] [--threads N] [--rounds R] [--no-torch] [--in-process]
//
// Each benchmark alternates Ignis and PyTorch measurements for R rounds (default 3, 1 with
// IGNIS_BENCH_QUICK) and reports the median of the per-round medians, so that a burst of load from
// other processes on a shared machine hits both columns alike rather than one of them; the ratio is
// the median of the per-round ratios (each Ignis round against the PyTorch round right after it).
// Both sides start from a fresh process every round: the PyTorch peer is one python3 run per round,
// and each Ignis round is this script again in a child node process (`--child FILE NAME`) that
// times that one benchmark. A memory-bound kernel's speed on a shared VM depends on which physical
// pages its buffers land on, so one long-lived process would carry its first placement through
// every row while the peer draws a new one each round. `--in-process` times Ignis in this process
// instead (faster to run; for profiling the harness itself).
// A benchmark's `ignis()` may return extra figures beside median_s/samples (the activations bench
// returns the copy bandwidth it measured next to a cheap row); they are kept per round, and a
// target's `met(value, ratio, ctx)` and `text(ctx)` see them with the rows measured so far
// (ctx = {row, results}), so no benchmark has to keep state across rows.
// Runs every bench/kernels/*.bench.mjs (or those whose file or benchmark name contains one of the
// filters), each benchmark first in Ignis and then in PyTorch CPU (bench/peers/torch_peer.py, same
// thread count), and prints: benchmark, Ignis figure, PyTorch figure, ratio (>1 = Ignis better:
// Ignis/PyTorch for throughput, PyTorch/Ignis for latency), target. The PyTorch column is left out
// when python3 cannot import torch. IGNIS_BENCH_QUICK=1 runs a few iterations only (smoke test).
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const kdir = path.join(here, 'kernels');

// Child mode: time one benchmark of one file in this fresh process, print its result as JSON.
if (process.argv[2] === '--child') {
  const [file, name] = process.argv.slice(3);
  const mod = await import(pathToFileURL(path.join(kdir, file)).href);
  const b = mod.benchmarks.find((x) => x.name === name);
  if (!b) throw new Error(`bench child: no benchmark '${name}' in ${file}`);
  globalThis.gc?.();
  const res = await b.ignis();
  process.stdout.write(`\n${JSON.stringify(res)}\n`);
  process.exit(0);
}

function parseArgs(argv) {
  const o = { filters: [], json: null, threads: null, torch: true, rounds: null, fresh: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = argv[++i];
    else if (a.startsWith('--json=')) o.json = a.slice(7);
    else if (a === '--threads') o.threads = Number(argv[++i]);
    else if (a.startsWith('--threads=')) o.threads = Number(a.slice(10));
    else if (a === '--no-torch') o.torch = false;
    else if (a === '--in-process') o.fresh = false;
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a.startsWith('--rounds=')) o.rounds = Number(a.slice(9));
    else if (a === '-h' || a === '--help') {
      console.log('usage: node --expose-gc bench/run.mjs [filter ...] [--json out.json] [--threads N] [--rounds R] [--no-torch] [--in-process]');
      process.exit(0);
    } else o.filters.push(a);
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const { machine, median, torchAvailable, torchPeer, QUICK } = await import('./lib/common.mjs');
const mach = machine();
const threads = opts.threads || mach.cores;
// Ignis runs its kernels on OpenMP threads (oneDNN too); the runtime reads this when it loads,
// which happens when the first bench file imports dist/, i.e. after this line.
process.env.OMP_NUM_THREADS ??= String(threads);
const torch = opts.torch ? torchAvailable() : null;
const rounds = opts.rounds || (QUICK ? 1 : 3);

const files = readdirSync(kdir).filter((f) => f.endsWith('.bench.mjs')).sort();
const match = (s) => opts.filters.length === 0 || opts.filters.some((f) => s.toLowerCase().includes(f.toLowerCase()));

const date = new Date().toISOString();
const results = [];
let headerDone = false;
let backends = {};

console.log(`machine: ${mach.cpu}, ${mach.cores} cores, ${mach.os}, node ${mach.node}`);
if (mach.loadavg1 > 0.25 * mach.cores)
  console.log(`warning: load average ${mach.loadavg1} on ${mach.cores} cores: other processes compete for the CPU, figures will be noisy`);
console.log(`date: ${date}, ${rounds} round(s) per benchmark, Ignis ${opts.fresh ? 'in a fresh process per round' : 'in this process'}${QUICK ? '  (IGNIS_BENCH_QUICK: smoke run, figures are rough)' : ''}`);

/** One Ignis round of benchmark b (of file f): in a fresh child process, or here with --in-process. */
async function ignisRound(f, b) {
  if (!opts.fresh) {
    globalThis.gc?.();
    return b.ignis();
  }
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', f, b.name], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`bench child for '${b.name}' failed (${r.status}): ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

for (const f of files) {
  const mod = await import(pathToFileURL(path.join(kdir, f)).href);
  const list = mod.benchmarks.filter((b) => match(f) || match(b.name));
  if (!list.length) continue;
  backends = { ...backends, ...(mod.backendInfo?.() ?? {}) };
  console.log(`\n[${mod.family ?? f}] ${mod.title ?? ''}  (ignis threads ${backends.ignis?.threads ?? '?'}, torch ${torch ? `${torch.version} threads ${threads}` : 'absent'})`);
  headerDone = false;
  for (const b of list) {
    const igRounds = [];
    const igExtra = [];
    const ptRounds = [];
    let igSamples = 0;
    let ptSamples = 0;
    for (let r = 0; r < rounds; r++) {
      const { median_s, samples, inner, ...extra } = await ignisRound(f, b);
      igRounds.push(median_s);
      igSamples += samples;
      if (Object.keys(extra).length) igExtra.push(extra);
      if (torch && b.peer) {
        const pt = torchPeer(b.peer.name, { ...b.peer, threads });
        ptRounds.push(pt.median_s);
        ptSamples += pt.reps;
      }
    }
    const igMed = median(igRounds);
    const ptMed = ptRounds.length ? median(ptRounds) : null;
    const igFig = b.figure(igMed);
    const ptFig = ptMed === null ? null : b.figure(ptMed);
    // The ratio pairs each Ignis round with the PyTorch round measured right after it (median of the
    // per-round ratios): the machine's speed drifts over the minutes a row takes (memory bandwidth
    // on these VMs moves by 30% and more), and a pair shares its moment. ratio_of_medians (the two
    // columns divided) is kept in the JSON beside it.
    const roundRatio = (ig, pt) => (b.better === 'lower' ? b.figure(pt) / b.figure(ig) : b.figure(ig) / b.figure(pt));
    let ratio = null;
    let ratioOfMedians = null;
    if (ptFig !== null) {
      ratioOfMedians = b.better === 'lower' ? ptFig / igFig : igFig / ptFig;
      ratio = median(igRounds.map((t, i) => roundRatio(t, ptRounds[i])));
    }
    const row = {
      family: mod.family ?? f,
      file: f,
      name: b.name,
      unit: b.unit,
      better: b.better,
      ignis: igFig,
      ignis_median_s: igMed,
      ignis_rounds: igRounds.map(b.figure),
      ignis_samples: igSamples,
      ...(igExtra.length ? { ignis_extra: igExtra } : {}),
      torch: ptFig,
      torch_median_s: ptMed,
      torch_rounds: ptRounds.map(b.figure),
      torch_samples: ptSamples || null,
      ratio,
      ratio_of_medians: ratioOfMedians,
    };
    const ctx = { row, results };
    row.target = typeof b.target?.text === 'function' ? b.target.text(ctx) : b.target?.text ?? null;
    row.met = null;
    if (b.target?.met) row.met = b.target.met(igFig, ratio, ctx);
    else if (b.target?.ratio !== undefined && ratio !== null) row.met = ratio >= b.target.ratio;
    results.push(row);
    printRow(row);
  }
}

function fmt(v) {
  if (v === null || v === undefined) return '—';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

function printRow(r) {
  const cols = torch ? [46, 16, 16, 8, 18, 5] : [46, 16, 18, 5];
  const cells = (arr) => arr.map((c, i) => String(c).padEnd(cols[i])).join(' ');
  if (!headerDone) {
    console.log(cells(torch ? ['benchmark', 'Ignis', 'PyTorch', 'ratio', 'target', 'met'] : ['benchmark', 'Ignis', 'target', 'met']));
    headerDone = true;
  }
  const met = r.met === null ? '' : r.met ? 'yes' : 'NO';
  const ig = `${fmt(r.ignis)} ${r.unit}`;
  const pt = r.torch === null ? '—' : `${fmt(r.torch)} ${r.unit}`;
  console.log(cells(torch ? [r.name, ig, pt, r.ratio === null ? '—' : `${fmt(r.ratio)}×`, r.target ?? '', met] : [r.name, ig, r.target ?? '', met]));
}

if (!results.length) console.log(`no benchmark matches ${opts.filters.join(', ')}`);

if (opts.json) {
  const out = {
    date,
    quick: QUICK,
    machine: { ...mach, threads },
    rounds,
    ignis: backends.ignis ?? null,
    torch: torch ? { version: torch.version, threads } : null,
    results,
  };
  mkdirSync(path.dirname(path.resolve(opts.json)), { recursive: true });
  writeFileSync(opts.json, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${opts.json}`);
}
