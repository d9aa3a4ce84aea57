/**
 * Expression activations on CUDA, the parts that need no GPU: the generated CUDA source
 * (structure, determinism, parameters as arguments), the same source compiled as host C++ with g++
 * and run against the CPU interpreter on many inputs (NaN, infinities and overflow included), and
 * NVRTC compiling every generated kernel for sm_80 and sm_90 (plus PTX for an arch NVRTC does not
 * know, and a bad source whose error carries NVRTC's log). The GPU half is test/cuda/expr.test.ts.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { parse } from '../../src/activations/expr';
import { cudaSource, EXPR_KERNELS, MAX_CUDA_PARAMS } from '../../src/activations/expr_cuda';
import { nvrtcCompile } from '../../src/cuda';
import * as K from '../../src/kernels';
import { addon } from '../../src/native';
import { EXPR_CASES, exprGrads, exprInputs } from '../util/expr_cases';

const names: string[] = [];
let counter = 0;
const uniq = (b: string): string => {
  const n = `${b}_exprcuda_${++counter}`;
  names.push(n);
  return n;
};
afterAll(() => names.forEach((n) => ignis.activations.undefine(n)));

describe('CUDA source generation', () => {
  it('is deterministic and independent of the name and the parameter values', () => {
    const a = defineExpr('x * sigmoid(beta * x)', { beta: 1 });
    const b = defineExpr('x * sigmoid(beta * x)', { beta: 2.5 });
    const sa = a.cudaSource(), sb = b.cudaSource();
    expect(sb.source).toBe(sa.source);
    expect(sb.hash).toBe(sa.hash);
    expect(sa.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(cudaSource('other', parse('x * sigmoid(beta * x)', ['beta']), ['beta']).source).toBe(sa.source);
    expect(a.cudaSource()).toBe(sa); // made once per activation
    // a different formula, or another parameter order, is another source
    expect(defineExpr('x * sigmoid(beta * x) + 0', { beta: 1 }).cudaSource().hash).not.toBe(sa.hash);
    const two = cudaSource('t', parse('a * x + b', ['a', 'b']), ['a', 'b']);
    const swapped = cudaSource('t', parse('a * x + b', ['a', 'b']), ['b', 'a']);
    expect(two.hash).not.toBe(swapped.hash);
  });

  it('defines the four kernels, parameters as double arguments, no includes', () => {
    const s = cudaSource('t', parse('alpha * x + sigmoid(beta) * tanh(x)', ['alpha', 'beta']), ['alpha', 'beta']);
    expect(s.params).toEqual(['alpha', 'beta']);
    for (const k of EXPR_KERNELS) expect(s.source).toContain(`IGNIS_EXTERN_C IG_GLOBAL void ${k}(`);
    expect(s.source).toMatch(/ignis_expr_fwd_f32\(float\* yp, const float\* __restrict__ xp, long long n, int vec, double p0, double p1\)/);
    expect(s.source).toMatch(/ignis_expr_bwd_f64\(double\* yp, const double\* __restrict__ xp, const double\* __restrict__ gp, long long n, int vec, double p0, double p1\)/);
    expect(s.source).toContain('ig_fwd<float>(');
    expect(s.source).toContain('ig_bwd<double>(');
    expect(s.source).not.toContain('#include');
    // x-free subexpressions are computed once, in double, then rounded: sigmoid(beta) is a constant
    expect(s.source).toContain('const T k1 = T((ig_sigmoid<double>(p1)));');
    // grid-stride with 16-byte packs and a scalar tail
    expect(s.source).toContain('stride = (long long)blockDim.x * gridDim.x');
    expect(s.source).toContain('ig_pack<T, V>');
    // no parameters: kernels without parameter arguments
    const none = cudaSource('t', parse('x * x', []), []);
    expect(none.source).toContain('ignis_expr_fwd_f32(float* yp, const float* __restrict__ xp, long long n, int vec) {');
  });

  it('shares subexpressions and keeps the CPU program tree (derivative before binding)', () => {
    const s = cudaSource('t', parse('tanh(x) * tanh(x) + tanh(x)', []), []);
    const fwd = s.source.slice(s.source.indexOf('IG_D void ig_fwd'), s.source.indexOf('IG_D void ig_bwd'));
    expect(fwd.match(/tanh\(x\)/g)).toHaveLength(1);
    // a parameter of 0 is not folded away on the CPU either: 0 * inf is NaN on both devices
    const act = defineExpr('x * sigmoid(beta * x)', { beta: 0 });
    const y = act(ignis.tensor([Infinity, 2], { dtype: 'float64' }));
    const v = Array.from(y.dataSync() as Float64Array);
    expect(Number.isNaN(v[0])).toBe(true);
    expect(v[1]).toBe(1);
  });

  it(`refuses more than ${MAX_CUDA_PARAMS} parameters with a ValueError`, () => {
    const ps = Array.from({ length: MAX_CUDA_PARAMS + 1 }, (_, i) => `p${i}`);
    expect(() => cudaSource('many', parse(ps.join(' + ') + ' + x', ps), ps)).toThrow(ignis.ValueError);
    expect(() => cudaSource('many', parse(ps.join(' + ') + ' + x', ps), ps)).toThrow(/many: at most 16 parameters/);
  });
});

function defineExpr(expr: string, params: Record<string, number>) {
  const act = ignis.defineActivation({ name: uniq('e'), expr, params });
  return Object.assign((x: Tensor) => act(x), { cudaSource: () => act.expr!.cudaSource(), ex: act.expr! });
}

// ---- the generated source compiled as host C++ ------------------------------------------------

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}
const haveGxx = which('g++');
if (!haveGxx) console.warn('[ignis] skipping the host-compiled CUDA source test: no g++ on PATH');

const lit = (v: number): string => (Number.isInteger(v) ? `${v}.0` : String(v));

/** One C++ program that runs every case's four kernels (scalar and 16-byte paths) over x and g. */
function harness(cases: { source: string; params: number[] }[]): string {
  let s = `#include <cmath>
#include <cstdio>
#include <cstdlib>
using namespace std;
#define IGNIS_EXTERN_C
#define IG_GLOBAL
#define IG_D inline
struct ig_dim3 { unsigned x; };
static const ig_dim3 blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};
`;
  cases.forEach((c, i) => (s += `namespace e${i} {\n${c.source}\n}\n`));
  s += `
static void put(FILE* o, const float* y, long long n) { for (long long i = 0; i < n; ++i) { double v = y[i]; fwrite(&v, 8, 1, o); } }
static void put(FILE* o, const double* y, long long n) { fwrite(y, 8, size_t(n), o); }
int main(int argc, char** argv) {
  (void)argc;
  FILE* f = fopen(argv[1], "rb");
  long long n = 0;
  if (!f || fread(&n, 8, 1, f) != 1) return 2;
  size_t bytes = (size_t(n) * 8 + 15) / 16 * 16;
  double* xd = (double*)aligned_alloc(16, bytes); double* gd = (double*)aligned_alloc(16, bytes);
  double* yd = (double*)aligned_alloc(16, bytes);
  float* xf = (float*)aligned_alloc(16, bytes); float* gf = (float*)aligned_alloc(16, bytes);
  float* yf = (float*)aligned_alloc(16, bytes);
  if (fread(xd, 8, size_t(n), f) != size_t(n) || fread(gd, 8, size_t(n), f) != size_t(n)) return 3;
  fclose(f);
  for (long long i = 0; i < n; ++i) { xf[i] = float(xd[i]); gf[i] = float(gd[i]); }
  FILE* o = fopen(argv[2], "wb");
`;
  cases.forEach((c, i) => {
    const p = c.params.map((v) => `, ${lit(v)}`).join('');
    s += `  for (int vec = 0; vec < 2; ++vec) {
    e${i}::ignis_expr_fwd_f32(yf, xf, n, vec${p}); put(o, yf, n);
    e${i}::ignis_expr_bwd_f32(yf, xf, gf, n, vec${p}); put(o, yf, n);
    e${i}::ignis_expr_fwd_f64(yd, xd, n, vec${p}); put(o, yd, n);
    e${i}::ignis_expr_bwd_f64(yd, xd, gd, n, vec${p}); put(o, yd, n);
  }
`;
  });
  s += '  fclose(o);\n  return 0;\n}\n';
  return s;
}

