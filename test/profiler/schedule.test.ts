/**
 * Scheduled profiling (torch.profiler.schedule, prof.step(), on_trace_ready,
 * tensorboard_trace_handler): which steps are recorded, the ProfilerStep#N ranges, what each cycle's
 * Profile holds, torch's transitions (warmup dropped, wrong schedules warned), handler errors,
 * async steps and the trace files.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { afterAll, describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import type { Profile, ProfilerEvent } from '../../src/profiler';
import { ValueError } from '../../src/errors';

const { profiler } = ignis;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ignis-sched-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Step i runs an op whose size tells the step: neg on i + 1 elements. */
const work = (i: number) => ignis.ones([i + 1]).neg();
const stepRanges = (p: Profile) => p.events.filter((e) => e.kind === 'range' && e.name.startsWith('ProfilerStep#')).map((e) => e.name);
const negSizes = (p: Profile) => p.events.filter((e) => e.name === 'neg').map((e) => e.inputShapes![0][0]);

describe('profiler.schedule', () => {
  // the sequences torch.profiler.schedule (PyTorch 2.13) gives for the same arguments
  const cases: [Parameters<typeof profiler.schedule>[0], string][] = [
    [{ wait: 1, warmup: 1, active: 2, repeat: 2 }, 'N W R S N W R S N N N N N N'],
    [{ wait: 2, warmup: 1, active: 3, skipFirst: 3 }, 'N N N N N W R R S N N W R R'],
    [{ wait: 2, warmup: 1, active: 1, repeat: 1, skipFirst: 2, skipFirstWait: 1 }, 'N N W S N N N N N N N N N N'],
    [{ wait: 0, warmup: 0, active: 1 }, 'S S S S S S S S S S S S S S'],
  ];
  const short = { NONE: 'N', WARMUP: 'W', RECORD: 'R', RECORD_AND_SAVE: 'S' } as const;
  it.each(cases)('%j gives torch\'s actions', (spec, want) => {
    const s = profiler.schedule(spec);
    expect(Array.from({ length: 14 }, (_, i) => short[s(i)]).join(' ')).toBe(want);
  });

  it('rejects bad arguments with a ValueError', () => {
    expect(() => profiler.schedule({ wait: 1, warmup: 1, active: 0 })).toThrow(/active must be an integer >= 1, got 0/);
    expect(() => profiler.schedule({ wait: -1, warmup: 1, active: 1 })).toThrow(ValueError);
    expect(() => profiler.schedule({ wait: 1.5, warmup: 1, active: 1 })).toThrow(/wait must be an integer/);
    expect(() => profiler.schedule({ wait: 1, warmup: 1, active: 1, every: 2 } as never)).toThrow(/unknown option 'every'/);
    expect(() => profiler.schedule(null as never)).toThrow(ValueError);
    expect(() => profiler.schedule({ wait: 1, warmup: 1, active: 1 })(-1)).toThrow(/step must be an integer >= 0/);
  });
});

