/**
 * ignis.metrics: classification and segmentation metrics on tensors.
 *
 * Predictions are class indices of the target's shape, or scores/logits with one more dim, the
 * class dim (1, as PyTorch lays out [N, C] and [N, C, H, W]), which are reduced with argmax.
 * Targets are integer class indices. Results are plain numbers, or float64 tensors per class.
 * Conventions follow scikit-learn: confusion matrix rows are true classes, columns predicted;
 * a precision/recall/F1 whose denominator is zero counts as 0 (zero_division=0); macro averages
 * over all numClasses classes, micro pools the counts. IoU of a class absent from both
 * prediction and target is NaN and left out of mIoU.
 */
import { DTypeError, ShapeError, ValueError } from './errors';
import { isFloating } from './dtype';
import * as ops from './ops/all';
import { Tensor } from './tensor';

export type Average = 'macro' | 'micro' | 'weighted' | 'none';

export interface ClassMetricOptions {
  /** number of classes (default: 1 + the largest index seen, or the class dim of scores) */
  numClasses?: number;
  /** target value to skip (e.g. 255 for unlabelled pixels) */
  ignoreIndex?: number;
}

function toInts(t: Tensor, who: string, what: string): Int32Array | Float64Array {
  const d = t.dataSync();
  if (d instanceof BigInt64Array) {
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    return out;
  }
  if (d instanceof Float32Array || d instanceof Float64Array) {
    for (let i = 0; i < d.length; i++) if (!Number.isInteger(d[i])) throw new DTypeError(`${who}: ${what} must hold class indices, found ${d[i]}`);
    return Float64Array.from(d);
  }
  return Int32Array.from(d as Int32Array | Uint8Array);
}

function check(x: unknown, who: string, what: string): Tensor {
  if (!(x instanceof Tensor)) throw new ValueError(`${who}: ${what} must be a Tensor`);
  return x;
}

/**
 * Predicted class indices and targets as flat integer arrays, checked for matching shapes.
 * `pred` may be scores with a class dim 1 (one more dim than target), reduced by argmax.
 */
export function labelsOf(pred: Tensor, target: Tensor, who: string): { p: Int32Array | Float64Array; t: Int32Array | Float64Array; scoreClasses: number | undefined } {
  check(pred, who, 'pred');
  check(target, who, 'target');
  if (isFloating(target.dtype)) throw new DTypeError(`${who}: target must hold integer class indices, got ${target.dtype}`);
  let scoreClasses: number | undefined;
  let p = pred;
  if (pred.ndim === target.ndim + 1 && pred.ndim >= 1) {
    const cdim = pred.ndim === 1 ? 0 : 1;
    scoreClasses = pred.shape[cdim];
    p = ops.argmax(pred, cdim);
  }
  if (p.ndim !== target.ndim || p.shape.some((s, i) => s !== target.shape[i]))
    throw new ShapeError(
      `${who}: pred shape [${pred.shape.join(', ')}] does not match target [${target.shape.join(', ')}] (pred must be class indices of the target's shape, or scores with a class dim 1)`,
    );
  return { p: toInts(p, who, 'pred'), t: toInts(target, who, 'target'), scoreClasses };
}

/** Fraction of samples whose predicted class (argmax of scores, or the given indices) equals the target. */
export function accuracy(pred: Tensor, target: Tensor, opts: { ignoreIndex?: number } = {}): number {
  const { p, t } = labelsOf(pred, target, 'accuracy');
  let hit = 0;
  let n = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === opts.ignoreIndex) continue;
    n++;
    if (p[i] === t[i]) hit++;
  }
  if (n === 0) throw new ValueError('accuracy: no samples to score');
  return hit / n;
}

/**
 * Fraction of samples whose target is among the k highest scores. scores [N, C], target [N].
 * Ties are counted in the target's favour: a sample is a hit when fewer than k classes score
 * strictly higher than the target class.
 */
export function topKAccuracy(scores: Tensor, target: Tensor, k = 5): number {
  check(scores, 'topKAccuracy', 'scores');
  check(target, 'topKAccuracy', 'target');
  if (scores.ndim !== 2 || target.ndim !== 1 || target.shape[0] !== scores.shape[0])
    throw new ShapeError(`topKAccuracy: expected scores [N, C] and target [N], got [${scores.shape.join(', ')}] and [${target.shape.join(', ')}]`);
  const [n, c] = scores.shape;
  if (!Number.isInteger(k) || k < 1 || k > c) throw new ValueError(`topKAccuracy: k must be an integer in [1, ${c}], got ${k}`);
  if (n === 0) throw new ValueError('topKAccuracy: no samples to score');
  const s = ops.to(scores, 'float64').dataSync() as Float64Array;
  const t = toInts(target, 'topKAccuracy', 'target');
  let hit = 0;
  for (let i = 0; i < n; i++) {
    const y = t[i];
    if (y < 0 || y >= c) throw new ValueError(`topKAccuracy: target ${y} is out of range for ${c} classes`);
    const sy = s[i * c + y];
    let above = 0;
    for (let j = 0; j < c; j++) if (s[i * c + j] > sy) above++;
    if (above < k) hit++;
  }
  return hit / n;
}