function expectSame(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w)) expect(Number.isNaN(g), `${what} [${i}]: want NaN, got ${g}`).toBe(true);
    else if (!Number.isFinite(w)) expect(g, `${what} [${i}]`).toBe(w);
    else if (Math.abs(g - w) > atol + rtol * Math.abs(w)) expect(g, `${what} [${i}] (want ${w})`).toBe(w);
  }
}

(haveGxx ? describe : describe.skip)('the generated CUDA source, compiled as host C++, matches the CPU interpreter' + (haveGxx ? '' : ' [skipped: no g++]'), () => {
  it(`forward and backward, float32 and float64, ${EXPR_CASES.length} expressions, NaN / inf / overflow inputs`, () => {
    const xs = exprInputs();
    const gs = exprGrads(xs.length);
    const acts = EXPR_CASES.map(([e, p]) => ignis.defineActivation({ name: uniq('host'), expr: e, params: p }));
    const cases = acts.map((a, i) => ({ source: a.expr!.cudaSource().source, params: Object.values(EXPR_CASES[i][1]) }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ignis-expr-host-'));
    try {
      fs.writeFileSync(path.join(dir, 'h.cpp'), harness(cases));
      execFileSync('g++', ['-std=c++17', '-O1', '-ffp-contract=off', '-fno-math-errno', '-w', 'h.cpp', '-o', 'h'], { cwd: dir, stdio: 'pipe' });
      const input = new Float64Array(1 + 2 * xs.length);
      new BigInt64Array(input.buffer, 0, 1)[0] = BigInt(xs.length);
      input.set(xs, 1);
      input.set(gs, 1 + xs.length);
      fs.writeFileSync(path.join(dir, 'in.bin'), Buffer.from(input.buffer));
      execFileSync(path.join(dir, 'h'), ['in.bin', 'out.bin'], { cwd: dir, stdio: 'pipe' });
      const buf = fs.readFileSync(path.join(dir, 'out.bin'));
      const out = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
      const n = xs.length;
      expect(out.length).toBe(EXPR_CASES.length * 8 * n);
      EXPR_CASES.forEach(([src, params], i) => {
        const ex = acts[i].expr!;
        const fwd = ex.forwardProgram(params), bwd = ex.backwardProgram(params);
        const part = (k: number) => out.subarray((i * 8 + k) * n, (i * 8 + k + 1) * n);
        ([['float32', 0, 1e-5, 1e-6], ['float64', 2, 1e-12, 1e-12]] as const).forEach(([dtype, k, rtol, atol]) => {
          const x = ignis.tensor(dtype === 'float32' ? Float32Array.from(xs) : Float64Array.from(xs), { dtype });
          const g = ignis.tensor(dtype === 'float32' ? Float32Array.from(gs) : Float64Array.from(gs), { dtype });
          const yf = K.expr(fwd, x, null, 'host').dataSync() as unknown as ArrayLike<number>;
          const yb = K.expr(bwd, x, g, 'host').dataSync() as unknown as ArrayLike<number>;
          expectSame(part(k), yf, rtol, atol, `${src} ${JSON.stringify(params)} forward ${dtype}`);
          expectSame(part(k + 1), yb, rtol, atol, `${src} ${JSON.stringify(params)} backward ${dtype}`);
          // the 16-byte path computes exactly what the scalar path does
          for (const j of [k, k + 1]) expect(Array.from(part(j + 4)), `${src} vec path`).toEqual(Array.from(part(j)));
        });
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---- NVRTC (compile only: no driver, no GPU) ----------------------------------------------------

const nv = ignis.cuda.nvrtc();
if (!nv.available) console.warn(`[ignis] skipping the NVRTC compile tests: ${nv.reason}`);

(nv.available ? describe : describe.skip)(`NVRTC compiles the generated kernels${nv.available ? '' : ` [skipped: ${nv.reason}]`}`, () => {
  it('reports its version and architectures', () => {
    expect(nv.version).toMatch(/^\d+\.\d+$/);
    expect(nv.path).toMatch(/libnvrtc/);
    expect(nv.archs).toContain(80);
    expect(nv.archs).toContain(90);
  });

  it.each(EXPR_CASES.map(([e, p]) => [e, p] as const))('%s %j: cubins for sm_80 and sm_90', (src, params) => {
    const s = cudaSource('nvrtc_test', parse(src, Object.keys(params)), Object.keys(params));
    for (const arch of [80, 90]) {
      const r = addon.nvrtcCompile(s.source, arch, 'nvrtc_test');
      expect(r.target).toBe(`sm_${arch}`);
      expect(r.ptx).toBe(false);
      expect(r.bytes).toBeGreaterThan(1000);
    }
  });

  it('an arch newer than NVRTC knows gets PTX for the newest one it does know; an older one is a DeviceError', () => {
    const s = cudaSource('t', parse('x * sigmoid(x)', []), []);
    const newest = Math.max(...nv.archs);
    const r = addon.nvrtcCompile(s.source, newest + 1, 't');
    expect(r).toMatchObject({ target: `compute_${newest}`, ptx: true });
    expect(r.bytes).toBeGreaterThan(1000);
    let err: unknown;
    try {
      addon.nvrtcCompile(s.source, 20, 'old_gpu_act');
    } catch (e) {
      err = e;
    }
    expect((err as { kind: string }).kind).toBe('DeviceError');
    expect((err as Error).message).toMatch(/old_gpu_act: compute capability 2\.0 is older than NVRTC/);
  });

  it('a source that does not compile is a CompileError carrying NVRTC\'s log', () => {
    const bad = cudaSource('t', parse('x + 1', []), []).source.replace('const T t0 = x + T(1.0);', 'const T t0 = x + undefined_name;');
    let err: unknown;
    try {
      addon.nvrtcCompile(bad, 80, 'my_broken_act');
    } catch (e) {
      err = e;
    }
    expect((err as { kind: string }).kind).toBe('CompileError');
    const msg = (err as Error).message;
    expect(msg).toMatch(/^my_broken_act: NVRTC \d+\.\d+ could not compile the generated kernel for sm_80/);
    expect(msg).toMatch(/identifier "undefined_name" is undefined/); // NVRTC's own words
    // through the JS error classes
    const e2 = (() => {
      try {
        return nvrtcCompile(bad, 80, 'my_broken_act');
      } catch (e) {
        return e;
      }
    })();
    expect(e2).toBeInstanceOf(ignis.CompileError);
  });

  it('without NVRTC: a DeviceError that names the activation and says how to install it', () => {
    const root = path.join(__dirname, '..', '..');
    const r = spawnSync(
      process.execPath,
      ['-e', `const a = require('node-gyp-build')(${JSON.stringify(root)}); try { a.nvrtcCompile('x', 80, 'my_act'); } catch (e) { console.log(e.kind + ': ' + e.message); }`],
      { env: { ...process.env, IGNIS_NVRTC_DISABLE: '1' }, encoding: 'utf8' },
    );
    expect(r.stdout).toMatch(/^DeviceError: my_act: compiling for CUDA needs NVRTC, which cannot be used: NVRTC disabled by the environment/);
    const r2 = spawnSync(
      process.execPath,
      ['-e', `const a = require('node-gyp-build')(${JSON.stringify(root)}); console.log(JSON.stringify(a.nvrtcInfo()));`],
      { env: { ...process.env, IGNIS_NVRTC_PATH: '/nonexistent/libnvrtc.so.13' }, encoding: 'utf8' },
    );
    const info = JSON.parse(r2.stdout);
    expect(info.available).toBe(false);
    expect(info.reason).toMatch(/libnvrtc\.so\.13 not found \(looked in \/nonexistent\/libnvrtc\.so\.13.*pip install nvidia-cuda-nvrtc/);
  });
});
