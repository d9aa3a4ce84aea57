/**
 * What `ignis compare` and `ignis activations --plot` write: activation curves (values and
 * derivatives through autograd), the results table, results.json, report.md and a self-contained
 * report.html with inline SVG charts (src/cli/charts.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import { grad } from '../ops/core';
import { linspace } from '../ops/creation';
import { lookup } from '../activations/registry';
import * as nn from '../nn';
import type { Tensor } from '../tensor';
import { barChart, esc, lineChart, Series } from './charts';
import type { ActivationResult, CompareResult } from './experiment';

export interface Curve {
  name: string;
  x: number[];
  y: number[];
  /** dy/dx from autograd */
  dy: number[];
}

/** f(x) and f'(x) of an elementwise activation (default parameters) at n points of [lo, hi]. */
export function activationCurve(name: string, lo = -5, hi = 5, n = 201): Curve {
  const { row } = lookup(name);
  if (!row.elementwise) throw new Error(`${row.name} is not elementwise (${row.formula}); it has no single curve`);
  const m = nn.activation(name);
  m.eval(); // rrelu: the deterministic slope
  const x = linspace(lo, hi, n, { dtype: 'float64', requiresGrad: true });
  const y = m.call(x) as Tensor;
  const [g] = grad(y.sum(), [x]);
  return { name, x: Array.from(x.detach().dataSync() as Float64Array), y: Array.from(y.detach().dataSync() as Float64Array), dy: Array.from(g!.dataSync() as Float64Array) };
}

/** Curves for the names that have one; the others with the reason. */
export function activationCurves(names: string[]): { curves: Curve[]; skipped: { name: string; reason: string }[] } {
  const curves: Curve[] = [];
  const skipped: { name: string; reason: string }[] = [];
  for (const n of names) {
    try {
      curves.push(activationCurve(n));
    } catch (e) {
      skipped.push({ name: n, reason: (e as Error).message });
    }
  }
  return { curves, skipped };
}

const pts = (xs: number[], ys: number[]): [number, number][] => xs.map((x, i) => [x, ys[i]]);

