/**
 * Tensor methods for every table activation: x.relu(), x.gelu({approximate: 'tanh'}),
 * and in-place x.relu_() where PyTorch has one. Installed on Tensor.prototype at load.
 */
import { Tensor } from '../tensor';
import { functional } from './functional';
import { ACTIVATIONS } from './table';

declare module '../tensor' {
  interface Tensor {
    relu(): Tensor;
    relu_(): Tensor;
    relu6(): Tensor;
    leakyRelu(negativeSlope?: number | { negativeSlope?: number }): Tensor;
    leakyRelu_(negativeSlope?: number): Tensor;
    elu(alpha?: number | { alpha?: number }): Tensor;
    elu_(alpha?: number): Tensor;
    celu(alpha?: number | { alpha?: number }): Tensor;
    selu(): Tensor;
    selu_(): Tensor;
    gelu(opts?: { approximate?: 'none' | 'tanh' }): Tensor;
    silu(): Tensor;
    silu_(): Tensor;
    swish(beta?: number | Tensor | { beta?: number | Tensor }): Tensor;
    mish(): Tensor;
    mish_(): Tensor;
    sigmoid_(): Tensor;
    tanh_(): Tensor;
    hardtanh(minVal?: number | { minVal?: number; maxVal?: number }, maxVal?: number): Tensor;
    hardtanh_(minVal?: number, maxVal?: number): Tensor;
    hardsigmoid(): Tensor;
    hardswish(): Tensor;
    softplus(beta?: number | { beta?: number; threshold?: number }, threshold?: number): Tensor;
    softsign(): Tensor;
    logsigmoid(): Tensor;
    tanhshrink(): Tensor;
    softshrink(lambd?: number | { lambd?: number }): Tensor;
    hardshrink(lambd?: number | { lambd?: number }): Tensor;
    threshold(threshold: number, value: number): Tensor;
    threshold_(threshold: number, value: number): Tensor;
    rrelu(opts?: { lower?: number; upper?: number; training?: boolean }): Tensor;
    glu(dim?: number): Tensor;
    prelu(weight: Tensor): Tensor;
    softmin(dim: number): Tensor;
  }
}

const proto = Tensor.prototype as unknown as Record<string, unknown>;
for (const row of ACTIVATIONS) {
  const fn = functional[row.fn];
  // sigmoid/tanh/softmax/logSoftmax are also math ops with their own methods: keep those
  if (!(row.fn in proto)) proto[row.fn] = function (this: Tensor, ...args: unknown[]) {
    return fn(this, ...args);
  };
  if (row.inplace) proto[`${row.fn}_`] = function (this: Tensor, ...args: unknown[]) {
    return fn(this, ...args, { inplace: true });
  };
}
