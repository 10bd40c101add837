/** fit / evaluate / predict, multi-output training, determinism, save/load and resuming, memory over many steps. */
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/engine/tensor.js';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import * as L from '../../src/nn/index.js';
import { loadModel, saveModel } from '../../src/saving/saved_model.js';
import { findTrainingState } from '../../src/train/index.js';
import type { Callback } from '../../src/train/callbacks/callback.js';
import { squares } from '../helpers/tiny.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-fit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cnn(seed: number, dropout = 0.25): L.Model {
  E.setSeed(seed);
  L.resetNames();
  return new L.Sequential([
    L.Input({ shape: [8, 8, 1] }).layer,
    new L.Conv2D({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
    new L.MaxPooling2D(),
    new L.BatchNormalization(),
    new L.Flatten(),
    new L.Dropout({ rate: dropout }),
    new L.Dense({ units: 3, activation: 'softmax' }),
  ]);
}

const data = squares(120);
const val = squares(30, 2);

describe('training', () => {
  test('a small CNN learns a synthetic task, with History holding loss, metrics, val_ metrics, lr and timing per epoch', () => {
    const m = cnn(1).compile({
      optimizer: { adam: { learning_rate: 0.01 } },
      loss: 'sparse_categorical_crossentropy',
      metrics: ['accuracy'],
    });
    const h = m.fit(data.x, data.y, { epochs: 6, batchSize: 16, validationData: [val.x, val.y], verbose: 0 });
    assert.equal(h.epochs.length, 6);
    for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'lr', 'seconds', 'samples_per_second'])
      assert.equal(h.history[k].length, 6, k);
    assert.ok(h.history.loss[5] < h.history.loss[0] * 0.5, `loss ${h.history.loss}`);
    assert.ok(m.evaluate(val.x, val.y).accuracy > 0.9);
    const p = m.predict(val.x, { batchSize: 7 }) as Tensor;
    assert.deepEqual([...p.shape], [30, 3]);
  });

  test('validation_split holds out the last fraction, as Keras does', () => {
    const m = cnn(1).compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const h = m.fit(data.x, data.y, { epochs: 1, batchSize: 32, validationSplit: 0.25, verbose: 0 });
    assert.ok('val_accuracy' in h.history);
    assert.ok(Math.abs(h.epochs[0].samples_per_second * h.epochs[0].seconds - 90) < 1e-6);
  });

  test("dropRemainder skips each epoch's short last batch: the same weights as training on the full batches alone", () => {
    const compile = (m: L.Model) => m.compile({ optimizer: { sgd: { learning_rate: 0.05 } }, loss: 'sparse_categorical_crossentropy' });
    const dropped = compile(cnn(3, 0));
    const h = dropped.fit(data.x, data.y, { epochs: 2, batchSize: 50, shuffle: false, dropRemainder: true, verbose: 0 });
    assert.ok(Math.abs(h.epochs[0].samples_per_second * h.epochs[0].seconds - 100) < 1e-6, 'two batches of 50, not 120');
    const sample = data.x.size / data.x.shape[0];
    const first = compile(cnn(3, 0));
    first.fit(E.tensor(data.x.data.slice(0, 100 * sample), [100, ...data.x.shape.slice(1)]), E.tensor(data.y.data.slice(0, 100), [100]), {
      epochs: 2,
      batchSize: 50,
      shuffle: false,
      verbose: 0,
    });
    assert.deepEqual(
      dropped.weights.map((w) => Array.from(w.value.data)),
      first.weights.map((w) => Array.from(w.value.data)),
    );
    const kept = compile(cnn(3, 0));
    kept.fit(data.x, data.y, { epochs: 2, batchSize: 50, shuffle: false, verbose: 0 });
    assert.notDeepEqual(
      kept.weights.map((w) => Array.from(w.value.data)),
      first.weights.map((w) => Array.from(w.value.data)),
      'without dropRemainder the last 20 samples train too',
    );
    assert.throws(
      () => compile(cnn(3, 0)).fit(data.x, data.y, { epochs: 1, batchSize: 500, dropRemainder: true, verbose: 0 }),
      /drop_remainder leaves no batch: batch_size 500 is more than the 120 training samples/,
    );
  });

  test('fitAsync trains to the same weights as fit, and waits for afterEpoch before starting the next epoch', async () => {
    const compile = (m: L.Model) => m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const sync = compile(cnn(5));
    const h1 = sync.fit(data.x, data.y, { epochs: 3, batchSize: 16, validationData: [val.x, val.y], verbose: 0 });
    const events: string[] = [];
    const tracker: Callback = { onEpochBegin: (e) => void events.push(`begin ${e}`) };
    const async_ = compile(cnn(5));
    const h2 = await async_.fitAsync(data.x, data.y, {
      epochs: 3,
      batchSize: 16,
      validationData: [val.x, val.y],
      verbose: 0,
      callbacks: [tracker],
      afterEpoch: async (r) => {
        events.push(`after ${r.epoch} start`);
        await new Promise((done) => setTimeout(done, 5));
        events.push(`after ${r.epoch} done`);
      },
    });
    assert.deepEqual(events, [
      'begin 0',
      'after 0 start',
      'after 0 done',
      'begin 1',
      'after 1 start',
      'after 1 done',
      'begin 2',
      'after 2 start',
      'after 2 done',
    ]);
    assert.deepEqual(h2.history.val_loss, h1.history.val_loss);
    assert.deepEqual(
      async_.weights.map((w) => Array.from(w.value.data)),
      sync.weights.map((w) => Array.from(w.value.data)),
    );
    await assert.rejects(
      compile(cnn(5)).fitAsync(data.x, data.y, { epochs: 2, verbose: 0, afterEpoch: () => Promise.reject(new Error('store down')) }),
      /store down/,
    );
  });

  test('the same seed gives the same weights after training (initial weights, shuffles and dropout masks)', () => {
    const train = (seed: number) => {
      const m = cnn(seed).compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
      m.fit(data.x, data.y, { epochs: 2, batchSize: 16, verbose: 0 });
      return m.weights.flatMap((w) => Array.from(w.value.data));
    };
    assert.deepEqual(train(3), train(3));
    assert.notDeepEqual(train(3), train(4));
  });

  test('a two-headed model (the tell-the-time clock shape) trains and reports per-head losses and metrics', () => {
    E.setSeed(2);
    const inp = L.Input({ shape: [8, 8, 1], name: 'image' });
    let x = new L.Conv2D({ filters: 4, kernelSize: 3, activation: 'relu' }).apply(inp);
    x = new L.Flatten().apply(x);
    const hour = new L.Dense({ units: 3, activation: 'softmax', name: 'hour' }).apply(x);
    const minute = new L.Dense({ units: 1, name: 'minute' }).apply(x);
    const m = new L.Model({ inputs: inp, outputs: [hour, minute] });
    m.compile({
      optimizer: { adam: { learning_rate: 0.01 } },
      loss: { hour: 'sparse_categorical_crossentropy', minute: 'mse' },
      lossWeights: { hour: 1, minute: 0.5 },
      metrics: { hour: ['accuracy'], minute: ['mae'] },
    });
    const minutes = E.tensor(
      Array.from(data.y.data, (c) => c / 2),
      [120, 1],
    );
    const h = m.fit([data.x], [data.y, minutes], { epochs: 5, batchSize: 16, validationSplit: 0.2, verbose: 0 });
    for (const k of ['loss', 'hour_loss', 'minute_loss', 'hour_accuracy', 'minute_mae', 'val_hour_accuracy', 'val_minute_mae'])
      assert.ok(k in h.history, k);
    const last = h.epochs[4];
    assert.ok(
      Math.abs(last.loss - (last.hour_loss + 0.5 * last.minute_loss)) < 0.05 * last.loss,
      'total = weighted sum of heads (batch-averaged)',
    );
    assert.ok(h.history.minute_mae[4] < h.history.minute_mae[0]);
  });

  test('compile and fit reject bad arguments with a clear message', () => {
    const m = cnn(1);
    assert.throws(() => m.fit(data.x, data.y), /must be compiled/);
    m.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy' });
    assert.throws(() => m.fit(data.x, data.y, { batchSize: 0, verbose: 0 }), /batch_size/);
    assert.throws(() => m.fit(data.x, E.zeros([5]), { verbose: 0 }), /same number of samples/);
    assert.throws(() => m.compile({ loss: 'mse', metrics: ['f1'] }) && m.evaluate(data.x, data.y), /unknown metric 'f1'/);
    assert.throws(() => m.predict(E.zeros([2, 9, 9, 1])), /expects shape \(None, 8, 8, 1\)/);
  });

  test("memory does not grow across training steps: each step's graph is released", {
    skip: typeof global.gc !== 'function' ? 'needs node --expose-gc' : false,
  }, () => {
    const m = cnn(1).compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
    const gc = global.gc as () => void;
    m.fit(data.x, data.y, { epochs: 3, batchSize: 8, verbose: 0 });
    gc();
    const before = process.memoryUsage().heapUsed;
    m.fit(data.x, data.y, { epochs: 20, batchSize: 8, verbose: 0 });
    gc();
    const grown = (process.memoryUsage().heapUsed - before) / 1e6;
    assert.ok(grown < 5, `heap grew by ${grown.toFixed(1)} MB over 300 steps`);
  });
});

