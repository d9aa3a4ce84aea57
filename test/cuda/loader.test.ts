/**
 * The CUDA loader without a GPU (these run everywhere): isAvailable() / unavailableReason() and
 * the order the loader checks things in (driver, library, cuDNN, cuBLAS, entry point), each
 * step provoked in a child process with stand-in libraries built by the C compiler.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { cudaOk } from './helpers';

const dist = path.resolve(__dirname, '../../dist/index.js');
const systemDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/cuda/lib64', '/usr/lib/wsl/lib'];
const driverPresent = systemDirs.some((d) => fs.existsSync(path.join(d, 'libcuda.so.1')));
const cudnnInSystem = systemDirs.some((d) => fs.existsSync(path.join(d, 'libcudnn.so.9')));
let tmp = '';

/** The loader's verdict in a fresh process with exactly `env` (plus PATH/HOME). */
function verdict(env: Record<string, string>): { available: boolean; reason: string } {
  const code = `const i = require(${JSON.stringify(dist)}); process.stdout.write(JSON.stringify({ available: i.cuda.isAvailable(), reason: i.cuda.unavailableReason() }))`;
  const r = spawnSync(process.execPath, ['-e', code], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function cc(args: string[]): void {
  execFileSync('cc', args, { stdio: 'pipe' });
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ignis-cuda-loader-'));
  fs.writeFileSync(path.join(tmp, 'empty.c'), 'int ignis_stand_in(void) { return 0; }\n');
  fs.mkdirSync(path.join(tmp, 'driver'));
  fs.mkdirSync(path.join(tmp, 'cudnn/lib'), { recursive: true });
  // a stand-in driver: enough for dlopen("libcuda.so.1"), which is all the first step checks
  cc(['-shared', '-fPIC', '-o', path.join(tmp, 'driver/libcuda.so.1'), path.join(tmp, 'empty.c')]);
  // a stand-in cuDNN, and a "backend" linked against it (its DT_NEEDED names libcudnn.so.9)
  cc(['-shared', '-fPIC', '-Wl,-soname,libcudnn.so.9', '-o', path.join(tmp, 'cudnn/lib/libcudnn.so.9'), path.join(tmp, 'empty.c')]);
  cc(['-shared', '-fPIC', '-o', path.join(tmp, 'libignis_cuda.so'), path.join(tmp, 'empty.c'), `-L${path.join(tmp, 'cudnn/lib')}`, '-Wl,--no-as-needed', '-l:libcudnn.so.9']);
  // a "backend" from another build: the entry point exists, the table layout does not match
  fs.writeFileSync(path.join(tmp, 'stale.c'), 'struct T { int abi; unsigned size; } t = {1, 8};\nconst void* ignis_cuda_api(void) { return &t; }\n');
  cc(['-shared', '-fPIC', '-o', path.join(tmp, 'stale.so'), path.join(tmp, 'stale.c')]);
});

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('ignis.cuda status', () => {
  it('isAvailable() and unavailableReason() agree, and the reason names a known cause', () => {
    const reason = ignis.cuda.unavailableReason();
    if (ignis.cuda.isAvailable()) {
      expect(reason).toBeNull();
      expect(ignis.cuda.deviceCount()).toBeGreaterThan(0);
    } else {
      expect(reason).toMatch(/no NVIDIA driver|has no CUDA backend|cuDNN 9 not found|cuBLAS 13 not found|no CUDA device|driver supports CUDA|disabled by the environment/);
      expect(ignis.cuda.deviceCount()).toBe(0);
    }
  });

  it.skipIf(driverPresent)('without a driver: says so and how to fix it (never the runtime\'s "driver insufficient")', () => {
    const v = verdict({});
    expect(v.available).toBe(false);
    expect(v.reason).toMatch(/^no NVIDIA driver: libcuda\.so\.1 cannot be loaded \(.*\); install the NVIDIA driver/);
  });

  it('a driver but no library: "this build has no CUDA backend" with the path it looked at', () => {
    const v = verdict({ LD_LIBRARY_PATH: path.join(tmp, 'driver'), IGNIS_CUDA_LIB: '/nonexistent/libignis_cuda.so' });
    expect(v.available).toBe(false);
    expect(v.reason).toMatch(/^this build of ignis has no CUDA backend: \/nonexistent\/libignis_cuda\.so was not built/);
  });

  it.skipIf(cudnnInSystem)('the library but no cuDNN: "cuDNN 9 not found" with the fix', () => {
    const v = verdict({ LD_LIBRARY_PATH: path.join(tmp, 'driver'), IGNIS_CUDA_LIB: path.join(tmp, 'libignis_cuda.so') });
    expect(v.available).toBe(false);
    expect(v.reason).toMatch(/^cuDNN 9 not found \(.*libcudnn\.so\.9.*\): install it .* set CUDNN_PATH/);
  });

  it('cuDNN found through CUDNN_PATH, then the next missing piece is named', () => {
    const v = verdict({
      LD_LIBRARY_PATH: path.join(tmp, 'driver'),
      IGNIS_CUDA_LIB: path.join(tmp, 'libignis_cuda.so'),
      CUDNN_PATH: path.join(tmp, 'cudnn'),
    });
    expect(v.available).toBe(false);
    // cuBLAS (absent on CPU machines) or, where cuBLAS exists, the stand-in's missing entry point
    expect(v.reason).toMatch(/^cuBLAS 13 not found .*CUDA_PATH|does not export ignis_cuda_api/);
  });

  it('a library without the entry point is refused by name', () => {
    const v = verdict({ LD_LIBRARY_PATH: path.join(tmp, 'driver'), IGNIS_CUDA_LIB: path.join(tmp, 'driver/libcuda.so.1') });
    expect(v.reason).toMatch(/libcuda\.so\.1 does not export ignis_cuda_api: a stale or foreign library; rebuild ignis/);
  });

  // The real libignis_cuda.so (when this build made one): it loads, its cuDNN / cuBLAS resolve, the
  // ABI matches, and with a stand-in driver its init() fails cleanly with the runtime's verdict.
  const builtLib = ignis.cuda.libraryPath();
  // (not with the CUDA emulator's library, which runs without a driver: scripts/cuda-emu.mjs)
  const emulated = process.env.IGNIS_CUDA_EMU === '1';
  it.skipIf(!fs.existsSync(builtLib) || driverPresent || emulated)('the built library loads and reports a stand-in driver as unusable', () => {
    const v = verdict({ LD_LIBRARY_PATH: path.join(tmp, 'driver'), IGNIS_CUDA_LIB: builtLib });
    expect(v.available).toBe(false);
    expect(v.reason).toMatch(/driver supports CUDA .* needs CUDA 13|no CUDA device|CUDA error/);
  });

  it('a library from another build (table layout differs) is refused as stale', () => {
    const v = verdict({ LD_LIBRARY_PATH: path.join(tmp, 'driver'), IGNIS_CUDA_LIB: path.join(tmp, 'stale.so') });
    expect(v.reason).toMatch(/stale\.so speaks ABI 1 \(table of 8 bytes\) but this addon needs \d+ \(\d+ bytes\): a stale library; rebuild ignis/);
  });

  it('IGNIS_CUDA_DISABLE=1 turns CUDA off with that reason', () => {
    const v = verdict({ IGNIS_CUDA_DISABLE: '1' });
    expect(v).toEqual({ available: false, reason: 'CUDA disabled by the environment (IGNIS_CUDA_DISABLE=1)' });
  });
});

describe.skipIf(cudaOk)('CUDA requests without CUDA are DeviceErrors that carry the reason', () => {
  const reason = (): string => ignis.cuda.unavailableReason();
  it('creation, to(), cuda(), Module.to()', () => {
    for (const f of [
      () => ignis.zeros([2], { device: 'cuda' }),
      () => ignis.randn([2], { device: 'cuda:0' }),
      () => ignis.ones([2]).to('cuda'),
      () => ignis.ones([2]).cuda(),
      () => new ignis.nn.Linear(2, 2).to('cuda'),
      () => new ignis.nn.Linear(2, 2).cuda(),
    ]) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ignis.DeviceError);
      expect((err as Error).message).toContain(reason());
    }
  });

  it('device queries throw; emptyCache() is a no-op', () => {
    expect(() => ignis.cuda.getDeviceName()).toThrow(ignis.DeviceError);
    expect(() => ignis.cuda.memoryAllocated()).toThrow(/the CUDA backend is not available/);
    expect(() => ignis.cuda.synchronize()).toThrow(ignis.DeviceError);
    expect(() => ignis.cuda.emptyCache()).not.toThrow();
  });
});

