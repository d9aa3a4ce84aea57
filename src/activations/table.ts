/**
 * THE activation table (TS side): one row per activation. Elementwise rows name their native
 * kernel in native/ops/activations.def (parameters in kernel order); the drift test
 * (test/activations/drift.test.ts) fails when the two tables disagree. `F.*`, `nn.*` modules,
 * Tensor methods, `nn.activation(name)`, `activations.info(name)`, the tests and the benchmarks
 * all loop over this table. Adding an activation: one ACT row in activations.def + one row here.
 * `approx` lists a row's fast approximations (ACT_FAST rows of activations.def, `approx: 'fast'`)
 * with the max abs error test/activations/approx.test.ts measures and asserts.
 */
export interface ParamSpec {
  name: string;
  default: number | string | boolean | null;
  doc?: string;
}

/** Names of the approximations an activation may offer (`F.gelu(x, {approx: 'fast'})`); 'none' is the exact kernel. */
export type ApproxName = 'fast';
export const APPROX_NAMES: readonly ApproxName[] = ['fast'];

/**
 * A fast approximation of an activation's forward (issue 3 section 5): an ACT_FAST row of
 * activations.def, kernel '<kernel>_fast', run for float32 tensors on the CPU (float64 and CUDA
 * tensors run the exact kernel, which is within any bound). Backward is the exact derivative
 * (the exact row's backward kernel at x; sigmoid and tanh: at the fast forward's output).
 */
export interface ApproxSpec {
  /**
   * max |fast(x) - exact(x)| over float32 inputs, default parameters: the bound that
   * test/activations/approx.test.ts asserts over a dense sweep of [-30, 30], random bit patterns and
   * the edge values (±0, ±inf, nan, ±1e4, ±88) against the float64 exact kernel
   */
  maxAbsError: number;
  /** the same for kernel variants of the row (gelu: approximate 'tanh' -> 'gelu_tanh') */
  variants?: Record<string, number>;
  /** how the error scales with the row's parameters */
  scaling?: string;
}

export interface ActivationRow {
  /** canonical name, snake_case like torch.nn.functional */
  name: string;
  /** PyTorch module class name */
  module: string;
  /** camelCase functional name (F.<fn>, Tensor.<fn>()) */
  fn: string;
  /** native kernel(s) in activations.def; gelu picks between two by `approximate` */
  kernel: string | null;
  params: ParamSpec[];
  formula: string;
  derivative: string;
  range: [number, number];
  monotonic: boolean;
  smooth: boolean;
  /** PyTorch has an in-place variant (F.relu(x, {inplace: true}), x.relu_()) */
  inplace: boolean;
  paper: string;
  /** elementwise: output element depends on one input element */
  elementwise: boolean;
  /** fast approximations of the forward, with their measured error (absent: exact only) */
  approx?: Partial<Record<ApproxName, ApproxSpec>>;
}

const INF = Infinity;

