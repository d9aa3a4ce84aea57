/** Number formatting for the profiler table, after torch.autograd.profiler_util. */

/** µs -> '384.045us', '6.975ms', '1.204s' */
export function fmtTime(us: number): string {
  if (!Number.isFinite(us)) return '--';
  const a = Math.abs(us);
  if (a >= 1e6) return `${(us / 1e6).toFixed(3)}s`;
  if (a >= 1e3) return `${(us / 1e3).toFixed(3)}ms`;
  return `${us.toFixed(3)}us`;
}

/** bytes -> '3.81 Mb', '-1.50 Kb', '12 b' (torch's units) */
export function fmtMemory(b: number): string {
  if (!Number.isFinite(b)) return '--';
  const a = Math.abs(b);
  if (a >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(2)} Gb`;
  if (a >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(2)} Mb`;
  if (a >= 1024) return `${(b / 1024).toFixed(2)} Kb`;
  return `${b} b`;
}

export function fmtPct(x: number): string {
  if (!Number.isFinite(x)) return '--';
  return `${x.toFixed(2)}%`;
}

/** a rate or a count with 3 significant decimals, '--' when unknown */
export function fmtNum(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '--';
  return x.toFixed(digits);
}

export function fmtShapes(shapes: readonly (readonly number[])[] | null | undefined): string {
  if (!shapes) return '';
  return `[${shapes.map((s) => `[${s.join(', ')}]`).join(', ')}]`;
}

export function truncate(s: string, width: number): string {
  return s.length <= width ? s : `${s.slice(0, Math.max(0, width - 3))}...`;
}
