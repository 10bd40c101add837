/**
 * Analysis after training, from the command line: train records its run in the store, evaluate computes what the
 * spec did not ask for from the saved weights, plot draws it, and predict classifies image files through the input
 * pipeline the model was trained with. Bad input is exit 2 with the problem named.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileWriter, runConvlab } from '../helpers/cli.js';
import { pngBytes } from '../helpers/image_files.js';
import { noSqlite } from '../helpers/sqlite.js';
import { SqliteStore } from '../../src/lab/store.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-analysis-'));
after(() => rmSync(dir, { recursive: true, force: true }));
process.env.CONVLAB_CACHE = join(dir, 'cache');
const store = join(dir, 'store');
const convlab = (...args: string[]) => runConvlab([...args, '--store', store]);
const file = fileWriter(dir);

const spec = () =>
  file(
    'ev.yaml',
    `
name: ev
seed: 3
data: {dataset: mnist, subset: {train: 500}, validation: {count: 100}, transforms: [{pad: 2}, {scale: [0, 1]}]}
model:
  input: [32, 32, 1]
  layers:
    - Conv2D: {filters: 4, kernel_size: 3, activation: relu}
    - MaxPooling2D: {}
    - Flatten: {}
    - Dense: {units: 10, activation: softmax}
train: {epochs: 1}
`,
  );

/** A 'photo' of a dark stroke on light paper, in colour and of another size than MNIST's. */
const photo = () => pngBytes(40, 30, (y, x) => (Math.abs(x - 20) < 3 && y > 5 && y < 25 ? [20, 25, 30] : [230, 228, 220]));