export const ACTIVATIONS: readonly ActivationRow[] = [
  { name: 'relu', module: 'ReLU', fn: 'relu', kernel: 'relu', params: [], formula: 'max(0, x)', derivative: 'x > 0 ? 1 : 0',
    range: [0, INF], monotonic: true, smooth: false, inplace: true, elementwise: true,
    paper: 'Nair & Hinton 2010, Rectified Linear Units Improve Restricted Boltzmann Machines' },
  { name: 'relu6', module: 'ReLU6', fn: 'relu6', kernel: 'relu6', params: [], formula: 'min(max(0, x), 6)', derivative: '0 < x < 6 ? 1 : 0',
    range: [0, 6], monotonic: true, smooth: false, inplace: true, elementwise: true,
    paper: 'Krizhevsky 2010, Convolutional Deep Belief Networks on CIFAR-10' },
  { name: 'leaky_relu', module: 'LeakyReLU', fn: 'leakyRelu', kernel: 'leaky_relu', params: [{ name: 'negativeSlope', default: 0.01 }],
    formula: 'x > 0 ? x : negativeSlope * x', derivative: 'x > 0 ? 1 : negativeSlope', range: [-INF, INF], monotonic: true, smooth: false,
    inplace: true, elementwise: true, paper: 'Maas et al. 2013, Rectifier Nonlinearities Improve Neural Network Acoustic Models' },
  { name: 'prelu', module: 'PReLU', fn: 'prelu', kernel: null, params: [{ name: 'numParameters', default: 1 }, { name: 'init', default: 0.25 }],
    formula: 'x > 0 ? x : a * x (a learnable, one or one per channel)', derivative: 'x > 0 ? 1 : a; d/da = x > 0 ? 0 : x',
    range: [-INF, INF], monotonic: false, smooth: false, inplace: false, elementwise: false,
    paper: 'He et al. 2015, Delving Deep into Rectifiers (arXiv:1502.01852)' },
  { name: 'rrelu', module: 'RReLU', fn: 'rrelu', kernel: null, params: [{ name: 'lower', default: 1 / 8 }, { name: 'upper', default: 1 / 3 }],
    formula: 'x >= 0 ? x : a * x, a ~ U(lower, upper) in training, (lower + upper) / 2 in eval', derivative: 'x >= 0 ? 1 : a',
    range: [-INF, INF], monotonic: true, smooth: false, inplace: true, elementwise: true,
    paper: 'Xu et al. 2015, Empirical Evaluation of Rectified Activations (arXiv:1505.00853)' },
  { name: 'elu', module: 'ELU', fn: 'elu', kernel: 'elu', params: [{ name: 'alpha', default: 1 }],
    formula: 'x > 0 ? x : alpha * (exp(x) - 1)', derivative: 'x > 0 ? 1 : alpha * exp(x)', range: [-INF, INF], monotonic: true, smooth: false,
    inplace: true, elementwise: true, paper: 'Clevert et al. 2015, Fast and Accurate Deep Network Learning by ELUs (arXiv:1511.07289)',
    approx: { fast: { maxAbsError: 2.7e-6, scaling: 'x alpha' } } },
  { name: 'celu', module: 'CELU', fn: 'celu', kernel: 'celu', params: [{ name: 'alpha', default: 1 }],
    formula: 'x > 0 ? x : alpha * (exp(x / alpha) - 1)', derivative: 'x > 0 ? 1 : exp(x / alpha)', range: [-INF, INF], monotonic: true,
    smooth: true, inplace: true, elementwise: true, paper: 'Barron 2017, Continuously Differentiable Exponential Linear Units (arXiv:1704.07483)' },
  { name: 'selu', module: 'SELU', fn: 'selu', kernel: 'selu', params: [],
    formula: 'scale * (x > 0 ? x : alpha * (exp(x) - 1)), alpha = 1.6732632, scale = 1.0507010', derivative: 'scale * (x > 0 ? 1 : alpha * exp(x))',
    range: [-1.7580993408473766, INF], monotonic: true, smooth: false, inplace: true, elementwise: true,
    paper: 'Klambauer et al. 2017, Self-Normalizing Neural Networks (arXiv:1706.02515)' },
  { name: 'gelu', module: 'GELU', fn: 'gelu', kernel: 'gelu', params: [{ name: 'approximate', default: 'none', doc: "'none' | 'tanh'" }],
    formula: 'x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)); tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))',
    derivative: 'Phi(x) + x phi(x)', range: [-0.17, INF], monotonic: false, smooth: true, inplace: false, elementwise: true,
    paper: 'Hendrycks & Gimpel 2016, Gaussian Error Linear Units (arXiv:1606.08415)',
    approx: { fast: { maxAbsError: 5.6e-6, variants: { gelu_tanh: 3.2e-6 } } } },
  { name: 'silu', module: 'SiLU', fn: 'silu', kernel: 'silu', params: [], formula: 'x * sigmoid(x)', derivative: 's (1 + x (1 - s)), s = sigmoid(x)',
    range: [-0.2784645427610738, INF], monotonic: false, smooth: true, inplace: true, elementwise: true,
    paper: 'Elfwing et al. 2017, Sigmoid-Weighted Linear Units (arXiv:1702.03118)',
    approx: { fast: { maxAbsError: 1.3e-6 } } },
  { name: 'swish', module: 'Swish', fn: 'swish', kernel: 'swish', params: [{ name: 'beta', default: 1 }, { name: 'learnable', default: false }],
    formula: 'x * sigmoid(beta x)', derivative: 's + beta x s (1 - s), s = sigmoid(beta x); d/dbeta = x^2 s (1 - s)',
    range: [-INF, INF], monotonic: false, smooth: true, inplace: false, elementwise: true,
    paper: 'Ramachandran et al. 2017, Searching for Activation Functions (arXiv:1710.05941)',
    approx: { fast: { maxAbsError: 1.3e-6, scaling: 'x max(1, 1 / |beta|)' } } },
  { name: 'mish', module: 'Mish', fn: 'mish', kernel: 'mish', params: [], formula: 'x * tanh(softplus(x))',
    derivative: 'tanh(sp) + x sigmoid(x) (1 - tanh(sp)^2)', range: [-0.30884, INF], monotonic: false, smooth: true, inplace: true, elementwise: true,
    paper: 'Misra 2019, Mish: A Self Regularized Non-Monotonic Activation Function (arXiv:1908.08681)',
    approx: { fast: { maxAbsError: 8.6e-7 } } },
  { name: 'sigmoid', module: 'Sigmoid', fn: 'sigmoid', kernel: 'sigmoid', params: [], formula: '1 / (1 + exp(-x))', derivative: 's (1 - s)',
    range: [0, 1], monotonic: true, smooth: true, inplace: true, elementwise: true, paper: 'Rumelhart, Hinton & Williams 1986',
    approx: { fast: { maxAbsError: 8e-7 } } },
  { name: 'tanh', module: 'Tanh', fn: 'tanh', kernel: 'tanh', params: [], formula: 'tanh(x)', derivative: '1 - tanh(x)^2',
    range: [-1, 1], monotonic: true, smooth: true, inplace: true, elementwise: true, paper: 'LeCun et al. 1998, Efficient BackProp',
    approx: { fast: { maxAbsError: 1.3e-6 } } },
  { name: 'hardtanh', module: 'Hardtanh', fn: 'hardtanh', kernel: 'hardtanh', params: [{ name: 'minVal', default: -1 }, { name: 'maxVal', default: 1 }],
    formula: 'min(max(x, minVal), maxVal)', derivative: 'minVal < x < maxVal ? 1 : 0', range: [-1, 1], monotonic: true, smooth: false,
    inplace: true, elementwise: true, paper: 'Collobert 2004, Large Scale Machine Learning' },
  { name: 'hardsigmoid', module: 'Hardsigmoid', fn: 'hardsigmoid', kernel: 'hardsigmoid', params: [], formula: 'min(max(x / 6 + 1/2, 0), 1)',
    derivative: '-3 < x < 3 ? 1/6 : 0', range: [0, 1], monotonic: true, smooth: false, inplace: true, elementwise: true,
    paper: 'Courbariaux et al. 2015, BinaryConnect (arXiv:1511.00363)' },
  { name: 'hardswish', module: 'Hardswish', fn: 'hardswish', kernel: 'hardswish', params: [], formula: 'x * min(max(x + 3, 0), 6) / 6',
    derivative: 'x < -3 ? 0 : x > 3 ? 1 : x / 3 + 1/2', range: [-0.375, INF], monotonic: false, smooth: false, inplace: true, elementwise: true,
    paper: 'Howard et al. 2019, Searching for MobileNetV3 (arXiv:1905.02244)' },
  { name: 'softplus', module: 'Softplus', fn: 'softplus', kernel: 'softplus', params: [{ name: 'beta', default: 1 }, { name: 'threshold', default: 20 }],
    formula: 'beta x > threshold ? x : log(1 + exp(beta x)) / beta', derivative: 'sigmoid(beta x)', range: [0, INF], monotonic: true, smooth: true,
    inplace: false, elementwise: true, paper: 'Dugas et al. 2001, Incorporating Second-Order Functional Knowledge',
    approx: { fast: { maxAbsError: 2.6e-6, scaling: 'x 1 / beta' } } },
  { name: 'softsign', module: 'Softsign', fn: 'softsign', kernel: 'softsign', params: [], formula: 'x / (1 + |x|)', derivative: '1 / (1 + |x|)^2',
    range: [-1, 1], monotonic: true, smooth: true, inplace: false, elementwise: true, paper: 'Bergstra et al. 2009, Quadratic Polynomials Learn Better Image Features' },
  { name: 'logsigmoid', module: 'LogSigmoid', fn: 'logsigmoid', kernel: 'logsigmoid', params: [], formula: 'log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))',
    derivative: '1 - sigmoid(x)', range: [-INF, 0], monotonic: true, smooth: true, inplace: false, elementwise: true, paper: '-' },
  { name: 'tanhshrink', module: 'Tanhshrink', fn: 'tanhshrink', kernel: 'tanhshrink', params: [], formula: 'x - tanh(x)', derivative: 'tanh(x)^2',
    range: [-INF, INF], monotonic: true, smooth: true, inplace: false, elementwise: true, paper: '-' },
  { name: 'softshrink', module: 'Softshrink', fn: 'softshrink', kernel: 'softshrink', params: [{ name: 'lambd', default: 0.5 }],
    formula: 'x > l ? x - l : x < -l ? x + l : 0', derivative: '|x| > l ? 1 : 0', range: [-INF, INF], monotonic: true, smooth: false,
    inplace: false, elementwise: true, paper: 'Donoho 1995, De-noising by soft-thresholding' },
  { name: 'hardshrink', module: 'Hardshrink', fn: 'hardshrink', kernel: 'hardshrink', params: [{ name: 'lambd', default: 0.5 }],
    formula: '|x| > l ? x : 0', derivative: '|x| > l ? 1 : 0', range: [-INF, INF], monotonic: false, smooth: false, inplace: false, elementwise: true,
    paper: '-' },
  { name: 'threshold', module: 'Threshold', fn: 'threshold', kernel: 'threshold', params: [{ name: 'threshold', default: null }, { name: 'value', default: null }],
    formula: 'x > threshold ? x : value', derivative: 'x > threshold ? 1 : 0', range: [-INF, INF], monotonic: false, smooth: false,
    inplace: true, elementwise: true, paper: '-' },
  { name: 'glu', module: 'GLU', fn: 'glu', kernel: null, params: [{ name: 'dim', default: -1 }], formula: 'a * sigmoid(b), (a, b) = halves of x along dim',
    derivative: 'da = sigmoid(b); db = a s (1 - s)', range: [-INF, INF], monotonic: false, smooth: true, inplace: false, elementwise: false,
    paper: 'Dauphin et al. 2017, Language Modeling with Gated Convolutional Networks (arXiv:1612.08083)' },
  { name: 'softmax', module: 'Softmax', fn: 'softmax', kernel: null, params: [{ name: 'dim', default: null }], formula: 'exp(x_i) / sum_j exp(x_j)',
    derivative: 's_i (delta_ij - s_j)', range: [0, 1], monotonic: false, smooth: true, inplace: false, elementwise: false, paper: 'Bridle 1990' },
  { name: 'log_softmax', module: 'LogSoftmax', fn: 'logSoftmax', kernel: null, params: [{ name: 'dim', default: null }],
    formula: 'x_i - log sum_j exp(x_j)', derivative: 'delta_ij - softmax_j', range: [-INF, 0], monotonic: false, smooth: true, inplace: false,
    elementwise: false, paper: '-' },
  { name: 'softmin', module: 'Softmin', fn: 'softmin', kernel: null, params: [{ name: 'dim', default: null }], formula: 'softmax(-x)',
    derivative: '-s_i (delta_ij - s_j)', range: [0, 1], monotonic: false, smooth: true, inplace: false, elementwise: false, paper: '-' },
];

