/** Callbacks and learning-rate schedules: scripted log sequences, schedule values, and fit() integration. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import * as E from '../../src/engine/index.js';
import * as L from '../../src/nn/index.js';
import { loadModel } from '../../src/saving/saved_model.js';
import {
  CSVLogger,
  cosineDecay,
  EarlyStopping,
  exponentialDecay,
  LearningRateScheduler,
  optimizerOf,
  ReduceLROnPlateau,
  stepDecay,
  TerminateOnNaN,
  trainingState,
  withWarmup,
} from '../../src/train/index.js';
import { ModelCheckpoint } from '../../src/saving/index.js';
import { squares } from '../helpers/tiny.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-callbacks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tinyModel(): L.Model {
  E.setSeed(1);
  L.resetNames();
  return new L.Sequential([L.Input({ shape: [8, 8, 1] }).layer, new L.Flatten(), new L.Dense({ units: 3, activation: 'softmax' })]).compile(
    { optimizer: { sgd: { learning_rate: 0.1 } }, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] },
  );
}
const stopped = (m: L.Model) => m.stopTraining;
/** The training state a callback receives from fit(). */
const st = (m: L.Model) => trainingState(m);

describe('EarlyStopping', () => {
  test('stops after `patience` epochs without an improvement larger than min_delta', () => {
    const m = tinyModel();
    const es = new EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.05 });
    es.onTrainBegin();
    // 0.97 is not better than 1.0 by 0.05; 0.8 is; 0.78 and 0.77 are not.
    [1.0, 0.97, 0.8, 0.78, 0.77, 0.5].forEach((v, epoch) => {
      if (!stopped(m)) es.onEpochEnd(epoch, { val_loss: v }, st(m));
    });
    assert.equal(es.bestEpoch, 2);
    assert.equal(es.stoppedEpoch, 4);
    assert.ok(stopped(m));
  });
  test('accuracy is maximized in auto mode; an unknown monitor names the keys there are', () => {
    const m = tinyModel();
    const es = new EarlyStopping({ monitor: 'val_accuracy', patience: 1 });
    es.onTrainBegin();
    es.onEpochEnd(0, { val_accuracy: 0.5 }, st(m));
    es.onEpochEnd(1, { val_accuracy: 0.6 }, st(m));
    assert.ok(!stopped(m));
    es.onEpochEnd(2, { val_accuracy: 0.55 }, st(m));
    assert.equal(es.stoppedEpoch, 2);
    assert.throws(
      () => new EarlyStopping({ monitor: 'val_los' }).onEpochEnd(0, { loss: 1, val_loss: 1 }, st(m)),
      /monitor 'val_los' is not in the epoch's logs: expected one of loss, val_loss/,
    );
  });
  test('in fit: training stops early and restore_best_weights puts back the best epoch’s weights', () => {
    const data = squares(60);
    const m = tinyModel();
    const snapshots: Float32Array[][] = [];
    const recorder = { onEpochEnd: () => void snapshots.push(m.weights.map((w) => w.value.data.slice())) };
    // Monitoring the training loss with a huge min_delta: no epoch after the first counts as an improvement.
    const h = m.fit(data.x, data.y, {
      epochs: 10,
      batchSize: 20,
      verbose: 0,
      callbacks: [recorder, new EarlyStopping({ monitor: 'loss', minDelta: 100, patience: 2, restoreBestWeights: true })],
    });
    assert.equal(h.epochs.length, 3);
    assert.deepEqual(
      m.weights.map((w) => [...w.value.data]),
      snapshots[0].map((a) => [...a]),
    );
  });
});

describe('learning-rate schedules', () => {
  test('step decay, exponential, cosine and warm-up give the expected rates', () => {
    const step = stepDecay(0.1, 0.5, 5);
    assert.deepEqual([0, 4, 5, 9, 10].map(step), [0.1, 0.1, 0.05, 0.05, 0.025]);
    assert.ok(Math.abs(exponentialDecay(1, 0.9)(3) - 0.729) < 1e-12);
    const cos = cosineDecay(0.2, 10, 0.02);
    assert.ok(
      Math.abs(cos(0) - 0.2) < 1e-12 &&
        Math.abs(cos(5) - 0.11) < 1e-12 &&
        Math.abs(cos(10) - 0.02) < 1e-12 &&
        Math.abs(cos(20) - 0.02) < 1e-12,
    );
    const warm = withWarmup(step, 2);
    assert.deepEqual([0, 1, 2, 7].map(warm), [0.05, 0.1, 0.1, 0.05]);
  });
  test('LearningRateScheduler sets each epoch’s rate, and History records it', () => {
    const data = squares(40);
    const m = tinyModel();
    const h = m.fit(data.x, data.y, {
      epochs: 4,
      batchSize: 20,
      verbose: 0,
      callbacks: [new LearningRateScheduler((epoch) => stepDecay(0.1, 0.5, 2)(epoch))],
    });
    assert.deepEqual(h.history.lr, [0.1, 0.1, 0.05, 0.05]);
  });
  test('ReduceLROnPlateau multiplies the rate by factor after patience epochs without improvement', () => {
    const m = tinyModel();
    const cb = new ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 2, minLr: 0.02 });
    cb.onTrainBegin();
    const rates = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0].map((v, epoch) => {
      cb.onEpochEnd(epoch, { val_loss: v }, st(m));
      return optimizerOf(m).currentLearningRate();
    });
    assert.deepEqual(rates, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
    cb.onEpochEnd(6, { val_loss: 1 }, st(m));
    cb.onEpochEnd(7, { val_loss: 1 }, st(m));
    assert.equal(optimizerOf(m).currentLearningRate(), 0.02, 'never below min_lr');
  });
});

