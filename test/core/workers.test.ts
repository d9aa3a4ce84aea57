/**
 * Ignis in worker_threads: the main thread and each Worker load their own copy, with their own
 * Node-API env and meta buffer, and call into the one native library at the same time. Run in a
 * child process (workers.child.cjs) so that a crash is a failed test, not a lost test runner:
 * exact results on every thread at once, workers terminated in the middle of native calls, and the
 * main thread still right after they are gone.
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const dist = join(root, 'dist', 'index.js');

beforeAll(() => {
  if (!existsSync(dist)) {
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  }
});

describe('worker_threads', () => {
  it('main thread and workers compute at once; terminated workers take nothing down', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', join(__dirname, 'workers.child.cjs')], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, IGNIS_DIST: dist, ITERS: '300' },
      timeout: 110_000,
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
    expect(out).toEqual({ mainBad: 0, workerBad: [0, 0, 0], endlessBad: 0, after: 0, leaked: { tensors: 0, bytes: 0 } });
  }, 120_000);

  it('setNumThreads belongs to the calling thread', () => {
    const child = `
const { Worker } = require('node:worker_threads');
const ig = require(${JSON.stringify(dist)});
const all = ig.getNumThreads();
ig.setNumThreads(1);
const bad = [0, 1.5, -2, NaN, '2'].filter((n) => { try { ig.setNumThreads(n); return true; } catch (e) { return !(e instanceof ig.ValueError); } });
const w = new Worker(\`
  const { parentPort } = require('node:worker_threads');
  const ig = require(${JSON.stringify(dist)});
  const seen = ig.getNumThreads();
  ig.setNumThreads(3);
  parentPort.postMessage([seen, ig.getNumThreads(), ig.arange(100000).sum().item()]);
\`, { eval: true });
w.on('message', ([seen, set, sum]) => {
  console.log(JSON.stringify({ all, main: ig.getNumThreads(), seen, set, sum, bad: bad.length }));
  w.terminate();
});
`;
    const r = spawnSync(process.execPath, ['-e', child], { cwd: root, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' }, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
    // the Worker starts from the default, not the main thread's 1; its 3 does not reach the main thread
    expect(out).toEqual({ all: 2, main: 1, seen: 2, set: 3, sum: (99999 * 100000) / 2, bad: 0 });
  }, 70_000);
});
