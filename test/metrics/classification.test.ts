/** Confusion matrices, the classification report and dummy baselines, against hand-computed values. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Random } from '../../src/engine/index.js';
import { classificationReport, confusionMatrix, dummyPredictions, formatReport, normalizeConfusion } from '../../src/metrics/index.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

describe('confusion matrix and classification report', () => {
  // 3 classes; class 2 is never predicted.
  const yTrue = [0, 0, 0, 1, 1, 2, 2, 2];
  const yPred = [0, 0, 1, 1, 0, 0, 1, 1];
  const m = confusionMatrix(yTrue, yPred, 3);

  test('counts by true row and predicted column, including a class never predicted', () => {
    assert.deepEqual(m, [
      [2, 1, 0],
      [1, 1, 0],
      [1, 2, 0],
    ]);
    assert.deepEqual(normalizeConfusion(m, 'true')[0], [2 / 3, 1 / 3, 0]);
    assert.deepEqual(
      normalizeConfusion(m, 'pred').map((r) => r[2]),
      [0, 0, 0],
      'an empty column stays 0',
    );
    close(normalizeConfusion(m, 'all')[2][1], 2 / 8, 'all');
    assert.throws(() => confusionMatrix([0, 3], [0, 0], 3), /true label 3 at 1 is not in 0\.\.2/);
  });

  test('precision, recall, F1 and support per class, with macro, weighted and micro averages', () => {
    const r = classificationReport(m, ['a', 'b', 'c']);
    // a: tp 2, predicted 4, support 3 → p 0.5, r 2/3, f1 4/7. b: tp 1, predicted 4, support 2 → p 0.25, r 0.5, f1 1/3.
    // c: never predicted → p 0, r 0, f1 0.
    close(r.classes[0].precision, 0.5, 'p(a)');
    close(r.classes[0].recall, 2 / 3, 'r(a)');
    close(r.classes[0].f1, 4 / 7, 'f1(a)');
    close(r.classes[1].f1, 1 / 3, 'f1(b)');
    assert.deepEqual([r.classes[2].precision, r.classes[2].recall, r.classes[2].f1, r.classes[2].support], [0, 0, 0, 3]);
    close(r.accuracy, 3 / 8, 'accuracy');
    close(r.macro.f1, (4 / 7 + 1 / 3) / 3, 'macro f1');
    close(r.weighted.f1, (3 * (4 / 7) + 2 * (1 / 3)) / 8, 'weighted f1');
    close(r.micro.f1, 3 / 8, 'micro f1');
    const text = formatReport(r);
    assert.match(text, /precision +recall +f1-score +support/);
    assert.match(text, /^ +a +0\.5000 +0\.6667 +0\.5714 +3$/m);
    assert.match(text, /^ +macro avg /m);
  });
});

describe('dummy baselines', () => {
  const balanced = Int32Array.from({ length: 1000 }, (_, i) => i % 10);
  test('most_frequent on a balanced 10-class test set: accuracy 0.10 and macro-F1 ≈ 0.018 (as a CIFAR-10 study reports)', () => {
    const pred = dummyPredictions('most_frequent', balanced, 1000, 10, new Random(0));
    assert.ok(
      pred.every((p) => p === 0),
      'ties go to the lowest label',
    );
    const r = classificationReport(confusionMatrix(balanced, pred, 10));
    close(r.accuracy, 0.1, 'accuracy');
    assert.equal(r.macro.f1.toFixed(3), '0.018');
  });
  test('stratified follows the training proportions and uniform covers every class, both seeded', () => {
    const skewed = Int32Array.from({ length: 1000 }, (_, i) => (i < 800 ? 1 : 2));
    const s = dummyPredictions('stratified', skewed, 10000, 3, new Random(1));
    const share = s.reduce((a, p) => a + (p === 1 ? 1 : 0), 0) / s.length;
    assert.ok(Math.abs(share - 0.8) < 0.02, `share ${share}`);
    assert.ok(!s.includes(0));
    assert.deepEqual(s, dummyPredictions('stratified', skewed, 10000, 3, new Random(1)));
    const u = dummyPredictions('uniform', skewed, 3000, 3, new Random(2));
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(u.filter((p) => p === c).length / 3000 - 1 / 3) < 0.03);
  });
});
