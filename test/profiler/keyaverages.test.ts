import { describe, expect, it } from 'vitest';
import * as ignis from '../../src';
import { fmtMemory, fmtTime } from '../../src/profiler/format';

const { profiler } = ignis;

function sample() {
  const a = ignis.ones([8, 8]);
  const b = ignis.ones([8]);
  return profiler.profile({ recordShapes: true }, () => {
    for (let i = 0; i < 3; i++) a.add(b);
    for (let i = 0; i < 2; i++) a.add(a);
    profiler.recordFunction('a-rather-long-user-range-name-that-goes-on-and-on-and-on-past-the-column', () => a.neg());
  });
}

describe('profiler: keyAverages', () => {
  it('aggregates by name: count, total, self, avg, min, max', () => {
    const prof = sample();
    const ka = prof.keyAverages();
    const add = ka.find((r) => r.name === 'add')!;
    const adds = prof.events.filter((e) => e.name === 'add');
    expect(add.count).toBe(5);
    expect(add.kind).toBe('op');
    expect(add.device).toBe('cpu');
    const tot = adds.reduce((s, e) => s + e.duration, 0);
    expect(add.cpuTimeTotal).toBeCloseTo(tot, 9);
    expect(add.selfCpuTimeTotal).toBeCloseTo(tot, 9); // leaves: self = total
    expect(add.cpuTimeAvg).toBeCloseTo(tot / 5, 9);
    expect(add.cpuTimeMin).toBe(Math.min(...adds.map((e) => e.duration)));
    expect(add.cpuTimeMax).toBe(Math.max(...adds.map((e) => e.duration)));
    const range = ka.find((r) => r.kind === 'range')!;
    const neg = ka.find((r) => r.name === 'neg')!;
    expect(range.selfCpuTimeTotal).toBeCloseTo(range.cpuTimeTotal - neg.cpuTimeTotal, 9);
    expect(add.flops).toBeNull(); // withFlops off
    expect(add.pctPeak).toBeNull();
  });

  it('groups by input shape', () => {
    const ka = sample().keyAverages({ groupByInputShape: true });
    const adds = ka.filter((r) => r.name === 'add');
    expect(adds.map((r) => [r.inputShapes, r.count]).sort()).toEqual([
      ['[[8, 8], [8, 8]]', 2],
      ['[[8, 8], [8]]', 3],
    ]);
  });

  it('sorts by any torch key, descending', () => {
    const ka = sample().keyAverages();
    const byCount = ka.sorted('count');
    expect(byCount[0].name).toBe('add');
    expect(byCount.map((r) => r.count)).toEqual([...byCount.map((r) => r.count)].sort((x, y) => y - x));
    const bySelf = ka.sorted('self_cpu_time_total');
    for (let i = 1; i < bySelf.length; i++) expect(bySelf[i - 1].selfCpuTimeTotal).toBeGreaterThanOrEqual(bySelf[i].selfCpuTimeTotal);
    expect(ka.sorted('selfCpuTimeTotal').map((r) => r.key)).toEqual(bySelf.map((r) => r.key));
    const byTotal = ka.sorted('cpu_time_total');
    expect(byTotal[0].cpuTimeTotal).toBe(Math.max(...ka.map((r) => r.cpuTimeTotal)));
  });

  it('rejects a bad sort key, row limit or grouping without shapes', () => {
    const prof = sample();
    expect(() => prof.keyAverages().table({ sortBy: 'speed' })).toThrow(ignis.ValueError);
    expect(() => prof.keyAverages().table({ sortBy: 'speed' })).toThrow(/unknown sortBy "speed"; expected one of cpu_time_total, self_cpu_time_total/);
    expect(() => prof.keyAverages().table({ rowLimit: 1.5 })).toThrow(/rowLimit/);
    expect(() => prof.keyAverages().table({ sortby: 'count' } as unknown as {})).toThrow(/unknown option 'sortby'/);
    const noShapes = profiler.profile({}, () => ignis.ones([1]).neg());
    expect(() => noShapes.keyAverages({ groupByInputShape: true })).toThrow(/recordShapes: true/);
  });
});

describe('profiler: table', () => {
  it('prints aligned columns like torch.profiler, sorted, limited, with a total line', () => {
    const prof = sample();
    const text = prof.keyAverages().table({ sortBy: 'count', rowLimit: 2 });
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^-+( {2}-+)+ {2}$/);
    expect(lines[1]).toMatch(/Name\s+Self CPU %\s+Self CPU\s+CPU total %\s+CPU total\s+CPU time avg\s+# of Calls/);
    expect(lines[2]).toBe(lines[0]);
    const body = lines.slice(3, lines.indexOf(lines[0], 3));
    expect(body.length).toBe(2);
    expect(body[0].trim().startsWith('add')).toBe(true);
    expect(body[0].trim().endsWith(' 5')).toBe(true);
    // every table line has the separator's width and the columns line up
    for (const l of [lines[1], ...body]) expect(l.length).toBe(lines[0].length);
    const colEnds = (l: string) => [...l.matchAll(/\S(?= {2}|$)/g)].map((m) => m.index);
    expect(colEnds(body[0].trimEnd())).toEqual(colEnds(lines[1].trimEnd()));
    expect(lines[lines.length - 1]).toMatch(/^Self CPU time total: \d+\.\d{3}(us|ms|s)$/);
  });

  it('truncates long names, shows shapes, memory and FLOP columns when recorded', () => {
    const x = ignis.ones([16, 16]);
    const prof = profiler.profile({ recordShapes: true, profileMemory: true, withFlops: true }, () => {
      profiler.recordFunction('a-rather-long-user-range-name-that-goes-on-and-on-and-on-past-the-column', () => x.matmul(x).relu());
    });
    prof.setPeaks('cpu', { device: 'cpu', bandwidthGBs: 10, gflops: 100, ridge: 10, method: 'test', measuredAt: '2026-01-01T00:00:00Z', cacheFile: null, cached: true });
    const text = prof.keyAverages({ groupByInputShape: true }).table({ sortBy: 'cpu_time_total' });
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/CPU Mem\s+Self CPU Mem\s+# of Calls\s+Total GFLOPs\s+GFLOP\/s\s+GB\/s\s+% peak\s+Input Shapes/);
    expect(text).toContain('a-rather-long-user-range-name-that-goes-on-and-on-an...');
    expect(text).toMatch(/bmm .*\[\[1, 16, 16\], \[1, 16, 16\]\]/);
    expect(text).toMatch(/cpu peaks 10\.0 GB\/s, 100\.0 GFLOP\/s/);
    expect(lines[3].length).toBe(lines[0].length);
  });

  it('formats times and memory in torch units', () => {
    expect(fmtTime(384.0451)).toBe('384.045us');
    expect(fmtTime(6975)).toBe('6.975ms');
    expect(fmtTime(1204000)).toBe('1.204s');
    expect(fmtMemory(512)).toBe('512 b');
    expect(fmtMemory(-1536)).toBe('-1.50 Kb');
    expect(fmtMemory(4 * 1024 * 1024)).toBe('4.00 Mb');
  });
});