describe('profiler: scheduled profiling', () => {
  it('records only the active steps of each cycle, each in a ProfilerStep#N range, and hands each cycle to onTraceReady', () => {
    const ready: { prof: Profile; step: number }[] = [];
    const p = profiler.profile({
      recordShapes: true,
      schedule: profiler.schedule({ wait: 1, warmup: 1, active: 2, repeat: 2 }),
      onTraceReady: (prof, who) => ready.push({ prof, step: who.stepNum }),
    });
    const actions: string[] = [];
    const recording: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      actions.push(p.currentAction);
      recording.push(profiler.isProfiling());
      work(i);
      p.step();
    }
    expect(actions.join(' ')).toBe('NONE WARMUP RECORD RECORD_AND_SAVE NONE WARMUP RECORD RECORD_AND_SAVE NONE NONE');
    // off in the wait steps and after the last cycle: no listener, nothing paid
    expect(recording).toEqual([false, true, true, true, false, true, true, true, false, false]);
    expect(p.stepNum).toBe(10);
    expect(ready.map((r) => r.step)).toEqual([4, 8]); // called from the step() that ends the cycle
    const [c1, c2] = ready.map((r) => r.prof);
    expect(stepRanges(c1)).toEqual(['ProfilerStep#2', 'ProfilerStep#3']);
    expect(negSizes(c1)).toEqual([3, 4]); // the warmup step's op (2 elements) is dropped
    expect(stepRanges(c2)).toEqual(['ProfilerStep#6', 'ProfilerStep#7']);
    expect(negSizes(c2)).toEqual([7, 8]);
    // the step's ops are its children, and the ranges cover them
    for (const r of c1.roots) {
      expect(r.name).toMatch(/^ProfilerStep#/);
      expect(r.children.map((e) => e.name)).toEqual(['ones', 'neg']);
      expect(r.duration).toBeGreaterThanOrEqual(r.children.reduce((s, c) => s + c.duration, 0));
    }
    // one "ProfilerStep*" row in the key averages, as torch's table has it
    const row = c1.keyAverages().find((k) => k.name === 'ProfilerStep*');
    expect(row?.count).toBe(2);
    expect(c1.table()).toContain('ProfilerStep*');
    // the trace keeps each step's own name
    expect(c1.chromeTrace().traceEvents.filter((e) => String(e.name).startsWith('ProfilerStep#')).map((e) => e.name)).toEqual(['ProfilerStep#2', 'ProfilerStep#3']);
    // stop() returns the last cycle; nothing more is handed over
    expect(p.stop()).toBe(c2);
    expect(ready.length).toBe(2);
    expect(() => p.step()).toThrow(/profiler has stopped/);
  });

  it('active: 1 without warmup saves every step on its own, and warns about the missing warmup', () => {
    const got: Profile[] = [];
    const p = profiler.profile({ recordShapes: true, schedule: profiler.schedule({ wait: 0, warmup: 0, active: 1 }), onTraceReady: (x) => got.push(x) });
    for (let i = 0; i < 3; i++) {
      work(i);
      p.step();
    }
    const last = p.stop(); // step 3 was being recorded: saved at stop
    expect(got.length).toBe(4);
    expect(got.map(stepRanges)).toEqual([['ProfilerStep#0'], ['ProfilerStep#1'], ['ProfilerStep#2'], ['ProfilerStep#3']]);
    expect(got.slice(0, 3).map(negSizes)).toEqual([[1], [2], [3]]);
    expect(last).toBe(got[3]);
    expect(last.warnings.join('\n')).toMatch(/no warmup steps/);
  });

  it('a cycle cut short by stop() is saved; a stop in the warmup saves nothing', () => {
    const got: Profile[] = [];
    const p = profiler.profile({ schedule: profiler.schedule({ wait: 0, warmup: 1, active: 5 }), onTraceReady: (x) => got.push(x) });
    for (let i = 0; i < 3; i++) {
      work(i);
      p.step();
    }
    const prof = p.stop();
    expect(got).toEqual([prof]);
    expect(stepRanges(prof)).toEqual(['ProfilerStep#1', 'ProfilerStep#2', 'ProfilerStep#3']);

    const q = profiler.profile({ schedule: profiler.schedule({ wait: 1, warmup: 2, active: 1 }), onTraceReady: () => expect.unreachable() });
    work(0);
    q.step();
    work(1);
    const empty = q.stop();
    expect(empty.events).toEqual([]);
    expect(empty.warnings.join('\n')).toMatch(/recorded no step/);
    expect(profiler.isProfiling()).toBe(false);
  });

  it('a schedule that leaves RECORD without RECORD_AND_SAVE drops the steps with a warning (as torch warns)', () => {
    const seq = ['RECORD', 'RECORD', 'NONE', 'RECORD_AND_SAVE', 'NONE'] as const;
    const got: Profile[] = [];
    const p = profiler.profile({ schedule: (i) => seq[Math.min(i, seq.length - 1)], onTraceReady: (x) => got.push(x) });
    for (let i = 0; i < 5; i++) {
      work(i);
      p.step();
    }
    const prof = p.stop();
    expect(got.length).toBe(1);
    expect(stepRanges(got[0])).toEqual(['ProfilerStep#3']);
    expect(prof.warnings.join('\n')).toMatch(/incorrect schedule: RECORD followed by NONE: steps 1 and 2/);
  });

  it('a schedule returning something else is a ValueError naming the step, and the profiler keeps its state', () => {
    const p = profiler.profile({ schedule: (i) => (i < 1 ? 'RECORD' : 'record') as never });
    expect(() => p.step()).toThrow(/schedule returned "record" for step 1/);
    expect(p.stepNum).toBe(0);
    expect(p.currentAction).toBe('RECORD');
    const prof = p.stop(); // step 0 was recorded: saved at stop
    expect(stepRanges(prof)).toEqual(['ProfilerStep#0']);
    expect(profiler.isProfiling()).toBe(false);
    expect(() => profiler.profile({ schedule: 3 as never })).toThrow(/schedule must be a function/);
    expect(() => profiler.profile({ onTraceReady: 'x' as never })).toThrow(/onTraceReady must be a function/);
  });

  it("a handler that throws: step() rethrows after the profiler has moved on, and the next cycle still records", () => {
    let calls = 0;
    const p = profiler.profile({
      schedule: profiler.schedule({ wait: 0, warmup: 1, active: 1 }),
      onTraceReady: () => {
        if (++calls === 1) throw new Error('disk full');
      },
    });
    work(0);
    p.step(); // warmup -> save
    work(1);
    expect(() => p.step()).toThrow('disk full');
    expect(p.stepNum).toBe(2);
    expect(p.currentAction).toBe('WARMUP');
    work(2);
    p.step();
    work(3);
    p.step();
    expect(calls).toBe(2);
    expect(stepRanges(p.stop())).toEqual(['ProfilerStep#3']);
  });

  it('with warmup 0, the step after a throwing handler is still recorded in its range', () => {
    let calls = 0;
    const got: Profile[] = [];
    const p = profiler.profile({
      recordShapes: true,
      schedule: profiler.schedule({ wait: 0, warmup: 0, active: 1 }),
      onTraceReady: (x) => {
        got.push(x);
        if (++calls === 1) throw new Error('disk full');
      },
    });
    work(0);
    expect(() => p.step()).toThrow('disk full');
    work(1);
    p.step();
    expect(got.length).toBe(2);
    expect(stepRanges(got[1])).toEqual(['ProfilerStep#1']);
    expect(got[1].roots.map((e) => e.name)).toEqual(['ProfilerStep#1']);
    expect(negSizes(got[1])).toEqual([2]);
    p.stop();
  });

  it('onTraceReady cannot step() or stop() the profiler it was called from; the profiler stays whole', () => {
    const errors: string[] = [];
    const p = profiler.profile({
      schedule: profiler.schedule({ wait: 0, warmup: 0, active: 1 }),
      onTraceReady: (_x, who) => {
        for (const f of [() => (who as typeof p).stop(), () => (who as typeof p).step()])
          try {
            f();
          } catch (e) {
            errors.push((e as Error).message);
          }
      },
    });
    work(0);
    p.step();
    expect(errors.length).toBe(2);
    expect(errors[0]).toMatch(/profiler.stop: called from onTraceReady/);
    expect(errors[1]).toMatch(/profiler.step: called from onTraceReady/);
    expect(p.running).toBe(true);
    work(1);
    expect(stepRanges(p.stop())).toEqual(['ProfilerStep#1']);
    expect(profiler.isProfiling()).toBe(false);
  });

  it('a range opened around the loop (sync or async) does not take the later steps\' ops from their step ranges', async () => {
    const got: Profile[] = [];
    const sched = () => profiler.schedule({ wait: 0, warmup: 0, active: 3, repeat: 1 });
    const p = profiler.profile({ schedule: sched(), onTraceReady: (x) => got.push(x) });
    profiler.recordFunction('epoch', () => {
      for (let i = 0; i < 3; i++) {
        work(i);
        p.step();
      }
    });
    p.stop();
    const p2 = profiler.profile({ schedule: sched(), onTraceReady: (x) => got.push(x) });
    await profiler.recordFunction('train', async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 1));
        work(i);
        p2.step();
      }
    });
    p2.stop();
    expect(got.length).toBe(2);
    for (const [g, outer] of [[got[0], 'epoch'], [got[1], 'train']] as const) {
      // step 0's range was open before the outer range began, so it holds it; each later step's
      // range sits in the outer range and holds that step's ops
      const byName = new Map(g.events.map((e) => [e.name, e]));
      expect(byName.get(outer)!.parentId, outer).toBe(byName.get('ProfilerStep#0')!.id);
      for (const n of ['ProfilerStep#1', 'ProfilerStep#2']) {
        const st = byName.get(n)!;
        expect(st.parentId, `${outer} ${n}`).toBe(byName.get(outer)!.id);
        expect(st.children.map((e) => e.name), `${outer} ${n}`).toEqual(['ones', 'neg']);
      }
    }
  });

  it('async steps: an async range inside a step keeps its own ops after the await, under the step', async () => {
    const got: Profile[] = [];
    const p = profiler.profile({ schedule: profiler.schedule({ wait: 0, warmup: 1, active: 2, repeat: 1 }), onTraceReady: (x) => got.push(x) });
    for (let i = 0; i < 4; i++) {
      await profiler.recordFunction('load', async () => {
        await new Promise((r) => setTimeout(r, 1));
        ignis.ones([2]).exp();
      });
      work(i);
      p.step();
    }
    p.stop();
    expect(got.length).toBe(1);
    const steps = got[0].roots;
    expect(steps.map((e) => e.name)).toEqual(['ProfilerStep#1', 'ProfilerStep#2']);
    for (const s of steps) {
      const names = s.children.map((e) => e.name);
      expect(names).toEqual(['load', 'ones', 'neg']);
      const load = s.children[0];
      expect(load.children.map((e: ProfilerEvent) => e.name)).toEqual(['ones', 'exp']);
    }
  });

  it('without a schedule: step() counts steps, no step ranges, onTraceReady gets the profile at stop; the function form gets the profiler', () => {
    const got: Profile[] = [];
    const prof = profiler.profile({ onTraceReady: (x) => got.push(x) }, (p) => {
      for (let i = 0; i < 3; i++) {
        work(i);
        p.step();
      }
      expect(p.stepNum).toBe(3);
    });
    expect(got).toEqual([prof]);
    expect(stepRanges(prof)).toEqual([]);
    expect(prof.events.filter((e) => e.name === 'neg').length).toBe(3);
  });

  it('profiler.start() / stop() take a schedule too', () => {
    const p = profiler.start({ recordShapes: true, schedule: profiler.schedule({ wait: 1, warmup: 0, active: 1 }) });
    for (let i = 0; i < 2; i++) {
      work(i);
      p.step();
    }
    const prof = profiler.stop();
    expect(negSizes(prof)).toEqual([2]);
  });

  it('tensorboardTraceHandler writes one Chrome trace per cycle, named as torch names them, gzipped on request', () => {
    const dir = path.join(tmp, 'log');
    const p = profiler.profile({
      schedule: profiler.schedule({ wait: 0, warmup: 1, active: 1, repeat: 2 }),
      onTraceReady: profiler.tensorboardTraceHandler(dir, { workerName: 'w0' }),
    });
    for (let i = 0; i < 5; i++) {
      work(i);
      p.step();
    }
    p.stop();
    const files = fs.readdirSync(dir).sort();
    expect(files.length).toBe(2);
    for (const f of files) {
      expect(f).toMatch(/^w0\.\d{16,}\.pt\.trace\.json$/);
      const t = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
      expect(t.traceEvents.some((e: { name: string }) => /^ProfilerStep#\d$/.test(e.name))).toBe(true);
    }
    const gz = path.join(tmp, 'gz');
    const q = profiler.profile({ schedule: profiler.schedule({ wait: 0, warmup: 0, active: 1 }), onTraceReady: profiler.tensorboardTraceHandler(gz, { gzip: true }) });
    work(0);
    q.stop();
    const [g] = fs.readdirSync(gz);
    expect(g).toMatch(new RegExp(`^${os.hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_${process.pid}\\.\\d+\\.pt\\.trace\\.json\\.gz$`));
    const t = JSON.parse(zlib.gunzipSync(fs.readFileSync(path.join(gz, g))).toString('utf8'));
    expect(t.traceEvents.some((e: { name: string }) => e.name === 'ProfilerStep#0')).toBe(true);
    expect(() => profiler.tensorboardTraceHandler('')).toThrow(ValueError);
    expect(() => profiler.tensorboardTraceHandler(dir, { workerName: 'a/b' })).toThrow(/without path separators/);
    expect(() => profiler.tensorboardTraceHandler(dir, { gz: true } as never)).toThrow(/unknown option 'gz'/);
  });
});