describe('device arguments', () => {
  it('unknown devices are DeviceErrors naming the device', () => {
    expect(() => ignis.ones([1]).to('tpu' as 'cpu')).toThrow(ignis.DTypeError); // a string that is not a device is read as a dtype
    expect(() => ignis.ones([1]).to({ device: 'tpu' as 'cpu' })).toThrow(/unknown device "tpu"; expected 'cpu', 'cuda' or 'cuda:N'/);
    expect(() => ignis.zeros([1], { device: 'cuda:x' as 'cuda' })).toThrow(/unknown device "cuda:x"/);
    expect(() => ignis.ones([1]).to('cuda:99')).toThrow(ignis.DeviceError);
  });

  it("'cpu' is always fine and returns the tensor itself", () => {
    const x = ignis.ones([2]);
    expect(x.to('cpu')).toBe(x);
    expect(x.cpu()).toBe(x);
    expect(ignis.zeros([2], { device: 'cpu' }).device).toBe('cpu');
    expect(ignis.zerosLike(x).device).toBe('cpu');
  });

  it('setMemoryLimit validates its argument before touching the device', () => {
    expect(() => ignis.cuda.setMemoryLimit(-1)).toThrow(ignis.ValueError);
    expect(() => ignis.cuda.setMemoryLimit(1.5)).toThrow(ignis.ValueError);
  });

  it('backend flags keep PyTorch defaults and can be set', () => {
    expect(ignis.backends.cuda.matmul.allowTf32).toBe(false);
    expect(ignis.backends.cudnn.allowTf32).toBe(true);
    expect(ignis.backends.cudnn.benchmark).toBe(false);
    ignis.backends.cudnn.benchmark = true;
    expect(ignis.backends.cudnn.benchmark).toBe(true);
    ignis.backends.cudnn.benchmark = false;
  });
});