describe('train into the store, then evaluate, plot and predict', { skip: noSqlite }, () => {
  before(() => {
    const r = convlab('train', spec(), '-q', '--save', join(dir, 'saved'));
    assert.equal(r.code, 0, r.err);
  });

  test('train records its run as a one-trial experiment; --no-store leaves no store behind', () => {
    const trials = JSON.parse(convlab('ls', 'ev', '--json').out) as { id: number; status: string }[];
    assert.deepEqual(
      trials.map((t) => [t.id, t.status]),
      [[1, 'finished']],
    );
    const elsewhere = join(dir, 'no-store');
    process.env.CONVLAB_STORE = elsewhere;
    try {
      const r = runConvlab(['train', spec(), '-q', '--no-store']);
      assert.equal(r.code, 0, r.err);
    } finally {
      delete process.env.CONVLAB_STORE;
    }
    assert.ok(!existsSync(elsewhere));
    const again = convlab('train', spec());
    assert.match(again.out, /Recorded as trial #1 of experiment ev in .*store/);
  });

  test('what the spec did not ask for is computed from the saved weights, recorded, and drawn', () => {
    const missing = convlab('plot', 'filters', '1', '--out', join(dir, 'f.png'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /trial #1 recorded no filters; `convlab evaluate 1 --filters` takes them from the trial's saved weights/);
    const r = convlab(
      'evaluate',
      '1',
      '--filters',
      '--feature-maps',
      '0,1',
      '--predictions',
      '12',
      '--confusion-matrix',
      '--classification-report',
      '--baselines',
      '--split',
      'validation',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Trial #1 ev \(experiment ev\), validation split \(100 samples\):/);
    assert.match(r.out, /Confusion matrix \(validation; rows: true class/);
    assert.match(r.out, /most_frequent +accuracy/);
    for (const kind of ['filters', 'feature-maps', 'predictions', 'confusion']) {
      const p = convlab('plot', kind, '1', '--out', join(dir, `${kind}.png`), ...(kind === 'confusion' ? ['--split', 'validation'] : []));
      assert.equal(p.code, 0, `${kind}: ${p.err}`);
      assert.ok(readFileSync(join(dir, `${kind}.png`)).length > 1000);
    }
    // The default: a confusion matrix and a classification report on the test split, added to what was there.
    const d = convlab('evaluate', '1');
    assert.equal(d.code, 0, d.err);
    const s = new SqliteStore(store);
    const ev = s.extra(1).evaluation as Record<string, { confusion_matrix?: number[][]; baselines?: unknown }>;
    s.close();
    assert.ok(ev.test.confusion_matrix && ev.validation.confusion_matrix && ev.validation.baselines);
  });

  test('predict gives the top classes of image files, saying how each was fitted to the model', () => {
    writeFileSync(join(dir, 'photo.png'), photo());
    const byTrial = convlab('predict', '1', join(dir, 'photo.png'), '--json', '--top', '3');
    assert.equal(byTrial.code, 0, byTrial.err);
    const out = JSON.parse(byTrial.out) as { predictions: { top: { class: string; probability: number }[]; notes: string[] }[] };
    const [p] = out.predictions;
    assert.equal(p.top.length, 3);
    assert.ok(p.top[0].probability >= p.top[1].probability && p.top[1].probability >= p.top[2].probability);
    assert.ok(p.top.every((c) => /^[0-9]$/.test(c.class)));
    assert.deepEqual(p.notes, [
      'converted from colour to grayscale (luminance)',
      'inverted (the training images are light on dark)',
      'resized from 40×30 to 28×28 (bilinear)',
    ]);
    // The model saved with --save carries the same pipeline and gives the same answer.
    const bySaved = runConvlab(['predict', join(dir, 'saved'), join(dir, 'photo.png'), '--json', '--top', '3']);
    assert.deepEqual(JSON.parse(bySaved.out).predictions, out.predictions);
    const text = convlab('predict', '1', join(dir, 'photo.png'));
    assert.match(text.out, /photo\.png: \d [0-9.]+%, \d [0-9.]+%, \d [0-9.]+% {2}\(converted from colour/);
  });

  test("evaluate --image records the feature maps of an image file, fitted by the trial's input pipeline", () => {
    writeFileSync(join(dir, 'photo.png'), photo());
    const r = convlab('evaluate', '1', '--feature-maps', '0,1', '--image', join(dir, 'photo.png'));
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /feature maps of .*photo\.png:\n {2}converted from colour/);
    assert.match(r.out, /recorded inputs \S+ \[1, 32, 32, 1\]/);
    assert.match(r.out, /recorded feature_maps \S+ \[1, \d+, \d+, \d+\]/);
    assert.doesNotMatch(r.out, /split \(/, 'no split was evaluated');
    const fig = convlab('plot', 'feature-maps', '1', '--out', join(dir, 'photo-maps.png'));
    assert.equal(fig.code, 0, fig.err);
    for (const [args, message] of [
      [['--image', join(dir, 'photo.png')], /--image: feature maps of an image need the layers too/],
      [['--feature-maps', '0', '--image', join(dir, 'photo.png'), '--samples', '2'], /--samples: .* leave --samples out/],
      [['--feature-maps', 'nosuch', '--image', join(dir, 'photo.png')], /--feature-maps: .*nosuch/],
      [['--feature-maps', '0', '--image', join(dir, 'none.png')], /none\.png: cannot read the image \(ENOENT\)/],
    ] as [string[], RegExp][]) {
      const bad = convlab('evaluate', '1', ...args);
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.err}`);
      assert.match(bad.err, message);
      assert.doesNotMatch(bad.err, /at .*\.js:\d+/);
    }
  });

  test('bad input is exit 2 with the problem named', () => {
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    writeFileSync(join(dir, 'cut.png'), photo().subarray(0, 60));
    const s = new SqliteStore(store);
    const e = s.upsertExperiment('pending', {}, null);
    const [t] = s.addTrials(e.id, [{ key: 'p', label: 'p', group: 'p', variant: null, values: {}, repeat: 0, seed: 0, config: {} }]);
    s.close();
    const cases: [string[], RegExp][] = [
      [['evaluate', '999'], /no trial 999 in/],
      [['evaluate', String(t.id)], new RegExp(`trial #${t.id} has no saved weights \\(it is pending\\)`)],
      [['evaluate', '1', '--split', 'dev'], /--split dev: expected train, validation or test/],
      [['evaluate', '1', '--time-difference'], /evaluate\.time_difference: needs the clocks dataset/],
      [['evaluate', '1', '--feature-maps', 'nosuch'], /evaluate\.feature_maps\.layers\[0\]: no layer "nosuch"/],
      [['predict', '1', join(dir, 'notes.txt')], /notes\.txt: unreadable image: not a PNG or JPEG/],
      [['predict', '1', join(dir, 'cut.png')], /cut\.png: unreadable image/],
      [['predict', '1', join(dir, 'none.png')], /none\.png: cannot read the image \(ENOENT\)/],
      [['predict', join(dir, 'nowhere'), join(dir, 'photo.png')], /nowhere: not a saved model folder/],
      [['predict', '1', join(dir, 'photo.png'), '--top', '0'], /--top: expected a positive integer/],
    ];
    for (const [args, message] of cases) {
      const r = convlab(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message, args.join(' '));
      assert.doesNotMatch(r.err, /at .*\.js:\d+/);
    }
  });
});
