/**
 * `ignis` argument handling through the real binary: every bad input gives one line on stderr that
 * names the problem, a non-zero exit code and no stack trace.
 */
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, ignis, oneLineError, tmpDir } from './helpers';

let empty: string;
let malformed: string;
let truncated: string;

beforeAll(() => {
  empty = tmpDir('empty');
  // IDX files with a wrong magic number
  malformed = tmpDir('malformed');
  for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'])
    fs.writeFileSync(path.join(malformed, f), Buffer.from('this is not an IDX file'));
  // a valid header that promises more images than the file holds
  truncated = tmpDir('truncated');
  const head = Buffer.alloc(16);
  head.writeUInt32BE(0x00000803, 0);
  head.writeUInt32BE(100, 4);
  head.writeUInt32BE(28, 8);
  head.writeUInt32BE(28, 12);
  const lab = Buffer.alloc(8 + 100);
  lab.writeUInt32BE(0x00000801, 0);
  lab.writeUInt32BE(100, 4);
  for (const s of ['train', 't10k']) {
    fs.writeFileSync(path.join(truncated, `${s}-images-idx3-ubyte`), Buffer.concat([head, Buffer.alloc(500)]));
    fs.writeFileSync(path.join(truncated, `${s}-labels-idx1-ubyte`), lab);
  }
});

const cases: [string, () => string[], RegExp][] = [
  ['no command', () => [], /Usage: ignis/],
  ['an unknown command', () => ['train'], /unknown command 'train'/],
  ['an unknown flag', () => ['compare', '--bogus'], /unknown option --bogus/],
  ['an unknown short flag', () => ['compare', '-x'], /unknown option -x/],
  ['a flag without its value', () => ['compare', '--epochs'], /--epochs needs a value/],
  ['a value for a boolean flag', () => ['compare', '--json=yes'], /--json takes no value/],
  ['a dash value for a word option', () => ['compare', '--dataset', '-m'], /--dataset needs a value/],
  ['a stray argument', () => ['compare', 'relu'], /unexpected argument 'relu'; see ignis compare --help/],
  ['an unknown activation', () => ['compare', '--activations', 'relu,nosuch'], /unknown activation 'nosuch'; valid names: relu/],
  ['an empty activation list', () => ['compare', '--activations', ','], /at least one/],
  ['a non-elementwise activation', () => ['compare', '--activations', 'softmax'], /not elementwise/],
  ['an activation that needs parameters', () => ['compare', '--activations', 'threshold'], /'threshold' cannot be built with its defaults: threshold: threshold and value are required/],
  ['an activation listed twice', () => ['compare', '--activations', 'relu,relu'], /listed twice/],
  ['a missing data directory', () => ['compare', '--data-dir', '/nonexistent/mnist'], /--data-dir \/nonexistent\/mnist: no such directory/],
  ['a data directory without the files', () => ['compare', '--data-dir', empty], /cannot find train-images-idx3-ubyte/],
  ['a malformed data file', () => ['compare', '--data-dir', malformed], /not an IDX file: magic number/],
  ['a truncated data file', () => ['compare', '--data-dir', truncated], /truncated IDX data/],
  ['cifar10 without a data directory', () => ['compare', '--dataset', 'cifar10'], /CIFAR-10/],
  ['fashion-mnist without a data directory', () => ['compare', '--dataset', 'fashion-mnist'], /Fashion-MNIST/],
  ['an unknown dataset', () => ['compare', '--dataset', 'imagenet'], /--dataset must be one of mnist, fashion-mnist, cifar10/],
  ['an unknown optimizer', () => ['compare', '--optimizer', 'lbfgs'], /--optimizer must be one of adam/],
  ['an unknown device', () => ['compare', '--device', 'tpu'], /--device must be one of cpu, cuda/],
  ['zero epochs', () => ['compare', '--epochs', '0'], /--epochs must be >= 1/],
  ['a non-numeric epoch count', () => ['compare', '--epochs', 'two'], /--epochs expects a number, got 'two'/],
  ['a fractional batch size', () => ['compare', '--batch-size', '1.5'], /--batch-size expects an integer/],
  ['a negative learning rate', () => ['compare', '--lr', '-0.1'], /--lr must be > 0/],
  ['a negative weight decay', () => ['compare', '--weight-decay', '-1'], /--weight-decay must be >= 0/],
  ['a negative seed', () => ['compare', '--seed', '-3'], /--seed must be >= 0/],
  ['a zero limit', () => ['compare', '--limit', '0'], /--limit must be >= 1/],
  ['a missing --require file', () => ['compare', '--require', 'nope.js'], /--require nope.js: no such file/],
  ['a --require module that throws', () => ['compare', '--require', path.join(FIXTURES, 'throws.js')], /failed to load: boom from the fixture/],
  ['--out naming a file', () => ['compare', '--out', path.join(FIXTURES, 'throws.js')], /--out .*exists and is not a directory/],
  ['activations: an unknown name', () => ['activations', 'nosuch'], /unknown activation 'nosuch'/],
  ['activations: an unknown flag', () => ['activations', '--plott', 'x'], /unknown option --plott/],
  ['doctor: an unknown flag', () => ['doctor', '--verbose'], /unknown option --verbose/],
  ['profile: no script', () => ['profile'], /expected a script/],
  ['profile: a missing script', () => ['profile', 'nope.js'], /nope.js: no such file/],
  ['profile: an unknown sort key', () => ['profile', '--sort', 'speed', path.join(FIXTURES, 'tiny_script.js')], /--sort speed: unknown key/],
];

describe('ignis: bad input gives one line and a non-zero exit', () => {
  for (const [what, args, msg] of cases)
    it(what, () => {
      const r = ignis(args());
      expect(r.status, r.stderr).not.toBe(0);
      expect(r.status).not.toBeNull();
      const line = what === 'no command' ? r.stdout : oneLineError(r);
      expect(line).toMatch(msg);
      if (what !== 'no command') expect(line).toMatch(/^ignis( \w+)?: /);
    });

  it('--device cuda fails with the reason when CUDA is not available', async () => {
    const { cuda } = await import('../../src');
    if (cuda.isAvailable()) return; // on a CUDA build this is a valid choice, exercised by the GPU checks
    const r = ignis(['compare', '--device', 'cuda']);
    expect(r.status).toBe(2);
    expect(oneLineError(r)).toMatch(/device cuda is not available: .*CUDA/);
  });

  it('IGNIS_DEBUG=1 adds the stack trace', () => {
    const r = ignis(['compare', '--activations', 'nosuch'], { env: { IGNIS_DEBUG: '1' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('--help and --version', () => {
    const h = ignis(['compare', '--help']);
    expect(h.status).toBe(0);
    for (const flag of ['--quick', '--dataset', '--data-dir', '--activations', '--require', '--epochs', '--batch-size', '--lr', '--optimizer', '--weight-decay', '--device', '--seed', '--limit', '--out', '--json'])
      expect(h.stdout).toContain(flag);
    const v = ignis(['--version']);
    expect(v.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version);
  });
});
