/**
 * `ignis compare` end to end through the real binary on a 512-image subset of MNIST: results.json's
 * shape and values, report.md, reproducibility, and report.html in a real headless browser
 * (Debian's chromium driven by puppeteer-core: no console errors, every chart drawn, a screenshot).
 */
import * as fs from 'fs';
import * as path from 'path';
import { beforeAll, describe, expect, it } from 'vitest';
import puppeteer from 'puppeteer-core';
import { ignis, tmpDir } from './helpers';
import * as ig from '../../src';

const ACTS = ['relu', 'leaky_relu', 'elu', 'gelu', 'silu', 'mish'];
let out: string;
let stdout: string;
let stderr: string;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let results: any;

/** The system Chromium (Debian's `chromium` package, installed by .ci/run); never a downloaded browser. */
function chromiumPath(): string {
  const cands = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter(Boolean) as string[];
  const hit = cands.find((c) => fs.existsSync(c));
  if (!hit) throw new Error(`no Chromium found (looked at ${cands.join(', ')}); install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`);
  return hit;
}

beforeAll(() => {
  out = tmpDir('report');
  const r = ignis(['compare', '--quick', '--limit', '512', '--epochs', '1', '--out', out, '--json'], { timeout: 300_000 });
  stdout = r.stdout;
  stderr = r.stderr;
  if (r.status !== 0) throw new Error(`ignis compare failed (${r.status}):\n${r.stderr}`);
  results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
}, 300_000);

describe('ignis compare --quick --limit 512 --epochs 1', () => {
  it('prints results.json with --json and plain progress lines on stderr', () => {
    expect(JSON.parse(stdout)).toEqual(results);
    expect(stderr).toMatch(/\[1\/6\] relu: 1 epoch\(s\) of 8 steps/);
    expect(stderr).toMatch(/mish epoch 1\/1 step 8\/8 +loss \d\.\d{4} +acc +\d+\.\d% +\d+ images\/s +ETA 0s/);
    expect(stderr).not.toMatch(/\x1b\[/); // no terminal control codes when not a TTY
  });

  it('results.json: config, every default activation, values in range', () => {
    expect(results.config).toMatchObject({ dataset: 'mnist', activations: ACTS, epochs: 1, batchSize: 64, lr: 0.001, optimizer: 'adam', seed: 0, limit: 512, testLimit: 2000 });
    expect(results.config.device).toBe(ig.cuda.isAvailable() ? 'cuda' : 'cpu'); // the default: the GPU where there is one
    expect(results.trainSize).toBe(512);
    expect(results.testSize).toBe(2000);
    expect(results.results.map((a: { activation: string }) => a.activation)).toEqual(ACTS);
    for (const a of results.results) {
      expect(a.stepLosses).toHaveLength(8); // ceil(512 / 64)
      for (const l of a.stepLosses) expect(l).toBeGreaterThan(0);
      expect(a.stepLosses[0]).toBeCloseTo(Math.log(10), 0); // an untrained 10-way classifier
      expect(a.epochs).toHaveLength(1);
      expect(a.testAccuracy).toBe(a.epochs[0].testAccuracy);
      expect(a.testAccuracy).toBeGreaterThan(0.1); // chance is 0.1
      expect(a.testAccuracy).toBeLessThanOrEqual(1);
      expect(a.bestEpoch).toBe(1);
      expect(a.finalTrainLoss).toBeCloseTo(a.stepLosses.reduce((s: number, v: number) => s + v, 0) / 8, 5);
      expect(a.accuracyCurve.map((p: { step: number }) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const best = Math.max(...a.accuracyCurve.map((p: { accuracy: number }) => p.accuracy));
      const first = a.accuracyCurve.find((p: { accuracy: number }) => p.accuracy >= 0.95 * best);
      expect(a.stepsTo95).toBe(first.step);
      expect(a.secondsPerEpoch).toBeGreaterThan(0);
      expect(a.imagesPerSec).toBeCloseTo(512 / a.secondsPerEpoch, 3);
      expect(a.activationShare).toBeGreaterThan(0);
      expect(a.activationShare).toBeLessThan(1);
    }
    // the best accuracy over the activations is clearly above chance after 8 steps
    expect(Math.max(...results.results.map((a: { testAccuracy: number }) => a.testAccuracy))).toBeGreaterThan(0.2);
  });

  it('report.md holds the table', () => {
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| activation \| test acc \| best epoch \| final loss \| steps to 95% \| s\/epoch \| images\/s \| act\. share \|/);
    for (const a of results.results) expect(md).toContain(`| ${a.activation} | ${(100 * a.testAccuracy).toFixed(2)}% | 1 | ${a.finalTrainLoss.toFixed(4)} |`);
  });

  it('is reproducible: the same seed gives the same numbers, whatever else runs', () => {
    const again = tmpDir('report2');
    const r = ignis(['compare', '--quick', '--limit', '512', '--activations', 'gelu,relu', '--profile-steps', '0', '--out', again], { timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/activation +test acc +best epoch +final loss +steps to 95% +s\/epoch +images\/s +act\. share/);
    const b = JSON.parse(fs.readFileSync(path.join(again, 'results.json'), 'utf8'));
    for (const name of ['gelu', 'relu']) {
      const x = results.results.find((a: { activation: string }) => a.activation === name);
      const y = b.results.find((a: { activation: string }) => a.activation === name);
      expect(y.stepLosses).toEqual(x.stepLosses);
      expect(y.accuracyCurve).toEqual(x.accuracyCurve);
      expect(y.testAccuracy).toBe(x.testAccuracy);
      expect(y.activationShare).toBeNull();
    }
  }, 120_000);

  it('report.html renders in headless Chromium: no console errors, every chart drawn, screenshot', async () => {
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|src="http/); // self-contained
    const browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
      await page.setViewport({ width: 1360, height: 900 });
      await page.goto(`file://${path.join(out, 'report.html')}`, { waitUntil: 'load' });
      const charts = await page.$$eval('svg.chart', (svgs) =>
        svgs.map((svg) => {
          const marks = [...svg.querySelectorAll('path.series, rect.bar')] as SVGGraphicsElement[];
          return {
            title: svg.getAttribute('aria-label'),
            marks: marks.length,
            drawn: marks.filter((m) => {
              const b = m.getBBox();
              const d = m.tagName === 'path' ? m.getAttribute('d') ?? '' : 'rect';
              return d.length > 1 && (b.width > 0 || b.height > 0);
            }).length,
            box: svg.getBoundingClientRect().width * svg.getBoundingClientRect().height,
          };
        }),
      );
      expect(charts.map((c) => c.title)).toEqual([
        'Training loss (moving average over 1 step)',
        'Test accuracy during training (first 1000 test images)',
        'Training time per epoch',
        'Share of training step time in the activation kernels',
        'Activation f(x)',
        "Derivative f'(x) (autograd)",
      ]);
      for (const c of charts) {
        expect(c.marks, c.title!).toBe(6); // one line or bar per activation
        expect(c.drawn, c.title!).toBe(6);
        expect(c.box).toBeGreaterThan(100 * 100);
      }
      expect(await page.$eval('table', (t) => t.querySelectorAll('tbody tr').length)).toBe(6);
      const shot = path.join(out, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
