/**
 * `ignis doctor`: what this installation can do, and why not. Every line is a check with a status
 * (ok, info, missing, fail) and, where something is missing, the fix.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { info as nativeInfo } from '../native';
import { packageVersion } from './experiment';
import { cudaApi } from './env';

export type Status = 'ok' | 'info' | 'missing' | 'fail';
export interface Check {
  section: string;
  name: string;
  status: Status;
  detail: string;
  fix?: string;
}

const ROOT = path.join(__dirname, '..', '..');

/** Where node-gyp-build found the addon (what src/native.ts loaded). */
export function addonPath(): string | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ngb = require('node-gyp-build') as { resolve(dir: string): string };
    return ngb.resolve(ROOT);
  } catch {
    return null;
  }
}

/** Shared libraries mapped into this process whose file name matches re (Linux /proc/self/maps). */
function mappedLibs(re: RegExp): string[] {
  try {
    const maps = fs.readFileSync('/proc/self/maps', 'utf8');
    return [...new Set(maps.split('\n').map((l) => l.trim().split(/\s+/).slice(5).join(' ')).filter((f) => f && re.test(path.basename(f))))];
  } catch {
    return [];
  }
}

function cpuFlags(): string[] {
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    const want = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx512_bf16', 'amx_tile'];
    const have = new Set(m ? m[1].split(/\s+/) : []);
    return want.filter((f) => have.has(f));
  } catch {
    return [];
  }
}

/** The folders a CUDA library is looked for in (same order as the CUDA backend's loader). */
export function cudaSearchDirs(): string[] {
  const env = process.env;
  const dirs: string[] = [];
  for (const v of [env.CUDNN_PATH, env.CUDA_PATH, env.CUDA_HOME]) if (v) dirs.push(path.join(v, 'lib64'), path.join(v, 'lib'));
  for (const d of (env.LD_LIBRARY_PATH ?? '').split(':')) if (d) dirs.push(d);
  for (const py of ['/usr/local/lib', '/usr/lib', path.join(os.homedir(), '.local/lib')]) {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(py).filter((e) => /^python3/.test(e));
    } catch {
      /* none */
    }
    for (const e of entries)
      for (const sp of ['site-packages', 'dist-packages'])
        for (const pkg of ['cudnn', 'cublas', 'cuda_runtime', 'cu13', 'cu12']) dirs.push(path.join(py, e, sp, 'nvidia', pkg, 'lib'));
  }
  dirs.push('/usr/local/cuda/lib64', '/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/lib/x86_64-linux-gnu', '/usr/lib/wsl/lib');
  return [...new Set(dirs)];
}

function findLib(pattern: RegExp, dirs: string[]): string | null {
  for (const d of dirs) {
    let entries: string[];
    try {
      entries = fs.readdirSync(d);
    } catch {
      continue;
    }
    const hit = entries.filter((e) => pattern.test(e)).sort().pop();
    if (hit) return path.join(d, hit);
  }
  return null;
}

/** A float32 check of the CPU kernels: a conv + activation + matmul forward and backward on known values. */
function cpuSmokeTest(): { ok: boolean; detail: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ig = require('../index') as typeof import('../index');
    const x = ig.ones([1, 1, 4, 4], { requiresGrad: true });
    const w = ig.ones([2, 1, 3, 3]);
    const y = ig.F.relu(ig.F.conv2d(x, w, null)); // every output = 9
    const z = y.flatten().reshape([1, 8]).matmul(ig.ones([8, 1])); // 72
    z.sum().backward();
    const v = z.item() as number;
    const g = Array.from(x.grad!.dataSync() as Float32Array);
    const gOk = g[0] === 2 && g[5] === 8; // corner pixel in 1 window x 2 filters, inner pixel in 4 x 2
    if (v !== 72 || !gOk) return { ok: false, detail: `conv2d/relu/matmul gave ${v} (expected 72) and gradient ${g.slice(0, 6).join(', ')}` };
    return { ok: true, detail: 'conv2d, relu, matmul forward and backward give the expected values' };
  } catch (e) {
    return { ok: false, detail: `a small conv2d/relu/matmul failed: ${(e as Error).message}` };
  }
}

