#!/usr/bin/env node
// The CUDA emulator: libignis_cuda built for the host, so the CUDA backend's own code (the kernels,
// the allocator, the launch and copy paths, the profiler records, blas.cpp and conv.cpp over
// stand-in cuBLAS / cuDNN calls) runs and is tested without a GPU. See native/cuda/emu/emu.h.
//
//   node scripts/cuda-emu.mjs build            builds build-emu/libignis_cuda_emu.so
//   node scripts/cuda-emu.mjs test [files...]  builds, then runs vitest on test/cuda (or the
//                                               files given) with the emulated device; for the
//                                               whole suite the op tests once more on the kernels'
//                                               64-bit index paths (IGNIS_CUDA_FORCE_INDEX64=1),
//                                               with every fused conv graph emulated (and kept) and
//                                               with none (IGNIS_CUDA_EMU_GRAPH=all, none;
//                                               native/cuda/emu/emu_libs.cpp)
//   node scripts/cuda-emu.mjs coverage         (after IGNIS_CUDA_EMU_COVERAGE=1 ... test) the kernel
//                                               lines no test reached
//
// Needs g++ and the CUDA toolkit headers (cuda_runtime.h: /usr/local/cuda or CUDA_PATH), cuDNN's
// and cuBLAS's headers (CUDNN_PATH / IGNIS_CUDA_DEPS, as the CMake build finds them), and a C
// compiler for the stand-in driver. The kernels are rewritten first: `k<<<cfg>>>(args)` becomes
// `::emu::launch(::emu::Cfg(cfg), [](auto... a) { k(a...); }, args)`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// IGNIS_CUDA_EMU_COVERAGE=1: a separate build with gcov counters (build-emu-cov/); after a test
// run, `node scripts/cuda-emu.mjs coverage` lists the kernel lines no test reached.
// IGNIS_CUDA_EMU_ASAN=1: a separate build with AddressSanitizer (build-emu-asan/), the tests run with
// libasan preloaded; the allocator poisons the bytes of each block past its tensor (runtime.cpp), so
// a kernel that reads or writes outside its tensors stops the run with ASan's report.
const coverage = process.env.IGNIS_CUDA_EMU_COVERAGE === '1';
const asan = process.env.IGNIS_CUDA_EMU_ASAN === '1';
const out = join(root, coverage ? 'build-emu-cov' : asan ? 'build-emu-asan' : 'build-emu');
const src = join(root, 'native', 'cuda');
const lib = join(out, 'libignis_cuda_emu.so');

function fail(msg) {
  console.error(`cuda-emu: ${msg}`);
  process.exit(2);
}

function firstDir(cands, file) {
  for (const d of cands) if (d && existsSync(join(d, file))) return d;
  return null;
}

function includeDirs() {
  const env = process.env;
  const deps = env.IGNIS_CUDA_DEPS || join(env.XDG_CACHE_HOME || join(env.HOME || '/root', '.cache'), 'ignis-cuda-deps');
  const nvcc = env.CUDACXX && join(dirname(dirname(env.CUDACXX)), 'include');
  const cuda = firstDir([env.CUDA_PATH && join(env.CUDA_PATH, 'include'), nvcc, '/usr/local/cuda/include', '/usr/include'], 'cuda_runtime.h');
  if (!cuda) fail('cuda_runtime.h not found (set CUDA_PATH to the CUDA toolkit)');
  const cudnn = firstDir([env.CUDNN_PATH && join(env.CUDNN_PATH, 'include'), join(deps, 'nvidia/cudnn/include'), cuda], 'cudnn.h');
  if (!cudnn) fail('cudnn.h not found (set CUDNN_PATH, or IGNIS_CUDA_DEPS to the pip wheels, as for the CMake build)');
  const cublas = firstDir([join(deps, 'nvidia/cu13/include'), cuda], 'cublas_v2.h');
  if (!cublas) fail('cublas_v2.h not found (set IGNIS_CUDA_DEPS to the pip wheels, or CUDA_PATH)');
  return [...new Set([cuda, cudnn, cublas])];
}

