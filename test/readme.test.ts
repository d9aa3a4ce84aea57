// The README's example must run exactly as printed: extract the first ```ts block under
// "## Example" and run it with node as an ES module importing the package by name ('ignis'
// resolves to this checkout through package.json "exports").
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');

describe('README', () => {
  it('example runs as printed', () => {
    const md = readFileSync(join(root, 'README.md'), 'utf8');
    const section = md.slice(md.indexOf('## Example'));
    const m = /```ts\n([\s\S]*?)```/.exec(section);
    expect(m).not.toBeNull();
    const dir = mkdtempSync(join(root, '.readme-'));
    try {
      const file = join(dir, 'example.mjs');
      writeFileSync(file, m![1]);
      const r = spawnSync(process.execPath, [file], { cwd: root, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('true [ 3, 2 ]');
      expect(r.stdout).toContain('tensor([1., 1.], shape=[2], dtype=float32, device=cpu)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
