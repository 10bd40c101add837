/** Every layer through the shared harness: shapes, weights, config round trip and gradients in both modes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Random, Tensor } from '../../src/engine/index.js';
import * as L from '../../src/nn/index.js';
import { assertClose } from '../helpers/gradcheck.js';
import { spacedTensor } from '../helpers/gradcheck.js';
import { runLayerTest } from '../helpers/layer_harness.js';

describe('layers: shapes, weights, config round trip and finite-difference gradients', () => {
  test('Dense x=[3,5] units=4 tanh', () =>
    runLayerTest({
      make: () => new L.Dense({ units: 4, activation: 'tanh' }),
      inputShapes: [[3, 5]],
      expectedOutputShape: [3, 4],
      trainableWeights: 2,
    }));
  test('Dense on rank-3 input x=[2,3,5], no bias', () =>
    runLayerTest({
      make: () => new L.Dense({ units: 2, useBias: false }),
      inputShapes: [[2, 3, 5]],
      expectedOutputShape: [2, 3, 2],
      trainableWeights: 1,
    }));
  test('Dense batch 1', () =>
    runLayerTest({
      make: () => new L.Dense({ units: 3, activation: 'sigmoid' }),
      inputShapes: [[1, 4]],
      expectedOutputShape: [1, 3],
      trainableWeights: 2,
    }));
  test('Conv2D x=[2,6,5,3] f=4 k=3 valid tanh', () =>
    runLayerTest({
      make: () => new L.Conv2D({ filters: 4, kernelSize: 3, activation: 'tanh' }),
      inputShapes: [[2, 6, 5, 3]],
      expectedOutputShape: [2, 4, 3, 4],
      trainableWeights: 2,
    }));
  test('Conv2D x=[1,7,7,2] f=3 k=3 s=2 same (batch 1)', () =>
    runLayerTest({
      make: () => new L.Conv2D({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }),
      inputShapes: [[1, 7, 7, 2]],
      expectedOutputShape: [1, 4, 4, 3],
      trainableWeights: 2,
    }));
  test('Conv2D x=[2,6,6,1] k=2 same (even kernel)', () =>
    runLayerTest({
      make: () => new L.Conv2D({ filters: 2, kernelSize: 2, padding: 'same' }),
      inputShapes: [[2, 6, 6, 1]],
      expectedOutputShape: [2, 6, 6, 2],
      trainableWeights: 2,
    }));
  test('Conv2D x=[1,8,8,2] k=[3,2] s=2 same, odd channels', () =>
    runLayerTest({
      make: () => new L.Conv2D({ filters: 5, kernelSize: [3, 2], strides: 2, padding: 'same' }),
      inputShapes: [[1, 8, 8, 2]],
      expectedOutputShape: [1, 4, 4, 5],
      trainableWeights: 2,
    }));
  test('Conv2D dilation 2', () =>
    runLayerTest({
      make: () => new L.Conv2D({ filters: 2, kernelSize: 3, dilationRate: 2 }),
      inputShapes: [[1, 7, 7, 2]],
      expectedOutputShape: [1, 3, 3, 2],
      trainableWeights: 2,
    }));
  test('MaxPooling2D x=[2,5,5,3] pool 2 (odd input)', () =>
    runLayerTest({
      make: () => new L.MaxPooling2D({ poolSize: 2 }),
      inputShapes: [[2, 5, 5, 3]],
      expectedOutputShape: [2, 2, 2, 3],
      input: (s, seed) => spacedTensor(s, seed),
    }));
  test('MaxPooling2D pool 3 s=2 same', () =>
    runLayerTest({
      make: () => new L.MaxPooling2D({ poolSize: 3, strides: 2, padding: 'same' }),
      inputShapes: [[1, 5, 5, 2]],
      expectedOutputShape: [1, 3, 3, 2],
      input: (s, seed) => spacedTensor(s, seed),
    }));
  test('AveragePooling2D pool 2', () =>
    runLayerTest({ make: () => new L.AveragePooling2D({ poolSize: 2 }), inputShapes: [[2, 4, 6, 3]], expectedOutputShape: [2, 2, 3, 3] }));
  test('AveragePooling2D pool 2 s=1 same', () =>
    runLayerTest({
      make: () => new L.AveragePooling2D({ poolSize: 2, strides: 1, padding: 'same' }),
      inputShapes: [[1, 3, 3, 2]],
      expectedOutputShape: [1, 3, 3, 2],
    }));
  test('GlobalAveragePooling2D', () =>
    runLayerTest({ make: () => new L.GlobalAveragePooling2D(), inputShapes: [[2, 3, 4, 5]], expectedOutputShape: [2, 5] }));
  test('GlobalMaxPooling2D keepdims', () =>
    runLayerTest({
      make: () => new L.GlobalMaxPooling2D({ keepdims: true }),
      inputShapes: [[2, 3, 4, 5]],
      expectedOutputShape: [2, 1, 1, 5],
      input: (s, seed) => spacedTensor(s, seed),
    }));
  test('ZeroPadding2D [[1,2],[0,1]]', () =>
    runLayerTest({
      make: () =>
        new L.ZeroPadding2D({
          padding: [
            [1, 2],
            [0, 1],
          ],
        }),
      inputShapes: [[2, 3, 3, 2]],
      expectedOutputShape: [2, 6, 4, 2],
    }));
  test('Flatten', () => runLayerTest({ make: () => new L.Flatten(), inputShapes: [[2, 3, 4, 2]], expectedOutputShape: [2, 24] }));
  test('Reshape to [-1, 4]', () =>
    runLayerTest({ make: () => new L.Reshape({ targetShape: [-1, 4] }), inputShapes: [[2, 3, 4]], expectedOutputShape: [2, 3, 4] }));
  test('Dropout rate 0.4 (same mask per seed)', () =>
    runLayerTest({ make: () => new L.Dropout({ rate: 0.4 }), inputShapes: [[4, 6]], expectedOutputShape: [4, 6] }));
  test('SpatialDropout2D rate 0.5', () =>
    runLayerTest({ make: () => new L.SpatialDropout2D({ rate: 0.5 }), inputShapes: [[2, 3, 3, 4]], expectedOutputShape: [2, 3, 3, 4] }));
  test('BatchNormalization on [4,3,3,2]', () =>
    runLayerTest({
      make: () => new L.BatchNormalization(),
      inputShapes: [[4, 3, 3, 2]],
      expectedOutputShape: [4, 3, 3, 2],
      trainableWeights: 2,
      nonTrainableWeights: 2,
    }));
  test('BatchNormalization on [6,5] without scale', () =>
    runLayerTest({
      make: () => new L.BatchNormalization({ scale: false }),
      inputShapes: [[6, 5]],
      expectedOutputShape: [6, 5],
      trainableWeights: 1,
      nonTrainableWeights: 2,
    }));
  test('Activation gelu', () =>
    runLayerTest({ make: () => new L.Activation({ activation: 'gelu' }), inputShapes: [[3, 4]], expectedOutputShape: [3, 4] }));
  test('ReLU with max_value, negative_slope and threshold', () =>
    runLayerTest({
      make: () => new L.ReLU({ maxValue: 0.5, negativeSlope: 0.1, threshold: 0.12 }),
      inputShapes: [[3, 5]],
      expectedOutputShape: [3, 5],
      input: (s, seed) => spacedTensor(s, seed, 0.07),
    }));
  test('LeakyReLU default slope 0.3', () =>
    runLayerTest({
      make: () => new L.LeakyReLU(),
      inputShapes: [[3, 5]],
      expectedOutputShape: [3, 5],
      input: (s, seed) => spacedTensor(s, seed),
    }));
  test('Add of three inputs', () =>
    runLayerTest({
      make: () => new L.Add(),
      inputShapes: [
        [2, 3],
        [2, 3],
        [2, 3],
      ],
      expectedOutputShape: [2, 3],
    }));
  test('Concatenate on the channel axis', () =>
    runLayerTest({
      make: () => new L.Concatenate(),
      inputShapes: [
        [2, 3, 3, 2],
        [2, 3, 3, 4],
      ],
      expectedOutputShape: [2, 3, 3, 6],
    }));
});

describe('layer behaviour', () => {
  const ctx = (training: boolean) => ({ training, rng: new Random(3), addLoss: () => undefined });

  test('Dropout zeroes about rate of the values in training, scales the rest by 1/(1-rate), and is identity in inference', () => {
    const d = new L.Dropout({ rate: 0.25 });
    const x = new Tensor(new Float32Array(10000).fill(1), [100, 100]);
    const y = d.invoke(x, ctx(true));
    const zeros = y.data.filter((v) => v === 0).length;
    assert.ok(zeros > 2200 && zeros < 2800, `zeros: ${zeros}`);
    assert.ok(y.data.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
    assert.equal(d.invoke(x, ctx(false)), x);
  });

  test('SpatialDropout2D drops whole channels', () => {
    const d = new L.SpatialDropout2D({ rate: 0.5 });
    const y = d.invoke(new Tensor(new Float32Array(2 * 4 * 4 * 8).fill(1), [2, 4, 4, 8]), ctx(true));
    for (let b = 0; b < 2; b++)
      for (let c = 0; c < 8; c++) {
        const vals = new Set<number>();
        for (let i = 0; i < 16; i++) vals.add(y.data[(b * 16 + i) * 8 + c]);
        assert.equal(vals.size, 1, 'one value per (sample, channel)');
      }
  });

  test('BatchNormalization normalizes with batch statistics in training, updates moving statistics by momentum, and uses them in inference', () => {
    const bn = new L.BatchNormalization({ momentum: 0.9 });
    const x = new Tensor(Float32Array.from([1, 10, 3, 20, 5, 30]), [3, 2]);
    const y = bn.invoke(x, ctx(true));
    // Channel 0: mean 3, biased variance 8/3.
    assertClose([y.data[0], y.data[2], y.data[4]], [-2 / Math.sqrt(8 / 3 + 1e-3), 0, 2 / Math.sqrt(8 / 3 + 1e-3)], 1e-5);
    assertClose(bn.movingMean!.value.data, [0.3, 2], 1e-6);
    assertClose(bn.movingVariance!.value.data, [0.9 + 0.1 * (8 / 3), 0.9 + 0.1 * (200 / 3)], 1e-5);
    const z = bn.invoke(x, ctx(false));
    assertClose([z.data[0]], [(1 - 0.3) / Math.sqrt(0.9 + 0.1 * (8 / 3) + 1e-3)], 1e-5);
    assert.equal(bn.countParams(), 8);
  });

  test("Conv2D 'same' with stride 2 pads like TensorFlow (extra row and column at the bottom/right)", () => {
    const conv = new L.Conv2D({ filters: 1, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: 'ones' });
    // A 4×4 image of ones: output 2×2. With pads (top 0, bottom 1), the top-left window sees 3×3 = 9 ones.
    const y = conv.invoke(new Tensor(new Float32Array(16).fill(1), [1, 4, 4, 1]), ctx(false));
    assert.deepEqual(Array.from(y.data), [9, 6, 6, 4]);
  });

  test('layer arguments are checked with the argument named', () => {
    assert.throws(() => new L.Conv2D({ filters: 0, kernelSize: 3 }), /filters/);
    assert.throws(() => new L.Dense({ units: 3, activation: 'nope' }), /unknown activation 'nope'/);
    assert.throws(() => new L.Dense({ units: 3, kernelInitializer: 'nope' }), /unknown initializer 'nope'/);
    assert.throws(() => new L.Dropout({ rate: 1 }), /rate/);
    assert.throws(() => new L.Dense({ units: 3, unitz: 4 } as never), /unitz/);
  });

  test('shape mismatches are reported with the layer and the shapes', () => {
    const x = L.Input({ shape: [10] });
    assert.throws(() => new L.Conv2D({ filters: 2, kernelSize: 3 }).apply(x), /rank 4/);
    const img = L.Input({ shape: [4, 4, 1] });
    assert.throws(() => new L.Conv2D({ filters: 2, kernelSize: 5 }).apply(img), /does not fit a 4×4 input/);
    assert.throws(() => new L.Add().apply([L.Input({ shape: [3] }), L.Input({ shape: [4] })]), /one shape/);
  });
});