// k<<<cfg>>>(args) -> ::emu::launch(::emu::Cfg(cfg), [](auto... a) { k(a...); }, args)
export function rewriteLaunches(text) {
  let res = '';
  let pos = 0;
  for (;;) {
    const at = text.indexOf('<<<', pos);
    if (at < 0) break;
    // the kernel: an identifier (with ::) and optional template arguments, read backwards
    let i = at;
    while (i > 0 && /\s/.test(text[i - 1])) i--;
    if (text[i - 1] === '>') {
      let depth = 0;
      do {
        i--;
        if (text[i] === '>') depth++;
        else if (text[i] === '<') depth--;
      } while (i > 0 && depth > 0);
    }
    while (i > 0 && /[\w:]/.test(text[i - 1])) i--;
    const kernel = text.slice(i, at).trim();
    const close = text.indexOf('>>>', at);
    if (close < 0 || !kernel) throw new Error(`cannot rewrite the launch at offset ${at}`);
    const cfg = text.slice(at + 3, close);
    let j = close + 3;
    while (/\s/.test(text[j])) j++;
    if (text[j] !== '(') throw new Error(`launch of ${kernel} without arguments`);
    let k = j + 1;
    while (/\s/.test(text[k])) k++;
    const noArgs = text[k] === ')';
    res += text.slice(pos, i) + `::emu::launch(::emu::Cfg(${cfg}), [](auto... emu_a) { ${kernel}(emu_a...); }${noArgs ? '' : ', '}`;
    pos = j + 1;
  }
  return res + text.slice(pos);
}

const mtime = (f) => (existsSync(f) ? statSync(f).mtimeMs : 0);

function build() {
  const gen = join(out, 'src');
  mkdirSync(gen, { recursive: true });
  const incs = includeDirs();
  // every CUDA source and header, rewritten where it launches kernels
  const sources = [];
  for (const f of readdirSync(src)) {
    if (!/\.(cu|cuh|cpp|h)$/.test(f) || f === 'graph_check.cpp') continue;
    const text = readFileSync(join(src, f), 'utf8');
    const dst = join(gen, f);
    const body = text.includes('<<<') ? rewriteLaunches(text) : text;
    if (!existsSync(dst) || readFileSync(dst, 'utf8') !== body) writeFileSync(dst, body);
    if (/\.(cu|cpp)$/.test(f)) sources.push(dst);
  }
  for (const f of readdirSync(join(src, 'emu'))) if (f.endsWith('.cpp')) sources.push(join(src, 'emu', f));
  const headers = [...readdirSync(gen).filter((f) => /\.(cuh|h)$/.test(f)).map((f) => join(gen, f)),
    ...readdirSync(join(src, 'emu')).filter((f) => f.endsWith('.h')).map((f) => join(src, 'emu', f)),
    ...readdirSync(join(root, 'native', 'ops')).map((f) => join(root, 'native', 'ops', f))];
  const newestHeader = Math.max(...headers.map(mtime), mtime(fileURLToPath(import.meta.url)));
  const variant = coverage ? ['-O0', '--coverage'] : asan ? ['-O1', '-fsanitize=address', '-fno-omit-frame-pointer'] : ['-O2'];
  const flags = ['-std=c++17', ...variant, '-g', '-fPIC', '-fvisibility=hidden', '-Wall', '-Wno-unknown-pragmas', '-Wno-unused-variable',
    '-Wno-unused-but-set-variable', '-Wno-deprecated-declarations', '-DIGNIS_NO_NVTX=1', '-DIGNIS_CUDA_EMU=1', '-I', gen, '-I', src, '-I', join(src, 'emu'),
    ...incs.flatMap((d) => ['-I', d])];
  const objs = [];
  const jobs = [];
  for (const s of sources) {
    const o = join(out, `${s.split('/').pop()}.o`);
    objs.push(o);
    if (mtime(o) > Math.max(mtime(s), newestHeader)) continue;
    const emuSelf = s.includes('/emu/');
    const args = [...flags, ...(emuSelf ? [] : ['-include', join(src, 'emu', 'emu.h')]), '-x', 'c++', '-c', s, '-o', o];
    jobs.push(args);
  }
  // a few compiles at a time
  const par = Math.max(1, Math.min(cpus().length, 8));
  let failed = false;
  for (let i = 0; i < jobs.length; i += par) {
    const batch = jobs.slice(i, i + par).map((args) => {
      const r = spawnSync('bash', ['-c', 'exec "$@"', 'g++', 'g++', ...args], { encoding: 'utf8' });
      return { args, r };
    });
    for (const { args, r } of batch) {
      const name = args[args.indexOf('-c') + 1].split('/').pop();
      if (r.status !== 0) {
        failed = true;
        console.error(`cuda-emu: ${name} failed:\n${r.stderr}`);
      } else if (r.stderr.trim()) console.error(`cuda-emu: ${name}:\n${r.stderr}`);
    }
  }
  if (failed) fail('compile failed');
  if (!existsSync(lib) || jobs.length) {
    const link = coverage ? ['--coverage'] : asan ? ['-fsanitize=address'] : [];
    execFileSync('g++', ['-shared', '-o', lib, ...objs, ...link, '-Wl,--no-undefined', '-lpthread', '-ldl'], { stdio: 'inherit' });
  }
  // the loader probes libcuda.so.1 before anything else: a stand-in driver
  const drv = join(out, 'driver');
  mkdirSync(drv, { recursive: true });
  if (!existsSync(join(drv, 'libcuda.so.1'))) {
    writeFileSync(join(drv, 'standin.c'), 'int ignis_cuda_emu_standin(void) { return 0; }\n');
    execFileSync('cc', ['-shared', '-fPIC', '-o', join(drv, 'libcuda.so.1'), join(drv, 'standin.c')]);
  }
  console.log(`cuda-emu: ${lib} (${jobs.length} compiled)`);
}

