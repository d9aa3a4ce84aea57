/**
 * Activation modules, generated from the activation table: `new nn.ReLU()`,
 * `new nn.LeakyReLU(0.2)` or `new nn.LeakyReLU({ negativeSlope: 0.2 })`, `new nn.GELU({ approximate: 'tanh' })`.
 * PReLU and Swish(learnable) hold Parameters; ActivationMix is a learnable softmax gate over
 * several activations. `nn.activation(name, opts)` builds any of them by name.
 */
import { functional, resolveParams, wantsFast } from '../activations/functional';
import { lookup } from '../activations/registry';
import { ACTIVATIONS, ActivationRow } from '../activations/table';
import { ShapeError, ValueError } from '../errors';
import * as ops from '../ops/all';
import { Tensor } from '../tensor';
import { Module, Parameter } from './module';

/** A stateless activation module built from a table row. */
export class Activation extends Module {
  readonly options: Record<string, unknown>;
  constructor(
    readonly row: ActivationRow,
    args: unknown[] = [],
  ) {
    super();
    this.options = resolveParams(row, args);
    wantsFast(row, this.options);  // a bad `approx` fails at construction, not at the first call
  }
  forward(x: Tensor): Tensor {
    const fn = functional[this.row.fn];
    return this.row.name === 'rrelu' ? fn(x, { ...this.options, training: this.training }) : fn(x, this.options);
  }
  override extraRepr(): string {
    return Object.entries(this.options)
      .filter(([k, v]) => v !== undefined && v !== null && !(k === 'inplace' && v === false))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? `'${v}'` : String(v)}`)
      .join(', ');
  }
}

type ActivationClass = new (...args: unknown[]) => Activation;

function makeClass(row: ActivationRow): ActivationClass {
  const C = class extends Activation {
    constructor(...args: unknown[]) {
      super(row, args);
    }
  };
  Object.defineProperty(C, 'name', { value: row.module });
  return C as ActivationClass;
}

/** PReLU: x > 0 ? x : a x with a learnable `a` (one, or one per channel = dim 1). */
export class PReLU extends Module {
  weight: Parameter;
  constructor(opts: { numParameters?: number; init?: number; dtype?: 'float32' | 'float64' } | number = {}, init?: number) {
    super();
    const o = typeof opts === 'number' ? { numParameters: opts, init } : opts;
    const n = o.numParameters ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new ValueError(`PReLU: numParameters must be a positive integer, got ${n}`);
    this.weight = new Parameter(ops.full([n], o.init ?? 0.25, { dtype: o.dtype ?? 'float32' }));
  }
  forward(x: Tensor): Tensor {
    return functional.prelu(x, this.weight);
  }
  override extraRepr(): string {
    return `numParameters=${this.weight.numel}`;
  }
}

/**
 * Swish x * sigmoid(beta x); `learnable: true` makes beta a Parameter. `approx: 'fast'` runs the
 * fast forward for a fixed beta (a learnable beta is a composition of exact ops).
 */
export class Swish extends Module {
  beta: number | Parameter;
  readonly approx: 'none' | 'fast';
  constructor(opts: { beta?: number; learnable?: boolean; approx?: 'none' | 'fast'; dtype?: 'float32' | 'float64' } | number = {}) {
    super();
    const o = typeof opts === 'number' ? { beta: opts } : opts;
    const b = o.beta ?? 1;
    this.beta = o.learnable ? new Parameter(ops.full([1], b, { dtype: o.dtype ?? 'float32' })) : b;
    this.approx = wantsFast(lookup('swish').row, { approx: o.approx }) ? 'fast' : 'none';
  }
  forward(x: Tensor): Tensor {
    return functional.swish(x, { beta: this.beta, approx: this.approx });
  }
  override extraRepr(): string {
    const a = this.approx === 'fast' ? ", approx='fast'" : '';
    return (this.beta instanceof Tensor ? `beta=${(this.beta.item() as number).toFixed(4)}, learnable=true` : `beta=${this.beta}`) + a;
  }
}

/** A module running a user-defined activation (ignis.defineActivation). */
export class CustomActivationModule extends Module {
  constructor(
    readonly activationName: string,
    readonly params: Record<string, number>,
    private readonly fn: (x: Tensor, p: Record<string, number>) => Tensor,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.fn(x, this.params);
  }
  override extraRepr(): string {
    return [`'${this.activationName}'`, ...Object.entries(this.params).map(([k, v]) => `${k}=${v}`)].join(', ');
  }
}

/** Module for any activation name (built-in or defined), Keras-style. */
export function activation(name: string, opts: Record<string, unknown> = {}): Module {
  const { row, custom } = lookup(name);
  if (custom) {
    for (const k of Object.keys(opts))
      if (!(k in custom.params)) throw new ValueError(`${custom.name}: unknown option '${k}'; expected ${Object.keys(custom.params).join(', ') || 'none'}`);
    return new CustomActivationModule(custom.name, { ...custom.params, ...(opts as Record<string, number>) }, custom.forward);
  }
  if (row.name === 'prelu') return new PReLU(opts as { numParameters?: number });
  if (row.name === 'swish') return new Swish(opts as { beta?: number; learnable?: boolean; approx?: 'none' | 'fast' });
  return new CLASSES[row.module]!(opts);
}

/**
 * Adaptive activation by gating: y = sum_i softmax(g)_i * act_i(x) with learnable logits g,
 * shared or per channel (dim 1). Initialised uniform (g = 0).
 */
export class ActivationMix extends Module {
  readonly names: string[];
  acts: Module[];
  gate: Parameter;
  readonly perChannel: boolean;
  constructor(names: string[], opts: { perChannel?: boolean; numChannels?: number; dtype?: 'float32' | 'float64' } = {}) {
    super();
    if (!Array.isArray(names) || names.length < 1) throw new ValueError('ActivationMix: expected a non-empty list of activation names');
    this.names = names.slice();
    this.acts = names.map((n) => activation(n));
    this.perChannel = !!opts.perChannel;
    if (this.perChannel && !(opts.numChannels && opts.numChannels > 0))
      throw new ValueError('ActivationMix: perChannel needs numChannels (the size of dim 1)');
    const shape = this.perChannel ? [opts.numChannels!, names.length] : [names.length];
    this.gate = new Parameter(ops.zeros(shape, { dtype: opts.dtype ?? 'float32' }));
  }
  /** The current mixing weights (softmax of the gate logits). */
  weights(): Tensor {
    return ops.softmax(this.gate, -1);
  }
  forward(x: Tensor): Tensor {
    const w = this.weights();
    if (this.perChannel && (x.ndim < 2 || x.shape[1] !== this.gate.shape[0]))
      throw new ShapeError(`ActivationMix: input ${JSON.stringify(x.shape)} does not have ${this.gate.shape[0]} channels in dim 1`);
    let y: Tensor | null = null;
    this.acts.forEach((a, i) => {
      let wi = ops.select(w, -1, i);
      if (this.perChannel) wi = ops.reshape(wi, x.shape.map((s, d) => (d === 1 ? s : 1)));
      const term = ops.mul(a.call(x) as Tensor, wi);
      y = y ? ops.add(y, term) : term;
    });
    return y!;
  }
  override extraRepr(): string {
    return `[${this.names.map((n) => `'${n}'`).join(', ')}]${this.perChannel ? ', perChannel=true' : ''}`;
  }
}

export const CLASSES: Record<string, ActivationClass | undefined> = {};
for (const r of ACTIVATIONS) if (r.name !== 'prelu' && r.name !== 'swish') CLASSES[r.module] = makeClass(r);

export const ReLU = CLASSES.ReLU!;
export const ReLU6 = CLASSES.ReLU6!;
export const LeakyReLU = CLASSES.LeakyReLU!;
export const RReLU = CLASSES.RReLU!;
export const ELU = CLASSES.ELU!;
export const CELU = CLASSES.CELU!;
export const SELU = CLASSES.SELU!;
export const GELU = CLASSES.GELU!;
export const SiLU = CLASSES.SiLU!;
export const Mish = CLASSES.Mish!;
export const Sigmoid = CLASSES.Sigmoid!;
export const Tanh = CLASSES.Tanh!;
export const Hardtanh = CLASSES.Hardtanh!;
export const Hardsigmoid = CLASSES.Hardsigmoid!;
export const Hardswish = CLASSES.Hardswish!;
export const Softplus = CLASSES.Softplus!;
export const Softsign = CLASSES.Softsign!;
export const LogSigmoid = CLASSES.LogSigmoid!;
export const Tanhshrink = CLASSES.Tanhshrink!;
export const Softshrink = CLASSES.Softshrink!;
export const Hardshrink = CLASSES.Hardshrink!;
export const Threshold = CLASSES.Threshold!;
export const GLU = CLASSES.GLU!;
export const Softmax = CLASSES.Softmax!;
export const LogSoftmax = CLASSES.LogSoftmax!;
export const Softmin = CLASSES.Softmin!;
