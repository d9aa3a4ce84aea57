/**
 * FLOP and byte counts per op, keyed by the op's dispatch name. A cost function sees the op's
 * input and output tensors (shape and dtype only) and its attrs, and returns what it knows.
 *
 * Conventions (also in the README's Profiler section):
 * - bytes = the bytes of every tensor input plus every output, each at its own size (a broadcast
 *   operand is counted once, not at the broadcast size): the minimum traffic of one pass, the
 *   same convention as a copy's "read + write" bandwidth the calibration measures.
 * - every elementwise kernel (binary, unary, comparison, where, activation forward and backward)
 *   counts 1 FLOP per output element, transcendental or not. That is torch.profiler's convention
 *   for aten::add / aten::mul (numel FLOPs); no weight is given to exp, tanh or erf, because on
 *   every device these kernels are bandwidth-bound and their roofline figure is the GB/s.
 * - reductions: 1 FLOP per input element.
 * - bmm / matmul / mm / linear: 2·B·M·N·K (a multiply and an add per MAC), + M·N per bias (and
 *   per fused activation: linear's `activation`, linear_act).
 * - conv2d (and conv2d_act, its training form with a fused activation): 2·N·O·OH·OW·(C/g)·kh·kw, +
 *   N·O·OH·OW with a bias, + N·O·OH·OW for a fused activation (the weight's shape is [O, C/g, kh, kw]);
 *   its backward data and weight ops: the same 2·MACs (+ the bias gradient's sum); bias_act_backward
 *   (the fused activation and bias gradients): 2 per element.
 * - pooling: kh·kw FLOPs per output element (comparisons or adds; the window is read from attrs
 *   `kernelSize` / `kernel_size`, else inferred from the input and output sizes); adaptive and
 *   global pooling: 1 FLOP per input element.
 * - batch_norm: 4 FLOPs per element (normalise: sub, mul; affine: mul, add), + 3 per element for
 *   the batch statistics in training (sum, square, sum of squares); its backward 8 per element.
 * - cross_entropy: 4 FLOPs per logit (max, subtract, exp, sum); softmax / log_softmax / softmin: 4
 *   per element, their backward 3 per element; prelu 1 per element, its backward 2 (input and slope
 *   gradient); glu 2 per output element, its backward 1 per input element.
 * - views (view, permute, expand, slice) move nothing: 0 FLOPs, 0 bytes; copies (clone, cat,
 *   to, gather, ...) move their inputs and outputs and do 0 FLOPs.
 * Ops not in the table report neither (shown blank). registerCost() adds or replaces an entry.
 */
import { DTYPE_SIZE, DType } from '../dtype';
import { info } from '../native';

export interface TensorMeta {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface OpCost {
  flops?: number;
  bytes?: number;
}

export type CostFn = (inputs: readonly TensorMeta[], outputs: readonly TensorMeta[], attrs: unknown) => OpCost;

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n *= shape[i];
  return n;
}

export function nbytesOf(t: TensorMeta): number {
  return numelOf(t.shape) * (DTYPE_SIZE[t.dtype] ?? 4);
}

/** bytes of every input and every output */
export function ioBytes(inputs: readonly TensorMeta[], outputs: readonly TensorMeta[]): number {
  let b = 0;
  for (let i = 0; i < inputs.length; i++) b += nbytesOf(inputs[i]);
  for (let i = 0; i < outputs.length; i++) b += nbytesOf(outputs[i]);
  return b;
}

function outNumel(outputs: readonly TensorMeta[]): number {
  return outputs.length ? numelOf(outputs[0].shape) : 0;
}

/** elementwise: `perElement` FLOPs per output element */
export const elementwise =
  (perElement = 1): CostFn =>
  (inputs, outputs) => ({ flops: perElement * outNumel(outputs), bytes: ioBytes(inputs, outputs) });

/** reductions: one FLOP per input element */
export const reduction: CostFn = (inputs, outputs) => ({
  flops: inputs.length ? numelOf(inputs[0].shape) : 0,
  bytes: ioBytes(inputs, outputs),
});

/** data movement only */
export const copyCost: CostFn = (inputs, outputs) => ({ flops: 0, bytes: ioBytes(inputs, outputs) });

/** metadata-only views */
export const viewCost: CostFn = () => ({ flops: 0, bytes: 0 });

/** [B, M, K] x [B, K, N] (or 2-D, or batched with broadcasting): 2·B·M·N·K */
export const matmulCost: CostFn = (inputs, outputs) => {
  const [a, b] = inputs;
  if (!a || !b || !outputs.length) return {};
  const K = a.shape.length >= 1 ? a.shape[a.shape.length - 1] : 1;
  // every output element is one dot product of length K
  const macs = outNumel(outputs) * K;
  let flops = 2 * macs;
  if (inputs[2]) flops += outNumel(outputs); // bias (addmm / linear)
  return { flops, bytes: ioBytes(inputs, outputs) };
};

