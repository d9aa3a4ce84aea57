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
