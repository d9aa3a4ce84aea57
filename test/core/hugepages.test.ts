/**
 * CPU blocks of 4 MiB and more are their own mappings, 2 MiB aligned and offered to the kernel as
 * transparent huge pages (native/core/allocator.cpp); IGNIS_CPU_HUGEPAGES=0 gives them back to
 * malloc. Each setting runs in a child process (the switch is read once per process): sizes on both
 * sides of the threshold and of a huge page hold what is written, survive the cache (reuse) and
 * emptyCache (munmap), and with the switch on the process gains huge pages where the kernel offers
 * them (transparent_hugepage/enabled is `always` or `madvise`).
 */
import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const dist = join(root, 'dist', 'index.js');
const MB = 1024 * 1024;

beforeAll(() => {
  if (!existsSync(dist)) {
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  }
});

const CHILD = `
const ig = require(${JSON.stringify(dist)});
const fs = require('fs');
const MB = 1 << 20;
const huge = () => Number((fs.readFileSync('/proc/self/smaps_rollup', 'utf8').match(/AnonHugePages:\\s+(\\d+)/) || [0, 0])[1]);
const before = huge();
const out = { sums: [], reuse: null, hugeKb: 0 };
// element counts: below the 4 MiB threshold, at it, one float past it, 9 MiB and a bit, 16 MiB and a bit
const sizes = [MB - 1, MB, MB + 1, (9 * MB) / 4 + 3, 4 * MB + 5];
const kept = [];
// arange: every element differs, so blocks that overlapped or pages mapped twice would show;
// all blocks stay alive together, then each is read back in full (float64 sums in JS are exact)
for (const n of sizes) kept.push(ig.arange(n, { dtype: 'float32' }));
for (const t of kept) {
  const a = t.toArray();
  let s = 0, bad = 0;
  for (let i = 0; i < a.length; i++) { s += a[i]; if (a[i] !== i) bad++; }
  out.sums.push([a.length, s, bad]);
}
out.hugeKb = huge() - before;
for (const t of kept) t.dispose();
// a block served again from the cache keeps working
const r = ig.full([16 * MB], 3);
out.reuse = r.toArray().reduce((p, v) => p + v, 0);
r.dispose();
ig.emptyCache();
const again = ig.ones([4 * MB]);
out.after = again.toArray().reduce((p, v) => p + v, 0);
process.stdout.write(JSON.stringify(out));
`;

function run(setting: string): { sums: [number, number, number][]; reuse: number; after: number; hugeKb: number } {
  const r = spawnSync(process.execPath, ['-e', CHILD], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, IGNIS_CPU_HUGEPAGES: setting },
  });
  if (r.status !== 0) throw new Error(`child (IGNIS_CPU_HUGEPAGES=${setting}) failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}


function thpOffered(): boolean {
  try {
    return !/\[never\]/.test(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'));
  } catch {
    return false;
  }
}

describe('CPU allocator: huge-page mappings for large blocks', () => {
  for (const setting of ['1', '0']) {
    it(`IGNIS_CPU_HUGEPAGES=${setting}: blocks around the threshold hold their data, reuse and emptyCache work`, () => {
      const o = run(setting);
      expect(o.sums.map((r) => r[0])).toEqual([MB - 1, MB, MB + 1, (9 * MB) / 4 + 3, 4 * MB + 5]);
      for (const [n, s, bad] of o.sums) {
        expect(bad, `elements of arange(${n}) read back wrong`).toBe(0);
        expect(s, `sum of arange(${n})`).toBe((n * (n - 1)) / 2);
      }
      expect(o.reuse).toBe(3 * 16 * MB);
      expect(o.after).toBe(4 * MB);
      if (setting === '0') expect(o.hugeKb).toBe(0);
    }, 60_000);
  }

  it.skipIf(process.platform !== 'linux' || !thpOffered())('with the switch on, the process gets huge pages (the kernel offers THP here)', () => {
    expect(run('1').hugeKb).toBeGreaterThan(0);
  }, 60_000);
});
