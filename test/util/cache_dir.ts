import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll } from 'vitest';

/** Points IGNIS_CACHE_DIR at a fresh folder for this test file (restored and removed afterwards). */
export function tempCacheDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const prev = process.env.IGNIS_CACHE_DIR;
  process.env.IGNIS_CACHE_DIR = dir;
  afterAll(() => {
    if (prev === undefined) delete process.env.IGNIS_CACHE_DIR;
    else process.env.IGNIS_CACHE_DIR = prev;
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