/** linear(x [.., K], weight [N, K], bias [N]?), + 1 per output element for a fused activation (attrs.act) */
export const linearCost: CostFn = (inputs, outputs, attrs) => {
  const [x, w] = inputs;
  if (!x || !w || !outputs.length) return {};
  const K = x.shape[x.shape.length - 1];
  let flops = 2 * outNumel(outputs) * K;
  if (inputs[2]) flops += outNumel(outputs);
  if (attrs && (attrs as Record<string, unknown>).act) flops += outNumel(outputs);
  return { flops, bytes: ioBytes(inputs, outputs) };
};

/**
 * conv forward: input [N, C, ...], weight [O, C/g, k...], optional bias [O], output [N, O, ...]:
 * 2·(output elements)·(C/g)·kh·kw, + 1 per output element for the bias and 1 for a fused activation
 * (attrs.act, set when conv2d runs conv+bias+activation as one kernel).
 */
export const convCost: CostFn = (inputs, outputs, attrs) => {
  const [, w, bias] = inputs;
  if (!w || !outputs.length) return {};
  const perOut = numelOf(w.shape.slice(1)); // (C/g)·kh·kw
  const outElems = outNumel(outputs);
  let flops = 2 * outElems * perOut;
  if (bias) flops += outElems;
  if (attrs && (attrs as Record<string, unknown>).act) flops += outElems;
  return { flops, bytes: ioBytes(inputs, outputs) };
};

/**
 * conv backward data (and transposed conv forward): inputs [dy, w]: the same MACs as the forward,
 * 2·numel(dy)·(C/g)·kh·kw.
 */
export const convBwdDataCost: CostFn = (inputs, outputs) => {
  const [dy, w] = inputs;
  if (!dy || !w || !w.shape.length) return {};
  return { flops: 2 * numelOf(dy.shape) * (numelOf(w.shape) / w.shape[0]), bytes: ioBytes(inputs, outputs) };
};

/** conv backward weight: inputs [x, dy], outputs [dw, db?]: 2·numel(dy)·(C/g)·kh·kw, + numel(dy) for db. */
export const convBwdWeightCost: CostFn = (inputs, outputs) => {
  const [, dy] = inputs;
  const dw = outputs[0];
  if (!dy || !dw || !dw.shape.length) return {};
  let flops = 2 * numelOf(dy.shape) * (numelOf(dw.shape) / dw.shape[0]);
  if (outputs[1]) flops += numelOf(dy.shape);
  return { flops, bytes: ioBytes(inputs, outputs) };
};

function windowOf(attrs: unknown, inp: TensorMeta, out: TensorMeta): number {
  const a = (attrs ?? {}) as Record<string, unknown>;
  const g = a.g as { kh?: number; kw?: number; adaptive?: boolean } | undefined;
  if (g && typeof g.kh === 'number' && typeof g.kw === 'number' && !g.adaptive) return g.kh * g.kw;
  const k = a.kernelSize ?? a.kernel_size ?? a.kernel;
  if (typeof k === 'number') return k * k;
  if (Array.isArray(k) && k.every((v) => typeof v === 'number')) return (k as number[]).reduce((x, y) => x * y, 1);
  // infer from sizes: the input elements per output element along the spatial dims
  let w = 1;
  for (let d = 2; d < inp.shape.length && d < out.shape.length; d++) w *= Math.max(1, Math.round(inp.shape[d] / Math.max(1, out.shape[d])));
  return w;
}

export const poolCost: CostFn = (inputs, outputs, attrs) => {
  if (!inputs.length || !outputs.length) return {};
  return { flops: outNumel(outputs) * windowOf(attrs, inputs[0], outputs[0]), bytes: ioBytes(inputs, outputs) };
};

export const batchNormCost: CostFn = (inputs, outputs, attrs) => {
  if (!inputs.length) return {};
  const n = numelOf(inputs[0].shape);
  const a = (attrs ?? {}) as Record<string, unknown>;
  const training = !!((a.g as { training?: boolean } | undefined)?.training ?? a.training);
  return { flops: n * (training ? 7 : 4), bytes: ioBytes(inputs, outputs) };
};

/** batch norm backward: 8 FLOPs per element (the sums of dy and dy·x̂, then dx = w/σ·(dy - mean dy - x̂·mean(dy·x̂))) */
export const batchNormBwdCost: CostFn = (inputs, outputs) => {
  if (!inputs.length) return {};
  return { flops: 8 * numelOf(inputs[0].shape), bytes: ioBytes(inputs, outputs) };
};

