/** Looking inside models: feature maps and filters as arrays and pictures, and the clocks' time differences. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PNG } from 'pngjs';
import { clockTargets, type ClockTarget } from '../../src/data/clocks.js';
import { setSeed, Tensor } from '../../src/engine/index.js';
import { featureMapArtifacts, filterArtifacts, timeDifferenceEvaluation } from '../../src/lab/inspect.js';
import { timeDifferenceSummary } from '../../src/metrics/index.js';
import { BatchNormalization, Conv2D, Dense, Flatten, Input, MaxPooling2D, resetNames, Sequential } from '../../src/nn/index.js';
import type { Model } from '../../src/nn/model.js';
import { writeArtifacts } from '../../src/lab/artifacts.js';
import { encodeNpy } from '../../src/lab/npy.js';
import { tensorSource } from '../../src/data/source.js';
import { loadDataset } from '../../src/data/spec.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-inspect-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The regularization lab's model 3 with batch normalization, for 32×32 RGB images. */
function regularizationLabModel3(): Model {
  resetNames();
  setSeed(4);
  return new Sequential([
    Input({ shape: [32, 32, 3] }).layer,
    new Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }),
    new MaxPooling2D({ poolSize: 2 }),
    new Conv2D({ filters: 64, kernelSize: 3, activation: 'relu' }),
    new BatchNormalization(),
    new Flatten(),
    new Dense({ units: 100, activation: 'relu' }),
    new BatchNormalization(),
    new Dense({ units: 10, activation: 'softmax' }),
  ]);
}

const images = (n: number) =>
  new Tensor(
    Float32Array.from({ length: n * 32 * 32 * 3 }, (_, i) => (Math.sin(i * 0.37) + 1) / 2),
    [n, 32, 32, 3],
  );

describe('feature maps and filters', () => {
  test("feature-map shapes for every layer of the regularization lab's model 3, for the first samples of a split", () => {
    const m = regularizationLabModel3();
    const source = tensorSource(images(5), new Tensor(new Float32Array(5), [5]));
    const layers = m.layers.map((_, i) => i);
    const a = featureMapArtifacts(m, source, layers, 2);
    assert.deepEqual(
      a.map((x) => [x.kind, x.layer, x.shape]),
      [
        ['inputs', m.inputNames[0], [2, 32, 32, 3]],
        ['feature_maps', 'conv2d', [2, 30, 30, 64]],
        ['feature_maps', 'max_pooling2d', [2, 15, 15, 64]],
        ['feature_maps', 'conv2d_1', [2, 13, 13, 64]],
        ['feature_maps', 'batch_normalization', [2, 13, 13, 64]],
        ['feature_maps', 'flatten', [2, 10816]],
        ['feature_maps', 'dense', [2, 100]],
        ['feature_maps', 'batch_normalization_1', [2, 100]],
        ['feature_maps', 'dense_1', [2, 10]],
      ],
    );
    // The same layer named twice (by index and by name) is taken once; the last layer equals the prediction.
    const twice = featureMapArtifacts(m, source, [0, 'conv2d', 7], 2);
    assert.equal(twice.length, 3);
    assert.deepEqual([...twice[2].data], [...m.predictBatch(images(2))[0].data]);
  });

  test('filters are the Conv2D kernels themselves; other layers are refused by name', () => {
    const m = regularizationLabModel3();
    const f = filterArtifacts(m, 'all');
    assert.deepEqual(
      f.map((x) => [x.layer, x.shape]),
      [
        ['conv2d', [3, 3, 3, 64]],
        ['conv2d_1', [3, 3, 64, 64]],
      ],
    );
    assert.deepEqual([...f[0].data], [...m.getLayer('conv2d').weights[0].value.data]);
    assert.throws(() => filterArtifacts(m, ['dense']), /layer 'dense' is a Dense, not a Conv2D/);
  });

  test('artifacts are written as .npy arrays and PNG grids of the expected size', () => {
    const m = regularizationLabModel3();
    const source = tensorSource(images(1), new Tensor(new Float32Array(1), [1]));
    const written = writeArtifacts(dir, [...featureMapArtifacts(m, source, [0, 5], 1), ...filterArtifacts(m, ['conv2d'])]);
    const files = written.flatMap((w) => w.files);
    for (const f of files) assert.ok(existsSync(f), f);
    // 64 channels of 30×30 maps: an 8 × 8 grid of tiles.
    const conv = PNG.sync.read(readFileSync(join(dir, 'feature_maps', 'conv2d_sample0.png')));
    const zoom = Math.round(48 / 30);
    assert.equal(conv.width, 8 * (30 * zoom + 2) + 2);
    // Filters of an RGB layer: one row per input channel, one column per filter.
    const filters = PNG.sync.read(readFileSync(join(dir, 'filters', 'conv2d.png')));
    assert.ok(filters.width > filters.height * 10, `${filters.width}×${filters.height}`);
    const npy = readFileSync(join(dir, 'feature_maps', 'dense.npy'));
    assert.equal(npy.subarray(0, 6).toString('latin1'), '\x93NUMPY');
    assert.match(npy.toString('latin1', 10, 10 + npy.readUInt16LE(8)), /'shape': \(1, 100\)/);
    assert.equal(npy.length, 10 + npy.readUInt16LE(8) + 100 * 4);
  });

  test('npy headers are padded to 64 bytes and 1-D shapes keep their comma', () => {
    const b = encodeNpy(Float32Array.of(1, 2, 3), [3]);
    const len = b.readUInt16LE(8);
    assert.equal((10 + len) % 64, 0);
    assert.match(b.toString('latin1', 10, 10 + len), /'shape': \(3,\), \}\s*\n$/);
    assert.equal(b.readFloatLE(10 + len + 8), 3);
    assert.throws(() => encodeNpy(Float32Array.of(1, 2), [3]), /holds 3 values, got 2/);
  });
});

