/**
 * The hot loops are compiled for several ISAs (default, AVX2, AVX-512) and one is picked at run
 * time; IGNIS_CPU_ISA=default forces the portable build. Both must give the same answers. Each
 * ISA needs its own process (the pick happens once), so a small script runs in child processes
 * against the compiled package (dist/, fresh after `npm test`'s pretest `tsc`).
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const dist = join(root, 'dist', 'index.js');

const SCRIPT = `
const ignis = require(${JSON.stringify(dist)});
const n = 4099; // not a multiple of any vector width: exercises the tails
const xs = new Float32Array(n);
for (let i = 0; i < n; i++) xs[i] = -8 + (16 * i) / (n - 1) + 0.001 * Math.sin(i);
const x = ignis.tensor(xs);
const pos = ignis.tensor(xs.map((v) => Math.abs(v) + 0.5));
const m = 37, k = 53, p = 29;
const av = new Float32Array(m * k).map((_, i) => Math.sin(i * 0.37));
const bv = new Float32Array(k * p).map((_, i) => Math.cos(i * 0.11));
const A = ignis.tensor(av, { shape: [m, k] });
const B = ignis.tensor(bv, { shape: [k, p] });
const x64 = x.double();
const out = {
  isa: ignis.backends.cpu.isa,
  exp: Array.from(x.exp().dataSync()),
  sigmoid: Array.from(x.sigmoid().dataSync()),
  tanh: Array.from(x.tanh().dataSync()),
  log: Array.from(pos.log().dataSync()),
  sqrt: Array.from(pos.sqrt().dataSync()),
  add: Array.from(x.add(pos).dataSync()),
  mul: Array.from(x.mul(pos).dataSync()),
  div: Array.from(x.div(pos).dataSync()),
  strided: Array.from(x.reshape([4099]).slice(0, 1, 4099, 3).exp().dataSync()),
  sum: [x.sum().item(), pos.sum().item(), x.reshape([1, 4099]).sum(1).item()],
  mean: [pos.mean().item()],
  amax: [x.amax().item(), x.amin().item()],
  matmul: Array.from(A.matmul(B).dataSync()),
  exp64: Array.from(x64.exp().dataSync()),
  tanh64: Array.from(x64.tanh().dataSync()),
  // softmax family (native/cpu/softmax.cpp, compiled per ISA): rows of 4099 (the tails) and a
  // non-last dim (the column-block path)
  softmax: Array.from(ignis.softmax(x.mul(3).reshape([1, 4099]), 1).dataSync()),
  logSoftmax: Array.from(ignis.logSoftmax(x.mul(3).reshape([1, 4099]), 1).dataSync()),
  softmin: Array.from(ignis.softmin(x.slice(0, 0, 4095).reshape([45, 91]), 0).dataSync()),
};
process.stdout.write(JSON.stringify(out));
`;

let dir = '';
let file = '';
beforeAll(() => {
  if (!existsSync(dist)) {
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  }
  dir = mkdtempSync(join(tmpdir(), 'ignis-isa-'));
  file = join(dir, 'isa.cjs');
  writeFileSync(file, SCRIPT);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runWith(isa: string | undefined): Record<string, unknown> & { isa: string } {
  const env = { ...process.env };
  delete env.IGNIS_CPU_ISA;
  if (isa !== undefined) env.IGNIS_CPU_ISA = isa;
  // the JSON is over 1 MB, spawnSync's default maxBuffer (past it the child is killed with SIGTERM)
  const r = spawnSync(process.execPath, [file], { env, encoding: 'utf8', cwd: root, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`child (IGNIS_CPU_ISA=${isa}) failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function expectClose(name: string, got: number[], want: number[], rel: number, abs: number): void {
  expect(got.length, name).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want[i]) - rel * Math.abs(want[i]);
    if (err > worst) {
      worst = err;
      at = i;
    }
  }
  expect(worst <= abs, `${name}[${at}]: ${got[at]} vs ${want[at]}`).toBe(true);
}

describe('CPU ISA dispatch', () => {
  it('IGNIS_CPU_ISA=default is reported and agrees with the auto-picked ISA', () => {
    const forced = runWith('default');
    const auto = runWith(undefined);
    expect(forced.isa).toBe('default');
    expect(['default', 'avx2', 'avx512']).toContain(auto.isa);
    const F32 = 1e-6;
    for (const k of ['exp', 'sigmoid', 'tanh', 'log', 'sqrt', 'add', 'mul', 'div', 'strided', 'amax'])
      expectClose(k, auto[k] as number[], forced[k] as number[], F32, 1e-7);
    // reductions and matmul may sum in a different order per ISA: float32 rounding differs
    expectClose('sum', auto.sum as number[], forced.sum as number[], 1e-5, 1e-3);
    expectClose('mean', auto.mean as number[], forced.mean as number[], 1e-5, 0);
    expectClose('matmul', auto.matmul as number[], forced.matmul as number[], 1e-5, 1e-5);
    expectClose('exp64', auto.exp64 as number[], forced.exp64 as number[], 1e-12, 1e-300);
    expectClose('tanh64', auto.tanh64 as number[], forced.tanh64 as number[], 1e-12, 1e-15);
    // the row sums may add in a different order per ISA
    for (const k of ['softmax', 'logSoftmax', 'softmin']) expectClose(k, auto[k] as number[], forced[k] as number[], 1e-5, 1e-7);
  }, 300_000);

  it('every ISA this CPU supports can be forced and agrees', () => {
    const base = runWith('default');
    for (const isa of ['avx2', 'avx512']) {
      const r = runWith(isa);
      // an ISA the CPU lacks falls back to the best available one; either way results agree
      expect(['default', 'avx2', 'avx512']).toContain(r.isa);
      expectClose(`${isa} exp`, r.exp as number[], base.exp as number[], 1e-6, 1e-7);
      expectClose(`${isa} tanh`, r.tanh as number[], base.tanh as number[], 1e-6, 1e-7);
      expectClose(`${isa} sigmoid`, r.sigmoid as number[], base.sigmoid as number[], 1e-6, 1e-7);
      for (const k of ['softmax', 'logSoftmax', 'softmin']) expectClose(`${isa} ${k}`, r[k] as number[], base[k] as number[], 1e-5, 1e-7);
    }
  }, 300_000);
});
