/**
 * ignis.nn.functional (F): activations from the table plus the math ops PyTorch keeps in F.
 * F.relu(x), F.leakyRelu(x, 0.2), F.gelu(x, { approximate: 'tanh' }), F.relu(x, { inplace: true })...
 */
import { functional, ActivationFn } from '../activations/functional';

export const relu = functional.relu;
export const relu6 = functional.relu6;
export const leakyRelu = functional.leakyRelu;
export const prelu = functional.prelu;
export const rrelu = functional.rrelu;
export const elu = functional.elu;
export const celu = functional.celu;
export const selu = functional.selu;
export const gelu = functional.gelu;
export const silu = functional.silu;
export const swish = functional.swish;
export const mish = functional.mish;
export const sigmoid = functional.sigmoid;
export const tanh = functional.tanh;
export const hardtanh = functional.hardtanh;
export const hardsigmoid = functional.hardsigmoid;
export const hardswish = functional.hardswish;
export const softplus = functional.softplus;
export const softsign = functional.softsign;
export const logsigmoid = functional.logsigmoid;
export const tanhshrink = functional.tanhshrink;
export const softshrink = functional.softshrink;
export const hardshrink = functional.hardshrink;
export const threshold = functional.threshold;
export const glu = functional.glu;
export const softmax = functional.softmax;
export const logSoftmax = functional.logSoftmax;
export const softmin = functional.softmin;
export type { ActivationFn };

// ---- layers, normalisation, losses (torch.nn.functional) -------------------------------------
import { oneHot as oneHotOp } from '../ops/indexing';
import type { Tensor } from '../tensor';
import { nativeOp, NativeNN } from './layers/native';

export { linear } from './layers/linear';
export { dropout, dropout2d } from './layers/dropout';
export { embedding } from './layers/embedding';
export {
  crossEntropy, nllLoss, mseLoss, l1Loss, smoothL1Loss, huberLoss,
  binaryCrossEntropy, binaryCrossEntropyWithLogits, bce, bceWithLogits,
} from './loss';
export type { Reduction, CrossEntropyOptions, NLLOptions } from './loss';

/** One-hot int64 encoding of class indices (torch.nn.functional.one_hot); numClasses -1 infers it. */
export const oneHot = (x: Tensor, numClasses = -1): Tensor => oneHotOp(x, numClasses);

// The native conv / pool / norm / resize ops, resolved when called.
type P<K extends keyof NativeNN> = Parameters<NativeNN[K]>;
type R<K extends keyof NativeNN> = ReturnType<NativeNN[K]>;
export const conv1d = (...a: P<'conv1d'>): R<'conv1d'> => nativeOp('conv1d')(...a);
export const conv2d = (...a: P<'conv2d'>): R<'conv2d'> => nativeOp('conv2d')(...a);
export const convTranspose2d = (...a: P<'convTranspose2d'>): R<'convTranspose2d'> => nativeOp('convTranspose2d')(...a);
export const maxPool2d = (...a: P<'maxPool2d'>): R<'maxPool2d'> => nativeOp('maxPool2d')(...a);
export const avgPool2d = (...a: P<'avgPool2d'>): R<'avgPool2d'> => nativeOp('avgPool2d')(...a);
export const adaptiveAvgPool2d = (...a: P<'adaptiveAvgPool2d'>): R<'adaptiveAvgPool2d'> => nativeOp('adaptiveAvgPool2d')(...a);
export const adaptiveMaxPool2d = (...a: P<'adaptiveMaxPool2d'>): R<'adaptiveMaxPool2d'> => nativeOp('adaptiveMaxPool2d')(...a);
export const batchNorm = (...a: P<'batchNorm'>): R<'batchNorm'> => nativeOp('batchNorm')(...a);
export const layerNorm = (...a: P<'layerNorm'>): R<'layerNorm'> => nativeOp('layerNorm')(...a);
export const groupNorm = (...a: P<'groupNorm'>): R<'groupNorm'> => nativeOp('groupNorm')(...a);
export const pad = (...a: P<'pad'>): R<'pad'> => nativeOp('pad')(...a);
export const interpolate = (...a: P<'interpolate'>): R<'interpolate'> => nativeOp('interpolate')(...a);