describe('clocks: common-sense time difference', () => {
  /** Target tensors for times (minutes after 12:00) under a scheme. */
  function targets(scheme: ClockTarget, times: number[]): Tensor[] {
    const layout = clockTargets(scheme);
    const out = layout.widths.map((w) => new Float32Array(times.length * Math.max(1, w)));
    times.forEach((t, r) => layout.fill(Math.floor(t / 60), [t % 60], out, r));
    return layout.widths.map((w, i) => new Tensor(out[i], w ? [times.length, w] : [times.length]));
  }

  test('every full-time scheme decodes its own targets back to the time (to its resolution)', () => {
    const times = [0, 3.5, 59.9, 61, 359, 360, 419.5, 659, 719.9];
    const resolution: Partial<Record<ClockTarget, number>> = {
      classes24: 15,
      classes720: 0.5,
      regression: 1e-3,
      periodic: 1e-3,
      hour_minute: 1e-3,
    };
    for (const [scheme, tol] of Object.entries(resolution) as [ClockTarget, number][]) {
      const ys = targets(scheme, times);
      const decode = clockTargets(scheme).minutes!;
      times.forEach((t, i) => {
        const rows = ys.map((y) => y.data.subarray(i * (y.size / y.shape[0]), (i + 1) * (y.size / y.shape[0])));
        const d = Math.abs(decode(rows) - t) % 720;
        assert.ok(Math.min(d, 720 - d) <= tol + 1e-3, `${scheme}: ${t} decoded as ${decode(rows)}`);
      });
    }
    assert.equal(clockTargets('hour').minutes, null);
    assert.equal(clockTargets('minute').minutes, null);
  });

  test("a model's predictions are decoded by the scheme: class scores by their highest class, and the difference wraps the dial", () => {
    // A stand-in "model" that predicts hour 11 with minute 0.5 for everything: 11:30.
    resetNames();
    const m = new Sequential([Input({ shape: [1] }).layer, new Dense({ units: 12, activation: 'softmax', name: 'hour' })]);
    const hourHead = m.getLayer('hour');
    hourHead.weights[0].value.data.fill(0);
    hourHead.weights[1].value.data.fill(0);
    hourHead.weights[1].value.data[11] = 5;
    const layout = clockTargets('hour_minute');
    const predict = {
      predictBatch: (x: Tensor | Tensor[]) => [
        m.predictBatch(x)[0],
        new Tensor(new Float32Array((x as Tensor[])[0].shape[0]).fill(0.5), [(x as Tensor[])[0].shape[0]]),
      ],
    } as unknown as Model;
    const times = [0, 690, 30, 360]; // 12:00, 11:30, 12:30, 6:00
    const source = tensorSource(new Tensor(new Float32Array(4), [4, 1]), targets('hour_minute', times));
    const s = timeDifferenceEvaluation(predict, source, layout);
    assert.deepEqual(s.count, 4);
    assert.ok(Math.abs(s.mean - (30 + 0 + 60 + 330) / 4) < 1e-3, `mean ${s.mean}`);
    assert.ok(Math.abs(s.max - 330) < 1e-3);
  });

  test('the difference is measured from the exact time shown, not from the class middle a 24-class label rounds it to', async () => {
    const data = await loadDataset('clocks', { count: 40, size: [16, 16], target: 'classes24', seed: 3 });
    const idx = Array.from({ length: data.test.size }, (_, i) => i);
    const { y, truth } = data.test.batch(idx);
    assert.ok(truth, 'the clocks source gives each sample its exact time');
    // A stand-in that predicts each sample's own class: a perfect classifier, still off by up to 15 minutes.
    const oneHot = new Float32Array(idx.length * 24);
    idx.forEach((i) => (oneHot[i * 24 + y[0].data[i]] = 1));
    const perfect = {
      predictBatch: (x: Tensor[]) => [new Tensor(oneHot.slice(0, x[0].shape[0] * 24), [x[0].shape[0], 24])],
    } as unknown as Model;
    const s = timeDifferenceEvaluation(perfect, data.test, data.targetLayout!);
    const expected = idx.map((i) => Math.abs(truth![i] - (y[0].data[i] * 30 + 15)));
    assert.ok(Math.abs(s.mean - expected.reduce((a, b) => a + b, 0) / idx.length) < 1e-6, `mean ${s.mean}`);
    assert.ok(s.mean > 3 && s.max <= 15, `a half-hour class is up to 15 minutes off (mean ${s.mean}, max ${s.max})`);
  });

  test('the summary gives mean, median and 90th percentile (as numpy computes them), shares within 5/15/30/60 minutes and a 5-minute histogram', () => {
    const s = timeDifferenceSummary([0, 2, 4, 10, 20, 40, 100, 200, 300, 360]);
    assert.equal(s.count, 10);
    assert.ok(Math.abs(s.mean - 103.6) < 1e-9);
    assert.equal(s.median, 30, 'between 20 and 40');
    assert.ok(Math.abs(s.p90 - 306) < 1e-9, 'numpy.percentile(d, 90) = 306');
    assert.equal(s.max, 360);
    assert.deepEqual(s.within, { '5': 0.3, '15': 0.4, '30': 0.5, '60': 0.6 });
    assert.equal(s.histogram.length, 72);
    assert.equal(s.histogram[0], 3);
    assert.equal(s.histogram[71], 1, '360 falls in the last bin');
    assert.equal(
      s.histogram.reduce((a, b) => a + b, 0),
      10,
    );
  });
});
