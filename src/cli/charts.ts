/**
 * SVG charts for the CLI's reports, drawn in Node with no DOM: d3-scale computes the scales and
 * their "nice" ticks, d3-shape the line paths; this file only places them in <svg> markup.
 * (d3-scale + d3-shape are two small dependency-free packages that run offline; a headless
 * vega/vega-lite renderer would pull in ~70 packages for the same few line and bar charts.)
 */
import { scaleBand, scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';

/** Tableau 10: distinguishable colours for up to ten series (then repeats). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export interface Series {
  name: string;
  points: [number, number][];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
  /** y domain; default the data's extent */
  yDomain?: [number, number];
  /** draw a dashed horizontal line at y = 0 (activation plots) */
  zeroLine?: boolean;
}

const M = { top: 34, right: 130, bottom: 44, left: 58 };

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const fmt = (v: number): string => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
};

function frame(title: string, width: number, height: number, body: string, cls: string): string {
  return (
    `<svg class="chart ${cls}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">` +
    `<rect width="${width}" height="${height}" fill="#fff"/>` +
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${esc(title)}</text>` +
    body +
    '</svg>'
  );
}

function legend(names: string[], x: number, y: number): string {
  return names
    .map(
      (n, i) =>
        `<g transform="translate(${x},${y + i * 18})"><rect width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>` +
        `<text x="16" y="10" font-size="12">${esc(n)}</text></g>`,
    )
    .join('');
}

/** A line chart, one path per series, with nice ticks on both axes and a legend. */
export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 620;
  const height = o.height ?? 360;
  const all = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xd: [number, number] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let yd: [number, number] = o.yDomain ?? (ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1]);
  if (yd[0] === yd[1]) yd = [yd[0] - 1, yd[1] + 1];
  if (xd[0] === xd[1]) xd[1] = xd[0] + 1;
  const x = scaleLinear().domain(xd).range([M.left, width - M.right]).nice();
  const y = scaleLinear().domain(yd).range([height - M.bottom, M.top]).nice();
  const path = line<[number, number]>()
    .defined(([a, b]) => Number.isFinite(a) && Number.isFinite(b))
    .x((p) => x(p[0]))
    .y((p) => y(p[1]));
  const [x0, x1] = x.range();
  const [y0, y1] = y.range();
  let body = '';
  for (const t of y.ticks(6))
    body += `<line x1="${x0}" x2="${x1}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/><text x="${x0 - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`;
  for (const t of x.ticks(8))
    body += `<line x1="${x(t)}" x2="${x(t)}" y1="${y0}" y2="${y0 + 5}" stroke="#333"/><text x="${x(t)}" y="${y0 + 18}" text-anchor="middle" font-size="11">${fmt(t)}</text>`;
  if (o.zeroLine && y.domain()[0] < 0 && y.domain()[1] > 0) body += `<line x1="${x0}" x2="${x1}" y1="${y(0)}" y2="${y(0)}" stroke="#888" stroke-dasharray="4 3"/>`;
  body += `<line x1="${x0}" x2="${x1}" y1="${y0}" y2="${y0}" stroke="#333"/><line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="#333"/>`;
  body += `<text x="${(x0 + x1) / 2}" y="${height - 8}" text-anchor="middle" font-size="12">${esc(o.xLabel)}</text>`;
  body += `<text transform="translate(14,${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(o.yLabel)}</text>`;
  body += `<g clip-path="none">`;
  o.series.forEach((s, i) => {
    const d = path(s.points) ?? '';
    body += `<path class="series" data-name="${esc(s.name)}" d="${d}" fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.8"/>`;
  });
  body += '</g>' + legend(o.series.map((s) => s.name), width - M.right + 12, M.top);
  return frame(o.title, width, height, body, 'line-chart');
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  bars: { name: string; value: number }[];
  width?: number;
  height?: number;
  /** printed after each bar's value */
  unit?: string;
}

/** A vertical bar chart, one bar per category, value printed above each bar. */
export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 620;
  const height = o.height ?? 320;
  const x = scaleBand<string>().domain(o.bars.map((b) => b.name)).range([M.left, width - 20]).padding(0.25);
  const max = Math.max(0, ...o.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
  const y = scaleLinear().domain([0, max || 1]).range([height - M.bottom, M.top]).nice();
  const [y0, y1] = y.range();
  let body = '';
  for (const t of y.ticks(5))
    body += `<line x1="${M.left}" x2="${width - 20}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/><text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`;
  o.bars.forEach((b, i) => {
    const v = Number.isFinite(b.value) ? b.value : 0;
    const bx = x(b.name)!;
    body +=
      `<rect class="bar" data-name="${esc(b.name)}" x="${bx}" y="${y(v)}" width="${x.bandwidth()}" height="${Math.max(0, y0 - y(v))}" fill="${PALETTE[i % PALETTE.length]}"/>` +
      `<text x="${bx + x.bandwidth() / 2}" y="${y(v) - 4}" text-anchor="middle" font-size="11">${fmt(v)}${o.unit ? ' ' + esc(o.unit) : ''}</text>` +
      `<text x="${bx + x.bandwidth() / 2}" y="${y0 + 16}" text-anchor="middle" font-size="12">${esc(b.name)}</text>`;
  });
  body += `<line x1="${M.left}" x2="${width - 20}" y1="${y0}" y2="${y0}" stroke="#333"/><line x1="${M.left}" x2="${M.left}" y1="${y0}" y2="${y1}" stroke="#333"/>`;
  body += `<text transform="translate(14,${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(o.yLabel)}</text>`;
  return frame(o.title, width, height, body, 'bar-chart');
}
