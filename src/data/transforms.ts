/**
 * Image transforms (torchvision.transforms): toTensor, normalize, randomCrop, randomHorizontalFlip,
 * compose.
 *
 * Every transform here takes one image [C, H, W] or a whole batch [N, C, H, W] (marked
 * `batched: true`), and the random ones draw per-image choices for the batch with one call on an
 * ignis.Generator (default: ignis.defaultGenerator at call time, so ignis.manualSeed makes a run
 * reproducible). Datasets apply a batched transform to a whole batch at once; a plain function
 * (x) => Tensor is applied image by image.
 */
import { DTypeError, ShapeError, ValueError } from '../errors';
import { isFloating } from '../dtype';
import * as ops from '../ops/all';
import { Generator, defaultGenerator } from '../random';
import { Tensor } from '../tensor';

/** A transform; `batched` ones also accept [N, C, H, W] and treat dim 0 as the batch. */
export interface Transform<I = Tensor, O = Tensor> {
  (x: I): O;
  batched?: boolean;
}

/** Pixel data as a canvas ImageData or decoded image gives it: interleaved channels (HWC), bytes. */
export interface ImageLike {
  data: Uint8Array | Uint8ClampedArray | number[];
  width: number;
  height: number;
  /** channels per pixel (default data.length / (width * height)) */
  channels?: number;
}

function batched<I, O>(f: (x: I) => O): Transform<I, O> {
  const t = f as Transform<I, O>;
  t.batched = true;
  return t;
}

function genOf(g: Generator | undefined, who: string): Generator {
  if (g === undefined) return defaultGenerator;
  if (!(g instanceof Generator)) throw new ValueError(`${who}: generator must be an ignis.Generator`);
  return g;
}

function imageDims(x: Tensor, who: string): { n: number; c: number; h: number; w: number; single: boolean } {
  if (!(x instanceof Tensor)) throw new ValueError(`${who}: expected a Tensor image [C, H, W] or batch [N, C, H, W]`);
  if (x.ndim === 3) return { n: 1, c: x.shape[0], h: x.shape[1], w: x.shape[2], single: true };
  if (x.ndim === 4) return { n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3], single: false };
  if (x.ndim === 2) return { n: 1, c: 1, h: x.shape[0], w: x.shape[1], single: true };
  throw new ShapeError(`${who}: expected an image [C, H, W] or a batch [N, C, H, W], got shape [${x.shape.join(', ')}]`);
}

type Typed = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/**
 * Converts pixel data to a float32 tensor [C, H, W] in [0, 1] (torchvision's ToTensor):
 * an ImageLike (HWC bytes), or an integer tensor [H, W, C] / [N, H, W, C] (HWC, values 0..255).
 * A floating tensor is returned unchanged (the datasets here already give float images in [0, 1]).
 */
export function toTensor(): Transform<Tensor | ImageLike, Tensor> {
  return batched((x: Tensor | ImageLike): Tensor => {
    if (x instanceof Tensor) {
      if (isFloating(x.dtype)) return x;
      if (x.ndim !== 3 && x.ndim !== 4) throw new ShapeError(`toTensor: expected an HWC image [H, W, C] or batch [N, H, W, C], got shape [${x.shape.join(', ')}]`);
      const perm = x.ndim === 3 ? [2, 0, 1] : [0, 3, 1, 2];
      return ops.div(ops.to(ops.permute(x, perm), 'float32'), 255).contiguous();
    }
    if (!x || typeof x !== 'object' || !('data' in x)) throw new ValueError('toTensor: expected a Tensor or an image { data, width, height }');
    const { width: w, height: h } = x;
    if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0) throw new ValueError(`toTensor: bad image size ${w}x${h}`);
    const c = x.channels ?? x.data.length / (w * h);
    if (!Number.isInteger(c) || c < 1 || c * w * h !== x.data.length)
      throw new ShapeError(`toTensor: ${x.data.length} bytes do not make a ${w}x${h} image with ${String(x.channels ?? c)} channels`);
    const out = new Float32Array(c * h * w);
    const plane = h * w;
    for (let p = 0; p < plane; p++) for (let k = 0; k < c; k++) out[k * plane + p] = x.data[p * c + k] / 255;
    return ops.tensor(out, { shape: [c, h, w] });
  });
}

