/**
 * The cuDNN graph of conv + bias + activation (native/cuda/conv_graph.cpp) without a GPU: the build
 * makes build/Release/ignis_cuda_graph_check when it builds the CUDA library, and that tool builds
 * every graph Ignis can ask cuDNN for up to the operation graph, the first step that needs a device.
 * On a GPU machine the graphs run for real in test/cuda/ops.test.ts.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';

const tool = path.resolve(__dirname, '../../build/Release/ignis_cuda_graph_check');
const built = fs.existsSync(tool);
if (!built) console.warn(`[ignis] skipping the cuDNN graph descriptor check: ${tool} was not built (no CUDA library in this build)`);

describe(`cuDNN graph descriptors${built ? '' : ' [skipped: the CUDA library was not built]'}`, () => {
  it.skipIf(!built)('every tensor, convolution and pointwise descriptor finalizes for every graph Ignis builds', () => {
    const r = spawnSync(tool, [], { encoding: 'utf8' });
    const lines = r.stdout.trim().split('\n');
    const fails = lines.filter((l) => l.startsWith('FAIL'));
    expect(fails, r.stdout + r.stderr).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    // float32 and float64, grouped or not, with and without bias and z: dozens of graphs
    const m = /^(\d+) graphs, 0 failures$/.exec(lines[lines.length - 1]);
    expect(m, lines[lines.length - 1]).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(50);
  });
});
