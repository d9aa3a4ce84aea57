// The README's Profiler example must run as printed (first ```ts block under "## Profiler"),
// importing the package by name from a file inside the checkout, with a scratch cwd and cache.
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

describe('README: Profiler', () => {
  it('example runs as printed', () => {
    const md = readFileSync(join(root, 'README.md'), 'utf8');
    const at = md.indexOf('\n## Profiler');
    expect(at).toBeGreaterThan(0);
    const m = /```ts\n([\s\S]*?)```/.exec(md.slice(at));
    expect(m).not.toBeNull();
    const dir = mkdtempSync(join(root, '.readme-'));
    const cwd = mkdtempSync(join(tmpdir(), 'ignis-readme-'));
    try {
      const file = join(dir, 'profiler-example.mjs');
      writeFileSync(file, m![1]);
      const r = spawnSync(process.execPath, [file], { cwd, encoding: 'utf8', env: { ...process.env, IGNIS_CACHE_DIR: cwd }, timeout: 120000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Name\s+Self CPU %/);
      expect(r.stdout).toMatch(/\bbmm\b/);
      expect(r.stdout).toMatch(/\bforward\b/);
      expect(JSON.parse(readFileSync(join(cwd, 'trace.json'), 'utf8')).traceEvents.length).toBeGreaterThan(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120000);
});
