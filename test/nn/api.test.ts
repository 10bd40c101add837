/**
 * The API as a Keras user's hands expect it: tensors from nested lists, get/set weights with shapes checked,
 * calling a layer on real tensors in training or inference mode, and BatchNormalization's channels axis by index.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mul, sum, tensor } from '../../src/engine/ops.js';
import { SGD } from '../../src/train/optimizers/sgd.js';
import { setSeed } from '../../src/engine/random.js';
import { Tensor, valueAndGrad } from '../../src/engine/tensor.js';
import { BatchNormalization, Dense, Dropout, Flatten, Input, Sequential } from '../../src/nn/index.js';

describe('the TypeScript API', () => {
  test('tensor() takes nested lists, infers and checks the shape', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual([...t.data], [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(tensor([[[1], [2]]]).shape, [1, 2, 1]);
    assert.throws(() => tensor([[1, 2], [3]]), /values\[1\] has 1 entries, expected a list of 2 \(the lists are not rectangular\)/);
    assert.throws(
      () =>
        tensor(
          [
            [1, 2],
            [3, 4],
          ],
          [3],
        ),
      /do not fill shape/,
    );
    assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 values do not fill shape/);
  });

  test('getWeights/setWeights copy out and check shapes; an unbuilt layer says to build it first', () => {
    setSeed(1);
    const dense = new Dense({ units: 2 });
    assert.throws(
      () =>
        dense.setWeights([
          tensor([
            [1, 2],
            [3, 4],
            [5, 6],
          ]),
          tensor([0, 0]),
        ]),
      /has no weights yet: build it first/,
    );
    dense.build([null, 3]);
    const [kernel, bias] = dense.getWeights();
    assert.deepEqual(kernel.shape, [3, 2]);
    assert.deepEqual(bias.shape, [2]);
    kernel.data[0] = 99;
    assert.notEqual(dense.getWeights()[0].data[0], 99, 'getWeights returns copies');
    dense.setWeights([
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      [0.5, -0.5],
    ]);
    const y = dense.apply(tensor([[1, 2, 3]]));
    assert.deepEqual([...y.data], [4.5, 4.5]);
    assert.throws(
      () =>
        dense.setWeights([
          tensor([
            [1, 2, 3],
            [4, 5, 6],
          ]),
          tensor([0, 0]),
        ]),
      /array 0 has shape \[2, 3\], weight dense.*\/kernel has shape \[3, 2\]/,
    );
    assert.throws(
      () =>
        dense.setWeights([
          tensor([
            [1, 2],
            [3, 4],
            [5, 6],
          ]),
        ]),
      /expected 2 arrays/,
    );
  });

  test("a model's weights round-trip through getWeights/setWeights into another model of the same shape", () => {
    setSeed(2);
    const make = () =>
      new Sequential([
        Input({ shape: [2, 2, 1] }).layer,
        new Flatten(),
        new Dense({ units: 3, activation: 'relu' }),
        new Dense({ units: 2 }),
      ]);
    const a = make();
    setSeed(3);
    const b = make();
    const x = tensor([
      [
        [[1], [2]],
        [[3], [4]],
      ],
    ]);
    assert.notDeepEqual([...(a.predict(x) as Tensor).data], [...(b.predict(x) as Tensor).data]);
    b.setWeights(a.getWeights());
    assert.deepEqual([...(a.predict(x) as Tensor).data], [...(b.predict(x) as Tensor).data]);
  });

  test('a layer called on real tensors computes, in inference mode unless training: true', () => {
    setSeed(4);
    const drop = new Dropout({ rate: 0.5 });
    const x = new Tensor(new Float32Array(1000).fill(1), [10, 100]);
    assert.deepEqual([...drop.apply(x).data], [...x.data], 'inference: unchanged');
    const trained = drop.apply(x, { training: true });
    const zeros = [...trained.data].filter((v) => v === 0).length;
    assert.ok(zeros > 400 && zeros < 600, `about half dropped: ${zeros}`);
    assert.ok(
      [...trained.data].every((v) => v === 0 || v === 2),
      'kept values scaled by 1 / (1 - rate)',
    );
  });

  test('BatchNormalization takes the channels axis as -1 or by its index, and refuses another axis', () => {
    const ok = new Sequential([Input({ shape: [4, 4, 3] }).layer, new BatchNormalization({ axis: 3 })]);
    assert.equal(ok.countParams(), 4 * 3);
    assert.equal((ok.layers[0].getConfig() as { axis: number }).axis, 3);
    assert.throws(
      () => new Sequential([Input({ shape: [4, 4, 3] }).layer, new BatchNormalization({ axis: 1 })]),
      /axis 1 of a rank-4 input is not the last \(channels\) axis; convlab normalizes the last axis: give -1 or 3/,
    );
  });

  test('valueAndGrad gives fresh gradients each call (no accumulation); applyGradients takes (gradient, weight) pairs', () => {
    const w = new Tensor(Float32Array.from([1, 2, 3]), [3], true);
    const f = () => sum(mul(w, w));
    const first = valueAndGrad(f, [w]);
    const second = valueAndGrad(f, [w]);
    assert.equal(first.value, 14);
    assert.deepEqual([...first.grads[0].data], [2, 4, 6]);
    assert.deepEqual([...second.grads[0].data], [2, 4, 6], 'not 4, 8, 12: nothing accumulated');
    assert.equal(w.grad, null);
    assert.throws(() => valueAndGrad(() => mul(w, w), [w]), /expected a scalar/);
    setSeed(5);
    const dense = new Dense({ units: 1, useBias: false });
    dense.build([null, 3]);
    dense.setWeights([[[1], [1], [1]]]);
    new SGD({ learningRate: 0.5 }).applyGradients([[tensor([[2], [0], [-2]]), dense.weights[0]]]);
    assert.deepEqual([...dense.getWeights()[0].data], [0, 1, 2]);
  });
});
