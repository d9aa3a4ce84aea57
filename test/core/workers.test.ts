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
    const r = spawnSync(process.execPath, [join(__dirname, 'workers.child.cjs')], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, IGNIS_DIST: dist, ITERS: '300' },
      timeout: 110_000,
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
    expect(out).toEqual({ mainBad: 0, workerBad: [0, 0, 0], after: 0 });
  }, 120_000);
});
