// The README's Profiler examples must run as printed (the ```ts blocks under "## Profiler"),
// importing the package by name from a file inside the checkout, with a scratch cwd and cache.
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

/** The n-th ```ts block under "## Profiler", run as printed in a scratch cwd; returns what it printed and the cwd. */
function runBlock(n: number, check: (r: { stdout: string; stderr: string; status: number | null }, cwd: string) => void): void {
  const md = readFileSync(join(root, 'README.md'), 'utf8');
  const at = md.indexOf('\n## Profiler');
  expect(at).toBeGreaterThan(0);
  const blocks = [...md.slice(at, md.indexOf('\n## ', at + 5)).matchAll(/```ts\n([\s\S]*?)```/g)];
  expect(blocks.length).toBeGreaterThan(n);
  const dir = mkdtempSync(join(root, '.readme-'));
  const cwd = mkdtempSync(join(tmpdir(), 'ignis-readme-'));
  try {
    const file = join(dir, 'profiler-example.mjs');
    writeFileSync(file, blocks[n][1]);
    const r = spawnSync(process.execPath, [file], { cwd, encoding: 'utf8', env: { ...process.env, IGNIS_CACHE_DIR: cwd }, timeout: 120000 });
    check(r, cwd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
}

describe('README: Profiler', () => {
  it('example runs as printed', () => {
    runBlock(0, (r, cwd) => {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Name\s+Self CPU %/);
      expect(r.stdout).toMatch(/\bbmm\b/);
      expect(r.stdout).toMatch(/\bforward\b/);
      expect(JSON.parse(readFileSync(join(cwd, 'trace.json'), 'utf8')).traceEvents.length).toBeGreaterThan(5);
    });
  }, 120000);

  it('the schedule example runs as printed: two cycles, two trace files, the last cycle in the table', () => {
    runBlock(1, (r, cwd) => {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^\s+ProfilerStep\*\s.*\s3\s*$/m); // 3 active steps
      expect(r.stdout).toMatch(/\blinear\b/);
      const files = readdirSync(join(cwd, 'log'));
      expect(files.length).toBe(2);
      for (const f of files) expect(f).toMatch(/\.pt\.trace\.json$/);
    });
  }, 120000);
});
