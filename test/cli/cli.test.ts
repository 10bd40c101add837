/** The convlab command as a user runs it: spawned, with exit codes and messages checked. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileWriter, runConvlab } from '../helpers/cli.js';
import { PNG } from 'pngjs';
import { loadModel } from '../../src/saving/saved_model.js';
import { pngBytes, writeFileDeep } from '../helpers/image_files.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// Decoded datasets go to a cache inside the test folder, not the user's.
process.env.CONVLAB_CACHE = join(dir, 'cache');

const convlab = (...args: string[]) => runConvlab(args);
const file = fileWriter(dir);

describe('convlab CLI', () => {
  test('--version names the version and the active backend', () => {
    const r = convlab('--version');
    assert.equal(r.code, 0);
    assert.match(r.out, /^convlab \d+\.\d+\.\d+ \(backend: (ts|native, (avx512|avx2|portable), \d+ threads?)\)/);
    assert.match(convlab('--backend', 'ts', '--version').out, /backend: ts\)/);
  });

  test('--threads and --backend are checked', () => {
    assert.equal(convlab('--threads', '0', 'summary', 'examples/lenet5-mnist.yaml').code, 2);
    const bad = convlab('--backend', 'gpu', 'summary', 'examples/lenet5-mnist.yaml');
    assert.notEqual(bad.code, 0);
    assert.match(bad.err, /unknown backend 'gpu'/);
  });

  test('summary prints the Keras table of the quick-start LeNet-5 (61,706 parameters)', () => {
    const r = convlab('summary', 'examples/lenet5-mnist.yaml');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Total params: 61,706/);
    assert.match(r.out, /conv2d_2 \(Conv2D\) +\(None, 1, 1, 120\) +48,120/);
  });

  test('train --json on a 3,000-image subset learns MNIST and reports every split', () => {
    const r = convlab(
      'train',
      'examples/lenet5-mnist.yaml',
      '--set',
      'data.subset.train=3000',
      '--set',
      'train.epochs=2',
      '--json',
      '--save',
      join(dir, 'lenet'),
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(loadModel(join(dir, 'lenet')).countParams(), 61706);
    const result = JSON.parse(r.out) as {
      history: { loss: number }[];
      final: Record<string, { accuracy: number; loss: number }>;
      params: number;
      seconds: number;
      backend: string;
    };
    assert.equal(result.history.length, 2);
    assert.equal(result.params, 61706);
    assert.deepEqual(Object.keys(result.final), ['train', 'validation', 'test']);
    assert.ok(result.final.test.accuracy > 0.85, `test accuracy ${result.final.test.accuracy}`);
  });

  test('a spec with several mistakes reports each with its path and exits 2', () => {
    const spec = file(
      'bad.yaml',
      [
        'model:',
        '  input: [28, 28, 1]',
        '  layers:',
        '    - Conv2D: {filters: 8, kernel_size: [3, "x"]}',
        '    - Conv2D: {filters: 8, kernel_size: 3, activaton: relu}',
        '    - Dense: {units: -1}',
        '    - Pooling: {}',
        'train: {epochs: many}',
      ].join('\n'),
    );
    const r = convlab('summary', spec);
    assert.equal(r.code, 2);
    assert.match(r.err, /train\.epochs: .*number/);
    const s = convlab('summary', spec, '--set', 'train.epochs=1');
    assert.equal(s.code, 2);
    assert.match(s.err, /model\.layers\[0\]\.Conv2D\.kernel_size: expected a positive integer or a pair/);
    assert.match(s.err, /model\.layers\[1\]\.Conv2D\.activaton: unknown argument of Conv2D/);
    assert.match(s.err, /model\.layers\[2\]\.Dense\.units: .*found -1/);
    assert.match(s.err, /model\.layers\[3\]: unknown layer 'Pooling'/);
  });

  test('shapes that do not fit, YAML syntax errors, missing files and bad overrides exit 2 with the place named', () => {
    const shape = convlab(
      'summary',
      file('shape.yaml', 'model:\n  input: [28, 28, 1]\n  layers:\n    - Flatten: {}\n    - Conv2D: {filters: 2, kernel_size: 3}\n'),
    );
    assert.equal(shape.code, 2);
    assert.match(shape.err, /model\.layers\[1\]\.Conv2D: .*rank 4/);
    const syntax = convlab('summary', file('syntax.yaml', 'model:\n  input: [28, 28\n  layers: []\n'));
    assert.equal(syntax.code, 2);
    assert.match(syntax.err, /syntax\.yaml:\d+:\d+: invalid YAML/);
    const missing = convlab('summary', join(dir, 'nope.yaml'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope\.yaml: file not found/);
    const override = convlab('summary', 'examples/lenet5-mnist.yaml', '--set', 'model.layers[99].Dense.units=3');
    assert.equal(override.code, 2);
    assert.match(override.err, /has no element \[99\]/);
    const data = convlab('train', 'examples/lenet5-mnist.yaml', '--set', 'data.transforms=[{scale: [0, 1]}]', '--json');
    assert.equal(data.code, 2);
    assert.match(data.err, /model\.input: the data gives samples of shape \[28, 28, 1\] but the model expects \[32, 32, 1\]/);
  });

  test('a functional spec with two inputs builds and summarizes', () => {
    const spec = file(
      'functional.yaml',
      [
        'model:',
        '  inputs: {image: [8, 8, 1], extra: [3]}',
        '  layers:',
        '    - Conv2D: {name: conv, inputs: image, filters: 2, kernel_size: 3}',
        '    - Flatten: {name: flat}',
        '    - Concatenate: {name: joined, inputs: [flat, extra]}',
        '    - Dense: {name: hour, units: 12, activation: softmax}',
        '    - Dense: {name: minute, inputs: joined, units: 1}',
        '  outputs: [hour, minute]',
      ].join('\n'),
    );
    const r = convlab('summary', spec);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /joined \(Concatenate\) +\(None, 75\) +0 +flat\[0\]\[0\], extra\[0\]\[0\]/);
    const bad = convlab('summary', spec, '--set', 'model.layers[4].Dense.inputs=nowhere');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /model\.layers\[4\]\.Dense\.inputs: unknown input 'nowhere'/);
  });

  test('unknown commands and options exit 2', () => {
    assert.equal(convlab('frobnicate').code, 2);
    assert.equal(convlab('train', 'examples/lenet5-mnist.yaml', '--nope').code, 2);
  });
});

describe('convlab train: the evaluate block', () => {
  test('confusion matrix, classification report and dummy baselines on the chosen splits, in --json too', () => {
    const spec = file(
      'evaluate.yaml',
      [
        'seed: 3',
        'data: {dataset: mnist, subset: {train: 400}, validation: {count: 200}}',
        'model:',
        '  input: [28, 28, 1]',
        '  layers: [{Flatten: {}}, {Dense: {units: 10, activation: softmax}}]',
        'train: {epochs: 1}',
        'evaluate: {on: [validation], confusion_matrix: true, classification_report: true, baselines: [most_frequent]}',
      ].join('\n'),
    );
    const r = convlab('train', spec, '--json');
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out);
    assert.deepEqual(Object.keys(out.final), ['validation']);
    const e = out.evaluation.validation;
    assert.equal(
      e.confusion_matrix.flat().reduce((a: number, b: number) => a + b, 0),
      200,
    );
    assert.equal(e.classification_report.classes.length, 10);
    assert.ok(Math.abs(e.classification_report.accuracy - out.final.validation.accuracy) < 1e-6, 'the report agrees with evaluate()');
    assert.ok(e.baselines.most_frequent.accuracy > 0.05 && e.baselines.most_frequent.accuracy < 0.2);
    const rows = e.confusion_matrix_normalized as number[][];
    e.confusion_matrix.forEach((row: number[], i: number) => {
      const n = row.reduce((a, b) => a + b, 0);
      if (n > 0) assert.ok(Math.abs(rows[i].reduce((a, b) => a + b, 0) - 1) < 1e-9 && Math.abs(rows[i][i] - row[i] / n) < 1e-12);
    });
    const text = convlab('train', spec, '--quiet', '--set', 'evaluate.confusion_matrix=both');
    assert.match(text.out, /Confusion matrix \(validation; rows: true class, columns: predicted\)/);
    assert.match(text.out, /Normalized confusion matrix \(validation; each true class's row sums to 1\)/);
    assert.match(text.out, /macro avg/);
    const bad = convlab('train', spec, '--set', 'evaluate.baselines=[always_seven]');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /evaluate\.baselines\[0\]/);
  });
});

describe('convlab train: feature maps, filters and time differences from the evaluate block', () => {
  const spec = () =>
    file(
      'inside.yaml',
      [
        'seed: 4',
        'data: {dataset: mnist, subset: {train: 300}}',
        'model:',
        '  input: [28, 28, 1]',
        '  layers: [{Conv2D: {filters: 4, kernel_size: 3, activation: relu, name: c1}}, {MaxPooling2D: {}}, {Flatten: {}}, {Dense: {units: 10, activation: softmax}}]',
        'train: {epochs: 1}',
        'evaluate: {on: [test], feature_maps: {layers: [c1, 1], samples: 2}, filters: true}',
      ].join('\n'),
    );

  test('feature maps of the chosen layers and every Conv2D filter are written as .npy and PNG, and listed in --json', () => {
    const out = join(dir, 'inside');
    const r = convlab('train', spec(), '--json', '--out', out);
    assert.equal(r.code, 0, r.err);
    const result = JSON.parse(r.out) as { artifacts: { kind: string; layer: string; shape: number[]; files: string[] }[] };
    assert.deepEqual(
      result.artifacts.map((a) => [a.kind, a.layer, a.shape]),
      [
        ['inputs', 'input_layer', [2, 28, 28, 1]],
        ['feature_maps', 'c1', [2, 26, 26, 4]],
        ['feature_maps', 'max_pooling2d', [2, 13, 13, 4]],
        ['filters', 'c1', [3, 3, 1, 4]],
      ],
    );
    for (const f of result.artifacts.flatMap((a) => a.files)) assert.ok(existsSync(f), f);
    assert.ok(existsSync(join(out, 'feature_maps', 'c1_sample1.png')));
    assert.ok(existsSync(join(out, 'filters', 'c1.png')));
  });

  test('evaluate.metrics adds metrics measured after training; unknown metric names are refused in both blocks', () => {
    const r = convlab(
      'train',
      spec(),
      '--json',
      '--set',
      'evaluate.metrics=[top_5_accuracy]',
      '--set',
      'evaluate.feature_maps=null',
      '--set',
      'evaluate.filters=null',
    );
    assert.equal(r.code, 0, r.err);
    const test5 = JSON.parse(r.out).final.test as Record<string, number>;
    assert.deepEqual(Object.keys(test5), ['loss', 'accuracy', 'top_5_accuracy']);
    assert.ok(test5.top_5_accuracy >= test5.accuracy);
    const bad = convlab('train', spec(), '--set', 'evaluate.metrics=[nope]', '--set', 'train.metrics=[acuracy]');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /train\.metrics\[0\]: unknown metric 'acuracy'/);
    assert.match(bad.err, /evaluate\.metrics\[0\]: unknown metric 'nope'/);
  });

  test('a missing layer, filters of a non-convolution layer and a time difference without clocks are refused before training', () => {
    const r = convlab(
      'train',
      spec(),
      '--set',
      'evaluate.feature_maps.layers=[c1, 9, nope]',
      '--set',
      'evaluate.filters={layers: [2]}',
      '--set',
      'evaluate.time_difference=true',
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /evaluate\.feature_maps\.layers\[1\]: no layer 9: expected an index 0\.\.3/);
    assert.match(r.err, /evaluate\.feature_maps\.layers\[2\]: no layer "nope"/);
    assert.match(r.err, /evaluate\.filters\.layers\[0\]: layer 'flatten' is a Flatten; filters are drawn from Conv2D layers/);
    assert.match(r.err, /evaluate\.time_difference: needs the clocks dataset/);
    assert.doesNotMatch(r.out, /Epoch 1/, 'nothing was trained');
  });

  test('clocks with the periodic scheme report the time difference with its distribution', () => {
    const clocks = file(
      'clocks.yaml',
      [
        'seed: 2',
        'data: {dataset: clocks, count: 200, size: [32, 32], target: periodic}',
        'model:',
        '  input: [32, 32, 1]',
        '  layers: [{Conv2D: {filters: 4, kernel_size: 3, strides: 2, activation: relu}}, {Flatten: {}}, {Dense: {units: 4, activation: tanh}}]',
        'train: {epochs: 1, loss: mse, metrics: [mae]}',
        'evaluate: {on: [test], time_difference: true}',
      ].join('\n'),
    );
    const r = convlab('train', clocks, '--json');
    assert.equal(r.code, 0, r.err);
    const t = JSON.parse(r.out).evaluation.test.time_difference;
    assert.equal(t.count, 40);
    assert.equal(
      t.histogram.reduce((a: number, b: number) => a + b, 0),
      40,
    );
    assert.ok(t.mean >= 0 && t.mean <= 360 && t.max <= 360);
    const text = convlab('train', clocks, '--quiet');
    assert.match(text.out, /Time difference \(test, minutes on the 12-hour dial\): mean [\d.]+, median/);
    assert.match(text.out, /0–30 min/);
  });
});

describe('convlab train: callbacks and schedules from the train block', () => {
  test("early stopping ends training early, the schedule sets each epoch's rate, the CSV log has a row per epoch", () => {
    const csv = join(dir, 'log.csv');
    const spec = file(
      'callbacks.yaml',
      [
        'seed: 4',
        'data: {dataset: mnist, subset: {train: 300}, validation: {count: 100}}',
        'model: {input: [28, 28, 1], layers: [{Flatten: {}}, {Dense: {units: 10, activation: softmax}}]}',
        'train:',
        '  optimizer: {sgd: {learning_rate: 0.1}}',
        '  epochs: 8',
        '  schedule: {step_decay: {factor: 0.5, every: 2}}',
        '  callbacks:',
        '    - early_stopping: {monitor: loss, min_delta: 100, patience: 1}',
        `    - csv_logger: {filename: ${JSON.stringify(csv)}}`,
        'evaluate: {on: [validation]}',
      ].join('\n'),
    );
    const r = convlab('train', spec, '--json');
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out);
    assert.deepEqual(
      out.history.map((e: { lr: number }) => e.lr),
      [0.1, 0.1],
    );
    assert.equal(readFileSync(csv, 'utf8').trim().split('\n').length, 3);
    const bad = convlab('train', spec, '--set', 'train.callbacks[0]={early_stoping: {}}');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /train\.callbacks\[0\]: expected one of \{early_stopping/);
  });
});

describe('convlab data', () => {
  const images = join(dir, 'shapes');
  for (const [k, cls] of ['round', 'square'].entries())
    for (let i = 0; i < 4; i++)
      writeFileDeep(
        join(images, cls, `${i}.png`),
        pngBytes(5, 4, () => [k * 200, 10 * i, 50]),
      );

  test('ls lists every dataset with where it was found', () => {
    const r = convlab('data', 'ls');
    assert.equal(r.code, 0);
    assert.match(r.out, /^mnist +built in/m);
    for (const name of ['fashion-mnist', 'cifar10', 'image-folder', 'clocks']) assert.match(r.out, new RegExp(`^${name} `, 'm'));
  });

  test('info gives counts per split, the shape, classes with counts and pixel statistics (also as JSON)', () => {
    const r = convlab('data', 'info', 'image-folder', '--path', images, '--json');
    assert.equal(r.code, 0, r.err);
    const i = JSON.parse(r.out);
    assert.deepEqual(i.shape, [4, 5, 3]);
    assert.equal(i.splits.train + i.splits.test, 8);
    assert.deepEqual(
      i.classes.map((c: { name: string }) => c.name),
      ['round', 'square'],
    );
    assert.equal(i.pixel_std[2], 1, 'a constant channel has its std reported as 1 (no division by zero later)');
    assert.match(convlab('data', 'info', 'mnist').out, /train 60,000, test 10,000/);
    assert.match(convlab('data', 'info', 'clocks', '--count', '50', '--size', '32x32').out, /images 32×32×1, train 40, test 10/);
  });

  test("show draws a grid with each sample's class under it and prints the labels in grid order", () => {
    const out = join(dir, 'grid', 'shapes.png');
    const r = convlab('data', 'show', 'image-folder', '--path', images, '--n', '4', '--zoom', '8', '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Wrote 4 train samples/);
    assert.equal(r.out.trim().split('\n').length, 3, 'a 2×2 grid: a header line and two rows');
    const png = PNG.sync.read(readFileSync(out));
    assert.ok(png.width >= 2 * 2 * 5 * 8 && png.height >= 2 * 2 * 4 * 8, `2×2 tiles of 40×32 px at 2× (${png.width}×${png.height})`);
    const svg = join(dir, 'grid', 'shapes.svg');
    assert.equal(convlab('data', 'show', 'image-folder', '--path', images, '--n', '4', '--zoom', '8', '--out', svg).code, 0);
    const text = readFileSync(svg, 'utf8');
    assert.equal((text.match(/<image /g) ?? []).length, 4);
    const labels = r.out
      .trim()
      .split('\n')
      .slice(1)
      .flatMap((l) => l.split(' | ').map((c) => c.replace(/ \(#\d+\)$/, '')));
    for (const l of labels) assert.match(text, new RegExp(`>${l}</text>`), `'${l}' is written under its image`);
  });

  test('save writes one sample pixel for pixel (zoomed if asked), and never over an existing file', () => {
    const out = join(dir, 'saved', 'one.png');
    const r = convlab('data', 'save', 'mnist', '--index', '0', '--zoom', '2', '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Wrote test sample #0 of mnist \(7, 28×28 drawn 2× larger\)/);
    const png = PNG.sync.read(readFileSync(out));
    assert.deepEqual([png.width, png.height], [56, 56]);
    const shape = join(dir, 'saved', 'shape.png');
    assert.equal(convlab('data', 'save', 'image-folder', '--path', images, '--split', 'train', '--index', '1', '--out', shape).code, 0);
    const one = PNG.sync.read(readFileSync(shape));
    assert.deepEqual([one.width, one.height], [5, 4], 'the image folder keeps its own size');
    const again = convlab('data', 'save', 'mnist', '--index', '1', '--out', out);
    assert.equal(again.code, 2);
    assert.match(again.err, /one\.png: the file exists/);
    assert.deepEqual([PNG.sync.read(readFileSync(out)).width], [56], 'the file is untouched');
  });

  test('bad names, paths and flags exit 2 with the problem named', () => {
    const cases: [string[], RegExp][] = [
      [['data', 'save', 'mnist', '--index', '10000', '--out', join(dir, 'x.png')], /--index: expected an integer from 0 to 9999/],
      [['data', 'save', 'mnist', '--index', '0', '--out', join(dir, 'x.jpg')], /--out: expected a \.png file name/],
      [['data', 'save', 'mnist', '--index', '0', '--split', 'dev', '--out', join(dir, 'x.png')], /--split: expected train or test/],
      [['data', 'info', 'imagenet'], /unknown dataset 'imagenet'/],
      [['data', 'info', 'image-folder', '--path', join(dir, 'none')], /none: not found/],
      [['data', 'show', 'mnist', '--out', join(dir, 'x.jpg')], /--out: expected a \.png or \.svg file name/],
      [['data', 'show', 'mnist', '--n', '0', '--out', join(dir, 'x.png')], /--n: expected a positive integer/],
    ];
    for (const [args, message] of cases) {
      const r = convlab(...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, message);
    }
  });
});

describe('convlab data fetch', () => {
  test('a checksum mismatch or an unreachable server exits 2 and writes nothing', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200);
      res.end('not the real file');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const dest = join(dir, 'fetched');
    try {
      const r = await convlabAsync({ CONVLAB_DATA_MIRROR: `http://127.0.0.1:${port}/` }, 'data', 'fetch', 'cifar10', '--dir', dest);
      assert.equal(r.code, 2);
      assert.match(
        r.err,
        /cifar-10-binary\.tar\.gz: checksum mismatch: expected md5 c32a1d4ab5d03f1284b67883e8d87530, got [0-9a-f]{32}; nothing was written/,
      );
      assert.equal(existsSync(dest), false);
    } finally {
      server.close();
    }
    const down = await convlabAsync({ CONVLAB_DATA_MIRROR: `http://127.0.0.1:${port}/` }, 'data', 'fetch', 'fashion-mnist', '--dir', dest);
    assert.equal(down.code, 2);
    assert.match(down.err, /download failed/);
    assert.equal(convlab('data', 'fetch', 'mnist', '--dir', dest).code, 2);
  });
});

/** Like convlab(), but without blocking the event loop (the test's own HTTP server must keep answering). */
function convlabAsync(env: Record<string, string>, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/convlab.js', ...args], { env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

test('train prints the split sizes before the first epoch: validation drawn first, then the subset from the rest', () => {
  const spec = file(
    'splits.yaml',
    `
name: splits
data: {dataset: mnist, validation: {fraction: 0.1}, subset: {train: 500}}
model: {input: [28, 28, 1], layers: [{Flatten: {}}, {Dense: {units: 10, activation: softmax}}]}
train: {epochs: 1}
`,
  );
  const r = convlab('train', spec);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^Data: mnist, 500 train · 6,000 validation · 10,000 test samples of \[28, 28, 1\], 10 classes$/m);
  assert.ok(r.out.indexOf('Data: ') < r.out.indexOf('Epoch 1/1'));
});
