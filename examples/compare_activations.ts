/**
 * The API behind `npx ignis compare`: train the seed CNN once per activation (same initial weights,
 * same batch order) and compare test accuracy, convergence speed, time per epoch and the share of
 * the training step spent in the activation kernels (measured with ignis.profiler); then write the
 * same report directory as the command (results.json, report.md, report.html with SVG charts).
 *
 * Run (compiled, from the repository root), as examples/mnist_cnn.ts says, then:
 *   node tmp/ex/examples/compare_activations.js [--limit 4096] [--out ignis-report]
 * Or from a test: import { main } from '../examples/compare_activations' (test/cli/example.test.ts).
 */
import * as ignis from '../src';
import { textTable, tableRows, writeReport } from '../src/cli/report';

export function main(argv: string[] = process.argv.slice(2), log: (...a: unknown[]) => void = console.log): ignis.experiments.CompareResult {
  const arg = (flag: string, dflt: string): string => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
  };
  // a custom activation compares like a built-in one
  if (!ignis.activations.list().includes('softexp')) ignis.defineActivation({ name: 'softexp', expr: 'x > 0 ? x : 0.5 * expm1(x)' });

  const result = ignis.experiments.compareActivations({
    activations: arg('--activations', 'relu,gelu,softexp').split(','),
    limit: Number(arg('--limit', '4096')),
    testLimit: 1000,
    curveSamples: 500,
    evalPoints: 4,
    epochs: 1,
    seed: 0,
    onProgress: (e) => {
      if (e.type === 'epoch') log(`${e.activation}: epoch ${e.epoch} test accuracy ${(100 * e.result.testAccuracy).toFixed(2)}% in ${e.result.seconds.toFixed(1)} s`);
    },
  });
  log(textTable(tableRows(result)));
  const files = writeReport(result, arg('--out', 'ignis-report'));
  log(`report: ${files.html}`);
  return result;
}

if (typeof require !== 'undefined' && require.main === module) main();
