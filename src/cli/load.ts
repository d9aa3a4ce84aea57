/**
 * Loading user code into the CLI's process: `--require file` (custom activations) and the script
 * of `ignis profile`. `import ... from 'ignis'` in that code resolves to this very package, so
 * what it registers (defineActivation) or dispatches (the profiler) is seen by the CLI. `.ts`
 * files are transpiled with the `typescript` package when it is installed (a dev dependency here);
 * type errors are not checked.
 */
import * as fs from 'fs';
import * as path from 'path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
import Module = require('module');
import { UsageError } from './errors';

const ROOT = path.join(__dirname, '..', '..');

interface ModuleInternals {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  _extensions: Record<string, (m: { _compile(code: string, file: string): void }, file: string) => void>;
}
const M = Module as unknown as ModuleInternals;

let hooked = false;
function install(): void {
  if (hooked) return;
  hooked = true;
  const orig = M._resolveFilename;
  M._resolveFilename = function (request: string, parent: unknown, isMain: boolean, options?: unknown): string {
    if (request === 'ignis') return path.join(ROOT, 'dist', 'index.js');
    return orig.call(this, request, parent, isMain, options);
  };
  if (!M._extensions['.ts'])
    M._extensions['.ts'] = (m, file) => {
      let ts: typeof import('typescript');
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        ts = require('typescript');
      } catch {
        throw new UsageError(`${file}: loading a .ts file needs the 'typescript' package (npm install --save-dev typescript), or compile it to .js first`);
      }
      const src = fs.readFileSync(file, 'utf8');
      const out = ts.transpileModule(src, {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false },
      });
      m._compile(out.outputText, file);
    };
}

/** Loads a user module by path; an exported function (or default export) is called with the ignis package. */
export function loadUserModule(file: string, what: string): unknown {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new UsageError(`${what} ${file}: no such file`);
  if (!fs.statSync(abs).isFile()) throw new UsageError(`${what} ${file}: not a file`);
  if (!['.js', '.cjs', '.ts', '.cts'].includes(path.extname(abs)))
    throw new UsageError(`${what} ${file}: expected a .js or .ts file`);
  install();
  if (path.extname(abs) === '.cts') M._extensions['.cts'] = M._extensions['.ts'];
  let mod: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(abs);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const err = e as Error;
    throw new UsageError(`${what} ${file} failed to load: ${err && err.message ? err.message.split('\n')[0] : String(e)}`);
  }
  return mod;
}

/** For --require: modules may also export `function (ignis) { ignis.defineActivation(...) }`. */
export function requireActivations(files: string[]): void {
  for (const f of files) {
    const mod = loadUserModule(f, '--require');
    const fn = typeof mod === 'function' ? mod : (mod as { default?: unknown } | null)?.default;
    if (typeof fn === 'function') {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        (fn as (ig: unknown) => void)(require('../index'));
      } catch (e) {
        throw new UsageError(`--require ${f}: its exported function threw: ${(e as Error).message}`);
      }
    }
  }
}
