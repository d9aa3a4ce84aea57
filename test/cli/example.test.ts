/** examples/compare_activations.ts: the API behind `ignis compare`, with a custom activation. */
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { main } from '../../examples/compare_activations';
import { tmpDir } from './helpers';

describe('examples/compare_activations.ts', () => {
  it('compares built-in and custom activations and writes the report', () => {
    const out = tmpDir('example');
    const lines: string[] = [];
    const r = main(['--limit', '256', '--activations', 'relu,softexp', '--out', out], (...a) => void lines.push(a.join(' ')));
    expect(r.results.map((a) => a.activation)).toEqual(['relu', 'softexp']);
    for (const a of r.results) {
      expect(a.stepLosses).toHaveLength(4);
      expect(a.activationShare).toBeGreaterThan(0); // an expression activation is one op each way: measurable
    }
    expect(r.results[1].activationShareNote).toMatch(/softexp, softexp_backward/);
    expect(lines.some((l) => /^softexp: epoch 1 test accuracy/.test(l))).toBe(true);
    expect(lines.join('\n')).toMatch(/activation +test acc/);
    for (const f of ['results.json', 'report.md', 'report.html']) expect(fs.existsSync(path.join(out, f))).toBe(true);
  }, 120_000);
});
