/** Runs the real `ignis` binary (dist/cli/main.js, built by `npm test`'s pretest) in a child process. */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.join(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'dist', 'cli', 'main.js');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'cli');

export function ignis(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeout?: number } = {}): SpawnSyncReturns<string> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  delete env.IGNIS_DEBUG;
  delete env.IGNIS_PROFILE;
  Object.assign(env, opts.env);
  return spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, encoding: 'utf8', env, timeout: opts.timeout ?? 60_000 });
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ignis-${prefix}-`));
}

/** stderr is exactly one line naming the command, with no stack trace. */
export function oneLineError(r: SpawnSyncReturns<string>): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) throw new Error(`expected one stderr line, got ${lines.length}:\n${r.stderr}`);
  if (/\n\s+at /.test(r.stderr)) throw new Error(`stack trace in stderr:\n${r.stderr}`);
  return lines[0];
}
