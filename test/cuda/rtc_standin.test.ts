/**
 * The expression activations' CUDA path end to end WITHOUT a GPU: a stand-in CUDA backend (C,
 * built here against native/cuda/api.h; "device" memory is host memory) is loaded by the real
 * loader, and its rtc_load / rtc_launch check what the addon hands them (a real NVRTC cubin for
 * the stand-in's sm_80, the kernel names, the launch geometry and argument list) and then run the
 * same generated source compiled as host C++. So define.ts -> kernels.ts -> rtcExprLoad (NVRTC,
 * caches) -> rtcExpr (operands, alignment, parameters) -> autograd is checked against the CPU
 * interpreter; only the CUDA runtime calls themselves (native/cuda/rtc.cpp) need the GPU run.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { parse } from '../../src/activations/expr';
import { cudaSource } from '../../src/activations/expr_cuda';

const root = path.resolve(__dirname, '../..');
const dist = path.join(root, 'dist/index.js');
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const nv = ignis.cuda.nvrtc();
const why = !has('cc') || !has('g++') ? 'no C/C++ compiler' : !nv.available ? nv.reason : !fs.existsSync(dist) ? 'dist/ not built (npx tsc)' : '';
if (why) console.warn(`[ignis] skipping the stand-in CUDA backend test: ${why}`);

const EXPR = 'x > 0 ? x * tanh(softplus(a * x)) : expm1(x) * b';
const PARAMS = { a: 1.5, b: 0.75 };

// The api.h table over host memory; rtc_* dispatch to the host-compiled generated kernels.
const STANDIN = String.raw`
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "native/cuda/api.h"
static const char* kind = ""; static char msg[512];
static int fail(const char* m) { kind = "DeviceError"; snprintf(msg, sizeof msg, "stand-in: %s", m); return 1; }
static const char* ek(void) { return kind; }
static const char* em(void) { return msg; }
static int ok0(void) { return 0; }
static const char* vers(void) { return "stand-in"; }
static int count(int* n) { *n = 1; return 0; }
static int props(int dev, IgnisCudaProps* p) { memset(p, 0, sizeof *p); strcpy(p->name, "stand-in"); p->major = 8; p->minor = 0; return dev == 0 ? 0 : fail("no such device"); }
static int sync_(int dev) { (void)dev; return 0; }
static int mal(int dev, size_t n, void** out) { (void)dev; *out = aligned_alloc(256, (n + 255) / 256 * 256 + 256); return *out ? 0 : fail("oom"); }
static void fre(int dev, void* p, size_t n) { (void)dev; (void)n; free(p); }
static int cp(int dev, void* d, const void* s, size_t n) { (void)dev; memcpy(d, s, n); return 0; }
static int unimpl(void) { return fail("not implemented in the stand-in"); }
static FILE* logf_;
static void* host;  /* the generated source compiled as host C++ */
static int rtc_load(int dev, const void* image, size_t nbytes, int nk, const char* const* names, void** kernels) {
  if (!host && !(host = dlopen(getenv("STANDIN_KERNELS"), RTLD_NOW))) return fail(dlerror());
  fprintf(logf_, "load dev=%d bytes=%zu elf=%d nk=%d\n", dev, nbytes, nbytes > 4 && !memcmp(image, "\x7f" "ELF", 4), nk);
  for (int i = 0; i < nk; ++i) {
    if (!(kernels[i] = dlsym(host, names[i]))) return fail("kernel not found");
    fprintf(logf_, "kernel %s\n", names[i]);
  }
  return 0;
}
typedef void (*F2)(void*, void*, long long, int, double, double);
typedef void (*B2)(void*, void*, void*, long long, int, double, double);
static int rtc_launch(int dev, void* k, long long n, int per, void** a) {
  Dl_info di; dladdr(k, &di);
  int bwd = strstr(di.dli_sname, "bwd") != NULL;
  void* y = *(void**)a[0]; void* x = *(void**)a[1];
  if (bwd) {
    long long nn = *(long long*)a[3]; int vec = *(int*)a[4];
    fprintf(logf_, "launch %s dev=%d n=%lld per=%d nn=%lld vec=%d p=%g,%g\n", di.dli_sname, dev, n, per, nn, vec, *(double*)a[5], *(double*)a[6]);
    ((B2)k)(y, x, *(void**)a[2], nn, vec, *(double*)a[5], *(double*)a[6]);
  } else {
    long long nn = *(long long*)a[2]; int vec = *(int*)a[3];
    fprintf(logf_, "launch %s dev=%d n=%lld per=%d nn=%lld vec=%d p=%g,%g\n", di.dli_sname, dev, n, per, nn, vec, *(double*)a[4], *(double*)a[5]);
    ((F2)k)(y, x, nn, vec, *(double*)a[4], *(double*)a[5]);
  }
  fflush(logf_);
  return 0;
}
#define U(f) a.f = (__typeof__(a.f))unimpl
const IgnisCudaApi* ignis_cuda_api(void) {
  static IgnisCudaApi a;
  if (a.abi) return &a;
  logf_ = fopen(getenv("STANDIN_LOG"), "w");
  a.abi = IGNIS_CUDA_ABI_VERSION; a.table_size = sizeof a;
  a.error_kind = ek; a.error_message = em; a.init = ok0; a.versions = vers; a.device_count = count;
  a.device_props = props; a.synchronize = sync_; a.malloc = mal; a.free = fre; a.h2d = cp; a.d2h = cp; a.d2d = cp;
  U(memory_stats); U(reset_peak); U(empty_cache); U(set_memory_limit); U(read_start); U(read_poll);
  a.read_cancel = (__typeof__(a.read_cancel))unimpl; a.manual_seed = (__typeof__(a.manual_seed))unimpl;
  a.set_flags = (__typeof__(a.set_flags))unimpl;
  U(unary); U(binary); U(where); U(copy); U(act_fwd); U(act_bwd); U(reduce); U(bmm); U(conv_fwd); U(conv_bwd_data);
  U(conv_bwd_filter); U(bias_act); U(optim_step); U(gather); U(scatter); U(pool_fwd); U(pool_bwd); U(bn_fwd); U(bn_bwd);
  U(random);
  a.rtc_load = rtc_load; a.rtc_launch = (__typeof__(a.rtc_launch))rtc_launch;
  return &a;
}
`;

const HOST_PRELUDE = `#include <cmath>
using namespace std;
#define IG_GLOBAL
#define IG_D inline
struct ig_dim3 { unsigned x; };
static const ig_dim3 blockIdx = {0}, threadIdx = {0}, blockDim = {1}, gridDim = {1};
`;

// the child: CPU vs stand-in "CUDA" for both dtypes, forward, autograd backward, unaligned view
const CHILD = `
const ig = require(${JSON.stringify(dist)});
const enc = (t) => Array.from(t.cpu().dataSync(), String);
const act = ig.defineActivation({ name: 'standin_act', expr: ${JSON.stringify(EXPR)}, params: ${JSON.stringify(PARAMS)} });
const xs = [NaN, Infinity, -Infinity, 0, -0, 1e30, -1e30, 88.8, -88.8];
for (let i = 0; i < 40; i++) xs.push(-5 + i / 4 + 0.01);
const gs = xs.map((_, i) => Math.cos(i));
const out = { available: ig.cuda.isAvailable(), reason: ig.cuda.unavailableReason() };
for (const dtype of ['float32', 'float64']) {
  const x = ig.tensor(xs, { dtype }), g = ig.tensor(gs, { dtype });
  const xg = x.cuda().requiresGrad_();
  const y = act(xg);
  y.backward(g.cuda());
  const xc = x.clone().requiresGrad_();
  act(xc).backward(g);
  out[dtype] = {
    device: y.device, fwd: enc(y), fwdCpu: enc(act(x)), bwd: enc(xg.grad), bwdCpu: enc(xc.grad),
    p2: enc(act(x.cuda(), { a: -2, b: 3 })), p2Cpu: enc(act(x, { a: -2, b: 3 })),
    unaligned: enc(act(x.cuda().narrow(0, 1, xs.length - 1))), unalignedCpu: enc(act(x.narrow(0, 1, xs.length - 1))),
  };
}
out.stats = ig.cuda.kernelCacheStats();
process.stdout.write(JSON.stringify(out));
`;

let tmp = '';
beforeAll(() => {
  if (why) return;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ignis-rtc-standin-'));
  fs.writeFileSync(path.join(tmp, 'standin.c'), STANDIN);
  execFileSync('cc', ['-shared', '-fPIC', '-O1', '-std=gnu11', `-I${root}`, '-o', path.join(tmp, 'libignis_cuda.so'), path.join(tmp, 'standin.c'), '-ldl'], { stdio: 'pipe' });
  fs.writeFileSync(path.join(tmp, 'empty.c'), 'int ignis_stand_in(void) { return 0; }\n');
  fs.mkdirSync(path.join(tmp, 'driver'));
  execFileSync('cc', ['-shared', '-fPIC', '-o', path.join(tmp, 'driver/libcuda.so.1'), path.join(tmp, 'empty.c')], { stdio: 'pipe' });
  const src = cudaSource('standin_act', parse(EXPR, Object.keys(PARAMS)), Object.keys(PARAMS)).source;
  fs.writeFileSync(path.join(tmp, 'kernels.cpp'), HOST_PRELUDE + src);
  execFileSync('g++', ['-shared', '-fPIC', '-O1', '-std=c++17', '-ffp-contract=off', '-w', '-o', path.join(tmp, 'kernels.so'), path.join(tmp, 'kernels.cpp')], { stdio: 'pipe' });
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

(why ? describe.skip : describe)(`expression activations through a stand-in CUDA backend${why ? ` [skipped: ${why}]` : ''}`, () => {
  it('NVRTC cubin handed to rtc_load, launches with the right arguments, values as the CPU interpreter, cache counters', () => {
    const r = spawnSync(process.execPath, ['-e', CHILD], {
      env: {
        ...process.env,
        LD_LIBRARY_PATH: path.join(tmp, 'driver'),
        IGNIS_CUDA_LIB: path.join(tmp, 'libignis_cuda.so'),
        STANDIN_KERNELS: path.join(tmp, 'kernels.so'),
        STANDIN_LOG: path.join(tmp, 'log.txt'),
      },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.available, out.reason).toBe(true);
    const num = (a: string[]) => a.map(Number);
    for (const dtype of ['float32', 'float64']) {
      const o = out[dtype];
      expect(o.device).toBe('cuda:0');
      for (const [got, want] of [[o.fwd, o.fwdCpu], [o.bwd, o.bwdCpu], [o.p2, o.p2Cpu], [o.unaligned, o.unalignedCpu]]) {
        const g = num(got), w = num(want);
        expect(g.length).toBe(w.length);
        w.forEach((v, i) => {
          if (!Number.isFinite(v)) expect(String(g[i]), `${dtype} [${i}]`).toBe(String(v));
          else expect(Math.abs(g[i] - v), `${dtype} [${i}]: ${g[i]} vs ${v}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v)));
        });
      }
    }
    // one NVRTC compile, one load for both dtypes, both directions and new parameter values
    expect(out.stats).toMatchObject({ compiles: 1, loads: 1 });
    const log = fs.readFileSync(path.join(tmp, 'log.txt'), 'utf8').trim().split('\n');
    expect(log.filter((l) => l.startsWith('load'))).toHaveLength(1);
    expect(log[0]).toMatch(/^load dev=0 bytes=\d+ elf=1 nk=4$/); // a cubin (ELF) for the stand-in's sm_80
    expect(log.slice(1, 5)).toEqual(['ignis_expr_fwd_f32', 'ignis_expr_bwd_f32', 'ignis_expr_fwd_f64', 'ignis_expr_bwd_f64'].map((k) => `kernel ${k}`));
    const launches = log.filter((l) => l.startsWith('launch'));
    const n = 49;
    // aligned fresh allocations: 16-byte packs (4 floats / 2 doubles a pack), parameters as given
    expect(launches).toContain(`launch ignis_expr_fwd_f32 dev=0 n=${n} per=4 nn=${n} vec=1 p=1.5,0.75`);
    expect(launches).toContain(`launch ignis_expr_bwd_f32 dev=0 n=${n} per=4 nn=${n} vec=1 p=1.5,0.75`);
    expect(launches).toContain(`launch ignis_expr_fwd_f64 dev=0 n=${n} per=2 nn=${n} vec=1 p=1.5,0.75`);
    expect(launches).toContain(`launch ignis_expr_fwd_f32 dev=0 n=${n} per=4 nn=${n} vec=1 p=-2,3`);
    // a view one element in: no packs
    expect(launches).toContain(`launch ignis_expr_fwd_f32 dev=0 n=${n - 1} per=1 nn=${n - 1} vec=0 p=1.5,0.75`);
    expect(launches).toContain(`launch ignis_expr_fwd_f64 dev=0 n=${n - 1} per=1 nn=${n - 1} vec=0 p=1.5,0.75`);
  });
});