/** (x - mean[c]) / std[c] for each channel c (one value broadcasts to every channel). */
export function normalize(mean: number[] | number, std: number[] | number): Transform {
  const m = Array.isArray(mean) ? mean.slice() : [mean];
  const s = Array.isArray(std) ? std.slice() : [std];
  if (m.length === 0 || m.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new ValueError(`normalize: mean must be finite numbers, got [${m.join(', ')}]`);
  if (s.length === 0 || s.some((v) => typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)))
    throw new ValueError(`normalize: std must be positive finite numbers, got [${s.join(', ')}] (a zero std would divide by zero)`);
  const cache = new Map<string, [Tensor, Tensor]>();
  return batched((x: Tensor): Tensor => {
    const { c } = imageDims(x, 'normalize');
    if (!isFloating(x.dtype)) throw new DTypeError(`normalize: expected a floating image, got ${x.dtype} (apply toTensor first)`);
    for (const [name, v] of [['mean', m], ['std', s]] as const)
      if (v.length !== 1 && v.length !== c) throw new ShapeError(`normalize: ${name} has ${v.length} values but the image has ${c} channels`);
    const key = `${x.dtype}:${c}`;
    let pair = cache.get(key);
    if (!pair) {
      const mk = (v: number[]): Tensor => ops.tensor(Float64Array.from({ length: c }, (_, i) => v[v.length === 1 ? 0 : i]), { dtype: x.dtype, shape: [c, 1, 1] });
      pair = [mk(m), mk(s)];
      cache.set(key, pair);
    }
    const y = x.ndim === 2 ? ops.unsqueeze(x, 0) : x;
    const out = ops.div(ops.sub(y, pair[0]), pair[1]);
    return x.ndim === 2 ? ops.squeeze(out, 0) : out;
  });
}

export interface RandomCropOptions {
  /** pixels added on each side before cropping: n, [horizontal, vertical] or [left, top, right, bottom] */
  padding?: number | [number, number] | [number, number, number, number];
  /** value of the padded pixels (default 0) */
  fill?: number;
  /** pad the image when it is smaller than the crop (default false: that is an error) */
  padIfNeeded?: boolean;
  generator?: Generator;
}