/** Two charts: the curves and their derivatives over [-5, 5]. */
export function curveCharts(curves: Curve[]): string[] {
  // clip the y range so that one unbounded curve (elu, exp-like) does not flatten the others
  const clip = (v: number[][], lo: number, hi: number): [number, number] => {
    const all = v.flat().filter(Number.isFinite);
    return [Math.max(lo, Math.min(...all)), Math.min(hi, Math.max(...all))];
  };
  const ySeries: Series[] = curves.map((c) => ({ name: c.name, points: pts(c.x, c.y) }));
  const dSeries: Series[] = curves.map((c) => ({ name: c.name, points: pts(c.x, c.dy) }));
  return [
    lineChart({ title: 'Activation f(x)', xLabel: 'x', yLabel: 'f(x)', series: ySeries, yDomain: clip(curves.map((c) => c.y), -3, 6), zeroLine: true }),
    lineChart({ title: "Derivative f'(x) (autograd)", xLabel: 'x', yLabel: "f'(x)", series: dSeries, yDomain: clip(curves.map((c) => c.dy), -1.5, 3), zeroLine: true }),
  ];
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

/** The results table as rows of cells (header first). */
export function tableRows(r: CompareResult): string[][] {
  const head = ['activation', 'test acc', 'best epoch', 'final loss', 'steps to 95%', 's/epoch', 'images/s', 'act. share'];
  const rows = r.results.map((a) => [
    a.activation,
    pct(a.testAccuracy),
    String(a.bestEpoch),
    a.finalTrainLoss.toFixed(4),
    String(a.stepsTo95),
    a.secondsPerEpoch.toFixed(1),
    a.imagesPerSec.toFixed(0),
    a.activationShare === null ? 'n/a' : `${(100 * a.activationShare).toFixed(1)}%`,
  ]);
  return [head, ...rows];
}

/** An aligned plain-text table (first column left, the others right). */
export function textTable(rows: string[][]): string {
  const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  const line = (r: string[]): string => r.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join('  ');
  return [line(rows[0]), w.map((n) => '-'.repeat(n)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function markdownTable(rows: string[][]): string {
  return [`| ${rows[0].join(' | ')} |`, `|${rows[0].map((_, j) => (j === 0 ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.slice(1).map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function smooth(v: number[], window: number): number[] {
  if (window <= 1) return v.slice();
  const out: number[] = [];
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    s += v[i];
    if (i >= window) s -= v[i - window];
    out.push(s / Math.min(i + 1, window));
  }
  return out;
}

function configLine(r: CompareResult): string {
  const c = r.config;
  return (
    `${c.dataset} (${r.trainSize} training / ${r.testSize} test images), seed CNN, ${c.optimizer} lr ${c.lr}` +
    `${c.weightDecay ? ` weight decay ${c.weightDecay}` : ''}, batch ${c.batchSize}, ${c.epochs} epoch${c.epochs === 1 ? '' : 's'}, seed ${c.seed}, device ${c.device}`
  );
}

/** The charts of a comparison, in report order. */
export function compareCharts(r: CompareResult): { id: string; svg: string }[] {
  const window = Math.max(1, Math.round((r.results[0]?.stepLosses.length ?? 0) / 40));
  const loss = lineChart({
    title: `Training loss (moving average over ${window} step${window === 1 ? '' : 's'})`,
    xLabel: 'step',
    yLabel: 'cross-entropy loss',
    series: r.results.map((a) => ({ name: a.activation, points: smooth(a.stepLosses, window).map((v, i): [number, number] => [i + 1, v]) })),
  });
  const acc = lineChart({
    title: `Test accuracy during training (first ${Math.min(r.config.curveSamples, r.testSize)} test images)`,
    xLabel: 'step',
    yLabel: 'accuracy',
    series: r.results.map((a) => ({ name: a.activation, points: [[0, 0.1] as [number, number], ...a.accuracyCurve.map((p): [number, number] => [p.step, p.accuracy])] })),
  });
  const time = barChart({ title: 'Training time per epoch', yLabel: 'seconds', unit: 's', bars: r.results.map((a) => ({ name: a.activation, value: a.secondsPerEpoch })) });
  const { curves } = activationCurves(r.results.map((a) => a.activation));
  const [f, df] = curveCharts(curves);
  const charts = [
    { id: 'loss', svg: loss },
    { id: 'accuracy', svg: acc },
    { id: 'time', svg: time },
    { id: 'activation', svg: f },
    { id: 'derivative', svg: df },
  ];
  if (r.results.some((a) => a.activationShare !== null))
    charts.splice(3, 0, {
      id: 'share',
      svg: barChart({
        title: 'Share of training step time in the activation kernels',
        yLabel: '% of step time',
        unit: '%',
        bars: r.results.filter((a) => a.activationShare !== null).map((a) => ({ name: a.activation, value: 100 * a.activationShare! })),
      }),
    });
  return charts;
}

const CSS =
  'body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1340px;color:#222;padding:0 16px}' +
  'table{border-collapse:collapse;margin:12px 0}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:right}' +
  'td:first-child,th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}svg.chart{border:1px solid #eee}' +
  'figure{margin:0}code{background:#f4f4f4;padding:1px 4px}.note{color:#666;font-size:13px}';

export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head>\n<body>${body}</body></html>\n`;
}

function htmlTable(rows: string[][]): string {
  return `<table><thead><tr>${rows[0].map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .slice(1)
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Writes results.json, report.md and report.html into dir; returns their paths. */
export function writeReport(r: CompareResult, dir: string): { json: string; md: string; html: string } {
  fs.mkdirSync(dir, { recursive: true });
  const rows = tableRows(r);
  const files = { json: path.join(dir, 'results.json'), md: path.join(dir, 'report.md'), html: path.join(dir, 'report.html') };
  fs.writeFileSync(files.json, JSON.stringify(r, null, 2) + '\n');
  const env = r.environment;
  const envLine = `ignis ${env.ignis}, Node ${env.node}, ${env.platform}, CPU ${env.cpuIsa} with ${env.threads} threads${env.onednn ? ', oneDNN' : ''}; ${r.startedAt}, ${r.totalSeconds.toFixed(0)} s in all`;
  const notes = r.results.filter((a) => a.activationShare === null).map((a) => `- ${a.activation}: activation share ${a.activationShareNote}`);
  const legend =
    'test acc: accuracy on the test set after the last epoch; steps to 95%: first training step at which the accuracy curve reached 95% of its best value; ' +
    'act. share: self time of the activation forward and backward ops over the training step time, from ignis.profiler.';
  fs.writeFileSync(
    files.md,
    `# Activation comparison\n\n${configLine(r)}.\n\n${markdownTable(rows)}\n\n${legend}\n${notes.length ? '\n' + notes.join('\n') + '\n' : ''}\n${envLine}.\n\n` +
      `Charts (loss and accuracy curves, time per epoch, activation curves and derivatives): report.html.\n`,
  );
  const charts = compareCharts(r);
  const body =
    `<h1>Activation comparison</h1><p>${esc(configLine(r))}.</p>${htmlTable(rows)}<p class="note">${esc(legend)}</p>` +
    (notes.length ? `<p class="note">${notes.map((n) => esc(n.slice(2))).join('<br>')}</p>` : '') +
    `<div class="charts">${charts.map((c) => `<figure id="chart-${c.id}">${c.svg}</figure>`).join('')}</div><p class="note">${esc(envLine)}</p>`;
  fs.writeFileSync(files.html, htmlPage('Ignis activation comparison', body));
  return files;
}

/** The page (or bare SVG when file ends in .svg) of `ignis activations --plot`. */
export function activationPlot(names: string[]): { html: string; svg: string; skipped: { name: string; reason: string }[] } {
  const { curves, skipped } = activationCurves(names);
  if (!curves.length) throw new Error(`nothing to plot: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`);
  const [f, df] = curveCharts(curves);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1240" height="360">${f.replace('<svg ', '<svg x="0" ')}${df.replace('<svg ', '<svg x="620" ')}</svg>`;
  const body =
    `<h1>Activations over [-5, 5]</h1><div class="charts">${[f, df].map((c) => `<figure>${c}</figure>`).join('')}</div>` +
    (skipped.length ? `<p class="note">Not plotted: ${skipped.map((s) => esc(`${s.name} (${s.reason})`)).join('; ')}</p>` : '');
  return { html: htmlPage('Ignis activations', body), svg, skipped };
}

export type { ActivationResult };
