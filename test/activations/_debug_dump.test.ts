import { readFileSync, writeFileSync } from 'node:fs';
import { it } from 'vitest';
import * as ignis from '../../src';
const fx = JSON.parse(readFileSync('test/fixtures/activations.json', 'utf8'));
const dec = (v: any) => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);
const enc = (v: number) => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v);
it('dump', () => {
  const res: any = {};
  for (const c of fx.cases) {
    const ins = c.inputs.map((t: any) => ignis.tensor((t.dtype === 'float64' ? Float64Array : Float32Array).from(t.data.map(dec)), { dtype: t.dtype, shape: t.shape, requiresGrad: true }));
    const fn = (ignis.F as any)[c.op.replace(/_([a-z])/g, (_: any, ch: string) => ch.toUpperCase())];
    try {
      const out = c.op === 'prelu' ? fn(ins[0], ins[1]) : fn(ins[0], { ...c.attrs });
      const g = ignis.autograd.grad(out, ins, { gradOutputs: ignis.tensor((c.inputs[0].dtype === 'float64' ? Float64Array : Float32Array).from(c.gradOutput.data.map(dec)), { dtype: c.output.dtype, shape: c.output.shape }) });
      res[c.name] = { out: Array.from(out.dataSync() as any, (v: any) => enc(Number(v))), grads: g.map((t: any) => Array.from(t.dataSync() as any, (v: any) => enc(Number(v)))) };
    } catch (e) { res[c.name] = { error: String(e) }; }
  }
  writeFileSync('/tmp/ours.json', JSON.stringify(res));
});
