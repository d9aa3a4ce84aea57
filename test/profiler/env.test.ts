// IGNIS_PROFILE=1 end to end: a child process runs a small script against dist/ (built by
// `npx tsc -p tsconfig.json`, which `npm test` does first) and prints the table at exit.
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'ignis-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = `
const ig = require(${JSON.stringify(join(root, 'dist', 'index.js'))});
const x = ig.randn([32, 32], { requiresGrad: true });
for (let i = 0; i < 4; i++) ig.profiler.recordFunction('step', () => x.matmul(x).relu().sum().backward());
console.log('done');
`;

function run(env: Record<string, string>) {
  const file = join(dir, 'app.js');
  writeFileSync(file, script);
  return spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', env: { ...process.env, IGNIS_CACHE_DIR: dir, ...env }, timeout: 60000 });
}

describe('IGNIS_PROFILE', () => {
  it('IGNIS_PROFILE=1 prints the table to stderr at exit', () => {
    const r = run({ IGNIS_PROFILE: '1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('done\n');
    expect(r.stderr).toMatch(/ignis profiler \(IGNIS_PROFILE=1\): \d+ events/);
    expect(r.stderr).toMatch(/Name\s+Self CPU %\s+Self CPU\s+CPU total %/);
    expect(r.stderr).toMatch(/\n\s+step\s+\S+%.*\s4\s+\n/);
    expect(r.stderr).toMatch(/\n\s+bmm\s.*\s12\s+\n/); // 4 forward + 8 backward
    expect(r.stderr).toMatch(/relu_backward/);
    expect(r.stderr).toMatch(/Self CPU time total:/);
  }, 60000);

  it('IGNIS_PROFILE=all with a trace file, sort and row limit', () => {
    const trace = join(dir, 'trace.json');
    const r = run({ IGNIS_PROFILE: 'all', IGNIS_PROFILE_TRACE: trace, IGNIS_PROFILE_SORT: 'count', IGNIS_PROFILE_ROWS: '3' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/Total GFLOPs\s+GFLOP\/s\s+GB\/s\s+% peak\s+Input Shapes/);
    expect(r.stderr).toMatch(/cpu peaks [\d.]+ GB\/s, [\d.]+ GFLOP\/s/);
    const lines = r.stderr.split('\n');
    const sep = lines.findIndex((l) => /^-+ {2}-/.test(l));
    expect(lines[sep + 6]).toBe(lines[sep]); // header, separator, 3 rows, separator
    expect(JSON.parse(readFileSync(trace, 'utf8')).traceEvents.length).toBeGreaterThan(10);
  }, 120000);

  it('a worker_threads Worker prints its own table and writes its own trace', () => {
    const trace = join(dir, 'wtrace.json');
    const file = join(dir, 'workers.js');
    writeFileSync(file, `
const { Worker, isMainThread } = require('worker_threads');
const ig = require(${JSON.stringify(join(root, 'dist', 'index.js'))});
if (isMainThread) {
  ig.ones([8]).relu();
  new Worker(__filename).on('exit', () => console.log('done'));
} else {
  ig.ones([8]).sigmoid().sum();
}
`);
    const r = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', env: { ...process.env, IGNIS_CACHE_DIR: dir, IGNIS_PROFILE: '1', IGNIS_PROFILE_TRACE: trace }, timeout: 60000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('done\n');
    const main = r.stderr.match(/ignis profiler \(IGNIS_PROFILE=1\): \d+ events/);
    const worker = r.stderr.match(/ignis profiler \(IGNIS_PROFILE=1\) in worker (\d+): \d+ events/);
    expect(main).not.toBeNull();
    expect(worker).not.toBeNull();
    expect(JSON.parse(readFileSync(trace, 'utf8')).traceEvents.some((e: { name: string }) => e.name === 'relu')).toBe(true);
    const wtrace = JSON.parse(readFileSync(join(dir, `wtrace.worker${worker![1]}.json`), 'utf8'));
    expect(wtrace.traceEvents.some((e: { name: string }) => e.name === 'sigmoid')).toBe(true);
    expect(wtrace.traceEvents.some((e: { name: string }) => e.name === 'relu')).toBe(false);
  }, 60000);

  it('IGNIS_PROFILE unset or 0 prints nothing', () => {
    const r = run({ IGNIS_PROFILE: '0' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  }, 60000);
});
