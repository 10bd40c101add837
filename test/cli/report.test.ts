/**
 * report, plot and convolve as a user runs them: a small study trained into a store, its report opened in headless
 * Chromium (skipped, visibly, where /usr/bin/chromium is missing), every plot kind from the command line, and the
 * convolution panel from an image file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import { fileWriter, runConvlab } from '../helpers/cli.js';
import { pngBytes } from '../helpers/image_files.js';
import { noSqlite } from '../helpers/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));
process.env.CONVLAB_CACHE = join(dir, 'cache');
const convlab = (...args: string[]) => runConvlab(args);
const file = fileWriter(dir);

const CHROMIUM = process.env.CONVLAB_CHROMIUM ?? '/usr/bin/chromium';
const noBrowser =
  noSqlite || (existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CONVLAB_CHROMIUM)`);

const store = join(dir, 'store');
const study = () =>
  file(
    'study.yaml',
    `
name: report-study
seed: 3
data: {dataset: mnist, subset: {train: 300}, validation: {count: 100}}
model:
  input: [28, 28, 1]
  layers:
    - Conv2D: {filters: 4, kernel_size: 3, activation: relu}
    - MaxPooling2D: {}
    - Flatten: {}
    - Dense: {units: 10, activation: softmax}
train: {epochs: 2, optimizer: {adam: {learning_rate: 0.01}}}
evaluate:
  confusion_matrix: true
  classification_report: true
  baselines: [most_frequent]
  feature_maps: {layers: [0, 1], samples: 1}
  filters: true
  predictions: {count: 12}
sweep:
  grid:
    train.optimizer.adam.learning_rate: [0.0001, 0.01]
`,
  );

describe('convlab report and plot on a trained study', { skip: noSqlite }, () => {
  before(() => {
    const r = convlab('run', study(), '--store', store, '-q');
    assert.equal(r.code, 0, r.err);
  });

  test('report writes report.html (figures inlined) and report.md with PNG and SVG figures', () => {
    const out = join(dir, 'rep');
    const r = convlab('report', 'report-study', '--store', store, '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Wrote .*report\.html/);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    for (const f of [
      'curves',
      'bars_accuracy',
      'test_accuracy_vs_learning_rate',
      'seconds_vs_learning_rate',
      'confusion_trial1_test',
      'feature_maps_trial1_sample0',
      'filters_trial1',
      'predictions_trial1',
    ]) {
      assert.ok(md.includes(`(figures/${f}.png)`), `the report shows ${f}`);
      assert.ok(existsSync(join(out, 'figures', `${f}.svg`)));
    }
    assert.match(md, /\| most_frequent \| test \|/);
    assert.match(md, /Classification report \(test\)/);
    assert.match(md, /Total params: 6,810/);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /^<!doctype html>/);
  });

  test('the HTML report opens in headless Chromium with no console error, and every figure is visible', { skip: noBrowser }, async () => {
    const out = join(dir, 'rep');
    if (!existsSync(join(out, 'report.html'))) assert.equal(convlab('report', 'report-study', '--store', store, '--out', out).code, 0);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (req) => {
        if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) errors.push(`request to ${req.url()}`);
      });
      await page.goto(`file://${join(out, 'report.html')}`, { waitUntil: 'load' });
      const figures = await page.$$eval('img.figure', (imgs) =>
        imgs.map((i) => {
          const img = i as HTMLImageElement;
          const box = img.getBoundingClientRect();
          return { loaded: img.complete && img.naturalWidth > 0, width: box.width, height: box.height, alt: img.alt };
        }),
      );
      assert.ok(figures.length >= 8, `${figures.length} figures`);
      for (const f of figures) assert.ok(f.loaded && f.width > 100 && f.height > 50, `figure '${f.alt}' is drawn (${f.width}×${f.height})`);
      await page.locator('img.figure').first().scrollIntoViewIfNeeded();
      const shot = PNG.sync.read(await page.locator('img.figure').first().screenshot());
      const colours = new Set<string>();
      for (let i = 0; i < shot.data.length; i += 4 * 7)
        colours.add(`${shot.data[i] >> 4},${shot.data[i + 1] >> 4},${shot.data[i + 2] >> 4}`);
      assert.ok(colours.size > 5, `the first figure shows on screen (${colours.size} colours in its screenshot)`);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  test('plot draws each kind from the command line, as .png, .svg, or both', () => {
    const cases: [string[], string][] = [
      [['curves', 'report-study'], 'curves'],
      [['curves', '1', '--metrics', 'loss'], 'c1'],
      [['sweep', 'report-study', '--y', 'val_accuracy'], 'sweep'],
      [['time', 'report-study', '--y', 'images_per_second'], 'time'],
      [['bars', 'report-study', '--metric', 'loss'], 'bars'],
      [['confusion', '#2', '--percent'], 'confusion'],
      [['feature-maps', '1'], 'maps'],
      [['filters', '2'], 'filters'],
      [['predictions', '1', '--errors'], 'pred'],
    ];
    for (const [args, name] of cases) {
      const out = join(dir, 'plots', `${name}.png`);
      const r = convlab('plot', ...args, '--store', store, '--out', out);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      const png = PNG.sync.read(readFileSync(out));
      assert.ok(png.width > 200 && png.height > 100, `${name}.png is ${png.width}×${png.height}`);
    }
    const both = convlab('plot', 'bars', 'report-study', '--store', store, '--out', join(dir, 'plots', 'both'));
    assert.equal(both.code, 0, both.err);
    assert.ok(existsSync(join(dir, 'plots', 'both.svg')) && existsSync(join(dir, 'plots', 'both.png')));
  });

  test('plot refuses what the store cannot draw, naming what it has, with exit 2', () => {
    const cases: [string[], RegExp][] = [
      [['histogram', 'report-study'], /unknown figure kind 'histogram'; expected one of curves, sweep/],
      [['errors', '1'], /trial #1 has no time differences.*evaluate\.time_difference/],
      [['confusion', 'report-study'], /plot confusion draws one trial: give its id/],
      [['sweep', 'nope'], /no experiment 'nope'.*expected one of report-study/],
      [['sweep', 'report-study', '--x', 'dropout'], /--x dropout: not a swept parameter of 'report-study'; expected one of learning_rate/],
      [['confusion', '99'], /no trial 99 in /],
      [['feature-maps', '1', '--sample', '3'], /--sample 3: trial #1 recorded 1 sample/],
      [['bars', 'report-study', '--out', join(dir, 'x.jpg')], /--out .*x\.jpg: expected a \.png or \.svg file/],
    ];
    for (const [args, message] of cases) {
      const r = convlab('plot', ...args, '--store', store);
      assert.equal(r.code, 2, `${args.join(' ')} exits 2: ${r.err}`);
      assert.match(r.err, message);
      assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    }
    const missing = convlab('report', 'nope', '--store', store, '--out', join(dir, 'nope'));
    assert.equal(missing.code, 2);
    assert.ok(!existsSync(join(dir, 'nope')), 'nothing written for a failed report');
  });
});

describe('convlab convolve', () => {
  before(() => {
    // A white square on black: edges are where a Laplacian answers.
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    writeFileSync(
      join(dir, 'square.png'),
      pngBytes(24, 20, (y, x) => (y >= 5 && y < 15 && x >= 6 && x < 18 ? [250, 200, 10] : [0, 0, 0])),
    );
  });

  test('draws the input, two kernels and their outputs (the classic convolution figure)', () => {
    const out = join(dir, 'panel.svg');
    const r = convlab(
      'convolve',
      join(dir, 'square.png'),
      '--kernel',
      '[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]',
      '--kernel',
      '[[1,0,-1],[2,0,-2],[1,0,-1]]',
      '--channel',
      'r',
      '--mode',
      'valid',
      '--out',
      out,
    );
    assert.equal(r.code, 0, r.err);
    const svg = readFileSync(out, 'utf8');
    assert.match(svg, /input, r channel \(20×24\)/);
    assert.match(svg, /convolved with kernel 1, valid \(18×22; -2\.94 … 4\.90\)/);
    assert.equal((svg.match(/<image /g) ?? []).length, 3);
    const png = convlab(
      'convolve',
      join(dir, 'square.png'),
      '--kernel',
      '[[0,1,0],[1,-4,1],[0,1,0]]',
      '--correlate',
      '--out',
      join(dir, 'panel.png'),
    );
    assert.equal(png.code, 0, png.err);
    assert.ok(PNG.sync.read(readFileSync(join(dir, 'panel.png'))).width > 300);
  });

  test('an ordinary photo (1200×900, a million pixels) is convolved and drawn, not a stack overflow', () => {
    const photo = join(dir, 'photo.png');
    writeFileSync(
      photo,
      pngBytes(1200, 900, (y, x) => [(x * 7 + y) % 256, (y * 3) % 256, (x ^ y) % 256]),
    );
    const r = convlab('convolve', photo, '--kernel', '[[-1,-1,-1],[-1,8,-1],[-1,-1,-1]]', '--out', join(dir, 'photo-panel.png'));
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.err, /RangeError|stack/);
    assert.ok(PNG.sync.read(readFileSync(join(dir, 'photo-panel.png'))).width > 300);
  });

  test('bad kernels, channels, modes and files exit 2 with the flag named', () => {
    const img = join(dir, 'square.png');
    const cases: [string[], RegExp][] = [
      [[img], /convolve: give at least one --kernel/],
      [[img, '--kernel', '[[1,2],[3]]'], /--kernel #1: row 1 has 1 values, row 0 has 2/],
      [[img, '--kernel', '[[1,0]]', '--kernel', 'edge'], /--kernel #2: not JSON/],
      [[img, '--kernel', '[[1]]', '--channel', 'alpha'], /--channel alpha: expected r, g, b or gray/],
      [[img, '--kernel', '[[1]]', '--mode', 'wrap'], /--mode wrap: expected same, valid or full/],
      [[join(dir, 'none.png'), '--kernel', '[[1]]'], /none\.png: cannot read the image \(ENOENT\)/],
      [[join(dir, 'notes.txt'), '--kernel', '[[1]]'], /notes\.txt: unreadable image: not a PNG or JPEG/],
      [
        [img, '--kernel', JSON.stringify(Array(30).fill(Array(30).fill(1))), '--mode', 'valid'],
        /--kernel #1: 30×30 is larger than the 20×24 image/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = convlab('convolve', ...args, '--out', join(dir, 'bad.png'));
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
    }
    assert.ok(!readdirSync(dir).includes('bad.png'));
  });
});
