/**
 * ignis.metrics against hand-computed values: accuracy, top-k, confusion matrix, precision / recall /
 * F1 (macro, micro, weighted, per class), IoU, mIoU and pixel accuracy, the ConfusionMatrix
 * accumulator, and argument errors.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../src';
import type { Tensor } from '../src';

const { metrics: M } = ignis;

// target/pred worked by hand: confusion matrix (rows true, cols pred) [[1,1,1],[0,2,0],[1,0,2]]
// tp [1,2,2]  fp [1,1,1]  fn [2,0,1]  support [3,2,3]
const target = ignis.tensor([0, 0, 1, 1, 2, 2, 2, 0]);
const pred = ignis.tensor([0, 1, 1, 1, 2, 0, 2, 2]);
/** logits whose argmax along dim 1 is `idx` */
const logitsOf = (idx: Tensor, c: number): Tensor => {
  const oh = ignis.oneHot(idx, c).float(); // [..., C]
  return idx.ndim === 1 ? oh.mul(3).sub(1) : ignis.permute(oh, [0, 3, 1, 2]).mul(3).sub(1);
};
const close = (a: number | Tensor, b: number): void => expect(a as number).toBeCloseTo(b, 12);
const arr = (t: number | Tensor): number[] => (t as Tensor).toArray() as number[];

describe('classification metrics', () => {
  it('accuracy from indices or logits', () => {
    close(M.accuracy(pred, target), 5 / 8);
    close(M.accuracy(logitsOf(pred, 3), target), 5 / 8);
    close(M.accuracy(pred, target, { ignoreIndex: 0 }), 4 / 5);
    expect(() => M.accuracy(ignis.tensor([1, 2]), ignis.tensor([1, 2, 3]))).toThrow(ignis.ShapeError);
    expect(() => M.accuracy(pred, target.float())).toThrow(ignis.DTypeError);
  });

  it('topKAccuracy counts the target among the k highest scores', () => {
    const scores = ignis.tensor([[1, 4, 3, 2], [4, 3, 2, 1], [2, 1, 4, 3]]);
    const t = ignis.tensor([0, 1, 3]); // classes scoring higher than the target: 3, 1, 1
    close(M.topKAccuracy(scores, t, 1), 0);
    close(M.topKAccuracy(scores, t, 2), 2 / 3);
    close(M.topKAccuracy(scores, t, 3), 2 / 3);
    close(M.topKAccuracy(scores, t, 4), 1);
    expect(M.topKAccuracy(scores, ignis.tensor([1, 0, 2]), 1)).toBe(1);
    expect(() => M.topKAccuracy(scores, t, 5)).toThrow(/k must be/);
  });

  it('confusionMatrix: rows are true classes, columns predictions', () => {
    const cm = M.confusionMatrix(pred, target, 3);
    expect(cm.dtype).toBe('int64');
    expect(cm.toArray()).toEqual([[1, 1, 1], [0, 2, 0], [1, 0, 2]]);
    expect(M.confusionMatrix(pred, target).shape).toEqual([3, 3]); // inferred
    expect(M.confusionMatrix(pred, target, { numClasses: 4 }).toArray()).toEqual([[1, 1, 1, 0], [0, 2, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]]);
    expect(() => M.confusionMatrix(pred, target, 2)).toThrow(/out of range/);
  });

  it('precision, recall and F1: per class, macro, micro, weighted', () => {
    expect(arr(M.precision(pred, target, { average: 'none' }))).toEqual([1 / 2, 2 / 3, 2 / 3]);
    expect(arr(M.recall(pred, target, { average: 'none' }))).toEqual([1 / 3, 1, 2 / 3]);
    const f1 = arr(M.f1Score(pred, target, { average: 'none' }));
    [0.4, 0.8, 2 / 3].forEach((v, i) => close(f1[i], v));
    close(M.precision(pred, target), (1 / 2 + 2 / 3 + 2 / 3) / 3);
    close(M.recall(pred, target), (1 / 3 + 1 + 2 / 3) / 3);
    close(M.f1Score(pred, target), (0.4 + 0.8 + 2 / 3) / 3);
    for (const f of [M.precision, M.recall, M.f1Score]) close(f(pred, target, { average: 'micro' }), 5 / 8);
    close(M.f1Score(pred, target, { average: 'weighted' }), (3 * 0.4 + 2 * 0.8 + 3 * (2 / 3)) / 8);
    // a class never predicted and never present scores 0 (zero_division = 0) and counts in macro
    close(M.precision(pred, target, { numClasses: 4 }), (1 / 2 + 2 / 3 + 2 / 3) / 4);
    expect(() => M.precision(pred, target, { average: 'mean' as never })).toThrow(ignis.ValueError);
  });
});

describe('segmentation metrics', () => {
  // target [[0, 1], [2, 255]] with 255 unlabelled; prediction [[0, 2], [2, 1]]
  const t = ignis.tensor([[[0, 1], [2, 255]]]);
  const p = ignis.tensor([[[0, 2], [2, 1]]]);

  it('pixel accuracy, IoU per class and mIoU, from indices or [N, C, H, W] logits', () => {
    close(M.pixelAccuracy(p, t, { ignoreIndex: 255 }), 2 / 3);
    close(M.pixelAccuracy(logitsOf(p, 3), t, { ignoreIndex: 255 }), 2 / 3);
    // tp [1, 0, 1], fp [0, 0, 1], fn [0, 1, 0]
    expect(arr(M.iou(p, t, { numClasses: 3, ignoreIndex: 255 }))).toEqual([1, 0, 0.5]);
    close(M.meanIoU(p, t, { numClasses: 3, ignoreIndex: 255 }), 0.5);
    close(M.meanIoU(logitsOf(p, 3), t, { ignoreIndex: 255 }), 0.5);
    // a class in neither prediction nor target is NaN and left out of the mean
    const iou4 = arr(M.iou(p, t, { numClasses: 4, ignoreIndex: 255 }));
    expect(iou4.slice(0, 3)).toEqual([1, 0, 0.5]);
    expect(Number.isNaN(iou4[3])).toBe(true);
    close(M.meanIoU(p, t, { numClasses: 4, ignoreIndex: 255 }), 0.5);
    expect(() => M.iou(p, t, { numClasses: 3 })).toThrow(/target 255 is out of range/);
  });

  it('ConfusionMatrix accumulates batches and gives every metric', () => {
    const cm = new M.ConfusionMatrix(3);
    cm.update(pred.narrow(0, 0, 5), target.narrow(0, 0, 5));
    cm.update(logitsOf(pred.narrow(0, 5, 3), 3), target.narrow(0, 5, 3));
    expect(cm.matrix().toArray()).toEqual([[1, 1, 1], [0, 2, 0], [1, 0, 2]]);
    close(cm.accuracy(), 5 / 8);
    close(cm.f1('macro'), (0.4 + 0.8 + 2 / 3) / 3);
    close(cm.precision('micro'), 5 / 8);
    close(cm.meanIoU(), (1 / 4 + 2 / 3 + 1 / 2) / 3);
    expect(arr(cm.iou())).toEqual([1 / 4, 2 / 3, 1 / 2]);
    const seg = new M.ConfusionMatrix(3, { ignoreIndex: 255 }).update(p, t);
    close(seg.pixelAccuracy(), 2 / 3);
    close(seg.meanIoU(), 0.5);
    cm.reset();
    expect(cm.total).toBe(0);
  });
});
