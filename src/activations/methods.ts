/**
 * Tensor methods for every table activation: x.relu(), x.gelu({approximate: 'tanh'}),
 * and in-place x.relu_() where PyTorch has one. Installed on Tensor.prototype at load.
 */
import { Tensor } from '../tensor';
import { functional } from './functional';
import { ACTIVATIONS } from './table';

/** `approx` option of the activations with a fast path (table.ts `approx`) */
type Approx = 'none' | 'fast';

declare module '../tensor' {
  interface Tensor {
    relu(): Tensor;
    relu_(): Tensor;
    relu6(): Tensor;
    leakyRelu(negativeSlope?: number | { negativeSlope?: number }): Tensor;
    leakyRelu_(negativeSlope?: number): Tensor;
    elu(alpha?: number | { alpha?: number; approx?: Approx }): Tensor;
    elu_(alpha?: number): Tensor;
    celu(alpha?: number | { alpha?: number }): Tensor;
    selu(): Tensor;
    selu_(): Tensor;
    gelu(opts?: { approximate?: 'none' | 'tanh'; approx?: Approx }): Tensor;
    silu(opts?: { approx?: Approx }): Tensor;
    silu_(opts?: { approx?: Approx }): Tensor;
    swish(beta?: number | Tensor | { beta?: number | Tensor; approx?: Approx }): Tensor;
    mish(opts?: { approx?: Approx }): Tensor;
    mish_(opts?: { approx?: Approx }): Tensor;
    sigmoid(opts?: { approx?: Approx }): Tensor;
    sigmoid_(opts?: { approx?: Approx }): Tensor;
    tanh(opts?: { approx?: Approx }): Tensor;
    tanh_(opts?: { approx?: Approx }): Tensor;
    hardtanh(minVal?: number | { minVal?: number; maxVal?: number }, maxVal?: number): Tensor;
    hardtanh_(minVal?: number, maxVal?: number): Tensor;
    hardsigmoid(): Tensor;
    hardswish(): Tensor;
    softplus(beta?: number | { beta?: number; threshold?: number; approx?: Approx }, threshold?: number): Tensor;
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
// x.sigmoid() / x.tanh() stay the math ops; with options (x.tanh({approx: 'fast'})) they are the
// activations
for (const n of ['sigmoid', 'tanh']) {
  const math = proto[n] as (this: Tensor) => Tensor;
  const fn = functional[n];
  proto[n] = function (this: Tensor, opts?: unknown) {
    return opts === undefined ? math.call(this) : fn(this, opts);
  };
}
