/**
 * The README's first screen: the PyTorch-to-Ignis snippet runs as printed, and the excerpt of
 * `npx ignis compare --quick` has the shape the command prints.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const md = readFileSync(join(root, 'README.md'), 'utf8');

describe('README first screen', () => {
  it('the Ignis side of "From PyTorch" runs as printed', () => {
    const section = md.slice(md.indexOf('## From PyTorch'));
    const m = /```ts\n([\s\S]*?)```/.exec(section);
    expect(m).not.toBeNull();
    const dir = mkdtempSync(join(root, '.readme-'));
    try {
      const file = join(dir, 'from_pytorch.mjs');
      writeFileSync(file, m![1]);
      const r = spawnSync(process.execPath, [file], { cwd: root, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe('2.35 [ 64 ]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows npm install, npx ignis compare --quick with its output, npm test', () => {
    const first = md.slice(0, md.indexOf('## From PyTorch'));
    expect(first).toMatch(/npm install\nnpx ignis compare --quick .*\nnpm test/);
    const excerpt = /```text\n([\s\S]*?)```/.exec(first)![1];
    expect(excerpt).toMatch(/activation +test acc +best epoch +final loss +steps to 95% +s\/epoch +images\/s +act\. share/);
    for (const a of ['relu', 'leaky_relu', 'elu', 'gelu', 'silu', 'mish']) expect(excerpt).toMatch(new RegExp(`\\n${a} +\\d+\\.\\d\\d% +1 +\\d\\.\\d{4} +\\d+ `));
    expect(excerpt).toMatch(/report: ignis-report\/report\.html/);
  });
});
