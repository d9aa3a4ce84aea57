/**
 * PReLU, GLU and RReLU in training: the activations that are not one elementwise kernel of x alone.
 * Each is ONE dispatched op forward and one backward, as PyTorch's fused kernels are:
 *   prelu   y = x > 0 ? x : w[c] x           native/cpu/gated.cpp; backward gx and the slope gradient
 *   glu     y = a sigmoid(b), x = [a | b]     native/cpu/gated.cpp; backward both halves in one pass
 *   rrelu   y = x noise, noise ~ U(lower, upper) where x <= 0 and 1 elsewhere (PyTorch's
 *           rrelu_with_noise); backward g noise, one multiplication
 * prelu / glu run native/cpu/gated.cpp on the CPU and its twin native/cuda/gated.cu on CUDA; mixed
 * dtypes (which PyTorch rejects but the composition promotes) and integer inputs take the compositions
 * below, which autograd differentiates and the tests use as the reference. Under createGraph the
 * backward is written with differentiable ops, so double backward works.
 */
import { mode, noGrad } from '../autograd/mode';
import type { OpDef } from '../dispatch';
import { isFloating } from '../dtype';
import * as K from '../kernels';
import * as ops from '../ops/all';
import { Tensor } from '../tensor';

type Geom = [number, number, number];

/** x viewed as [outer, C, inner] around dim 1 (C slopes), or one channel when there is one slope. */
function preluGeom(x: Tensor, w: Tensor): Geom {
  if (w.numel === 1) return [1, 1, x.numel];
  let inner = 1;
  for (let i = 2; i < x.ndim; i++) inner *= x.shape[i];
  return [x.shape[0], x.shape[1], inner];
}

/** w reshaped to broadcast against x (its channel along dim 1). */
function slopeView(x: Tensor, w: Tensor): Tensor {
  const shape = x.shape.map((_, i) => (i === 1 && w.numel > 1 ? w.numel : 1));
  return ops.reshape(w, w.numel === 1 ? (x.ndim ? shape : []) : shape);
}

/**
 * PReLU as where(x > 0, x, w where(x > 0, 0, x)): mixed dtypes' path and the tests' reference. The inner
 * where keeps x = +inf out of w's gradient (0 there, as PyTorch's kernel; w x would give 0 inf = NaN).
 */
export function preluComposite(x: Tensor, w: Tensor): Tensor {
  return ops.scoped([x, w], () => {
    const pos = ops.gt(x, 0);
    return ops.where(pos, x, ops.mul(slopeView(x, w), ops.where(pos, 0, x)));
  });
}

interface PreluAttrs {
  geom: Geom;
  wantX: boolean;
  wantW: boolean;
}

const preluBwdDef: OpDef<PreluAttrs> = {
  name: 'prelu_backward',
  forward(_ctx, [x, w, g], a) {
    const [gx, gw] = K.preluBwd(x, w, K.contiguous(g), a.geom, a.wantX, a.wantW);
    return [gx, gw].filter((t): t is Tensor => t !== null);
  },
};

const preluDef: OpDef<Geom> = {
  name: 'prelu',
  forward(ctx, [x, w], geom) {
    const xc = K.contiguous(x);
    const wc = K.contiguous(w);
    ctx.x = xc;
    ctx.w = wc;
    ctx.geom = geom;
    return K.preluFwd(xc, wc, geom);
  },
  backward(ctx, [g]) {
    const x = ctx.x as Tensor, w = ctx.w as Tensor;
    const [wantX, wantW] = ctx.needsInputGrad;
    if (mode.grad) {
      // differentiable in x, w and g (double backward)
      const pos = ops.gt(x, 0);
      const gx = wantX ? ops.where(pos, g!, ops.mul(slopeView(x, w), g!)) : null;
      let gw: Tensor | null = null;
      if (wantW) {
        const t = ops.where(pos, 0, ops.mul(x, g!));
        gw = ops.reshape(w.numel === 1 ? ops.sum(t) : ops.sum(t, x.shape.map((_, i) => i).filter((i) => i !== 1)), w.shape as number[]);
      }
      return [gx, gw];
    }
    const outs = ops.dispatch(preluBwdDef, [x, w, g!], { geom: ctx.geom as Geom, wantX, wantW }, true);
    return [wantX ? outs[0] : null, wantW ? outs[wantX ? 1 : 0] : null];
  },
};

