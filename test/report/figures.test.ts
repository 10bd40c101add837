/**
 * Every figure kind renders from a store filled by hand into valid SVG and PNG; the checks read what is drawn
 * (titles, axis titles, legend entries, the number of series and tiles, image sizes), not bytes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import { SqliteStore, type RunStore, type TrialRow } from '../../src/lab/store.js';
import {
  barsPlot,
  clockErrorPlots,
  confusionPlots,
  curvesFigure,
  featureMapPlot,
  FigureError,
  filterPlot,
  predictionPlot,
  studyFigures,
  sweepPlot,
  trialFigures,
} from '../../src/report/collect.js';
import { convolutionFigure, filterFigure } from '../../src/report/figures/images.js';
import { writeArtifacts } from '../../src/lab/artifacts.js';
import { sweepFigure, wantsLog } from '../../src/report/figures/sweep.js';
import { formatValue, render, type Figure } from '../../src/report/render.js';
import { writeReport } from '../../src/report/report.js';
import { CLASSES, fixtureStore } from '../helpers/report_store.js';
import { noSqlite } from '../helpers/sqlite.js';

const skip = noSqlite;

/** The text drawn in an SVG (titles, axis labels, legend entries), entities decoded. */
function texts(svg: string): string[] {
  // Multi-line labels are <tspan>s inside one <text>: each line counts as one text.
  const lines = [...svg.replace(/<text[^>]*\/>/g, '').matchAll(/<text[^>]*>((?:[^<]|<\/?tspan[^>]*>)*)<\/text>/g)].flatMap((m) =>
    m[1].includes('<tspan') ? [...m[1].matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1]) : [m[1]],
  );
  return lines.map((m) =>
    m
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'"),
  );
}

/** Marks of one kind (line, rect, image, ...) drawn by Vega. */
function marks(svg: string, kind: string): number {
  if (kind === 'image') return (svg.match(/<image /g) ?? []).length;
  return (svg.match(new RegExp(`aria-roledescription="${kind}( mark)?"`, 'g')) ?? []).length;
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*width="(\d+(?:\.\d+)?)" height="(\d+(?:\.\d+)?)"/.exec(svg);
  assert.ok(m, 'the SVG has a size');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Renders a figure and checks both formats: well-formed SVG, a PNG that decodes at twice the SVG's size. */
async function draw(f: Figure): Promise<{ svg: string; text: string[] }> {
  const { svg, png } = await render(f);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>$/);
  const size = svgSize(svg);
  const img = PNG.sync.read(png);
  assert.equal(img.width, Math.round(size.width * 2), 'PNG is drawn at 2×');
  assert.equal(img.height, Math.round(size.height * 2));
  // Not blank: some pixels are far from white.
  let dark = 0;
  for (let i = 0; i < img.data.length; i += 4) if (img.data[i] + img.data[i + 1] + img.data[i + 2] < 300) dark++;
  assert.ok(dark > 100, `the PNG of ${f.name} has ink (${dark} dark pixels)`);
  return { svg, text: texts(svg) };
}

