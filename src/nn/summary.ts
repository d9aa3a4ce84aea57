/**
 * nn.summary(model, inputShape): runs one forward under noGrad (eval mode, restored afterwards)
 * with forward hooks on every submodule and prints a table of layers, output shapes and parameter
 * counts, like torchinfo / Keras' model.summary(). Layers are listed in call order, indented by
 * depth; only modules run through .call() are seen.
 */
import { noGrad } from '../autograd/mode';
import { DType } from '../dtype';
import { ValueError } from '../errors';
import * as ops from '../ops/all';
import { Generator } from '../random';
import { Tensor } from '../tensor';
import { Module, RemovableHandle } from './module';

export interface SummaryRow {
  name: string;
  type: string;
  depth: number;
  outputShape: number[] | number[][] | null;
  /** parameters of this module and its children */
  params: number;
  trainable: number;
  isLeaf: boolean;
}

export interface SummaryResult {
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  outputShape: number[] | number[][] | null;
  text: string;
  toString(): string;
}

function shapeOf(v: unknown): number[] | number[][] | null {
  if (v instanceof Tensor) return v.shape.slice();
  if (Array.isArray(v) && v.length && v.every((t) => t instanceof Tensor)) return v.map((t: Tensor) => t.shape.slice());
  return null;
}

function fmtShapeCell(s: number[] | number[][] | null): string {
  if (s === null) return '--';
  if (s.length && Array.isArray(s[0])) return (s as number[][]).map((x) => `[${x.join(', ')}]`).join(', ');
  return `[${(s as number[]).join(', ')}]`;
}

const group = (n: number): string => n.toLocaleString('en-US');

/**
 * Runs model on zeros-free random input(s) of `inputShape` (batch dim included; an array of
 * shapes for several inputs) or on `opts.inputs`, and returns the table; prints it unless
 * `print: false`.
 */
export function summary(
  model: Module,
  inputShape?: number[] | number[][],
  opts: { dtype?: DType; inputs?: Tensor[]; print?: boolean; depth?: number } = {},
): SummaryResult {
  if (!(model instanceof Module)) throw new ValueError('summary: expected an nn.Module');
  let inputs: Tensor[];
  if (opts.inputs) inputs = opts.inputs;
  else {
    if (!Array.isArray(inputShape) || !inputShape.length) throw new ValueError('summary: expected an input shape (batch dim included), e.g. [1, 3, 32, 32]');
    const shapes = Array.isArray(inputShape[0]) ? (inputShape as number[][]) : [inputShape as number[]];
    const g = new Generator(0);
    inputs = shapes.map((s) => ops.rand(s, { dtype: opts.dtype ?? 'float32', generator: g }));
  }
  const maxDepth = opts.depth ?? Infinity;
  const names = new Map<Module, [string, number]>();
  for (const [n, m] of model.namedModules()) if (m !== model) names.set(m, [n, n.split('.').length]);
  const rows: SummaryRow[] = [];
  const rowOf = new Map<Module, SummaryRow[]>();
  const handles: RemovableHandle[] = [];
  for (const [m, [name, depth]] of names) {
    const kids = [...m.children()].length;
    handles.push(
      m.registerForwardPreHook((mod) => {
        let params = 0;
        let trainable = 0;
        for (const p of mod.parameters()) {
          params += p.numel;
          if (p.requiresGrad) trainable += p.numel;
        }
        const row: SummaryRow = { name, type: mod.constructor.name, depth, outputShape: null, params, trainable, isLeaf: kids === 0 };
        rows.push(row);
        const st = rowOf.get(mod) ?? [];
        st.push(row);
        rowOf.set(mod, st);
      }),
      m.registerForwardHook((mod, _i, out) => {
        const st = rowOf.get(mod);
        const row = st?.pop();
        if (row) row.outputShape = shapeOf(out);
      }),
    );
  }
  const modes = [...model.modules()].map((m) => [m, m.training] as const);
  let out: unknown;
  try {
    model.eval();
    out = noGrad(() => model.call(...inputs));
  } finally {
    handles.forEach((h) => h.remove());
    for (const [m, t] of modes) m.training = t;
  }
  let total = 0;
  let trainable = 0;
  for (const p of model.parameters()) {
    total += p.numel;
    if (p.requiresGrad) trainable += p.numel;
  }
  const shown = rows.filter((r) => r.depth <= maxDepth);
  const cells = shown.map((r) => [
    `${'  '.repeat(r.depth - 1)}${r.name} (${r.type})`,
    fmtShapeCell(r.outputShape),
    r.isLeaf || r.depth === maxDepth ? group(r.params) : r.params ? `(${group(r.params)})` : '--',
  ]);
  const head = ['Layer (type)', 'Output Shape', 'Param #'];
  const w0 = Math.max(head[0].length, ...cells.map((c) => c[0].length)) + 2;
  const w1 = Math.max(head[1].length, ...cells.map((c) => c[1].length)) + 2;
  const w2 = Math.max(head[2].length, ...cells.map((c) => c[2].length));
  const width = w0 + w1 + w2;
  const line = (c: string[]): string => c[0].padEnd(w0) + c[1].padEnd(w1) + c[2].padStart(w2);
  const bytes = model.parameters().reduce((a, p) => a + p.numel * p.itemsize, 0);
  const inBytes = inputs.reduce((a, t) => a + t.numel * t.itemsize, 0);
  const lines = [
    `${model.constructor.name} summary`,
    '='.repeat(width),
    line(head),
    '='.repeat(width),
    ...cells.map(line),
    '='.repeat(width),
    `Total params: ${group(total)}`,
    `Trainable params: ${group(trainable)}`,
    `Non-trainable params: ${group(total - trainable)}`,
    '-'.repeat(width),
    `Input size (MB): ${(inBytes / 2 ** 20).toFixed(2)}`,
    `Params size (MB): ${(bytes / 2 ** 20).toFixed(2)}`,
    `Output shape: ${fmtShapeCell(shapeOf(out))}`,
    '='.repeat(width),
  ];
  const text = lines.join('\n');
  if (opts.print !== false) console.log(text);
  return { rows, totalParams: total, trainableParams: trainable, outputShape: shapeOf(out), text, toString: () => text };
}
