/** `ignis activations`, `ignis doctor` and `ignis profile` through the real binary. */
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import * as ignis_ from '../../src';
import { FIXTURES, ignis, tmpDir } from './helpers';

describe('ignis activations', () => {
  it('prints every field of every registered activation', () => {
    const r = ignis(['activations']);
    expect(r.status, r.stderr).toBe(0);
    for (const row of ignis_.activations.ACTIVATIONS) {
      expect(r.stdout).toContain(`${row.name}  nn.${row.module}, F.${row.fn}`);
      expect(r.stdout).toContain(`  formula     ${row.formula}\n`);
      expect(r.stdout).toContain(`  derivative  ${row.derivative}\n`);
      expect(r.stdout).toContain(`  paper       ${row.paper}`);
    }
    expect(r.stdout).toContain('leaky_relu  nn.LeakyReLU, F.leakyRelu\n  formula     x > 0 ? x : negativeSlope * x\n  derivative  x > 0 ? 1 : negativeSlope\n  range       (-inf, inf)\n  parameters  negativeSlope = 0.01\n  properties  not smooth, monotonic');
  });

  it('--json gives the table rows, the named ones only', () => {
    const r = ignis(['activations', 'gelu', 'mish', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout);
    expect(rows.map((x: { name: string }) => x.name)).toEqual(['gelu', 'mish']);
    expect(rows[0].params).toEqual([{ name: 'approximate', default: 'none', doc: "'none' | 'tanh'" }]);
    expect(rows[0].range).toEqual([-0.17, 'Infinity']);
  });

  it('--plot DIR writes the curves and derivatives as HTML and SVG; custom activations from --require (.js and .ts) appear', () => {
    const dir = tmpDir('plot');
    const r = ignis(['activations', 'relu', 'softexp_test', 'swish_ts_test', 'softmax', '--plot', dir, '--require', path.join(FIXTURES, 'custom_act.js'), '--require', path.join(FIXTURES, 'custom_act_ts.ts')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('softexp_test  custom (defineActivation)\n  formula     x > 0 ? x : 0.5 * expm1(x)');
    expect(r.stdout).toMatch(/swish_ts_test  custom \(defineActivation\)\n  formula     x \* sigmoid\(beta \* x\)\n  derivative  .+\n  range       \(-inf, inf\)\n  parameters  beta = 1.5/);
    expect(r.stdout).toMatch(/plot written: .*activations.html, .*activations.svg \(not plotted: softmax/);
    const svg = fs.readFileSync(path.join(dir, 'activations.svg'), 'utf8');
    const html = fs.readFileSync(path.join(dir, 'activations.html'), 'utf8');
    for (const doc of [svg, html]) {
      const paths = [...doc.matchAll(/<path class="series" data-name="([^"]+)" d="([^"]*)"/g)];
      expect(paths.map((m) => m[1])).toEqual(['relu', 'softexp_test', 'swish_ts_test', 'relu', 'softexp_test', 'swish_ts_test']);
      for (const m of paths) expect(m[2]).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){100,}$/);
    }
    expect(html).toContain("Derivative f'(x) (autograd)");
  });

  it('--plot FILE.svg writes one file', () => {
    const f = path.join(tmpDir('plotfile'), 'gelu.svg');
    const r = ignis(['activations', 'gelu', '--plot', f]);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(f, 'utf8')).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  });
});

describe('ignis doctor', () => {
  it('reports the installation and exits 0 when the CPU works', () => {
    const r = ignis(['doctor']);
    expect(r.status, r.stderr).toBe(0);
    const version = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
    expect(r.stdout).toContain(`ignis ${version}`);
    expect(r.stdout).toMatch(new RegExp(`Node ${process.version.replace(/\./g, '\\.')} .*N-API level ${process.versions.napi}`));
    expect(r.stdout).toMatch(/\[ok\] +native addon +(local build \(cmake-js\)|prebuilt binary): .*ignis\.node/);
    expect(r.stdout).toContain(`compiled for ${ignis_.backends.cpu.isa}, ${ignis_.backends.cpu.threads} threads`);
    expect(r.stdout).toMatch(ignis_.backends.cpu.onednn ? /\[ok\] +oneDNN +linked, version \d+\.\d+/ : /\[missing\] oneDNN/);
    expect(r.stdout).toMatch(/\[ok\] +self-test +conv2d, relu, matmul forward and backward give the expected values/);
    expect(r.stdout).toMatch(/CUDA\n {2}\[(ok|missing)\] +backend/);
    if (!ignis_.cuda.isAvailable()) expect(r.stdout).toContain(`not available: ${ignis_.cuda.unavailableReason()}`);
    for (const lib of ['driver', 'CUDA runtime', 'cuBLAS', 'cuDNN']) expect(r.stdout).toMatch(new RegExp(`\\[(ok|missing)\\] +${lib} `));
    expect(r.stdout).toContain('The CPU backend works.');
  });

  it('--json', () => {
    const r = ignis(['doctor', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.cpuOk).toBe(true);
    expect(j.checks.find((c: { name: string }) => c.name === 'native addon').status).toBe('ok');
    for (const c of j.checks) if (c.status === 'missing') expect(c.fix ?? c.detail).toBeTruthy();
  });
});

describe('ignis profile', () => {
  it('runs a script (async tail included) under the profiler; prints the table, writes table.txt and trace.json', () => {
    const dir = tmpDir('prof');
    const out = path.join(dir, 'p');
    const r = ignis(['profile', path.join(FIXTURES, 'tiny_script.js'), '--out', out, '--rows', '8', 'arg1', '--', '--flag-for-script'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('script done arg1 --flag-for-script');
    expect(r.stdout).toMatch(/ignis profile .*tiny_script\.js: \d+ events over/);
    expect(r.stdout).toMatch(/Name +Self CPU % +Self CPU +CPU total %/);
    const table = fs.readFileSync(path.join(out, 'table.txt'), 'utf8');
    for (const op of ['gelu', 'relu', 'sum']) expect(table).toMatch(new RegExp(`\\b${op}\\b`));
    expect(table).toMatch(/ gelu +[\d.]+% .* 5 *\n/); // five calls
    const trace = JSON.parse(fs.readFileSync(path.join(out, 'trace.json'), 'utf8'));
    const names = trace.traceEvents.filter((e: { ph: string }) => e.ph === 'X').map((e: { name: string }) => e.name);
    expect(names.filter((n: string) => n === 'gelu')).toHaveLength(5);
    expect(names).toContain('relu');
  });

  it('--cuda adds the device work (or says why there is none)', () => {
    const dir = tmpDir('prof-cuda');
    const out = path.join(dir, 'p');
    const r = ignis(['profile', '--cuda', path.join(FIXTURES, 'tiny_script.js'), '--out', out, '--sort', 'cuda_time_total'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const table = fs.readFileSync(path.join(out, 'table.txt'), 'utf8');
    // the script's ops run on the CPU: with CUDA there is simply no device time to show
    if (ignis_.cuda.isAvailable()) expect(table).not.toMatch(/Warning/);
    else expect(table).toMatch(/Warning: 'cuda' activity requested but CUDA is not available/);
  });

  it('a script that throws gives one line and a non-zero exit', () => {
    const r = ignis(['profile', path.join(FIXTURES, 'throws.js'), '--out', tmpDir('prof2')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toMatch(/^ignis profile: script .*throws\.js failed to load: boom from the fixture$/);
  });
});
