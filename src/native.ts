/**
 * The native addon and the one shared buffer through which JS describes operands to it.
 * Layout (see native/binding/addon.cpp): [0] ndim, [1..16] shape; operand k at 20 + 24k:
 * dtype code, element offset, kind (0 tensor, 1 scalar, 2 allocate), scalar value, strides[16];
 * [200..] per-op parameters. Writing numbers into a Float64Array is far cheaper than passing
 * arrays through Node-API, which keeps the per-op cost of small tensors low.
 */
import * as path from 'path';

export type Handle = object & { readonly __storage: unique symbol };

export interface NativeInfo {
  unaryOps: string[];
  unaryIntOk: string[];
  binaryOps: string[];
  reduceOps: string[];
  activations: string[];
  activationParams: number[];
  /** kernels whose backward reads the forward output instead of the input (ACT_OUT rows) */
  activationsFromOutput: string[];
  /** kernels with an `approx: 'fast'` forward (ACT_FAST rows); op code activations.length + i */
  activationsFast: string[];
  exprOps: string[];
  onednn: boolean;
  isa: string;
  threads: number;
}

interface Addon {
  init(meta: Float64Array): NativeInfo;
  alloc(nbytes: number, device?: number): Handle;
  free(h: Handle): void;
  fromTyped(a: ArrayBufferView): Handle;
  read(h: Handle, offset: number, n: number, dtype: number): ArrayBufferView;
  unary(op: number, out: Handle | null, x: Handle | null): Handle | undefined;
  binary(op: number, out: Handle | null, a: Handle | null, b: Handle | null): Handle | undefined;
  where(out: Handle | null, c: Handle | null, a: Handle | null, b: Handle | null): Handle | undefined;
  copy(out: Handle | null, x: Handle | null): Handle | undefined;
  actFwd(op: number, out: Handle | null, x: Handle): Handle | undefined;
  actBwd(op: number, out: Handle | null, x: Handle, g: Handle): Handle | undefined;
  reduce(op: number, x: Handle): Handle;
  bmm(a: Handle, b: Handle): Handle;
  gather(out: null, x: Handle, index: Handle): Handle;
  scatter(self: Handle, index: Handle, src: Handle | null): void;
  random(kind: number, dtype: number, n: number, seed: number, offset: number, p0: number, p1: number, device?: number): Handle;
  expr(program: Float64Array, out: Handle | null, x: Handle, g?: Handle | null): Handle | undefined;
  memoryStats(): { liveBytes: number; liveCount: number; cachedBytes: number; peakBytes: number; allocCalls: number; cacheHits: number };
  emptyCache(): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  /** frees the data of storages whose handle the GC has collected; returns the bytes freed */
  sweepGarbage(): number;
  /** the bytes of this thread's storages not yet freed; `true`: the CUDA storages' share */
  trackedBytes(device?: boolean): number;
  // nn (native/cpu/conv.cpp, pool.cpp, batchnorm.cpp); meta layouts in src/kernels.ts
  convFwd(x: Handle, w: Handle, b: Handle | null): Handle;
  convBwdData(dy: Handle, w: Handle): Handle;
  convBwdWeight(x: Handle, dy: Handle, wantBias: boolean): [Handle, Handle | null];
  poolFwd(x: Handle, mode: number): [Handle, Handle | null, number, number];
  poolBwd(dy: Handle, aux: Handle | null, auxKind: number, wsBytes: number): Handle;
  bnFwd(x: Handle, w: Handle | null, b: Handle | null, rm: Handle | null, rv: Handle | null): [Handle, Handle, Handle];
  bnBwd(x: Handle, dy: Handle, w: Handle | null, saveMean: Handle, saveVar: Handle, wantW: boolean, wantB: boolean): [Handle, Handle | null, Handle | null];
  /** softmax / logSoftmax along one dim (meta: native/binding/addon.cpp SoftmaxFwd). */
  softmaxFwd(x: Handle): Handle;
  softmaxBwd(y: Handle, g: Handle): Handle;
  nllFwd(logp: Handle, t: Handle, w: Handle | null): [Handle, Handle] | [Handle, Handle, Handle];
  ceBwd(logp: Handle, t: Handle, wi: Handle, g: Handle, denom: Handle | null): Handle;
  biasAct(y: Handle, b: Handle | null, keep: boolean): Handle;
  biasActBwd(z: Handle, dy: Handle, wantDb: boolean): [Handle, Handle | null];
  preluFwd(x: Handle, w: Handle): Handle;
  preluBwd(x: Handle, w: Handle, g: Handle, wantX: boolean, wantW: boolean): [Handle | null, Handle | null];
  gluFwd(x: Handle): Handle;
  gluBwd(x: Handle, g: Handle): Handle;
  /** One optimizer step over many parameters (native/cpu/optim.h; src/optim/optimizer.ts). */
  optimStep(kind: number, handles: (Handle | null)[], desc: Float64Array): void;
  // CUDA (src/cuda.ts; native/binding/cuda_loader.cpp). Device codes: 0 cpu, 1 + n cuda:n.
  cudaStatus(): { available: boolean; reason: string; library: string; deviceCount: number; versions: string };
  cudaProps(dev: number): { name: string; major: number; minor: number; multiProcessorCount: number; totalMemory: number; maxThreadsPerBlock: number; warpSize: number; l2CacheSize: number; clockRateKHz: number };
  cudaSync(dev: number): void;
  cudaMemStats(dev: number): { allocated: number; reserved: number; maxAllocated: number; limit: number; allocCalls: number; cacheHits: number; deviceFree: number; deviceTotal: number };
  cudaMemOp(kind: 0 | 1 | 2, dev: number, bytes?: number): void;
  cudaConfig(tf32Matmul: boolean, tf32Conv: boolean, benchmark: boolean, graphFusion: boolean, seed: number | undefined, deterministic: boolean): void;
  transfer(h: Handle, byteOffset: number, nbytes: number, device: number): Handle;
  storageDevice(h: Handle): number;
  readStart(h: Handle, offset: number, n: number, dtype: number): object;
  readPoll(token: object): ArrayBufferView | null;
  /** a CUDA event of device `dev` (src/cuda.ts: Event); the handle's finalizer destroys it */
  cudaEventNew(dev: number, timing: boolean): object;
  /** 0 record, 1 query -> done, 2 synchronize, 3 elapsed ms to `end`, 4 destroy */
  cudaEventOp(kind: 0 | 1 | 2 | 3 | 4, ev: object, end?: object): boolean | number | undefined;
  // NVRTC and run-time kernels (native/binding/nvrtc.cpp, rtc_entries.inc; src/activations/expr_cuda.ts)
  nvrtcInfo(): NvrtcInfo;
  nvrtcCompile(source: string, arch: number, what: string): NvrtcCompiled;
  rtcExprLoad(source: string, nparams: number, device: number, what: string): number;
  rtcExpr(id: number, backward: boolean, params: Float64Array, out: Handle | null, x: Handle, g?: Handle | null): Handle | undefined;
  rtcStats(): RtcStats;
  // CUDA profiling and NVTX (native/cuda/profile.h; src/profiler/kernels.ts, src/nvtx.ts). Optional:
  // an addon built before them lacks them, and the callers say so.
  cudaProfStart?(capacity: number): void;
  cudaProfCorrelate?(id: number): void;
  cudaProfStop?(): { records: NativeKernelRecord[]; waits: number };
  /** 0 push(name), 1 pop(), 2 start(name) -> id, 3 end(id), 4 mark(name); no-ops without CUDA */
  cudaNvtx?(kind: 0 | 1 | 2 | 3 | 4, arg?: string | number): number | undefined;
}