describe('saving and loading', () => {
  test('architecture and weights round-trip exactly, Sequential and functional', () => {
    const m = cnn(5).compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    m.fit(data.x, data.y, { epochs: 1, batchSize: 32, verbose: 0 });
    saveModel(m, join(dir, 'seq'));
    const back = loadModel(join(dir, 'seq'));
    assert.deepEqual(back.getConfig(), m.getConfig());
    assert.deepEqual(Array.from((back.predict(val.x) as Tensor).data), Array.from((m.predict(val.x) as Tensor).data));
    assert.deepEqual(back.evaluate(val.x, val.y), m.evaluate(val.x, val.y));

    E.setSeed(3);
    const a = L.Input({ shape: [4], name: 'a' });
    const b = L.Input({ shape: [2], name: 'b' });
    const joined = new L.Concatenate().apply([new L.Dense({ units: 3 }).apply(a), b]);
    const out = new L.Dense({ units: 2, activation: 'softmax', name: 'out' }).apply(joined);
    const f = new L.Model({ inputs: [a, b], outputs: out, name: 'two_inputs' });
    saveModel(f, join(dir, 'fun'));
    const g = loadModel(join(dir, 'fun'));
    const xa = E.tensor([1, 2, 3, 4], [1, 4]);
    const xb = E.tensor([5, 6], [1, 2]);
    assert.deepEqual(Array.from((g.predict([xa, xb]) as Tensor).data), Array.from((f.predict([xa, xb]) as Tensor).data));
    assert.deepEqual(g.inputNames, ['a', 'b']);
  });

  test('optimizer state is kept: train 2 epochs, or 1 + save + load + 1, and get bit-identical weights', () => {
    const compile = (m: L.Model) =>
      m.compile({ optimizer: { adam: { learning_rate: 0.01 } }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const whole = compile(cnn(7, 0));
    whole.fit(data.x, data.y, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
    const half = compile(cnn(7, 0));
    half.fit(data.x, data.y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    saveModel(half, join(dir, 'half'));
    const resumed = loadModel(join(dir, 'half'));
    assert.ok(findTrainingState(resumed), 'a model saved with named losses comes back compiled');
    resumed.fit(data.x, data.y, { epochs: 2, initialEpoch: 1, batchSize: 16, shuffle: false, verbose: 0 });
    assert.deepEqual(
      resumed.weights.map((w) => Array.from(w.value.data)),
      whole.weights.map((w) => Array.from(w.value.data)),
    );
  });

  test('saving replaces a model atomically and leaves no temporary folders; damaged files are reported', () => {
    const m = cnn(1);
    saveModel(m, join(dir, 'again'));
    saveModel(m, join(dir, 'again'));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp-') || f.includes('.old-')),
      [],
    );
    assert.throws(() => loadModel(join(dir, 'missing')), /no saved model here/);
  });
});
