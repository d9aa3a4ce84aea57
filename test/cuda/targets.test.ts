/**
 * Class-index targets whose range is known without reading the GPU (src/kernels.ts: markRange):
 * made by randint on the device, or copied from the host. cross-entropy / nll then check them with
 * no kernels and no readback (which would wait for the stream: a synchronization per training step);
 * targets made on the device any other way, or written since, are still checked, and a bad one is
 * still an error.
 */
import { expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Tensor } from '../../src';
import { describeCuda } from './helpers';

/** Device-to-host copies while fn runs (the profiler's memcpy records). */
function readbacks(fn: () => void): number {
  const prof = ignis.profiler.profile({ activities: ['cpu', 'cuda'] }, fn);
  return prof.events.filter((e) => e.kind === 'kernel' && /DtoH/.test(e.name)).length;
}

describeCuda('class targets with a known range', () => {
  // made at first use: the suite's body also runs (to collect it) where it is skipped
  let xs: Tensor | undefined;
  const logits = (): Tensor => (xs ??= ignis.randn([16, 5], { device: 'cuda' }));
  const loss = (t: Tensor) => ignis.F.crossEntropy(logits(), t);

  it('randint on the device and copies from the host are checked without a readback', () => {
    const made = ignis.randint(0, 5, [16], { device: 'cuda' });
    const copied = ignis.tensor(Array.from({ length: 16 }, (_, i) => i % 5), { dtype: 'int64' }).cuda();
    const copied32 = ignis.tensor(Array.from({ length: 16 }, (_, i) => (i * 3) % 5), { dtype: 'int32' }).cuda();
    for (const t of [made, copied, copied32]) {
      let l: Tensor | undefined;
      expect(readbacks(() => void (l = loss(t)))).toBe(0);
      // the same loss as on the CPU
      expect(l!.item()).toBeCloseTo(ignis.F.crossEntropy(logits().cpu(), t.cpu()).item() as number, 5);
    }
    expect(readbacks(() => void ignis.F.nllLoss(logits().logSoftmax(1), copied))).toBe(0);
  });

  it('targets of unknown range are checked on the device (one readback), and a bad one is an error', () => {
    const computed = ignis.randint(0, 5, [16], { device: 'cuda' }).add(0); // made by an op: range unknown
    expect(readbacks(() => void loss(computed))).toBe(1);
    // a range wider than the classes is checked too, and the error names the bad target
    const wide = ignis.tensor(Array.from({ length: 16 }, (_, i) => i), { dtype: 'int64' }).cuda();
    expect(() => loss(wide)).toThrow(/target 15 is out of bounds for 5 classes/);
    // written since its range was recorded: checked again
    const t = ignis.randint(0, 5, [16], { device: 'cuda' });
    t.fill_(7);
    expect(() => loss(t)).toThrow(/target 7 is out of bounds for 5 classes/);
    // a view of a recorded storage keeps its range
    const v = ignis.randint(0, 5, [4, 16], { device: 'cuda' }).select(0, 2);
    expect(readbacks(() => void loss(v))).toBe(0);
  });
});