describe('TerminateOnNaN and CSVLogger', () => {
  test('a NaN loss stops training with the epoch and batch named', () => {
    const m = tinyModel();
    const messages: string[] = [];
    const cb = new TerminateOnNaN((s) => messages.push(s));
    cb.onEpochBegin(2);
    cb.onBatchEnd(0, { loss: 0.5 }, st(m));
    cb.onBatchEnd(1, { loss: NaN }, st(m));
    assert.ok(stopped(m));
    assert.deepEqual(cb.stoppedAt, { epoch: 2, batch: 1 });
    assert.match(messages[0], /loss became NaN at epoch 3, batch 2/);
  });
  test('CSVLogger writes a header and one row per epoch', () => {
    const file = join(dir, 'logs', 'run.csv');
    const data = squares(40);
    tinyModel().fit(data.x, data.y, { epochs: 2, batchSize: 20, verbose: 0, callbacks: [new CSVLogger(file)] });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^epoch,accuracy,loss,lr,samples_per_second,seconds$/);
    assert.match(lines[2], /^1,/);
  });
});

describe('ModelCheckpoint', () => {
  function net(): L.Model {
    E.setSeed(5);
    L.resetNames();
    return new L.Sequential([
      L.Input({ shape: [8, 8, 1] }).layer,
      new L.Conv2D({ filters: 3, kernelSize: 3, activation: 'relu' }),
      new L.BatchNormalization(),
      new L.Flatten(),
      new L.Dropout({ rate: 0.3 }),
      new L.Dense({ units: 3, activation: 'softmax' }),
    ]).compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  }
  test('resuming from a checkpoint (shuffling and dropout on) gives bit for bit the uninterrupted run', () => {
    const data = squares(50);
    const whole = net();
    whole.fit(data.x, data.y, { epochs: 4, batchSize: 16, verbose: 0 });
    const ck = new ModelCheckpoint(join(dir, 'ckpt-{epoch}'), { saveBestOnly: false });
    const checkpointed = net();
    checkpointed.fit(data.x, data.y, { epochs: 4, batchSize: 16, verbose: 0, callbacks: [ck] });
    assert.deepEqual(
      ck.saved.map((p) => p.slice(-6)),
      ['ckpt-1', 'ckpt-2', 'ckpt-3', 'ckpt-4'],
    );
    const resumed = loadModel(join(dir, 'ckpt-2'));
    resumed.fit(data.x, data.y, { epochs: 4, initialEpoch: 2, batchSize: 16, verbose: 0 });
    assert.deepEqual(
      resumed.weights.map((w) => [...w.value.data]),
      whole.weights.map((w) => [...w.value.data]),
    );
  });
  test('save_best_only writes only when the monitored value improves', () => {
    const m = tinyModel();
    const ck = new ModelCheckpoint(join(dir, 'best-{epoch}'), { monitor: 'val_loss', saveBestOnly: true });
    ck.onTrainBegin();
    [1.0, 0.9, 0.95, 0.8].forEach((v, epoch) => ck.onEpochEnd(epoch, { val_loss: v }, st(m)));
    assert.deepEqual(
      ck.saved.map((p) => p.slice(-6)),
      ['best-1', 'best-2', 'best-4'],
    );
  });
});

describe('class weights', () => {
  test('a uniform class weight of 2 doubles the loss; weight 0 for every class leaves the weights untouched', async () => {
    const { trainOnBatch } = await import('../../src/train/trainer.js');
    const data = squares(20);
    const a = trainOnBatch(tinyModel(), [data.x], [data.y]).loss;
    const b = trainOnBatch(tinyModel(), [data.x], [data.y], { 0: 2, 1: 2, 2: 2 }).loss;
    assert.ok(Math.abs(b - 2 * a) < 1e-5 * a, `${b} vs 2·${a}`);
    const m = tinyModel();
    const before = m.weights.map((w) => [...w.value.data]);
    m.fit(data.x, data.y, { epochs: 2, batchSize: 10, verbose: 0, classWeight: { 0: 0, 1: 0, 2: 0 } });
    assert.deepEqual(
      m.weights.map((w) => [...w.value.data]),
      before,
    );
    assert.throws(
      () => m.fit(data.x, data.y, { epochs: 1, verbose: 0, classWeight: { 0: -1 } }),
      /class_weight: expected class index → weight ≥ 0/,
    );
  });
});

describe('callbacks receive the training state', () => {
  test('a custom callback sees the model and its optimizer, and stopTraining ends fit after that epoch', () => {
    const data = squares(40);
    const m = tinyModel();
    const seen: unknown[] = [];
    const history = m.fit(data.x, data.y, {
      epochs: 5,
      batchSize: 20,
      verbose: 0,
      callbacks: [
        {
          onEpochEnd(epoch, _logs, training) {
            seen.push(training.model === m, training.optimizer === m.optimizer, training === trainingState(m));
            if (epoch === 1) training.stopTraining = true;
          },
        },
      ],
    });
    assert.equal(history.epochs.length, 2);
    assert.ok(seen.every(Boolean));
    assert.equal(m.stopTraining, true);
    m.stopTraining = false;
    assert.equal(trainingState(m).stopTraining, false);
  });
  test('a model that was never compiled says what to do', () => {
    L.resetNames();
    const m = new L.Sequential([L.Input({ shape: [2] }).layer, new L.Dense({ units: 1 })]);
    assert.throws(() => m.optimizer, /model 'sequential(_\d+)?' must be compiled before training or evaluation: call model.compile/);
    assert.throws(() => trainingState(m), /must be compiled/);
  });
});