/**
 * Confusion matrix [numClasses, numClasses] (int64): entry [i, j] counts samples of true class i
 * predicted as j. Pixels/samples whose target is ignoreIndex are skipped.
 */
export function confusionMatrix(pred: Tensor, target: Tensor, opts: ClassMetricOptions | number = {}): Tensor {
  const o = typeof opts === 'number' ? { numClasses: opts } : opts;
  const { counts, c } = confusionCounts(pred, target, o, 'confusionMatrix');
  const big = new BigInt64Array(counts.length);
  for (let i = 0; i < counts.length; i++) big[i] = BigInt(counts[i]);
  return ops.tensor(big, { shape: [c, c] });
}

function confusionCounts(pred: Tensor, target: Tensor, o: ClassMetricOptions, who: string): { counts: Float64Array; c: number } {
  const { p, t, scoreClasses } = labelsOf(pred, target, who);
  let c = o.numClasses ?? scoreClasses;
  if (c === undefined) {
    c = 0;
    for (let i = 0; i < t.length; i++) if (t[i] !== o.ignoreIndex) c = Math.max(c, t[i] + 1, p[i] + 1);
  }
  if (!Number.isInteger(c) || c < 1) throw new ValueError(`${who}: numClasses must be a positive integer, got ${String(c)}`);
  const counts = new Float64Array(c * c);
  for (let i = 0; i < t.length; i++) {
    const y = t[i];
    if (y === o.ignoreIndex) continue;
    const q = p[i];
    if (y < 0 || y >= c) throw new ValueError(`${who}: target ${y} is out of range for ${c} classes`);
    if (q < 0 || q >= c) throw new ValueError(`${who}: prediction ${q} is out of range for ${c} classes`);
    counts[y * c + q]++;
  }
  return { counts, c };
}

/** Per-class true positives, false positives, false negatives and support from a confusion matrix. */
function perClass(counts: Float64Array, c: number): { tp: Float64Array; fp: Float64Array; fn: Float64Array; support: Float64Array } {
  const tp = new Float64Array(c);
  const fp = new Float64Array(c);
  const fn = new Float64Array(c);
  const support = new Float64Array(c);
  for (let i = 0; i < c; i++)
    for (let j = 0; j < c; j++) {
      const v = counts[i * c + j];
      support[i] += v;
      if (i === j) tp[i] += v;
      else {
        fn[i] += v;
        fp[j] += v;
      }
    }
  return { tp, fp, fn, support };
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

type Kind = 'precision' | 'recall' | 'f1';

function score(kind: Kind, tp: number, fp: number, fn: number): number {
  if (kind === 'precision') return ratio(tp, tp + fp);
  if (kind === 'recall') return ratio(tp, tp + fn);
  return ratio(2 * tp, 2 * tp + fp + fn);
}

/** A precision / recall / F1 of a [C, C] confusion matrix, averaged over classes as `average` says. */
function averaged(kind: Kind, counts: Float64Array, c: number, average: Average): number | Tensor {
  const { tp, fp, fn, support } = perClass(counts, c);
  if (average === 'micro') {
    const s = (a: Float64Array): number => a.reduce((x, y) => x + y, 0);
    return score(kind, s(tp), s(fp), s(fn));
  }
  const per = Float64Array.from({ length: c }, (_, i) => score(kind, tp[i], fp[i], fn[i]));
  if (average === 'none') return ops.tensor(per);
  if (average === 'weighted') {
    let tot = 0, acc = 0;
    for (let i = 0; i < c; i++) [tot, acc] = [tot + support[i], acc + support[i] * per[i]];
    return ratio(acc, tot);
  }
  return per.reduce((a, b) => a + b, 0) / c;
}

function classMetric(kind: Kind, pred: Tensor, target: Tensor, opts: ClassMetricOptions & { average?: Average }): number | Tensor {
  const average = opts.average ?? 'macro';
  if (!['macro', 'micro', 'weighted', 'none'].includes(average)) throw new ValueError(`${kind}: average must be 'macro', 'micro', 'weighted' or 'none', got ${String(average)}`);
  const { counts, c } = confusionCounts(pred, target, opts, kind);
  return averaged(kind, counts, c, average);
}

export type ClassAverageOptions = ClassMetricOptions & { average?: Average };

/** Precision tp / (tp + fp): 'macro' (default) mean over classes, 'micro' pooled, 'weighted' by support, 'none' per class. */
export function precision(pred: Tensor, target: Tensor, opts: ClassAverageOptions = {}): number | Tensor {
  return classMetric('precision', pred, target, opts);
}
/** Recall tp / (tp + fn), averaged like precision. */
export function recall(pred: Tensor, target: Tensor, opts: ClassAverageOptions = {}): number | Tensor {
  return classMetric('recall', pred, target, opts);
}
/** F1 = 2 tp / (2 tp + fp + fn) per class, averaged like precision (macro F1 is the mean of per-class F1s). */
export function f1Score(pred: Tensor, target: Tensor, opts: ClassAverageOptions = {}): number | Tensor {
  return classMetric('f1', pred, target, opts);
}

/**
 * Intersection over union per class (float64 [numClasses]): tp / (tp + fp + fn); NaN for a class
 * that appears in neither prediction nor target. For segmentation: pred [N, H, W] indices or
 * [N, C, H, W] scores, target [N, H, W].
 */
export function iou(pred: Tensor, target: Tensor, opts: ClassMetricOptions = {}): Tensor {
  const { counts, c } = confusionCounts(pred, target, opts, 'iou');
  return ops.tensor(iouFromCounts(counts, c));
}

function iouFromCounts(counts: Float64Array, c: number): Float64Array {
  const { tp, fp, fn } = perClass(counts, c);
  return Float64Array.from({ length: c }, (_, i) => {
    const d = tp[i] + fp[i] + fn[i];
    return d === 0 ? NaN : tp[i] / d;
  });
}

function nanMean(v: Float64Array, who: string): number {
  let s = 0, n = 0;
  for (const x of v)
    if (!Number.isNaN(x)) {
      s += x;
      n++;
    }
  if (n === 0) throw new ValueError(`${who}: no class appears in prediction or target`);
  return s / n;
}

/** Mean IoU over the classes present in prediction or target (NaN classes left out). */
export function meanIoU(pred: Tensor, target: Tensor, opts: ClassMetricOptions = {}): number {
  const { counts, c } = confusionCounts(pred, target, opts, 'meanIoU');
  return nanMean(iouFromCounts(counts, c), 'meanIoU');
}

/** Fraction of pixels (not ignoreIndex) classified correctly. */
export function pixelAccuracy(pred: Tensor, target: Tensor, opts: { ignoreIndex?: number } = {}): number {
  const { p, t } = labelsOf(pred, target, 'pixelAccuracy');
  let hit = 0, n = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === opts.ignoreIndex) continue;
    n++;
    if (p[i] === t[i]) hit++;
  }
  if (n === 0) throw new ValueError('pixelAccuracy: no labelled pixels');
  return hit / n;
}

