/** Top-k accuracy, R² and the clocks' common-sense time difference against hand-computed values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../../src/engine/index.js';
import { getMetric, timeDifferences } from '../../src/metrics/index.js';

const t = (v: number[], shape: number[]) => new Tensor(Float32Array.from(v), shape);

test('top-k accuracy counts a label among the k highest scores', () => {
  const pred = t([0.1, 0.5, 0.3, 0.1, /**/ 0.6, 0.2, 0.1, 0.1, /**/ 0.25, 0.25, 0.3, 0.2], [3, 4]);
  const labels = t([2, 3, 0], [3]);
  const top2 = getMetric('top_2_accuracy', 'sparse_categorical_crossentropy', 4);
  top2.update(labels, pred);
  // Row 0: label 2 is second highest → hit. Row 1: label 3 ties for last → miss. Row 2: label 0 ties for second → hit.
  assert.equal(top2.result(), 2 / 3);
  const top1 = getMetric('top_1_accuracy', 'sparse_categorical_crossentropy', 4);
  top1.update(labels, pred);
  assert.equal(top1.result(), 0);
});

test('R² over everything seen, across batches', () => {
  const r2 = getMetric('r2', 'mse', 1);
  r2.update(t([1, 2], [2, 1]), t([1.5, 2], [2, 1]));
  r2.update(t([3, 4], [2, 1]), t([3, 3.5], [2, 1]));
  // SS_res = 0.25 + 0 + 0 + 0.25 = 0.5; mean 2.5, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5 → R² = 0.9.
  assert.ok(Math.abs(r2.result() - 0.9) < 1e-9);
});

test('common-sense time difference wraps around the 12-hour dial', () => {
  // 11:00 predicted for 1:00 is 2 hours (120 minutes), not 10; 12:10 for 11:50 is 20 minutes.
  const truth = t([60 / 720, 710 / 720], [2, 1]);
  const pred = t([660 / 720, 10 / 720], [2, 1]);
  const d = timeDifferences(truth, pred);
  assert.ok(Math.abs(d[0] - 120) < 1e-3 && Math.abs(d[1] - 20) < 1e-3);
  const m = getMetric('time_difference_minutes', 'mse', 1);
  m.update(truth, pred);
  assert.ok(Math.abs(m.result() - 70) < 1e-3);
});

test("feature maps come from the model's own layers: shapes per layer, and the last one equals the prediction", async () => {
  const E = await import('../../src/engine/index.js');
  const L = await import('../../src/nn/index.js');
  E.setSeed(2);
  L.resetNames();
  const m = new L.Sequential([
    L.Input({ shape: [6, 6, 1] }).layer,
    new L.Conv2D({ filters: 3, kernelSize: 3, activation: 'relu', name: 'c1' }),
    new L.MaxPooling2D(),
    new L.Flatten(),
    new L.Dense({ units: 2, activation: 'softmax' }),
  ]);
  const x = new E.Tensor(
    Float32Array.from({ length: 2 * 36 }, (_, i) => Math.sin(i)),
    [2, 6, 6, 1],
  );
  const [conv, pool, last] = m.featureMaps(['c1', 1, 3], x);
  assert.deepEqual(conv.shape, [2, 4, 4, 3]);
  assert.deepEqual(pool.shape, [2, 2, 2, 3]);
  assert.deepEqual([...last.data], [...m.predictBatch(x)[0].data]);
  // Shared weights: changing the model's kernel changes the feature maps.
  m.getLayer('c1').weights[0].value.data.fill(0);
  assert.ok(m.featureMaps(['c1'], x)[0].data.every((v) => v === Math.max(0, m.getLayer('c1').weights[1].value.data[0])));
  assert.throws(() => m.featureMaps(['nope'], x), /has no layer "nope"/);
});