/** A random size[0] x size[1] crop of each image, after optional padding (torchvision RandomCrop). */
export function randomCrop(size: number | [number, number], opts: RandomCropOptions = {}): Transform {
  const [ch, cw] = typeof size === 'number' ? [size, size] : size;
  if (!Number.isInteger(ch) || !Number.isInteger(cw) || ch < 1 || cw < 1) throw new ValueError(`randomCrop: size must be positive integers, got ${String(size)}`);
  const p = opts.padding ?? 0;
  const pad = typeof p === 'number' ? [p, p, p, p] : p.length === 2 ? [p[0], p[1], p[0], p[1]] : p.slice();
  if (pad.length !== 4 || pad.some((v) => !Number.isInteger(v) || v < 0)) throw new ValueError(`randomCrop: padding must be non-negative integers, got ${String(p)}`);
  const fill = opts.fill ?? 0;
  if (typeof fill !== 'number') throw new ValueError('randomCrop: fill must be a number');
  genOf(opts.generator, 'randomCrop');
  return batched((x: Tensor): Tensor => {
    const { n, c, h, w } = imageDims(x, 'randomCrop');
    let [pl, pt, pr, pb] = pad;
    if (opts.padIfNeeded) {
      if (h + pt + pb < ch) {
        const d = ch - (h + pt + pb);
        pt += d;
        pb += d;
      }
      if (w + pl + pr < cw) {
        const d = cw - (w + pl + pr);
        pl += d;
        pr += d;
      }
    }
    const H = h + pt + pb;
    const W = w + pl + pr;
    if (H < ch || W < cw) throw new ShapeError(`randomCrop: required crop size ${ch}x${cw} is larger than the (padded) image size ${H}x${W}`);
    const u = ops.rand([n, 2], { dtype: 'float64', generator: genOf(opts.generator, 'randomCrop') }).dataSync() as Float64Array;
    const src = x.dataSync() as Typed;
    const Ctor = src.constructor as new (k: number) => Typed;
    const out = new Ctor(n * c * ch * cw);
    const fv = src instanceof BigInt64Array ? BigInt(Math.trunc(fill)) : fill;
    if (fill !== 0) (out as { fill(v: unknown): unknown }).fill(fv);
    for (let i = 0; i < n; i++) {
      const top = Math.min(H - ch, Math.floor(u[2 * i] * (H - ch + 1))) - pt; // in source coordinates
      const left = Math.min(W - cw, Math.floor(u[2 * i + 1] * (W - cw + 1))) - pl;
      const x0 = Math.max(0, left);
      const x1 = Math.min(w, left + cw);
      for (let k = 0; k < c; k++) {
        const sBase = (i * c + k) * h * w;
        const dBase = (i * c + k) * ch * cw;
        for (let r = 0; r < ch; r++) {
          const sr = top + r;
          if (sr < 0 || sr >= h || x1 <= x0) continue;
          const so = sBase + sr * w;
          (out as Float32Array).set((src as Float32Array).subarray(so + x0, so + x1), dBase + r * cw + (x0 - left));
        }
      }
    }
    const shape = x.ndim === 4 ? [n, c, ch, cw] : x.ndim === 3 ? [c, ch, cw] : [ch, cw];
    return ops.tensor(out, { shape });
  });
}

/** Mirrors each image left-right with probability p (torchvision RandomHorizontalFlip). */
export function randomHorizontalFlip(p = 0.5, opts: { generator?: Generator } = {}): Transform {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ValueError(`randomHorizontalFlip: p must be in [0, 1], got ${String(p)}`);
  genOf(opts.generator, 'randomHorizontalFlip');
  return batched((x: Tensor): Tensor => {
    const { n, c, h, w } = imageDims(x, 'randomHorizontalFlip');
    const u = ops.rand([n], { dtype: 'float64', generator: genOf(opts.generator, 'randomHorizontalFlip') }).dataSync() as Float64Array;
    let any = false;
    for (let i = 0; i < n; i++) if (u[i] < p) any = true;
    if (!any) return x;
    const src = x.dataSync() as Typed;
    const out = src.slice() as Typed;
    const a = src as unknown as { [k: number]: number };
    const b = out as unknown as { [k: number]: number };
    for (let i = 0; i < n; i++) {
      if (!(u[i] < p)) continue;
      for (let row = i * c * h; row < (i + 1) * c * h; row++) {
        const o = row * w;
        for (let j = 0; j < w; j++) b[o + j] = a[o + w - 1 - j];
      }
    }
    return ops.tensor(out, { shape: x.shape.slice() });
  });
}

/** Applies the transforms in order. Batched when all of them are. */
export function compose<I = Tensor>(transforms: Transform<never, unknown>[]): Transform<I, Tensor> {
  if (!Array.isArray(transforms) || transforms.some((t) => typeof t !== 'function')) throw new ValueError('compose: expected a list of transforms (functions)');
  const list = transforms.slice() as unknown as ((x: unknown) => unknown)[];
  const f = ((x: I): Tensor => list.reduce<unknown>((v, t) => t(v), x) as Tensor) as Transform<I, Tensor>;
  f.batched = transforms.every((t) => t.batched === true);
  return f;
}

/**
 * Applies `transform` to a batch [N, ...]: in one call when it is batched, else image by image
 * (unbind, transform, stack).
 */
export function applyToBatch(transform: Transform | undefined, batch: Tensor): Tensor {
  if (!transform) return batch;
  if (transform.batched) return transform(batch);
  return ops.stack(ops.unbind(batch, 0).map((im) => transform(im)), 0);
}
