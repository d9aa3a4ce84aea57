/**
 * The package is CommonJS (dist/index.js). From ES modules, named imports must work (Node's
 * cjs-module-lexer has to see the exports), and `import 'ignis'` must resolve through the
 * package.json "exports" map (self-reference from inside the package).
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { pathToFileURL } from 'url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const dist = join(root, 'dist', 'index.js');
let dir = '';

beforeAll(() => {
  if (!existsSync(dist)) {
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.json')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  }
  // inside the package (so the self-reference 'ignis' resolves), removed afterwards
  dir = mkdtempSync(join(__dirname, '.esm-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runModule(name: string, source: string): { status: number | null; stdout: string; stderr: string } {
  const file = join(dir, name);
  writeFileSync(file, source);
  return spawnSync(process.execPath, [file], { cwd: root, encoding: 'utf8' });
}

describe('ES module consumers', () => {
  it('named imports from dist/index.js', () => {
    const url = pathToFileURL(dist).href;
    const r = runModule(
      'named.mjs',
      `import { tensor, zeros, matmul, autograd, IgnisError, ShapeError, noGrad } from ${JSON.stringify(url)};
const a = tensor([[1, 2], [3, 4]], { dtype: 'float32' });
const z = zeros([2, 2]);
const y = matmul(a, a).add(z);
let shapeErr = false;
try { a.add(zeros([3])); } catch (e) { shapeErr = e instanceof ShapeError && e instanceof IgnisError; }
console.log(JSON.stringify({ y: y.toArray(), fn: typeof autograd.grad, noGrad: typeof noGrad, shapeErr }));
`,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ y: [[7, 10], [15, 22]], fn: 'function', noGrad: 'function', shapeErr: true });
  }, 120_000);

  it("import * as ignis from 'ignis' (self-reference through package.json exports)", () => {
    const r = runModule(
      'self.mjs',
      `import * as ignis from 'ignis';
import { createRequire } from 'module';
const require = createRequire(import.meta.url);
const x = ignis.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
x.mul(x).sum().backward();
console.log(JSON.stringify({
  grad: x.grad.toArray(),
  resolved: require.resolve('ignis'),
  sameAsCjs: require('ignis').Tensor === ignis.Tensor,
  defaultExport: typeof ignis.default,
}));
`,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.grad).toEqual([2, 4, 6]);
    expect(out.resolved).toBe(dist);
    expect(out.sameAsCjs).toBe(true);
    expect(out.defaultExport).toBe('object'); // module.exports as the default export
  }, 120_000);
});
