/** Every loss: hand-computed values, finite-difference gradients, and the stable logits path. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import { getLoss, lossNames } from '../../src/nn/index.js';
import { assertClose, checkGradients, randomTensor } from '../helpers/gradcheck.js';

const t = (v: number[], shape?: number[]) => E.tensor(v, shape);

describe('loss values (per sample) match hand computation', () => {
  const cases: [string, E.Tensor, E.Tensor, number[]][] = [
    [
      'categorical_crossentropy',
      t([0, 1, 0, 1, 0, 0], [2, 3]),
      t([0.2, 0.7, 0.1, 0.5, 0.25, 0.25], [2, 3]),
      [-Math.log(0.7), -Math.log(0.5)],
    ],
    ['sparse_categorical_crossentropy', t([1, 0]), t([0.2, 0.7, 0.1, 0.5, 0.25, 0.25], [2, 3]), [-Math.log(0.7), -Math.log(0.5)]],
    ['binary_crossentropy', t([1, 0], [2, 1]), t([0.8, 0.3], [2, 1]), [-Math.log(0.8), -Math.log(0.7)]],
    ['mse', t([1, 2], [2, 1]), t([1.5, 1], [2, 1]), [0.25, 1]],
    ['mae', t([1, 2], [2, 1]), t([1.5, 1], [2, 1]), [0.5, 1]],
    ['huber', t([0, 0, 0], [3, 1]), t([0.5, 1, 2], [3, 1]), [0.125, 0.5, 1.5]],
    // Period 1: an error of 0.9 is one of 0.1 the other way round; half a period is the farthest, 0.5² (the arc form,
    // the default) or the chord's (1/π)².
    ['cyclic_mse', t([0.05, 0.95, 0], [3, 1]), t([0.95, 0.05, 0.5], [3, 1]), [0.01, 0.01, 0.25]],
    [
      '{"cyclic_mse":{"form":"chord"}}',
      t([0.05, 0.95, 0], [3, 1]),
      t([0.95, 0.05, 0.5], [3, 1]),
      [(Math.sin(Math.PI * 0.9) / Math.PI) ** 2, (Math.sin(Math.PI * 0.9) / Math.PI) ** 2, 1 / Math.PI ** 2],
    ],
    ['poisson', t([1, 0], [2, 1]), t([2, 0.5], [2, 1]), [2 - Math.log(2), 0.5]],
    ['kl_divergence', t([0.5, 0.5], [1, 2]), t([0.25, 0.75], [1, 2]), [0.5 * Math.log(2) + 0.5 * Math.log(0.5 / 0.75)]],
    ['cosine_similarity', t([1, 0], [1, 2]), t([1, 1], [1, 2]), [-Math.SQRT1_2]],
  ];
  for (const [name, yTrue, yPred, expected] of cases) {
    test(name, () =>
      assertClose(getLoss(name.startsWith('{') ? JSON.parse(name) : name).perSample(yTrue, yPred).data, expected, 2e-6, name),
    );
  }
});

describe('loss gradients match finite differences', () => {
  const probs = () => {
    const p = E.softmax(randomTensor([3, 4], 5)).detach();
    p.requiresGrad = true;
    return p;
  };
  const oneHot = t([0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0], [3, 4]);
  const cases: [string, () => E.Tensor, E.Tensor][] = [
    ['categorical_crossentropy', probs, oneHot],
    ['sparse_categorical_crossentropy', probs, t([1, 3, 0])],
    ['kl_divergence', probs, E.softmax(randomTensor([3, 4], 6)).detach()],
    ['binary_crossentropy', () => randomTensor([3, 2], 7, 0.1, 0.9), t([1, 0, 0, 1, 1, 1], [3, 2])],
    ['mse', () => randomTensor([3, 2], 8), randomTensor([3, 2], 9).detach()],
    ['mae', () => randomTensor([3, 2], 8), randomTensor([3, 2], 19).detach()],
    ['huber', () => randomTensor([3, 2], 8, -3, 3), randomTensor([3, 2], 10).detach()],
    ['{"cyclic_mse":{"form":"chord"}}', () => randomTensor([3, 2], 8, -1, 2), randomTensor([3, 2], 20, 0, 1).detach()],
    ['poisson', () => randomTensor([3, 2], 11, 0.5, 2), randomTensor([3, 2], 12, 0, 3).detach()],
    ['cosine_similarity', () => randomTensor([3, 4], 13), randomTensor([3, 4], 14).detach()],
  ];
  for (const [name, makePred, yTrue] of cases) {
    test(name, () => {
      const p = makePred();
      checkGradients(() => getLoss(name.startsWith('{') ? JSON.parse(name) : name).perSample(yTrue, p), [p]);
    });
  }
  test('cross-entropy from logits (from_logits and through softmax) has correct gradients', () => {
    const z = randomTensor([3, 4], 15, -3, 3);
    checkGradients(() => getLoss({ categorical_crossentropy: { from_logits: true } }).perSample(oneHot, z), [z]);
    checkGradients(() => getLoss('categorical_crossentropy').perSample(oneHot, E.softmax(z)), [z]);
    checkGradients(
      () => getLoss({ binary_crossentropy: { from_logits: true } }).perSample(t([1, 0, 1], [3, 1]), E.slice(z, [0, 0], [3, 1])),
      [z],
    );
  });
});

describe('numerical stability and errors', () => {
  test('cross-entropy through a softmax stays finite and exact for extreme logits', () => {
    const z = t([0, 200, -200, 0], [2, 2]);
    const loss = getLoss('categorical_crossentropy').perSample(t([1, 0, 0, 1], [2, 2]), E.softmax(z));
    assertClose(loss.data, [200, 0], 1e-4);
    // From probabilities alone Keras clips at 1e-7: the loss is capped at -log(1e-7).
    const clipped = getLoss('categorical_crossentropy').perSample(t([1, 0], [1, 2]), t([0, 1], [1, 2]));
    assertClose(clipped.data, [-Math.log(1e-7)], 1e-3);
  });
  test('the logits path and the clipped path agree for moderate probabilities', () => {
    const z = randomTensor([4, 5], 16).detach();
    const y = E.tensor(
      Array.from({ length: 20 }, (_, i) => (i % 6 === 0 ? 1 : 0)),
      [4, 5],
    );
    const viaLogits = getLoss('categorical_crossentropy').perSample(y, E.softmax(z));
    const viaProbs = getLoss('categorical_crossentropy').perSample(y, E.softmax(z).detach());
    assertClose(viaLogits.data, viaProbs.data, 1e-5);
  });
  test('label smoothing mixes the targets with the uniform distribution', () => {
    const l = getLoss({ categorical_crossentropy: { label_smoothing: 0.2 } }).perSample(t([1, 0], [1, 2]), t([0.5, 0.5], [1, 2]));
    assertClose(l.data, [Math.log(2)], 1e-6);
  });
  test('out-of-range sparse labels, mismatched shapes and unknown names are rejected', () => {
    assert.throws(() => getLoss('sparse_categorical_crossentropy').perSample(t([3]), t([0.5, 0.5], [1, 2])), /label 3 .* out of range/);
    assert.throws(() => getLoss('categorical_crossentropy').perSample(t([1]), t([0.5, 0.5], [1, 2])), /one-hot/);
    assert.throws(() => getLoss('mse').perSample(t([1, 2, 3]), t([0.5, 0.5], [1, 2])), /do not match/);
    assert.throws(() => getLoss('crossentropy'), /unknown loss 'crossentropy'/);
    assert.ok(lossNames.includes('mse'));
  });
  test('a user function works as a loss', () => {
    const l = getLoss((y: E.Tensor, p: E.Tensor) => E.sum(E.abs(E.sub(y, p)), -1));
    assertClose(l.perSample(t([1, 2], [1, 2]), t([0, 0], [1, 2])).data, [3]);
  });
});

describe('calling a loss reduces over the batch, as a Keras loss object does', () => {
  const yTrue = t([1, 2], [2, 1]);
  const yPred = t([1.5, 1], [2, 1]);
  test('the default is the mean over the batch; sum and none as asked', () => {
    assertClose(getLoss('mse')(yTrue, yPred).data, [0.625]);
    assert.equal(getLoss('mse')(yTrue, yPred).rank, 0);
    assertClose(getLoss({ mse: { reduction: 'sum' } })(yTrue, yPred).data, [1.25]);
    const none = getLoss({ mean_squared_error: { reduction: 'none' } })(yTrue, yPred);
    assert.deepEqual(none.shape, [2]);
    assertClose(none.data, [0.25, 1]);
  });
  test('the cyclic squared error is the squared error for small errors and the same a whole period away', () => {
    const loss = getLoss({ cyclic_mean_squared_error: { period: 720 } });
    const near = loss.perSample(t([10], [1, 1]), t([13], [1, 1])).data[0];
    assertClose([near], [9], 1e-3);
    const wrapped = loss.perSample(t([715], [1, 1]), t([5], [1, 1])).data[0];
    assertClose([wrapped], [100], 1e-2);
    assert.equal(getLoss({ cyclic_mse: loss.config }).name, 'cyclic_mean_squared_error');
    assert.throws(() => getLoss({ cyclic_mse: { period: 0 } }), /period/);
  });
  test("the cyclic error's arc form (the default) is the squared distance the shorter way round, growing again past one turn", () => {
    const arc = getLoss({ cyclic_mean_squared_error: { period: 12, form: 'arc' } });
    const at = (target: number, prediction: number) => arc.perSample(t([target], [1, 1]), t([prediction], [1, 1])).data[0];
    assertClose([at(1, 3)], [4]);
    assertClose([at(1, 11)], [4], 1e-5); // 11 o'clock is two hours from 1, the other way round
    assertClose([at(11, 1)], [4], 1e-5);
    assertClose([at(1, 13)], [0], 1e-5); // one whole turn off reads the same time
    assertClose([at(1, 16)], [9], 1e-5); // past one turn it grows again, unlike the chord
    assertClose([at(1, 25)], [144], 1e-4);
    assert.deepEqual(arc.config, { period: 12, form: 'arc' });
    assert.deepEqual(getLoss('cyclic_mse').config, { period: 1, form: 'arc' });
    const chord = getLoss({ cyclic_mse: { period: 12, form: 'chord' } });
    assertClose([chord.perSample(t([1], [1, 1]), t([25], [1, 1])).data[0]], [0], 1e-4); // the chord never minds the turn
    assert.throws(() => getLoss({ cyclic_mse: { form: 'ring' } }), /form/);
  });
  test("the cyclic error's arc form has correct gradients on both sides of the wrap", () => {
    // Errors of -0.8, -0.3, 0.2, 0.7, 1.3 and -1.2 periods: away from the kinks at 0, ±0.5 and ±1.
    const yTrue = t([0.9, 0.5, 0.1, 0.2, 0.3, 0.6], [3, 2]).detach();
    const p = t([0.1, 0.2, 0.3, 0.9, 1.6, -0.6], [3, 2]);
    p.requiresGrad = true;
    checkGradients(() => getLoss({ cyclic_mse: { form: 'arc' } }).perSample(yTrue, p), [p]);
  });
  test('sample weights scale each sample; the mean still divides by the batch size', () => {
    assertClose(getLoss('mse')(yTrue, yPred, t([2, 0])).data, [0.25]);
    assertClose(getLoss({ mse: { reduction: 'sum' } })(yTrue, yPred, t([2, 0.5])).data, [1]);
    assert.throws(() => getLoss('mse')(yTrue, yPred, t([1, 1, 1])), /one weight per sample \(2\)/);
  });
  test('every loss takes a reduction, keeps it in its config, and rejects an unknown one', () => {
    for (const name of [
      'categorical_crossentropy',
      'binary_crossentropy',
      'huber',
      'poisson',
      'kl_divergence',
      'cosine_similarity',
      'mae',
    ]) {
      const loss = getLoss({ [name]: { reduction: 'sum' } });
      assert.equal(loss.reduction, 'sum', name);
      assert.equal(getLoss({ [name]: loss.config }).reduction, 'sum', `${name} config round trip`);
    }
    assert.equal(getLoss('mse').reduction, 'sum_over_batch_size');
    assert.deepEqual(getLoss('mse').config, {});
    assert.throws(() => getLoss({ mse: { reduction: 'mean_of_squares' } }), /reduction/);
  });
  test('a user function becomes a loss that averages what it returns', () => {
    const l = getLoss((y: E.Tensor, p: E.Tensor) => E.sum(E.abs(E.sub(y, p)), -1));
    assertClose(l(t([1, 2, 3, 4], [2, 2]), t([0, 0, 0, 0], [2, 2])).data, [5]);
    assert.equal(l.name, 'custom_loss');
  });
});