/** NVRTC as the addon found it (loaded on first use; needs no driver). */
export interface NvrtcInfo {
  available: boolean;
  /** why not available, with the fix ('' when available) */
  reason: string;
  /** the libnvrtc file loaded */
  path: string;
  /** "13.0" */
  version: string;
  /** compute capabilities NVRTC emits cubins for (80 = sm_80) */
  archs: number[];
}
/** One NVRTC compile: a cubin for `target` sm_XY, or PTX (compute_XY) for an arch NVRTC does not know. */
export interface NvrtcCompiled {
  target: string;
  ptx: boolean;
  bytes: number;
  log: string;
  ms: number;
}
/** Run-time kernel cache counters: NVRTC compiles, loads on a device, and cache hits (source, device). */
export interface RtcStats {
  compiles: number;
  loads: number;
  hits: number;
  compileMs: number;
}

/** One op's work on a CUDA device (native/cuda/api.h: IgnisCudaKernelRecord). */
export interface NativeKernelRecord {
  /** the backend entry and its op: 'act_fwd<relu>', 'conv2d_fwd', 'Memcpy HtoD' */
  name: string;
  /** the cuDNN / cuBLAS call it made, '' when Ignis launched every kernel itself */
  library: string;
  /** the algorithm that call ran with, '' when none */
  algo: string;
  device: number;
  stream: number;
  /** the profiler op id current when the work was queued (0: none) */
  correlation: number;
  /** CLOCK_MONOTONIC µs: the clock of process.hrtime */
  startUs: number;
  durationUs: number;
  /** launch configuration of the last kernel Ignis launched itself ([0, 0, 0] when none) */
  grid: number[];
  block: number[];
  /** kernels Ignis launched itself (kernels inside cuDNN / cuBLAS are not counted) */
  launches: number;
  /** -1 not applicable, 0 ran unfused, 1 ran fused (conv + bias + activation in one cuDNN call) */
  fused: number;
  /** cuDNN workspace bytes, -1 when none */
  workspace: number;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = require('node-gyp-build') as (dir: string) => unknown;
export const addon = load(path.join(__dirname, '..')) as Addon;
export const meta = new Float64Array(256);
export const info: NativeInfo = addon.init(meta);

export const OPERAND = 20;
export const OPERAND_STRIDE = 24;
export const PARAMS = 200;
export const KIND_TENSOR = 0;
export const KIND_SCALAR = 1;
export const KIND_ALLOC = 2;

export function codes(names: string[]): Record<string, number> {
  const m: Record<string, number> = {};
  names.forEach((n, i) => {
    if (n) m[n] = i;
  });
  return m;
}
