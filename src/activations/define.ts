/**
 * User-defined activations, registered by name so nn.activation(name), ActivationMix and
 * everything else that takes a name accepts them:
 *   1. composition:  defineActivation({ name, forward: (x, p) => x.mul(x.sigmoid()) })
 *   2. custom grad:  defineActivation({ name, forward: (x) => MyFn.apply(x) }) with an
 *                    ignis.autograd.Function subclass
 *   3. expression:   defineActivation({ name, expr: 'x * sigmoid(beta * x)', params: { beta: 1 } })
 *      parsed once, differentiated symbolically, run as one fused native loop each way.
 */
import type { OpDef } from '../dispatch';
import { isFloating } from '../dtype';
import { DTypeError, ValueError } from '../errors';
import * as K from '../kernels';
import * as ops from '../ops/all';
import { Tensor } from '../tensor';
import { fromNative } from '../native_errors';
import { addon } from '../native';
import { deviceCode } from '../storage';
import { backwardExpr, bind, compile, derivative, Node, parse, toString } from './expr';
import { CudaExprSource, cudaSource } from './expr_cuda';
import { backwardOfBackward } from './higher';
import { registerCustom } from './registry';
import type { ActivationRow } from './table';

export interface DefineActivationOptions {
  name: string;
  forward?: (x: Tensor, params: Record<string, number>) => Tensor;
  expr?: string;
  params?: Record<string, number>;
  /** optional metadata for docs and the CLI */
  range?: [number, number];
  monotonic?: boolean;
  smooth?: boolean;
  paper?: string;
}

export interface ExprActivation {
  name: string;
  ast: Node;
  /** f(x) with parameters bound, for inspection */
  forwardProgram(params: Record<string, number>): Float64Array;
  backwardProgram(params: Record<string, number>): Float64Array;
  /** d f / dx as an expression string */
  derivativeString(params?: Record<string, number>): string;
  /** the CUDA source its kernels are compiled from with NVRTC at first use on a CUDA tensor */
  cudaSource(): CudaExprSource;
  apply(x: Tensor, params?: Record<string, number>): Tensor;
}

function exprActivation(name: string, src: string, defaults: Record<string, number>): ExprActivation {
  const ast = parse(src, Object.keys(defaults));
  const cache = new Map<string, { fwd: Float64Array; bwd: Float64Array; def: OpDef<null> }>();
  // CUDA: one source for every parameter value (they are kernel arguments), compiled and loaded
  // by the addon once per device; `kernels` maps a device to the addon's id of the loaded set
  let cuda: CudaExprSource | null = null;
  const cudaSrc = (): CudaExprSource => (cuda ??= cudaSource(name, ast, Object.keys(defaults)));
  const kernels = new Map<string, number>();
  const kernelSet = (x: Tensor): number => {
    const dev = x._storage.device;
    let id = kernels.get(dev);
    if (id === undefined) {
      const src = cudaSrc();
      try {
        id = addon.rtcExprLoad(src.source, src.params.length, deviceCode(dev), name);
      } catch (e) {
        throw fromNative(e, name);
      }
      kernels.set(dev, id);
    }
    return id;
  };
  const programs = (params: Record<string, number>) => {
    const key = JSON.stringify(params);
    let c = cache.get(key);
    if (!c) {
      // derivative first, parameters second: the tree the CUDA kernels compute (expr_cuda.ts)
      const fwd = compile(bind(ast, params));
      const bwd = compile(bind(backwardExpr(ast), params));
      const d = bind(derivative(ast), params);
      const pv = Float64Array.from(Object.keys(defaults).map((k) => params[k]));
      const bwdDef: OpDef<null> = {
        name: `${name}_backward`,
        forward(ctx, [x, g]) {
          ctx.x = x;
          ctx.g = g;
          return x._storage.device === 'cpu' ? K.expr(bwd, x, g, name) : K.rtcExpr(kernelSet(x), pv, x, g, name);
        },
        // higher-order gradients (createGraph): d/dx symbolically again, see higher.ts
        backward: (ctx, [gg]) =>
          backwardOfBackward(d, name, ctx.x as Tensor, ctx.g as Tensor, gg!, (h) => ops.dispatch(bwdDef, [ctx.x as Tensor, h], null)),
      };
      const def: OpDef<null> = {
        name,
        forward(ctx, [x]) {
          ctx.x = x;
          return x._storage.device === 'cpu' ? K.expr(fwd, x, null, name) : K.rtcExpr(kernelSet(x), pv, x, null, name);
        },
        backward: (ctx, [g]) => [ops.dispatch(bwdDef, [ctx.x as Tensor, g!], null)],
      };
      c = { fwd, bwd, def };
      if (cache.size > 64) cache.clear();
      cache.set(key, c);
    }
    return c;
  };
  const full = (p?: Record<string, number>): Record<string, number> => {
    const r = { ...defaults };
    for (const [k, v] of Object.entries(p ?? {})) {
      if (!(k in defaults)) throw new ValueError(`${name}: unknown parameter '${k}'; expected ${Object.keys(defaults).join(', ') || 'none'}`);
      r[k] = v;
    }
    return r;
  };
  return {
    name,
    ast,
    forwardProgram: (p) => programs(full(p)).fwd,
    backwardProgram: (p) => programs(full(p)).bwd,
    derivativeString: (p) => toString(bind(backwardExpr(ast), full(p))),
    cudaSource: cudaSrc,
    apply(x, p) {
      ops.checkTensor(x, name);
      if (!isFloating(x.dtype)) throw new DTypeError(`${name}: expected a floating point tensor, got ${x.dtype}`);
      return ops.dispatch(programs(full(p)).def, [x], null);
    },
  };
}

/** Registers a custom activation by name and returns a function applying it. */
export function defineActivation(opts: DefineActivationOptions): ((x: Tensor, params?: Record<string, number>) => Tensor) & { expr?: ExprActivation } {
  if (!opts || typeof opts.name !== 'string' || !opts.name) throw new ValueError('defineActivation: a name is required');
  // `expr: ''` counts as given (and fails to parse with a positioned ExprParseError)
  if ((opts.forward !== undefined) === (opts.expr !== undefined)) throw new ValueError('defineActivation: give exactly one of forward or expr');
  const params = { ...(opts.params ?? {}) };
  for (const [k, v] of Object.entries(params)) if (typeof v !== 'number') throw new ValueError(`defineActivation: parameter '${k}' must be a number`);
  const row: ActivationRow = {
    name: opts.name,
    module: opts.name,
    fn: opts.name,
    kernel: null,
    params: Object.entries(params).map(([name, d]) => ({ name, default: d })),
    formula: opts.expr ?? '(composition)',
    derivative: '(autograd)',
    range: opts.range ?? [-Infinity, Infinity],
    monotonic: opts.monotonic ?? false,
    smooth: opts.smooth ?? false,
    inplace: false,
    paper: opts.paper ?? '-',
    elementwise: true,
  };
  let fn: (x: Tensor, p?: Record<string, number>) => Tensor;
  let ex: ExprActivation | undefined;
  if (opts.expr !== undefined) {
    ex = exprActivation(opts.name, opts.expr, params);
    row.derivative = ex.derivativeString();
    fn = (x, p) => ex!.apply(x, p);
  } else {
    const f = opts.forward!;
    fn = (x, p) => f(ops.checkTensor(x, opts.name), { ...params, ...(p ?? {}) });
  }
  registerCustom({ name: opts.name, forward: (x, p) => fn(x, p), params, row });
  return Object.assign(fn, { expr: ex });
}
