/**
 * Ignis: PyTorch-style deep learning for Node.js and TypeScript.
 *
 * @example
 * import * as ignis from 'ignis';
 * const x = ignis.randn([3, 4], { requiresGrad: true });
 * x.mul(x).sum().backward();
 */
import './polyfill';
export { Tensor } from './tensor';
export type { DType } from './dtype';
export { DTYPES } from './dtype';
export type { Device } from './storage';
export * from './errors';
export {
  tensor, zeros, ones, full, empty, zerosLike, onesLike, emptyLike, fullLike, arange, linspace, eye,
  rand, randn, randint, bernoulli, randLike, randnLike, uniform_, normal_,
  add, sub, mul, div, pow, maximum, minimum, fmod, eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, logicalXor, logicalNot,
  neg, abs, sign, exp, log, log1p, expm1, sqrt, rsqrt, sin, cos, tanh, sigmoid, erf, floor, ceil, round, reciprocal, square, clamp,
  where, maskedFill,
  sum, mean, prod, amax, amin, max, min, argmax, argmin, var_ as var, std, logsumexp, norm, all, any,
  matmul, mm, bmm, dot,
  gather, scatter, scatterAdd, indexSelect, oneHot,
  reshape, view, permute, transpose, squeeze, unsqueeze, expand, narrow, slice, select, flatten, unflatten,
  cat, stack, split, chunk, unbind, clone, contiguous, to,
  softmax, logSoftmax, softmin,
} from './ops/all';
export type { TensorOptions, RandomOptions } from './ops/creation';
export type { ValuesIndices } from './ops/reduce';
export type { IndexSpec } from './ops/views';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd/mode';
export { manualSeed, Generator, defaultGenerator } from './random';
export { memory, emptyCache } from './memory';
export { setNumThreads, getNumThreads } from './threads';
export { dispatch, addListener } from './dispatch';
export type { OpDef, OpListener } from './dispatch';

import { Function as AutogradFunction } from './autograd/function';
import { gradcheck, GradcheckError, gradgradcheck } from './autograd/gradcheck';
import { backward, grad } from './ops/core';
/** torch.autograd: Function, grad, backward, gradcheck, gradgradcheck. */
export const autograd = { Function: AutogradFunction, grad, backward, gradcheck, gradgradcheck, GradcheckError };
export { gradcheck, gradgradcheck };

import * as nn from './nn';
import * as activations from './activations';
export { nn, activations };
import * as optim from './optim';
/** torch.optim: SGD, Adam, AdamW, RMSprop, Adagrad and the lr schedulers. */
export { optim };
export const F = nn.functional;
export { defineActivation } from './activations';

import { info } from './native';
/** What the native library was built with and picked at run time. */
import { onednnEnabled, setOnednn } from './ops/all';
const flagProp = (key: keyof typeof cudaBackend.flags) => ({
  get: (): boolean => cudaBackend.flags[key],
  set: (v: boolean): void => {
    cudaBackend.flags[key] = !!v;
    cudaBackend.applyFlags();
  },
  enumerable: true,
});
export const backends = {
  /** torch.backends.cuda.matmul.allowTf32 (default false, as PyTorch) */
  cuda: { matmul: Object.defineProperty({} as { allowTf32: boolean }, 'allowTf32', flagProp('matmulAllowTf32')) },
  /**
   * torch.backends.cudnn: allowTf32 (default true) and benchmark (autotune per shape, the legacy
   * calls' algorithms and the graphs' engines; default false);
   * graphFusion (Ignis's, default true): convolutions through cuDNN's graph API, conv + bias +
   * activation as one graph where cuDNN has an engine for it, each plan kept per shape where its first
   * call timed faster than the unfused path and its output agreed with it; false runs the legacy
   * calls and Ignis's epilogue kernel;
   * deterministic (default false, as PyTorch): only the convolution algorithms cuDNN marks
   * deterministic, so that a run repeats bit for bit (the backward ones that sum with atomics are left out)
   */
  cudnn: Object.defineProperties({} as { allowTf32: boolean; benchmark: boolean; graphFusion: boolean; deterministic: boolean }, {
    allowTf32: flagProp('cudnnAllowTf32'),
    benchmark: flagProp('cudnnBenchmark'),
    deterministic: flagProp('cudnnDeterministic'),
    graphFusion: flagProp('cudnnGraphFusion'),
  }),
  cpu: {
    isa: info.isa,
    /** oneDNN linked into this build */
    onednn: info.onednn,
    threads: info.threads,
    /** whether float32 conv/pool/norm use oneDNN now (false after setOnednn(false) or IGNIS_DISABLE_ONEDNN=1) */
    onednnEnabled,
    /** true/false forces oneDNN on or off for conv/pool/norm; null restores the default */
    setOnednn,
  },
};