/** PReLU with slopes w (one, or one per channel along dim 1); the arguments are validated by F.prelu. */
export function prelu(x: Tensor, w: Tensor): Tensor {
  if (!isFloating(x.dtype) || w.dtype !== x.dtype) return preluComposite(x, w);
  return ops.dispatch(preluDef, [x, w], preluGeom(x, w));
}

// ---- GLU ----------------------------------------------------------------------------------------

/** GLU as a sigmoid(b) over the two chunks: the tests' reference. */
export function gluComposite(x: Tensor, d: number): Tensor {
  const [a, b] = ops.chunk(x, 2, d);
  return ops.scoped([x], () => ops.mul(a, ops.sigmoid(b)));
}

interface GluAttrs {
  d: number;
  outer: number;
  M: number;
}

const gluBwdDef: OpDef<GluAttrs> = {
  name: 'glu_backward',
  forward(_ctx, [x, g], a) {
    return K.gluBwd(x, K.contiguous(g), a.outer, a.M);
  },
};

const gluDef: OpDef<GluAttrs> = {
  name: 'glu',
  forward(ctx, [x], a) {
    const xc = K.contiguous(x);
    ctx.x = xc;
    ctx.a = a;
    const shape = x.shape.slice();
    shape[a.d] /= 2;
    return K.gluFwd(xc, a.outer, a.M, shape);
  },
  backward(ctx, [g]) {
    const x = ctx.x as Tensor, a = ctx.a as GluAttrs;
    if (mode.grad) {
      const [xa, xb] = ops.chunk(x, 2, a.d);
      const s = ops.sigmoid(xb);
      const gb = ops.mul(ops.mul(ops.mul(ops.sub(1, s), s), g!), xa);
      return [ops.cat([ops.mul(s, g!), gb], a.d)];
    }
    return [ops.dispatch(gluBwdDef, [x, g!], a)];
  },
};

/** GLU along dim d (normalised; shape[d] even, checked by F.glu). */
export function glu(x: Tensor, d: number): Tensor {
  if (!isFloating(x.dtype)) return gluComposite(x, d);
  let outer = 1, M = x.shape[d] / 2;
  for (let i = 0; i < d; i++) outer *= x.shape[i];
  for (let i = d + 1; i < x.ndim; i++) M *= x.shape[i];
  return ops.dispatch(gluDef, [x], { d, outer, M });
}

// ---- RReLU in training ----------------------------------------------------------------------------

interface RreluAttrs {
  lower: number;
  upper: number;
}

const rreluDef: OpDef<RreluAttrs> = {
  name: 'rrelu_with_noise',
  forward(ctx, [x], a) {
    return noGrad(() => {
      const u = ops.uniform_(ops.emptyLike(x), a.lower, a.upper);
      // PyTorch: a slope where x <= 0, 1 elsewhere (NaN included)
      const noise = ops.scoped([u], () => ops.where(ops.le(x, 0), u, 1));
      u.dispose();
      ctx.noise = noise;
      return ops.mul(x, noise);
    });
  },
  backward(ctx, [g]) {
    return [ops.mul(g!, ctx.noise as Tensor)];
  },
};

/** RReLU in training mode: a fresh slope per non-positive element (bounds checked by F.rrelu). */
export function rreluTrain(x: Tensor, lower: number, upper: number): Tensor {
  return ops.dispatch(rreluDef, [x], { lower, upper });
}