/** Native kernels that are variants of a row (not rows of their own). */
export const KERNEL_VARIANTS: Record<string, { row: string; params: number }> = {
  gelu_tanh: { row: 'gelu', params: 0 },
};

/**
 * d f / d input of every native activation kernel, in the expression language of expr.ts, for
 * higher-order gradients (higher.ts; the drift test checks each against the native backward).
 * `params` names the kernel's parameters in activations.def order (P0, P1, ...). For ACT_OUT kernels the variable x
 * stands for the forward output y. At kinks the choice follows the native backward.
 */
export const KERNEL_DERIVATIVES: Readonly<Record<string, { params: readonly string[]; expr: string }>> = {
  relu: { params: [], expr: 'x > 0 ? 1 : 0' },
  relu6: { params: [], expr: 'x > 0 ? (x < 6 ? 1 : 0) : 0' },
  leaky_relu: { params: ['negativeSlope'], expr: 'x > 0 ? 1 : negativeSlope' },
  elu: { params: ['alpha'], expr: 'x <= 0 ? alpha * exp(x) : 1' },
  celu: { params: ['alpha'], expr: 'x <= 0 ? exp(x * (1 / alpha)) : 1' },
  selu: { params: [], expr: 'x > 0 ? 1.0507009873554805 : 1.0507009873554805 * 1.6732632423543772 * exp(x)' },
  gelu: { params: [], expr: '0.5 * (1 + erf(x * 0.7071067811865476)) + x * 0.3989422804014327 * exp(-0.5 * x * x)' },
  gelu_tanh: {
    params: [],
    expr:
      '0.5 * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))) + ' +
      '0.5 * x * (1 - tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)) ^ 2) * 0.7978845608028654 * (1 + 3 * 0.044715 * x * x)',
  },
  silu: { params: [], expr: 'sigmoid(x) * (1 + x * (1 - sigmoid(x)))' },
  swish: { params: ['beta'], expr: 'sigmoid(beta * x) + beta * x * sigmoid(beta * x) * (1 - sigmoid(beta * x))' },
  mish: { params: [], expr: 'tanh(softplus(x)) + x * sigmoid(x) * (1 - tanh(softplus(x)) ^ 2)' },
  sigmoid: { params: [], expr: 'x * (1 - x)' }, // x is the output y
  tanh: { params: [], expr: '1 - x * x' }, // x is the output y
  hardtanh: { params: ['minVal', 'maxVal'], expr: 'x > minVal ? (x < maxVal ? 1 : 0) : 0' },
  // PyTorch's float constant 1/6, as the native backward
  hardsigmoid: { params: [], expr: 'x > -3 ? (x < 3 ? 0.1666666716337204 : 0) : 0' },
  hardswish: { params: [], expr: 'x <= -3 ? 0 : (x < 3 ? x / 3 + 0.5 : 1)' },
  softplus: { params: ['beta', 'threshold'], expr: 'x * beta > threshold ? 1 : sigmoid(x * beta)' },
  softsign: { params: [], expr: '1 / ((abs(x) + 1) * (abs(x) + 1))' },
  logsigmoid: { params: [], expr: '-expm1(x)' }, // x is the output y
  tanhshrink: { params: [], expr: 'tanh(x) ^ 2' },
  softshrink: { params: ['lambd'], expr: 'x >= -lambd ? (x <= lambd ? 0 : 1) : 1' },
  hardshrink: { params: ['lambd'], expr: 'x >= -lambd ? (x <= lambd ? 0 : 1) : 1' },
  threshold: { params: ['threshold', 'value'], expr: 'x <= threshold ? 0 : 1' },
};