/**
 * A confusion matrix accumulated over batches (for an evaluation loop), from which every metric
 * above can be read at the end.
 *
 * @example
 * const cm = new ignis.metrics.ConfusionMatrix(10);
 * for (const [x, y] of testLoader) cm.update(model.forward(x), y);
 * cm.accuracy(); cm.f1('macro'); cm.meanIoU();
 */
export class ConfusionMatrix {
  readonly counts: Float64Array;
  constructor(
    readonly numClasses: number,
    readonly opts: { ignoreIndex?: number } = {},
  ) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new ValueError(`ConfusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
    this.counts = new Float64Array(numClasses * numClasses);
  }
  /** Adds a batch: pred indices (or scores with a class dim 1) and target indices. */
  update(pred: Tensor, target: Tensor): this {
    const { counts } = confusionCounts(pred, target, { numClasses: this.numClasses, ignoreIndex: this.opts.ignoreIndex }, 'ConfusionMatrix.update');
    for (let i = 0; i < counts.length; i++) this.counts[i] += counts[i];
    return this;
  }
  reset(): void {
    this.counts.fill(0);
  }
  /** The matrix as an int64 tensor [C, C] (rows true, columns predicted). */
  matrix(): Tensor {
    const c = this.numClasses;
    return ops.tensor(BigInt64Array.from(this.counts, (v) => BigInt(v)), { shape: [c, c] });
  }
  get total(): number {
    return this.counts.reduce((a, b) => a + b, 0);
  }
  accuracy(): number {
    let hit = 0;
    for (let i = 0; i < this.numClasses; i++) hit += this.counts[i * this.numClasses + i];
    return ratio(hit, this.total);
  }
  /** Pixel accuracy: the same as accuracy(), under its segmentation name. */
  pixelAccuracy(): number {
    return this.accuracy();
  }
  private avg(kind: Kind, average: Average): number | Tensor {
    return averaged(kind, this.counts, this.numClasses, average);
  }
  precision(average: Average = 'macro'): number | Tensor {
    return this.avg('precision', average);
  }
  recall(average: Average = 'macro'): number | Tensor {
    return this.avg('recall', average);
  }
  f1(average: Average = 'macro'): number | Tensor {
    return this.avg('f1', average);
  }
  iou(): Tensor {
    return ops.tensor(iouFromCounts(this.counts, this.numClasses));
  }
  meanIoU(): number {
    return nanMean(iouFromCounts(this.counts, this.numClasses), 'ConfusionMatrix.meanIoU');
  }
}
