/** Every lr scheduler's sequence against PyTorch's (test/fixtures/optim.json), and scheduler state. */
import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { optim, ValueError } from '../../src';
import { expectClose } from '../util/fixtures';
import { fixture } from './helpers';

interface Spec {
  scheduler: string;
  options: Record<string, any>;
}
interface SchedCase extends Spec {
  name: string;
  optimizer: 'SGD' | 'Adam';
  optimizerOptions: Record<string, unknown>;
  groupLrs: number[];
  steps?: number;
  metrics?: number[];
  lrs: number[][];
  momenta?: number[][];
}

function buildSched(opt: optim.Optimizer<any>, spec: Spec): optim.LRScheduler {
  const o = spec.options;
  switch (spec.scheduler) {
    case 'SequentialLR':
      return new optim.SequentialLR(opt, (o.schedulers as Spec[]).map((s) => buildSched(opt, s)), o.milestones);
    case 'LambdaLR':
      return new optim.LambdaLR(opt, (e) => 0.95 ** e);
    default: {
      const Cls = (optim as unknown as Record<string, new (opt: unknown, o: unknown) => optim.LRScheduler>)[spec.scheduler];
      return new Cls(opt, o);
    }
  }
}

function makeOpt(c: SchedCase): optim.Optimizer<any> {
  const groups = c.groupLrs.map((lr) => ({ params: [ignis.zeros([2], { requiresGrad: true })], lr }));
  return c.optimizer === 'SGD' ? new optim.SGD(groups, c.optimizerOptions) : new optim.Adam(groups, c.optimizerOptions);
}

const cases = fixture.schedulers as SchedCase[];

describe('lr schedulers match PyTorch', () => {
  for (const c of cases) {
    it(c.name, () => {
      const opt = makeOpt(c);
      const sched = buildSched(opt, c);
      const lrs = [sched.getLastLr()];
      const moms = [opt.paramGroups.map((g: any) => (g.betas ? g.betas[0] : g.momentum))];
      if (c.scheduler === 'ReduceLROnPlateau') {
        for (const m of c.metrics!) {
          opt.step();
          (sched as optim.ReduceLROnPlateau).step(m);
          lrs.push(sched.getLastLr());
        }
      } else {
        for (let i = 0; i < c.steps!; i++) {
          opt.step();
          sched.step();
          lrs.push(sched.getLastLr());
          moms.push(opt.paramGroups.map((g: any) => (g.betas ? g.betas[0] : g.momentum)));
        }
      }
      expect(lrs.length).toBe(c.lrs.length);
      lrs.forEach((l, i) => expectClose(l, c.lrs[i], 1e-12, 1e-15, `${c.name} lr after step ${i}`));
      // the optimizer's groups carry the same lrs
      expectClose(opt.paramGroups.map((g) => g.lr), c.lrs[c.lrs.length - 1], 1e-12, 1e-15, `${c.name} group lr`);
      if (c.momenta) moms.forEach((m, i) => expectClose(m, c.momenta![i], 1e-12, 1e-15, `${c.name} momentum after step ${i}`));
    });
  }
});

describe('scheduler state', () => {
  it('stateDict / loadStateDict resumes a schedule', () => {
    const mk = () => new optim.SGD([ignis.zeros([1], { requiresGrad: true })], { lr: 0.1 });
    const o1 = mk();
    const s1 = new optim.CosineAnnealingLR(o1, { TMax: 10 });
    for (let i = 0; i < 4; i++) s1.step();
    const sd = JSON.parse(JSON.stringify(s1.stateDict()));
    expect(sd.lastEpoch).toBe(4);
    expect(sd.optimizer).toBeUndefined();
    const o2 = mk();
    const s2 = new optim.CosineAnnealingLR(o2, { TMax: 10 });
    s2.loadStateDict(sd);
    o2.loadStateDict(o1.stateDict());
    for (let i = 0; i < 5; i++) {
      s1.step();
      s2.step();
      expect(s2.getLastLr()).toEqual(s1.getLastLr());
    }
  });

  it('SequentialLR saves its schedulers', () => {
    const o = new optim.SGD([ignis.zeros([1], { requiresGrad: true })], { lr: 0.1 });
    const seq = new optim.SequentialLR(o, [new optim.LinearLR(o, { startFactor: 0.5, totalIters: 2 }), new optim.ExponentialLR(o, { gamma: 0.5 })], [2]);
    seq.step();
    const sd = seq.stateDict();
    expect(Array.isArray(sd.schedulers)).toBe(true);
    expect((sd.schedulers as unknown[]).length).toBe(2);
  });

  it('bad scheduler options raise ValueError', () => {
    const o = new optim.SGD([ignis.zeros([1], { requiresGrad: true })], { lr: 0.1 });
    expect(() => new optim.StepLR(o, { stepSize: 0 })).toThrow(ValueError);
    expect(() => new optim.LinearLR(o, { startFactor: 0 })).toThrow(/startFactor/);
    expect(() => new optim.OneCycleLR(o, { maxLr: 1 })).toThrow(/totalSteps/);
    expect(() => new optim.ReduceLROnPlateau(o, { factor: 1 })).toThrow(/factor/);
    expect(() => new optim.SequentialLR(o, [new optim.StepLR(o, { stepSize: 1 })], [1])).toThrow(/milestone/);
    expect(() => new optim.StepLR({} as never, { stepSize: 1 })).toThrow(ValueError);
    const oc = new optim.OneCycleLR(o, { maxLr: 1, totalSteps: 2 });
    oc.step();
    oc.step();
    expect(() => oc.step()).toThrow(/total steps/);
  });
});
