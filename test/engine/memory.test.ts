/** tidy(): arrays are reused between scopes, released tensors refuse to be read, and reuse never changes results. */
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/engine/tensor.js';
import { afterEach, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import * as L from '../../src/nn/index.js';
import { squares } from '../helpers/tiny.js';
// Model's compile/fit/trainOnBatch come with the train module.
import '../../src/train/index.js';

const t = (values: number[], shape: number[]) => new E.Tensor(Float32Array.from(values), shape);

afterEach(() => E.setBufferReuse({ enabled: true, poison: false }));

describe('buffer reuse with tidy()', () => {
  test('a tensor returned from tidy keeps its values; one left inside becomes unreadable with a clear error', () => {
    const x = t([1, -2, 3, -4], [2, 2]);
    let inner: E.Tensor | undefined;
    const out = E.tidy(() => {
      inner = E.relu(x);
      return E.mul(inner, 2);
    });
    assert.deepEqual([...out.data], [2, 0, 6, 0]);
    assert.ok(inner!.released);
    assert.throws(() => inner!.data, /released at the end of the tidy\(\) scope/);
    assert.deepEqual([...x.data], [1, -2, 3, -4], 'inputs made outside the scope are untouched');
  });

  test('the arrays of one scope are handed out again by the next, so a steady loop allocates nothing new', () => {
    const x = t(
      Array.from({ length: 64 }, (_, i) => i - 32),
      [8, 8],
    );
    const seen = new Set<Float32Array>();
    E.tidy(() => seen.add(E.relu(x).data));
    assert.ok(E.pooledBytes() >= 64 * 4);
    let reused = false;
    E.tidy(() => (reused = seen.has(E.relu(x).data)));
    assert.ok(reused);
  });

  test('a reshape of a returned tensor shares its array, and the array stays with the returned tensor', () => {
    const x = t([1, 2, 3, 4], [4]);
    const [a, b] = E.tidy(() => {
      const y = E.mul(x, 3);
      return [y, E.reshape(y, [2, 2])];
    });
    E.tidy(() => E.mul(x, 100));
    assert.deepEqual([...a.data], [3, 6, 9, 12]);
    assert.deepEqual([...b.data], [3, 6, 9, 12]);
  });

  test('training with reuse (reused arrays poisoned with NaN) gives bit-identical weights to training without it', () => {
    const data = squares(48);
    const run = (reuse: boolean) => {
      E.setBufferReuse({ enabled: reuse, poison: reuse });
      E.setSeed(3);
      L.resetNames();
      const m = new L.Sequential([
        L.Input({ shape: [8, 8, 1] }).layer,
        new L.Conv2D({ filters: 5, kernelSize: 3, padding: 'same', activation: 'relu' }),
        new L.BatchNormalization(),
        new L.MaxPooling2D(),
        new L.Conv2D({ filters: 3, kernelSize: 3, strides: 2, padding: 'valid' }),
        new L.LeakyReLU(),
        new L.AveragePooling2D({ poolSize: 1 }),
        new L.Flatten(),
        new L.Dropout({ rate: 0.3 }),
        new L.Dense({ units: 3, activation: 'softmax' }),
      ]).compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
      const h = m.fit(data.x, data.y, { epochs: 2, batchSize: 10, verbose: 0 });
      const p = m.predict(data.x) as Tensor;
      return { weights: m.weights.map((w) => [...w.value.data]), loss: h.history.loss, p: [...p.data] };
    };
    const plain = run(false);
    const pooled = run(true);
    assert.ok(plain.weights.flat().every(Number.isFinite));
    assert.deepEqual(pooled, plain);
  });
});