function test(files) {
  build();
  const env = {
    ...process.env,
    IGNIS_CUDA_LIB: lib,
    IGNIS_CUDA_EMU: '1',
    LD_LIBRARY_PATH: [join(out, 'driver'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
  };
  if (coverage) {
    // gcov writes its counts at exit, and vitest ends its forked workers with SIGTERM, which Node
    // answers by dying on the spot: the workers exit normally instead, so their counts are kept
    const flush = join(out, 'exit-on-sigterm.cjs');
    writeFileSync(flush, "process.on('SIGTERM', () => process.exit(143));\n");
    env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--require ${JSON.stringify(flush)}`].filter(Boolean).join(' ');
  }
  if (asan) {
    // node itself is not instrumented: the runtime comes first; leaks are node's business here
    env.LD_PRELOAD = execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
    // (fiber stack switches are not annotated for ASan: no fake stacks for use-after-return)
    env.ASAN_OPTIONS = 'detect_leaks=0:abort_on_error=1:allow_user_poisoning=1:detect_stack_use_after_return=0';
  }
  // (under ASan, the graph descriptor check runs the real cuDNN, which does not load with libasan preloaded)
  const skip = asan ? ['--exclude', 'test/cuda/graph_descriptors.test.ts'] : [];
  const vitest = (args, extra = {}) =>
    spawnSync(process.execPath, [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...args, '--testTimeout=120000', ...skip],
      { cwd: root, env: { ...env, ...extra }, stdio: 'inherit' }).status ?? 1;
  let status = vitest(files.length ? files : ['test/cuda']);
  // the whole suite: the op tests once more with every launch on its 64-bit index path
  // (IGNIS_CUDA_FORCE_INDEX64), which only tensors of 2^31 elements reach otherwise
  if (!files.length && status === 0) {
    console.log('cuda-emu: the op tests again with IGNIS_CUDA_FORCE_INDEX64=1 (64-bit index paths)');
    status = vitest(['test/cuda/ops.test.ts', 'test/cuda/gated.test.ts', 'test/cuda/softmax.test.ts'], { IGNIS_CUDA_FORCE_INDEX64: '1' });
  }
  // the convolutions' other paths: every fused graph through the emulated graph API, each graph's
  // own output kept (IGNIS_CUDNN_GRAPH_VERDICT=graph: its pointwise nodes against the CPU whatever
  // the first call's timing says), then no graph at all (the legacy calls and the epilogue alone)
  for (const mode of ['all', 'none']) {
    if (files.length || status !== 0) break;
    console.log(`cuda-emu: the op tests again with IGNIS_CUDA_EMU_GRAPH=${mode}`);
    status = vitest(['test/cuda/ops.test.ts'], { IGNIS_CUDA_EMU_GRAPH: mode, ...(mode === 'all' ? { IGNIS_CUDNN_GRAPH_VERDICT: 'graph' } : {}) });
  }
  process.exit(status);
}

// the lines of the CUDA sources (kernels and their launchers) that no test run reached
function report() {
  const gen = join(out, 'src');
  const files = readdirSync(gen).filter((f) => /\.(cu|cuh)$/.test(f));
  const r = spawnSync('gcov', ['-o', out, '-t', ...readdirSync(out).filter((f) => f.endsWith('.gcda')).map((f) => join(out, f))],
    { cwd: out, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) fail(`gcov failed: ${r.stderr}`);
  let file = '';
  const missed = new Map();
  const seen = new Set();
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*-:\s*0:Source:(.*)$/.exec(line);
    if (m) {
      file = m[1].split('/').pop();
      continue;
    }
    const l = /^\s*(#####|[0-9*]+|-):\s*(\d+):(.*)$/.exec(line);
    if (!l || !files.includes(file)) continue;
    const key = `${file}:${l[2]}`;
    if (l[1] !== '-' && l[1] !== '#####') {
      seen.add(key);
      missed.delete(key);
    } else if (l[1] === '#####' && !seen.has(key)) missed.set(key, l[3].trim());
  }
  for (const [k, text] of missed) console.log(`${k}: ${text}`);
  console.log(`cuda-emu: ${missed.size} kernel-side lines never run`);
}

const [cmd, ...rest] = process.argv.slice(2);
if (import.meta.url === `file://${process.argv[1]}`) {
  if (cmd === 'build') build();
  else if (cmd === 'test') test(rest);
  else if (cmd === 'coverage') report();
  else fail('usage: node scripts/cuda-emu.mjs build | test [files...] | coverage');
}
