/**
 * Dataset / TensorDataset / Subset / randomSplit, DataLoader (batching, dropLast, seeded shuffling,
 * default and custom collate, option checks) and the transforms (toTensor, normalize, randomCrop,
 * randomHorizontalFlip, compose), with hand-computed expectations.
 */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';

const { data } = ignis;
const T = data.transforms;

/** A dataset with only getItem: exercises defaultCollate. */
class Squares extends data.Dataset<{ x: Tensor; n: number; f: number; tag: string }> {
  constructor(readonly n: number) {
    super();
  }
  get length(): number {
    return this.n;
  }
  getItem(i: number): { x: Tensor; n: number; f: number; tag: string } {
    return { x: ignis.tensor([i, i * i]), n: i, f: i + 0.5, tag: `s${i}` };
  }
}

describe('TensorDataset and DataLoader', () => {
  const xs = ignis.arange(20).reshape(10, 2).float();
  const ys = ignis.arange(10);
  const ds = new data.TensorDataset(xs, ys);

  it('indexes rows and batches them in order', () => {
    expect(ds.length).toBe(10);
    const [x3, y3] = ds.getItem(3);
    expect(x3.toArray()).toEqual([6, 7]);
    expect(y3.item()).toBe(3);
    const loader = new data.DataLoader(ds, { batchSize: 4 });
    expect(loader.length).toBe(3);
    const got: number[][] = [];
    for (const [x, y] of loader) {
      expect(x.shape[1]).toBe(2);
      got.push(y.toArray() as number[]);
    }
    expect(got).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    const [xb] = [...loader][2];
    expect(xb.toArray()).toEqual([[16, 17], [18, 19]]);
  });

  it('dropLast drops the short final batch', () => {
    const loader = new data.DataLoader(ds, { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect([...loader].map(([, y]) => y.shape[0])).toEqual([4, 4]);
    expect(new data.DataLoader(ds, { batchSize: 20, dropLast: true }).length).toBe(0);
    expect([...new data.DataLoader(ds, { batchSize: 20 })][0][0].shape).toEqual([10, 2]);
  });

  it('shuffles reproducibly with a seeded Generator, a new order each epoch', () => {
    const order = (g: ignis.Generator): number[][] => {
      const loader = new data.DataLoader(ds, { batchSize: 3, shuffle: true, generator: g });
      const e1 = [...loader].flatMap(([, y]) => y.toArray() as number[]);
      const e2 = [...loader].flatMap(([, y]) => y.toArray() as number[]);
      return [e1, e2];
    };
    const [a1, a2] = order(new ignis.Generator(42));
    const [b1, b2] = order(new ignis.Generator(42));
    expect(a1).toEqual(b1);
    expect(a2).toEqual(b2);
    expect(a1).not.toEqual(a2);
    expect(a1.slice().sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(a1).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [c1] = order(new ignis.Generator(43));
    expect(c1).not.toEqual(a1);
    // the default generator follows ignis.manualSeed
    ignis.manualSeed(7);
    const d1 = new data.DataLoader(ds, { batchSize: 10, shuffle: true }).batchIndices();
    ignis.manualSeed(7);
    const d2 = new data.DataLoader(ds, { batchSize: 10, shuffle: true }).batchIndices();
    expect(d1).toEqual(d2);
  });

  it('randperm is a permutation; Subset and randomSplit', () => {
    const p = data.randperm(100, new ignis.Generator(0));
    expect(new Set(p).size).toBe(100);
    expect(Math.min(...p)).toBe(0);
    expect(Math.max(...p)).toBe(99);
    const sub = new data.Subset(ds, [9, 0, 5]);
    expect(sub.length).toBe(3);
    expect(sub.getItem(0)[1].item()).toBe(9);
    const [, yb] = [...new data.DataLoader(sub, { batchSize: 3 })][0];
    expect(yb.toArray()).toEqual([9, 0, 5]);
    const [a, b] = data.randomSplit(ds, [7, 3], new ignis.Generator(1));
    expect([a.length, b.length]).toEqual([7, 3]);
    expect([...a.indices, ...b.indices].sort((p1, q) => p1 - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [c, d] = data.randomSplit(ds, [0.75, 0.25], new ignis.Generator(1));
    expect(c.length + d.length).toBe(10);
    expect(c.length).toBe(8);
    expect(() => data.randomSplit(ds, [5, 4])).toThrow(ignis.ValueError);
  });

  it('defaultCollate stacks tensors, numbers to int64/float64, recurses into objects and arrays', () => {
    const loader = new data.DataLoader(new Squares(5), { batchSize: 3 });
    const [b0, b1] = [...loader];
    expect(b0.x.toArray()).toEqual([[0, 0], [1, 1], [2, 4]]);
    expect(b0.n.dtype).toBe('int64');
    expect(b0.n.toArray()).toEqual([0, 1, 2]);
    expect(b0.f.dtype).toBe('float64');
    expect(b0.f.toArray()).toEqual([0.5, 1.5, 2.5]);
    expect(b0.tag).toEqual(['s0', 's1', 's2']);
    expect(b1.x.shape).toEqual([2, 2]);
    const tup = data.defaultCollate([[ignis.tensor([1]), 2, true], [ignis.tensor([3]), 4, false]] as [Tensor, number, boolean][]);
    expect(tup[0].toArray()).toEqual([[1], [3]]);
    expect(tup[1].toArray()).toEqual([2, 4]);
    expect(tup[2].toArray()).toEqual([true, false]);
    expect(() => data.defaultCollate([ignis.zeros([2]), ignis.zeros([3])])).toThrow(ignis.ShapeError);
  });

  it('a custom collate replaces the default (and the fast path)', () => {
    const loader = new data.DataLoader(ds, { batchSize: 4, collate: (s) => s.length });
    expect([...loader]).toEqual([4, 4, 2]);
  });

  it('validates its options', () => {
    expect(() => new data.DataLoader(ds, { batchSize: 0 })).toThrow(ignis.ValueError);
    expect(() => new data.DataLoader(ds, { batchSize: 1.5 })).toThrow(/batchSize/);
    expect(() => new data.DataLoader(ds, { batch_size: 4 } as never)).toThrow(/unknown option 'batch_size'/);
    expect(() => new data.DataLoader(ds, { generator: 3 } as never)).toThrow(/Generator/);
    expect(() => new data.DataLoader([1, 2] as never)).toThrow(/Dataset/);
    expect(() => new data.TensorDataset(ignis.zeros([3]), ignis.zeros([4]))).toThrow(ignis.ShapeError);
    expect(() => ds.getItem(10)).toThrow(ignis.IndexError);
  });
});

describe('transforms', () => {
  const img = ignis.arange(2 * 3 * 4).float().reshape(2, 3, 4); // [C=2, H=3, W=4]

  it('toTensor converts HWC bytes to float CHW in [0, 1]', () => {
    const t = T.toTensor();
    const x = t({ data: Uint8Array.from([0, 255, 51, 102, 204, 153]), width: 3, height: 1 }); // 2 channels inferred
    expect(x.shape).toEqual([2, 1, 3]);
    const v = Array.from(x.dataSync() as Float32Array);
    expect(v.map((a) => Math.round(a * 255))).toEqual([0, 51, 204, 255, 102, 153]);
    const hwc = ignis.tensor([[[0, 255], [51, 102]]], { dtype: 'int32' }); // [H=1, W=2, C=2]
    const y = t(hwc);
    expect(y.shape).toEqual([2, 1, 2]);
    expect((y.toArray() as number[][][]).flat(2).map((a) => Math.round(a * 255))).toEqual([0, 51, 255, 102]);
    expect(t(img)).toBe(img);
  });

  it('normalize subtracts the mean and divides by the std per channel, on images and batches', () => {
    const n = T.normalize([1, 2], [2, 4]);
    const y = n(img).toArray() as number[][][];
    expect(y[0][0]).toEqual([-0.5, 0, 0.5, 1]);
    expect(y[1][0]).toEqual([(12 - 2) / 4, (13 - 2) / 4, (14 - 2) / 4, (15 - 2) / 4]);
    const b = n(ignis.stack([img, img]));
    expect(b.shape).toEqual([2, 2, 3, 4]);
    expect((b.toArray() as number[][][][])[1][1][0][0]).toBe(2.5);
    expect(() => T.normalize([0.5, 0.5, 0.5], [1, 1, 1])(img)).toThrow(ignis.ShapeError);
    expect(() => T.normalize([0], [0])).toThrow(/std/);
  });

  it('randomCrop pads and crops, reproducibly from a Generator', () => {
    const same = T.randomCrop([3, 4], { generator: new ignis.Generator(0) });
    expect(same(img).toArray()).toEqual(img.toArray());
    const crop = (seed: number): Tensor => T.randomCrop(3, { padding: 2, generator: new ignis.Generator(seed) })(img);
    const a = crop(5);
    expect(a.shape).toEqual([2, 3, 3]);
    expect(crop(5).toArray()).toEqual(a.toArray());
    // every crop is a window of the zero-padded image: check against an explicit padding
    const padded = new Float32Array(2 * 7 * 8);
    const src = img.dataSync() as Float32Array;
    for (let c = 0; c < 2; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) padded[c * 56 + (i + 2) * 8 + (j + 2)] = src[c * 12 + i * 4 + j];
    const seen = new Set<string>();
    for (let s = 0; s < 30; s++) {
      const v = crop(s).dataSync() as Float32Array;
      let found = false;
      for (let top = 0; top <= 4 && !found; top++)
        for (let left = 0; left <= 5 && !found; left++) {
          let ok = true;
          for (let c = 0; c < 2 && ok; c++) for (let i = 0; i < 3 && ok; i++) for (let j = 0; j < 3 && ok; j++) ok = v[c * 9 + i * 3 + j] === padded[c * 56 + (top + i) * 8 + left + j];
          if (ok) {
            found = true;
            seen.add(`${top},${left}`);
          }
        }
      expect(found).toBe(true);
    }
    expect(seen.size).toBeGreaterThan(5);
    // a batch gets one crop position per image
    const batch = ignis.stack(Array.from({ length: 16 }, () => img));
    const out = T.randomCrop(3, { padding: 2, generator: new ignis.Generator(1) })(batch);
    expect(out.shape).toEqual([16, 2, 3, 3]);
    const rows = ignis.unbind(out, 0).map((t) => JSON.stringify(t.toArray()));
    expect(new Set(rows).size).toBeGreaterThan(3);
    expect(() => T.randomCrop(5)(img)).toThrow(/larger than/);
    expect(T.randomCrop(5, { padIfNeeded: true, generator: new ignis.Generator(0) })(img).shape).toEqual([2, 5, 5]);
  });

  it('randomHorizontalFlip mirrors with probability p', () => {
    const always = T.randomHorizontalFlip(1)(img).toArray() as number[][][];
    expect(always[0][0]).toEqual([3, 2, 1, 0]);
    expect(always[1][2]).toEqual([23, 22, 21, 20]);
    expect(T.randomHorizontalFlip(0)(img).toArray()).toEqual(img.toArray());
    const batch = ignis.stack(Array.from({ length: 200 }, () => img));
    const out = T.randomHorizontalFlip(0.5, { generator: new ignis.Generator(3) })(batch);
    const first = (out.toArray() as number[][][][]).map((im) => im[0][0][0]);
    const flipped = first.filter((v) => v === 3).length;
    expect(first.every((v) => v === 0 || v === 3)).toBe(true);
    expect(flipped).toBeGreaterThan(70);
    expect(flipped).toBeLessThan(130);
    const again = T.randomHorizontalFlip(0.5, { generator: new ignis.Generator(3) })(batch);
    expect(again.toArray()).toEqual(out.toArray());
  });

  it('compose chains transforms and is batched when all parts are', () => {
    const c = T.compose([T.randomHorizontalFlip(1), T.normalize([0], [2])]);
    expect(c.batched).toBe(true);
    expect((c(img).toArray() as number[][][])[0][0]).toEqual([1.5, 1, 0.5, 0]);
    const plain = T.compose([(x: Tensor) => x.add(1)]);
    expect(plain.batched).toBe(false);
  });
});
