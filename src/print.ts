/**
 * PyTorch-style printing: values aligned in columns, summarised with "..." beyond 1000 elements
 * (3 edge items per dim), followed by shape, dtype, device and the grad state.
 */
import type { Tensor } from './tensor';
import * as K from './kernels';

const THRESHOLD = 1000;
const EDGE = 3;

function fmtFloat(v: number, fixed: boolean, sci: boolean): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (sci) return v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2');
  if (fixed) return Number.isInteger(v) ? `${v}.` : v.toFixed(4);
  return v.toFixed(4);
}

export function formatTensor(t: Tensor): string {
  if (t.isDisposed) return `tensor(<disposed>, shape=[${t.shape.join(', ')}], dtype=${t.dtype})`;
  const flat = K.read(t) as unknown as ArrayLike<number | bigint>;
  const n = flat.length;
  const summarize = n > THRESHOLD;
  const vals: number[] = new Array(n);
  for (let i = 0; i < n; i++) vals[i] = Number(flat[i]);
  const isFloat = t.dtype === 'float32' || t.dtype === 'float64';
  let fmt: (v: number) => string;
  if (t.dtype === 'bool') fmt = (v) => (v ? 'True' : 'False');
  else if (!isFloat) fmt = (v) => String(v);
  else {
    const finite = vals.filter((v) => Number.isFinite(v));
    const allInt = finite.every((v) => Number.isInteger(v));
    const absMax = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const absMin = finite.filter((v) => v !== 0).reduce((m, v) => Math.min(m, Math.abs(v)), Infinity);
    const sci = finite.length > 0 && (absMax >= 1e8 || (absMin < 1e-4 && !allInt) || (absMax / absMin > 1000 && !allInt && absMax > 1e3));
    fmt = allInt && !sci ? (v) => fmtFloat(v, true, false) : (v) => fmtFloat(v, false, sci);
  }
  const strs = vals.map(fmt);
  const width = strs.reduce((w, s) => Math.max(w, s.length), 0);
  const shape = t.shape;
  const indent = 'tensor('.length;
  const rec = (d: number, off: number, stride: number): string => {
    if (shape.length === 0) return strs[0];
    const size = shape[d];
    const inner = stride / size;
    const idx: (number | null)[] = [];
    if (summarize && size > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) idx.push(i);
      idx.push(null);
      for (let i = size - EDGE; i < size; i++) idx.push(i);
    } else for (let i = 0; i < size; i++) idx.push(i);
    if (d === shape.length - 1) {
      return '[' + idx.map((i) => (i === null ? '...' : strs[off + i].padStart(width))).join(', ') + ']';
    }
    const sep = ',' + '\n'.repeat(shape.length - d - 1) + ' '.repeat(indent + d + 1);
    return '[' + idx.map((i) => (i === null ? '...' : rec(d + 1, off + i * inner, inner))).join(sep) + ']';
  };
  const total = shape.reduce((a, b) => a * b, 1);
  const body = total === 0 ? '[]' : rec(0, 0, total);
  const extra = [`shape=[${shape.join(', ')}]`, `dtype=${t.dtype}`, `device=${t.device}`];
  if (t.gradFn) extra.push(`gradFn=<${t.gradFn.name}Backward>`);
  else if (t.requiresGrad) extra.push('requiresGrad=true');
  return `tensor(${body}, ${extra.join(', ')})`;
}
