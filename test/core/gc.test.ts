/**
 * Young-generation collections for native memory (src/gc.ts): a training loop that never calls
 * dispose() gets its step's tensors back at the end of each backward through a scavenge, with no
 * far fewer full mark-compacts than with IGNIS_GC_EVERY_MB=0 (V8 alone); the collector function is
 * borrowed without leaving `gc` in the process's globals or in new vm contexts; a profile shows the
 * collections as events; collections between ops back off while they find the tensors alive.
 * Each case runs in a fresh node (no --expose-gc) on dist/.
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const dist = join(root, 'dist');

beforeAll(() => {
  if (!existsSync(join(dist, 'gc.js'))) {
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  }
});

/** Runs `body` in a fresh node with `ig`, `youngGc` and `addon` in scope; returns its last stdout line as JSON. */
function child(body: string, env: Record<string, string> = {}): Record<string, unknown> {
  const src = `
const ig = require(${JSON.stringify(join(dist, 'index.js'))});
const { youngGc } = require(${JSON.stringify(join(dist, 'gc.js'))});
const { addon } = require(${JSON.stringify(join(dist, 'native.js'))});
const { PerformanceObserver } = require('perf_hooks');
const gcs = { minor: 0, major: 0 };
let since = Infinity; // count the collections from mark() on (entries arrive later, with their start time)
const mark = () => { since = performance.now(); };
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.startTime >= since) e.detail.kind === 1 ? gcs.minor++ : gcs.major++; }).observe({ entryTypes: ['gc'] });
const done = (o) => setTimeout(() => console.log(JSON.stringify({ ...o, gcs })), 20);
${body}`;
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.NODE_OPTIONS;
  if (!('IGNIS_GC_EVERY_MB' in env)) delete e.IGNIS_GC_EVERY_MB;
  const r = spawnSync(process.execPath, ['-e', src], { cwd: root, encoding: 'utf8', env: e, timeout: 110_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
}

// A small MLP training loop: ~6 MB of activations per step, nothing disposed.
const TRAIN = `
ig.manualSeed(0);
const net = new ig.nn.Sequential(new ig.nn.Linear(256, 1024), new ig.nn.ReLU(), new ig.nn.Linear(1024, 1024), new ig.nn.ReLU(), new ig.nn.Linear(1024, 10));
const opt = new ig.optim.SGD(net.parameters(), { lr: 1e-3 });
const x = ig.randn([512, 256]), y = ig.randint(0, 10, [512]);
const lossFn = new ig.nn.CrossEntropyLoss();
const step = () => { opt.zeroGrad(); lossFn.call(net.call(x), y).backward(); opt.step(); };
for (let i = 0; i < 5; i++) step();
mark();
const live0 = addon.memoryStats().liveBytes;
let peak = 0;
for (let i = 0; i < 40; i++) { step(); peak = Math.max(peak, addon.memoryStats().liveBytes); }
`;

describe('young-generation collections (src/gc.ts)', () => {
  it('a training loop without dispose() gets its memory back at each backward, with far fewer full collections than V8 alone', () => {
    const body = `${TRAIN}
done({ runs: youngGc.runs, growthMB: (peak - live0) / 2 ** 20, globalGc: typeof globalThis.gc, ctxGc: require('vm').runInNewContext('typeof gc') });`;
    const on = child(body);
    const off = child(body, { IGNIS_GC_EVERY_MB: '0' });
    expect(on.runs).toBeGreaterThanOrEqual(5); // about one per step's worth of new tensors
    expect(off.runs).toBe(0);
    // the live native memory stays within a step or two of the start (no step garbage piles up)
    expect(on.growthMB as number).toBeLessThan(64);
    // V8 alone answers the external memory with full collections; with the scavenges it has (almost) no reason to
    const majors = (r: Record<string, unknown>) => (r.gcs as { major: number }).major;
    expect(majors(off)).toBeGreaterThan(0);
    expect(majors(on)).toBeLessThan(majors(off));
    // the collector was borrowed, not left behind
    expect(on.globalGc).toBe('undefined');
    expect(on.ctxGc).toBe('undefined');
  }, 120_000);

  it('a profile shows each collection as its own event, inside the op that triggered it', () => {
    const r = child(`
const prof = ig.profiler.profile({}, () => { for (let i = 0; i < 80; i++) ig.ones([256, 1024]).mul(2); });
const gcEvents = prof.events.filter((e) => e.name === '[gc] young collection');
done({ n: gcEvents.length, parents: [...new Set(gcEvents.map((e) => prof.events.find((p) => p.id === e.parentId)?.name))] });`);
    expect(r.n as number).toBeGreaterThanOrEqual(2); // 160 MiB of new tensors
    expect((r.parents as string[]).every((n) => n === 'ones' || n === 'mul')).toBe(true);
  }, 120_000);

  it('a loop that disposes its tensors calls for no collections; one that holds them past 1 GiB gets a full one', () => {
    const r = child(`
for (let i = 0; i < 400; i++) { const a = ig.ones([256, 1024]); const b = a.mul(2); a.dispose(); b.dispose(); } // 800 MiB made, all freed
const disposing = { runs: youngGc.runs, skipped: youngGc.skipped, majors: youngGc.majors };
const keep = [];
for (let i = 0; i < 80; i++) keep.push(ig.empty([4 * 1024 * 1024])); // 1.25 GiB held
done({ disposing, majors: youngGc.majors, majorAt: youngGc.majorAt, held: addon.trackedBytes() });`);
    const d = r.disposing as { runs: number; skipped: number; majors: number };
    expect(d.runs).toBeLessThanOrEqual(1); // at most the first, which sets the baseline
    expect(d.skipped).toBeGreaterThan(10);
    expect(d.majors).toBe(0);
    expect(r.majors).toBe(1); // past 1 GiB held: one full collection, then not again before twice that
    expect(r.majorAt as number).toBeGreaterThanOrEqual(2 * 2 ** 30);
  }, 120_000);

  it("the out-of-memory collection frees forward passes whose graphs were dropped (gc({ type: 'major' }) did not)", () => {
    // a CUDA allocation that fails runs collectForMemory() and retries (kernels.ts): on a GPU, a loop
    // of forward passes with autograd on and no backward (an evaluation loop without noGrad) ran out
    // of device memory because that collection left the dropped graphs alive. The CPU shows the same
    // collection: IGNIS_GC_EVERY_MB=0 keeps Ignis's own collections out of the way.
    const r = child(`
const { collectForMemory } = require(${JSON.stringify(join(dist, 'gc.js'))});
ig.manualSeed(0);
const net = new ig.nn.Sequential(new ig.nn.Conv2d(3, 16, 3, { padding: 1 }), new ig.nn.ReLU(), new ig.nn.MaxPool2d(2), new ig.nn.Flatten(), new ig.nn.Linear(16 * 16 * 16, 10));
const x = ig.randn([32, 3, 32, 32]);
const base = addon.trackedBytes();
let y = null;
for (let i = 0; i < 30; i++) y = net.call(x).sum(); // 30 graphs, the last one kept
const before = addon.trackedBytes();
const freed = collectForMemory();
const after = addon.trackedBytes();
y.backward(); // the kept graph is intact
done({ base, before, after, freed, grad: net.parameters()[0].grad !== null });`, { IGNIS_GC_EVERY_MB: '0' });
    const base = r.base as number, before = r.before as number, after = r.after as number;
    const perGraph = (before - base) / 30;
    expect(perGraph).toBeGreaterThan(1 << 20); // each forward holds its activations while its graph lives
    expect(r.freed).toBe(true);
    expect(after - base).toBeLessThan(3 * perGraph); // what is left: about the kept graph's tensors
    expect(r.grad).toBe(true);
  }, 120_000);

  it('emptyCache() frees the blocks of tensors the GC has collected before emptying the cache', () => {
    const r = child(`
require('v8').setFlagsFromString('--expose-gc');
const gc = require('vm').runInNewContext('gc');
require('v8').setFlagsFromString('--no-expose-gc');
const base = addon.trackedBytes();
(() => { for (let i = 0; i < 8; i++) ig.ones([1024, 1024]); })(); // 32 MiB, dropped
gc(); // the handles are gone; their blocks wait for a sweep
const collected = addon.trackedBytes() - base;
ig.emptyCache();
done({ collected, after: addon.trackedBytes() - base, cached: ig.memory().cpu.cachedBytes });`, { IGNIS_GC_EVERY_MB: '0' });
    expect(r.collected as number).toBeGreaterThanOrEqual(32 * 2 ** 20);
    expect(r.after as number).toBeLessThan(2 ** 20);
    expect(r.cached).toBe(0);
  }, 120_000);

  it('collections between ops back off while the tensors they meet are alive, and come back for garbage', () => {
    const r = child(`
const keep = [];
for (let i = 0; i < 200; i++) keep.push(ig.ones([256, 1024])); // 1 MiB each, all kept
const held = youngGc.backoff;
keep.length = 0;
for (let i = 0; i < 600; i++) ig.ones([256, 1024]).mul(2); // garbage only
done({ held, after: youngGc.backoff });`);
    expect(r.held as number).toBeGreaterThanOrEqual(4);
    expect(r.after).toBe(1);
  }, 120_000);
});