export function doctor(): { checks: Check[]; cpuOk: boolean } {
  const checks: Check[] = [];
  const add = (section: string, name: string, status: Status, detail: string, fix?: string): void => void checks.push({ section, name, status, detail, ...(fix ? { fix } : {}) });

  add('ignis', 'version', 'info', `ignis ${packageVersion()} at ${ROOT}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const napiBuilt = ((require('../../package.json') as { binary?: { napi_versions?: number[] } }).binary?.napi_versions ?? []).join(', ');
  const napi = Number(process.versions.napi);
  add('ignis', 'node', Number(process.versions.node.split('.')[0]) >= 20 ? 'ok' : 'fail', `Node ${process.version} (${process.platform}-${process.arch}), N-API level ${process.versions.napi}; the addon needs N-API ${napiBuilt || '8'}`,
    napi >= 8 ? undefined : 'install Node 20 or newer');
  const addon = addonPath();
  const kind = addon === null ? 'unknown' : addon.includes(`${path.sep}prebuilds${path.sep}`) ? 'prebuilt binary' : 'local build (cmake-js)';
  add('ignis', 'native addon', addon ? 'ok' : 'fail', addon ? `${kind}: ${addon}` : 'not found', addon ? undefined : 'run `npm rebuild ignis` (needs cmake and a C++ compiler)');

  const cpus = os.cpus();
  const flags = cpuFlags();
  add('cpu', 'processor', 'info', `${cpus[0]?.model ?? 'unknown'} (${cpus.length} logical cores)${flags.length ? `; features ${flags.join(' ')}` : ''}`);
  add('cpu', 'kernels', 'ok', `Ignis kernels compiled for ${nativeInfo.isa}, ${nativeInfo.threads} threads in the native pool`);
  const dnnl = mappedLibs(/^libdnnl\.so/);
  const dnnlVersion = dnnl.map((f) => /libdnnl\.so\.(\d+(?:\.\d+)*)/.exec(path.basename(f))?.[1]).find(Boolean);
  if (nativeInfo.onednn)
    add('cpu', 'oneDNN', 'ok', `linked${dnnlVersion ? `, version ${dnnlVersion}` : ''}${dnnl.length ? ` (${dnnl[0]})` : ''}; used for conv/pool/norm and matmul`);
  else add('cpu', 'oneDNN', 'missing', 'not linked: conv, pooling and matmul use the slower reference kernels', 'install libdnnl-dev (Debian/Ubuntu) and rebuild: npx cmake-js compile');
  const smoke = cpuSmokeTest();
  add('cpu', 'self-test', smoke.ok ? 'ok' : 'fail', smoke.detail);

  const cuda = cudaApi();
  const available = cuda.isAvailable();
  const reason = cuda.unavailableReason ? cuda.unavailableReason() : available ? null : cuda.reason();
  add('cuda', 'backend', available ? 'ok' : 'missing', available ? `available, ${cuda.deviceCount?.() ?? '?'} device(s)` : `not available: ${reason}`);
  if (available) {
    // each device's name, compute capability and memory, and the runtime / cuDNN / cuBLAS versions
    // the loaded library reports
    const n = cuda.deviceCount?.() ?? 0;
    for (let i = 0; i < n; i++) {
      const p = cuda.getDeviceProperties?.(i);
      if (p) add('cuda', `device ${i}`, 'ok', `${p.name}, sm_${p.major}${p.minor}, ${p.multiProcessorCount} SMs, ${(p.totalMemory / 2 ** 30).toFixed(1)} GiB`);
    }
    const v = cuda.versions?.();
    if (v) add('cuda', 'versions', 'ok', v);
  }
  // NVRTC compiles expression activations for CUDA at first use; found without a GPU too
  const nv = cuda.nvrtc?.();
  if (nv) add('cuda', 'NVRTC', nv.available ? 'ok' : 'missing', nv.available ? `${nv.version} (${nv.path}); expression activations compile with it` : nv.reason,
    nv.available ? undefined : 'pip install nvidia-cuda-nvrtc (set IGNIS_CUDA_DEPS to its --target folder) or the CUDA 13 toolkit (CUDA_PATH)');
  let driver: string | null = null;
  try {
    driver = /Kernel Module\s+(\S+)/.exec(fs.readFileSync('/proc/driver/nvidia/version', 'utf8'))?.[1] ?? 'present';
  } catch {
    /* no NVIDIA kernel driver */
  }
  const dirs = cudaSearchDirs();
  const libcuda = findLib(/^libcuda\.so(\.1)?$/, dirs);
  add('cuda', 'driver', driver && libcuda ? 'ok' : 'missing', driver ? `NVIDIA kernel driver ${driver}${libcuda ? `, ${libcuda}` : ', but libcuda.so.1 not found'}` : 'no NVIDIA kernel driver (/proc/driver/nvidia/version absent)',
    driver && libcuda ? undefined : 'install the NVIDIA driver (nvidia-driver package) on a machine with an NVIDIA GPU');
  const libs: [string, RegExp, string][] = [
    ['CUDA runtime', /^libcudart\.so\.\d+/, 'install the CUDA toolkit (/usr/local/cuda) or `pip install nvidia-cuda-runtime-cu13`, or set CUDA_PATH'],
    ['cuBLAS', /^libcublas\.so\.\d+/, 'install the CUDA toolkit or `pip install nvidia-cublas-cu13`, or add its lib folder to LD_LIBRARY_PATH'],
    ['cuDNN', /^libcudnn\.so\.9/, 'install cuDNN 9 (`pip install nvidia-cudnn-cu13` or the cudnn9 package) or set CUDNN_PATH'],
  ];
  for (const [name, re, fix] of libs) {
    const f = findLib(re, dirs);
    let real = f;
    try {
      if (f) real = fs.realpathSync(f);
    } catch {
      /* keep f */
    }
    add('cuda', name, f ? 'ok' : 'missing', f ? `${f}${real && real !== f ? ` -> ${path.basename(real)}` : ''}` : `not found in ${dirs.length} searched folders (CUDNN_PATH, CUDA_PATH, LD_LIBRARY_PATH, pip nvidia-* wheels, /usr/local/cuda/lib64, system lib folders)`, f ? undefined : fix);
  }
  return { checks, cpuOk: smoke.ok && addon !== null };
}

export function formatDoctor(checks: Check[]): string {
  const mark: Record<Status, string> = { ok: '[ok]     ', info: '[info]   ', missing: '[missing]', fail: '[FAIL]   ' };
  const w = Math.max(...checks.map((c) => c.name.length));
  const out: string[] = [];
  let section = '';
  for (const c of checks) {
    if (c.section !== section) {
      section = c.section;
      out.push(section === 'ignis' ? 'Ignis' : section === 'cpu' ? 'CPU' : 'CUDA');
    }
    out.push(`  ${mark[c.status]} ${c.name.padEnd(w)}  ${c.detail}`);
    if (c.fix) out.push(`  ${' '.repeat(9)} ${' '.repeat(w)}  fix: ${c.fix}`);
  }
  return out.join('\n');
}