const table = new Map<string, CostFn>();

/** Adds or replaces the cost function of op `name` (e.g. for a new native op). */
export function registerCost(name: string, fn: CostFn): void {
  table.set(name, fn);
}

export function costFn(name: string): CostFn | undefined {
  return table.get(name);
}

/** FLOPs and bytes of one call of `name`, or {} when the op's cost is not known. */
export function opCost(name: string, inputs: readonly TensorMeta[], outputs: readonly TensorMeta[], attrs: unknown): OpCost {
  const f = table.get(name);
  if (!f) return {};
  try {
    return f(inputs, outputs, attrs);
  } catch {
    return {};
  }
}

// ---- the table ------------------------------------------------------------------------------

const ew = elementwise(1);
for (const n of info.binaryOps) if (n) registerCost(n, ew);
for (const n of info.unaryOps) if (n) registerCost(n, ew);
for (const n of info.activations) {
  registerCost(n, ew);
  registerCost(`${n}_backward`, ew);
}
for (const n of info.activationsFast) registerCost(`${n}_fast`, ew); // approx: 'fast' forwards
registerCost('where', ew);
registerCost('bias_act', elementwise(2)); // a layer's bias add and activation in one pass
for (const n of ['sum', 'prod', 'amax', 'amin', 'max', 'min', 'argmax', 'argmin', 'mean', 'var', 'std', 'logsumexp', 'norm'])
  registerCost(n, reduction);
for (const n of ['bmm', 'mm', 'matmul', 'addmm', 'baddbmm']) registerCost(n, matmulCost);
registerCost('linear', linearCost);
registerCost('linear_act', linearCost); // linear with a fused activation, in training
for (const n of ['conv1d', 'conv2d', 'conv2d_act', 'conv3d', 'convolution']) registerCost(n, convCost);
// the fused training backward of bias + activation: the activation gradient per element (+ the bias sum)
registerCost('bias_act_backward', (inputs, outputs) => (inputs.length ? { flops: 2 * numelOf(inputs[0].shape), bytes: ioBytes(inputs, outputs) } : {}));
for (const n of ['conv2d_backward_data', 'conv_transpose2d']) registerCost(n, convBwdDataCost);
registerCost('conv2d_backward_weight', convBwdWeightCost);
for (const n of ['max_pool1d', 'max_pool2d', 'max_pool3d', 'avg_pool1d', 'avg_pool2d', 'avg_pool3d']) registerCost(n, poolCost);
for (const n of ['adaptive_avg_pool2d', 'adaptive_max_pool2d', 'adaptive_avg_pool1d', 'global_avg_pool2d']) registerCost(n, reduction);
// pooling backward: one FLOP per output (input-gradient) element: a scatter (max) or a spread (avg)
registerCost('pool2d_backward', elementwise(1));
registerCost('batch_norm', batchNormCost);
registerCost('batch_norm_backward', batchNormBwdCost);
// softmax / log_softmax / softmin along one dim: max, subtract + exp, sum, scale per element; their
// backward (from the output y): a dot product and a multiply-add per element
for (const n of ['softmax', 'log_softmax', 'softmin']) registerCost(n, elementwise(4));
for (const n of ['softmax_backward', 'log_softmax_backward', 'softmin_backward']) registerCost(n, elementwise(3));
// prelu (one select-multiply per element; backward: the input gradient and the slope gradient's
// multiply-add per element), glu (a sigmoid and a multiply per output element; backward one per input
// element); rrelu_with_noise's work is in its child ops (uniform_, le, where, mul)
registerCost('prelu', ew);
registerCost('prelu_backward', (inputs, outputs) => (inputs.length ? { flops: 2 * numelOf(inputs[0].shape), bytes: ioBytes(inputs, outputs) } : {}));
registerCost('glu', elementwise(2));
registerCost('glu_backward', ew);
// in-place arithmetic (one kernel into self) and the in-place activations' names
for (const n of ['add_', 'sub_', 'mul_', 'div_']) registerCost(n, ew);
// cross entropy over logits [N, C]: max, subtract, exp, sum per logit (log and gather per row are negligible)
registerCost('cross_entropy', (inputs, outputs) => (inputs.length ? { flops: 4 * numelOf(inputs[0].shape), bytes: ioBytes(inputs, outputs) } : {}));
for (const n of ['view', 'reshape', 'permute', 'expand', 'slice', 'squeeze', 'unsqueeze', 'transpose', 'select', 'narrow']) registerCost(n, viewCost);
for (const n of ['clone', 'contiguous', 'cat', 'stack', 'to', 'copy_', 'copy_slices', 'slice_backward', 'gather', 'scatter', 'index_select', 'constant_pad'])
  registerCost(n, copyCost);