describe('figures from a run store', { skip }, () => {
  let dir: string;
  let store: RunStore;
  let trials: TrialRow[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'convlab-figures-'));
    store = fixtureStore(dir);
    trials = store.trials(store.getExperiment('fixture')!.id);
  });
  after(() => {
    store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("one trial's curves: a panel per metric, train and validation lines, epochs from 1", async () => {
    const { svg, text } = await draw(curvesFigure(store, [trials[0]]));
    for (const t of ['loss', 'accuracy', 'epoch', 'train', 'validation', 'split']) assert.ok(text.includes(t), `'${t}' is drawn`);
    assert.equal(marks(svg, 'line'), 2 * 2, 'two panels × (train, validation)');
    assert.ok(text.includes('1') && text.includes('4') && !text.includes('0.5'), 'integer epochs 1..4 on the x axis');
  });

  test('overlaid curves: one colour per configuration, repeats as a mean line with a ± std band, dashes for validation', async () => {
    // Two repeats of one configuration and one trial of another.
    const figure = curvesFigure(store, trials.slice(0, 3), ['loss']);
    const { svg, text } = await draw(figure);
    assert.ok(text.includes(`${trials[0].group} (mean of 2)`), 'the repeats are one legend entry');
    assert.ok(text.includes(trials[2].group));
    assert.ok(!text.includes(trials[0].label), 'no line per repeat');
    assert.equal(marks(svg, 'line'), 2 * 2, 'two configurations × (train, validation)');
    assert.ok(marks(svg, 'errorband') >= 1, 'a band around the mean of the repeats');
    assert.match(svg, /stroke-dasharray="5,3"/);
    assert.match(figure.caption ?? '', /repeats as their mean, with a band of ± one standard deviation/);
  });

  test('more than 8 configurations: the best 8 by the final validation metric, said in the caption; accuracy stays in [0, 1]', async () => {
    const many = new SqliteStore(join(dir, 'many'));
    try {
      const e = many.upsertExperiment('many', {}, null);
      const units = [4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3, 6];
      const added = many.addTrials(
        e.id,
        units.map((u, i) => ({
          key: `k${i}`,
          label: `units=${u}`,
          group: `units=${u}`,
          variant: null,
          values: { 'model.layers[1].Dense.units': u },
          repeat: 0,
          seed: 0,
          config: {},
        })),
      );
      added.forEach((t, i) => {
        for (let ep = 0; ep < 3; ep++)
          many.recordEpoch(t.id, ep, {
            loss: 1 / (ep + 1 + i),
            accuracy: 0.5 + 0.04 * i,
            val_loss: 1.1 / (ep + 1 + i),
            val_accuracy: Math.min(0.999, 0.45 + 0.045 * i + 0.01 * ep),
          });
      });
      // Two repeats of units=6 near 100%: their mean + std would pass 1.
      const repeats = many.addTrials(
        e.id,
        [0.999, 0.9].map((_acc, r) => ({
          key: `r${r}`,
          label: `units=6 #${r + 2}`,
          group: 'units=6',
          variant: null,
          values: { 'model.layers[1].Dense.units': 6 },
          repeat: r + 1,
          seed: r + 1,
          config: {},
        })),
      );
      repeats.forEach((t, r) => {
        for (let ep = 0; ep < 3; ep++)
          many.recordEpoch(t.id, ep, { loss: 0.1, accuracy: r === 0 ? 0.999 : 0.9, val_loss: 0.1, val_accuracy: r === 0 ? 0.999 : 0.9 });
      });
      const figure = curvesFigure(many, [...added, ...repeats]);
      const { text } = await draw(figure);
      assert.match(figure.caption ?? '', /the 8 best of 12 configurations by final val accuracy; `--trials` picks others/);
      assert.ok(text.includes('units=6 (mean of 3)') && text.includes('units=3'), 'the best (the last, by accuracy) are drawn');
      assert.ok(
        ['units=4', 'units=8', 'units=16', 'units=32'].every((l) => !text.includes(l)),
        'the worst are left out',
      );
      // Legends in numeric order: units=3 before units=6 before units=64 ...
      const order = ['units=3', 'units=6 (mean of 3)', 'units=64', 'units=128', 'units=256'].map((l) => text.indexOf(l));
      assert.deepEqual(
        order,
        [...order].sort((a, b) => a - b),
        `legend order ${order}`,
      );
      const rows = (figure.spec as unknown as { data: { values: { metric: string; hi?: number }[] } }).data.values;
      const bands = rows.filter((r) => r.metric === 'accuracy' && r.hi !== undefined);
      assert.ok(bands.length > 0 && bands.every((r) => r.hi! <= 1), 'accuracy bands never go past 1');
    } finally {
      many.close();
    }
  });

  test('a metric against one parameter where two others vary: colour for one, dash for the other, legends in numeric order', async () => {
    const grid = new SqliteStore(join(dir, 'grid'));
    try {
      const e = grid.upsertExperiment('grid', {}, null);
      const plans = [0.001, 0.01].flatMap((lr) => [32, 64].flatMap((batch) => [8, 128, 16].map((units) => ({ lr, batch, units }))));
      const added = grid.addTrials(
        e.id,
        plans.map((p, i) => ({
          key: `g${i}`,
          label: `lr=${p.lr} batch=${p.batch} units=${p.units}`,
          group: `g${i}`,
          variant: null,
          values: { 'train.optimizer.adam.learning_rate': p.lr, 'train.batch_size': p.batch, 'model.layers[1].Dense.units': p.units },
          repeat: 0,
          seed: 0,
          config: {},
        })),
      );
      added.forEach((t, i) => {
        grid.claimTrial([t.id], '1@x');
        grid.finishTrial(t.id, { test: { accuracy: 0.5 + i / 100 } }, 1, {});
      });
      const figure = sweepPlot(grid, 'grid', grid.trials(), 'test_accuracy', 'learning_rate');
      const spec = JSON.stringify(figure.spec);
      assert.match(spec, /"color":\{"field":"series","type":"nominal","title":"batch_size","sort":\["batch_size=32","batch_size=64"\]/);
      assert.match(spec, /"strokeDash":\{"field":"dash","type":"nominal","title":"units","sort":\["units=8","units=16","units=128"\]/);
      const { svg } = await draw(figure);
      assert.equal(marks(svg, 'line'), 2 * 3, 'a line per (batch_size, units)');
    } finally {
      grid.close();
    }
  });

  test('a metric against a swept parameter: repeats as error bars, variants as lines, log axis over decades', async () => {
    const { svg, text } = await draw(sweepPlot(store, 'fixture', trials, 'test_accuracy'));
    assert.ok(text.includes('Test accuracy against learning_rate'));
    assert.ok(text.includes('learning_rate') && text.includes('test accuracy'), 'axis titles');
    assert.ok(text.includes('Baseline') && text.includes('MaxPool'), 'a legend entry per variant');
    assert.equal(marks(svg, 'line'), 2, 'a line per variant');
    assert.ok(svg.includes('errorbar') || marks(svg, 'rule') >= 4, 'error bars for the repeats');
    assert.equal(wantsLog([0.001, 0.01]), false);
    assert.equal(wantsLog([1e-5, 1e-4, 1e-3]), true);
    assert.equal(wantsLog([5000, 40000]), false);
    assert.equal(formatValue(0.0001), '1e-4');
    assert.equal(formatValue(40000), '40,000');
  });

  test('several columns against a parameter: one line each, dashed apart, the variants still coloured', async () => {
    const figure = sweepPlot(store, 'fixture', trials, 'train_accuracy, test_accuracy');
    const spec = JSON.stringify(figure.spec);
    assert.match(spec, /"strokeDash":\{"field":"dash","type":"nominal","title":"value","sort":\["test accuracy","train accuracy"\]/);
    const { svg, text } = await draw(figure);
    assert.ok(text.includes('Train accuracy and test accuracy against learning_rate'));
    assert.equal(marks(svg, 'line'), 2 * 2, 'a line per (variant, column)');
    assert.equal(figure.name, 'train_accuracy_test_accuracy_vs_learning_rate');
    assert.throws(() => sweepPlot(store, 'fixture', trials, 'test_accuracy,top_accuracy'), /has a value 'top_accuracy'/);
    assert.match(JSON.stringify(sweepPlot(store, 'fixture', trials, 'test_accuracy', undefined, 'log').spec), /"type":"log"/);
    assert.doesNotMatch(JSON.stringify(sweepPlot(store, 'fixture', trials, 'test_accuracy', undefined, 'linear').spec), /"type":"log"/);
    const categories = JSON.stringify(sweepPlot(store, 'fixture', trials, 'test_accuracy', undefined, 'category').spec);
    assert.match(categories, /"type":"ordinal".*"sort":\["0\.001","0\.01"\]/, 'numbers as categories in numeric order');
    // Bunched values on a linear axis (10, 1,000, 50,000): the scale's own ticks, not colliding labels at each value.
    const bunched = sweepFigure(
      [10, 1000, 5000, 50000].map((x) => ({ x, y: x / 1e5 })),
      { name: 'b', title: 'b', xTitle: 'n', yTitle: 'seconds', logX: false },
    );
    assert.doesNotMatch(JSON.stringify(bunched.spec), /"values":\[10,1000/);
    const keras = await draw(sweepPlot(store, 'fixture', trials, 'epoch_accuracy'));
    assert.ok(keras.text.includes("accuracy (Keras' last epoch)"), "Keras' running average of the last epoch, by its own name");
  });

  test('the time against a parameter, and images per second from the recorded sample counts', async () => {
    const { text } = await draw(sweepPlot(store, 'fixture', trials, 'seconds'));
    assert.ok(text.includes('training time (s)'));
    const ips = await draw(sweepPlot(store, 'fixture', trials, 'images_per_second', 'learning_rate'));
    assert.ok(ips.text.includes('training images per second'));
    assert.throws(
      () => sweepPlot(store, 'fixture', trials, 'seconds', 'dropout'),
      (e: Error) => e instanceof FigureError && /--x dropout: not a swept parameter.*learning_rate/.test(e.message),
    );
    assert.throws(
      () => sweepPlot(store, 'fixture', trials, 'top_accuracy'),
      /no finished trial .* has a value 'top_accuracy'; expected one of .*test_accuracy/,
    );
  });

  test('grouped bars: train, validation and test per configuration, with ± std over repeats', async () => {
    const { svg, text } = await draw(barsPlot(store, trials, 'accuracy'));
    for (const t of ['train', 'validation', 'test', 'accuracy', 'Baseline learning_rate=0.001', 'MaxPool learning_rate=0.01'])
      assert.ok(text.includes(t), `'${t}' is drawn`);
    assert.equal(marks(svg, 'bar'), 4 * 3, '4 configurations × 3 splits');
    assert.equal(marks(svg, 'rule'), 4 * 3, 'an error bar on each');
  });

  test('confusion heatmap: class names on both axes, a cell per pair with its count or percentage', async () => {
    const [f] = confusionPlots(store, trials[0]);
    const { svg, text } = await draw(f);
    for (const c of CLASSES) assert.equal(text.filter((t) => t === c).length, 2, `${c} on both axes`);
    assert.ok(text.includes('predicted class') && text.includes('true class'));
    assert.equal(marks(svg, 'rect'), 9);
    const counts = text.filter((t) => /^\d+$/.test(t)).map(Number);
    const m = (store.extra(trials[0].id).evaluation as { test: { confusion_matrix: number[][] } }).test.confusion_matrix;
    for (const v of m.flat()) assert.ok(counts.includes(v), `count ${v} is written`);
    const pct = await draw(confusionPlots(store, trials[0], { percent: true })[0]);
    assert.ok(
      pct.text.some((t) => /^\d+\.\d$/.test(t)),
      'percentages with one decimal',
    );
  });

  test('clock error histogram with median and 90th percentile markers', async () => {
    const [f] = clockErrorPlots(store, trials[0]);
    const { svg, text } = await draw(f);
    assert.ok(text.includes('minutes between predicted and true time') && text.includes('clocks'));
    assert.ok(text.some((t) => t.startsWith('median ')) && text.some((t) => t.startsWith('90th pct ')));
    assert.ok(marks(svg, 'bar') >= 4);
  });

  test('feature maps: the input, then a titled block per layer with a tile per channel', async () => {
    const { svg, text } = await draw(featureMapPlot(store, trials[0], 1));
    assert.ok(text.includes('input') && text.includes('conv2d  [6×6×4]') && text.includes('dense  [3]'));
    assert.equal(marks(svg, 'image'), 1 + 4 + 1, 'input + 4 channels + the dense block');
    assert.throws(() => featureMapPlot(store, trials[0], 5), /--sample 5: trial #1 recorded 2 samples/);
    assert.throws(
      () => featureMapPlot(store, trials[1]),
      /recorded no feature maps; `convlab evaluate \d+ --feature-maps LAYER,...` computes them/,
    );
  });

  test('filters: a tile per filter, layer name and shape in the title', async () => {
    const { svg, text } = await draw(filterPlot(store, trials[0]));
    assert.ok(text.some((t) => t.startsWith('conv2d  [3×3, 1 → 4]')));
    assert.equal(marks(svg, 'image'), 4);
    assert.throws(() => filterPlot(store, trials[0], { layers: ['conv9'] }), /no filters of conv9; it has conv2d/);
  });

  test("filters: --only draws the chosen filters by index (the report's 'last 8'), and names them in the title", async () => {
    const { svg, text } = await draw(filterPlot(store, trials[0], { only: [1, 2, 3] }));
    assert.equal(marks(svg, 'image'), 3);
    assert.ok(text.some((t) => t.startsWith('conv2d  [3×3, 1 → 4], filters 1–3')));
    assert.equal(marks((await draw(filterPlot(store, trials[0], { only: [3, 0] }))).svg, 'image'), 2);
    assert.throws(() => filterPlot(store, trials[0], { only: [2, 4] }), /--only 4: layer conv2d has 4 filters \(0 to 3\)/);
  });

  test('predictions: true and predicted class under each image, the misclassified one framed', async () => {
    const { svg, text } = await draw(predictionPlot(store, trials[0]));
    assert.equal(marks(svg, 'image'), 2);
    assert.ok(text.includes('zero') && text.includes('→ zero 90%') && text.includes('two') && text.includes('→ one 60%'));
    assert.equal((svg.match(/stroke="#D55E00"/g) ?? []).length, 1, 'one orange frame');
    const errors = await draw(predictionPlot(store, trials[0], { only: 'errors' }));
    assert.equal(marks(errors.svg, 'image'), 1);
  });

  test('the convolution panel: input, each kernel with its weights, each output', async () => {
    const img = { height: 12, width: 12, channels: 1 as const, values: Float32Array.from({ length: 144 }, (_, i) => (i % 12) / 11) };
    const { svg, text } = await draw(
      convolutionFigure(
        img,
        [
          [
            [-1, -1, -1],
            [-1, 8, -1],
            [-1, -1, -1],
          ],
          [
            [1, 0, -1],
            [2, 0, -2],
            [1, 0, -1],
          ],
        ],
        [img, img],
      ),
    );
    assert.ok(text.includes('kernel 1 (3×3)') && text.includes('kernel 2 (3×3)') && text.includes('output 2'));
    assert.equal(text.filter((t) => t === '8').length, 1);
    assert.equal(text.filter((t) => t === '-2').length, 1);
    assert.equal(marks(svg, 'image'), 3);
  });

  test('every figure of a trial and of the study is drawn', async () => {
    const kinds = trialFigures(store, trials[0]).map((f) => f.name.replace(/_trial\d+.*$/, ''));
    assert.deepEqual(kinds, ['curves', 'confusion', 'clock_errors', 'feature_maps', 'filters', 'predictions']);
    assert.deepEqual(
      trialFigures(store, trials[1]).map((f) => f.name.replace(/_trial\d+.*$/, '')),
      ['curves', 'confusion', 'clock_errors'],
    );
    const study = studyFigures(store, 'fixture', trials).map((f) => f.name);
    assert.deepEqual(study, ['curves', 'bars_accuracy', 'test_accuracy_vs_learning_rate', 'seconds_vs_learning_rate']);
  });

  test('the report: Markdown with figure files and one self-contained HTML file', async () => {
    const out = join(dir, 'report');
    const written = await writeReport(store, 'fixture', out);
    const md = readFileSync(written.markdown, 'utf8');
    for (const h of [
      '# fixture',
      '## Results',
      '### Dummy baselines',
      '## Study figures',
      '## Trials',
      '### #1 Baseline learning_rate=0.001 #1',
      '## Spec',
      '## Where it ran',
    ])
      assert.ok(md.includes(h), `the report has '${h}'`);
    assert.match(md, /\| most_frequent \| test \| 0\.3333 \|/);
    assert.match(md, /Model summary/);
    assert.match(md, /Total params: /);
    const refs = [...md.matchAll(/!\[[^\]]*\]\((figures\/[^)]+)\)/g)].map((m) => m[1]);
    assert.equal(refs.length, written.figures.length);
    for (const r of refs)
      assert.ok(existsSync(join(out, r)) && existsSync(join(out, r.replace(/\.png$/, '.svg'))), `${r} exists as PNG and SVG`);
    const html = readFileSync(written.html, 'utf8');
    assert.equal((html.match(/<img class="figure" src="data:image\/svg\+xml;base64,/g) ?? []).length, refs.length, 'every figure inlined');
    assert.doesNotMatch(html, /src="(?!data:)/, 'nothing loaded from elsewhere');
    assert.match(html, /<table>/);
    assert.ok(!existsSync(`${out}.${process.pid}.tmp`), 'no temporary folder left');
    await assert.rejects(writeReport(store, 'nope', join(dir, 'r2')), /no experiment 'nope' in .*; it has fixture/);
    assert.ok(!existsSync(join(dir, 'r2')));
  });
});

test('a layer with 512×512×3×3 weights is drawn (figure and artifact grid), by loops, not by spreading its weights', async () => {
  const shape = [3, 3, 512, 512];
  const values = new Float32Array(3 * 3 * 512 * 512).map((_, i) => Math.sin(i));
  const figure = filterFigure([{ name: 'conv_big', shape, values }], { name: 'big' });
  const { png } = await render(figure);
  assert.ok(PNG.sync.read(png).width > 200);
  const out = mkdtempSync(join(tmpdir(), 'convlab-bigfilters-'));
  try {
    const [written] = writeArtifacts(out, [{ kind: 'filters', layer: 'conv_big', shape, data: values }]);
    const grid = PNG.sync.read(readFileSync(written.files[1]));
    // The picture shows the first 64 input channels × 64 filters; the .npy keeps every weight.
    assert.ok(grid.width < 64 * 40 && grid.height < 64 * 40, `${grid.width}×${grid.height}`);
    assert.equal(readFileSync(written.files[0]).length > 3 * 3 * 512 * 512 * 4, true);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('an accuracy whose mean + std passes 1 keeps its axis at 1; a loss does not', () => {
  const points = [0.999, 0.9, 0.98, 0.97].map((y, i) => ({ x: i < 2 ? 1 : 2, y }));
  assert.match(
    JSON.stringify(sweepFigure(points, { name: 'a', title: 'a', xTitle: 'units', yTitle: 'test accuracy' }).spec),
    /"domainMax":1,"clamp":true/,
  );
  assert.doesNotMatch(
    JSON.stringify(
      sweepFigure(
        points.map((p) => ({ ...p, y: p.y + 1 })),
        { name: 'l', title: 'l', xTitle: 'units', yTitle: 'test loss' },
      ).spec,
    ),
    /domainMax/,
  );
});