import * as cudaBackend from './cuda';
import { manualSeed as seedAll } from './random';
/**
 * torch.cuda: devices, memory, synchronisation. isAvailable() / unavailableReason() work without
 * a GPU and say why CUDA cannot be used. manualSeed seeds the one generator that CPU and CUDA
 * random ops share (so the same seed gives the same numbers on both devices).
 */
export const cuda = {
  isAvailable: cudaBackend.isAvailable,
  unavailableReason: cudaBackend.unavailableReason,
  /** the reason as a string ('' when available): the earlier name, kept for callers of the stub */
  reason: cudaBackend.reason,
  deviceCount: cudaBackend.deviceCount,
  versions: cudaBackend.versions,
  libraryPath: cudaBackend.libraryPath,
  getDeviceName: cudaBackend.getDeviceName,
  getDeviceProperties: cudaBackend.getDeviceProperties,
  synchronize: cudaBackend.synchronize,
  memoryStats: cudaBackend.memoryStats,
  memoryAllocated: cudaBackend.memoryAllocated,
  memoryReserved: cudaBackend.memoryReserved,
  maxMemoryAllocated: cudaBackend.maxMemoryAllocated,
  resetPeakMemoryStats: cudaBackend.resetPeakMemoryStats,
  emptyCache: cudaBackend.emptyCache,
  setMemoryLimit: cudaBackend.setMemoryLimit,
  nvrtc: cudaBackend.nvrtc,
  kernelCacheStats: cudaBackend.kernelCacheStats,
  /** NVTX ranges for Nsight (torch.cuda.nvtx): range(name, fn), rangePush/Pop, rangeStart/End, mark; no-ops without CUDA */
  nvtx: cudaBackend.nvtx,
  /** torch.cuda.Event: record() / query() / synchronize() / elapsedTime(end), for GPU timing and waits */
  Event: cudaBackend.Event,
  manualSeed(seed: number): void {
    seedAll(seed);
    cudaBackend.applyFlags(seed);
  },
};
export type { DeviceProperties, CudaMemoryStats, EventOptions } from './cuda';
/** The type of `new ignis.cuda.Event()` (ignis.cuda is an object, so `ignis.cuda.Event` names only the class). */
export type CudaEvent = cudaBackend.Event;
export type { NvrtcInfo, NvrtcCompiled, RtcStats } from './native';

import * as profiler from './profiler';
export { profiler };

import * as data from './data';
/** torch.utils.data + torchvision datasets/transforms: Dataset, DataLoader, MNIST, FashionMNIST, CIFAR10, transforms. */
export { data };
import * as metrics from './metrics';
/** Classification and segmentation metrics: accuracy, topKAccuracy, confusionMatrix, precision/recall/F1, IoU, mIoU, pixel accuracy. */
export { metrics };
/** Checkpoints in the safetensors format: save(stateDict, path) (atomic) and load(path). */
export { save, load, loadFile, serialize, deserialize, SafetensorsError } from './serialize';
export type { SaveOptions, Loaded } from './serialize';
import * as experiments from './cli/experiment';
/** The activation comparison behind `ignis compare`: compareActivations, seedCnn, evaluate. */
export { experiments };
