/**
 * train.phases: each phase trains its layers with a fresh optimizer, one after another; a run interrupted at a phase
 * boundary or inside a phase resumes with the numbers of an uninterrupted one; mistakes name their place.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkSpec } from '../../src/lab/spec.js';
import { runSpec } from '../../src/lab/train_run.js';
import type { Callback } from '../../src/train/index.js';

const dir = mkdtempSync(join(tmpdir(), 'convlab-phases-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const raw = () => ({
  name: 'phases',
  seed: 3,
  data: { dataset: 'mnist', subset: { train: 96 }, validation: { count: 32 } },
  model: {
    input: [28, 28, 1],
    layers: [
      { Conv2D: { filters: 2, kernel_size: 3, name: 'features', activation: 'relu' } },
      { MaxPooling2D: { pool_size: 2 } },
      { Dropout: { rate: 0.25 } },
      { Flatten: {} },
      { Dense: { units: 10, activation: 'softmax', name: 'top' } },
    ],
  },
  train: {
    optimizer: { adam: { learning_rate: 0.01 } },
    batch_size: 32,
    phases: [
      { epochs: 2, trainable: { only: ['top'] } },
      { epochs: 2, optimizer: { sgd: { learning_rate: 0.05, momentum: 0.9 } }, trainable: 'all' },
    ],
  },
  evaluate: { on: ['test'] },
});

const quiet = { verbose: 0 as const };

describe('training in phases', () => {
  test('the first phase leaves the frozen layers as they were; the second trains them with its own optimizer', async () => {
    let afterFirst: number[] = [];
    let initial: number[] = [];
    const watch: Callback = {
      onTrainBegin: (t) => {
        if (!initial.length) initial = [...t.model.weights[0].value.data];
      },
      onEpochEnd: (epoch, _logs, t) => {
        if (epoch === 1) afterFirst = [...t.model.weights[0].value.data];
      },
    };
    const result = await runSpec(checkSpec(raw()), { ...quiet, callbacks: [watch] });
    assert.deepEqual(
      result.history.epochs.map((e) => e.epoch),
      [0, 1, 2, 3],
    );
    assert.deepEqual(afterFirst, initial, 'features is frozen in the first phase');
    assert.notDeepEqual([...result.model.weights[0].value.data], afterFirst, 'and trained in the second');
    assert.equal(result.model.optimizer.className, 'SGD');
    assert.equal(result.model.getLayer('features').trainable, true);
  });
  for (const [where, kill] of [
    ['at the phase boundary', 2],
    ['inside the second phase', 3],
    ['inside the first phase', 1],
  ] as const) {
    test(`interrupted ${where}, the run resumes to the uninterrupted numbers`, async () => {
      const whole = await runSpec(checkSpec(raw()), quiet);
      const ckpt = join(dir, `ckpt-${kill}`);
      const stop: Callback = {
        onEpochBegin: (epoch) => {
          if (epoch === kill) throw new Error('killed');
        },
      };
      await assert.rejects(runSpec(checkSpec(raw()), { ...quiet, checkpoint: { dir: ckpt }, callbacks: [stop] }), /killed/);
      const resumed = await runSpec(checkSpec(raw()), { ...quiet, checkpoint: { dir: ckpt } });
      assert.deepEqual(
        resumed.history.epochs.map((e) => e.loss),
        whole.history.epochs.map((e) => e.loss),
      );
      assert.deepEqual(
        resumed.model.weights.map((w) => [...w.value.data]),
        whole.model.weights.map((w) => [...w.value.data]),
      );
    });
  }
  test('mistakes name their place: an unknown layer, epochs that disagree, a schedule beside phases', async () => {
    const bad = raw();
    bad.train.phases[0].trainable = { only: ['head'] };
    await assert.rejects(
      runSpec(checkSpec(bad), quiet),
      /train\.phases\[0\]\.trainable\.only\[0\]: no layer 'head' \(nor layers under it\): the model's layers are features/,
    );
    assert.throws(
      () => checkSpec({ ...raw(), train: { ...raw().train, epochs: 3 } }),
      /train\.epochs: is 3, but the phases add up to 4 epochs/,
    );
    assert.throws(
      () => checkSpec({ ...raw(), train: { ...raw().train, schedule: { exponential: { rate: 0.9 } } } }),
      /train\.schedule: does not combine with phases/,
    );
    assert.throws(
      () => checkSpec({ ...raw(), train: { ...raw().train, phases: [{ epochs: 1, trainable: 'some' }] } }),
      /expected all, \{from: LAYER\} or \{only: \[LAYER, \.\.\.\]\}/,
    );
  });
});
