/** Sweep expansion: counts, override semantics (set, insert, delete, replace) and errors with their paths. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SpecError } from '../../src/nn/spec.js';
import { checkTrials } from '../../src/lab/runner.js';
import { applyVariant, expandSweep } from '../../src/lab/sweep.js';
import { readSpecFile } from '../../src/lab/spec.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = () => ({
  name: 'study',
  seed: 10,
  data: { dataset: 'mnist' },
  model: {
    input: [28, 28, 1],
    layers: [
      { Conv2D: { filters: 6, kernel_size: 5, activation: 'relu' } },
      { AveragePooling2D: {} },
      { Flatten: {} },
      { Dense: { units: 84, activation: 'relu' } },
      { Dense: { units: 10, activation: 'softmax' } },
    ],
  },
  train: { epochs: 2, optimizer: { adam: { learning_rate: 0.001 } } },
});

const layerNames = (spec: Record<string, unknown>) => (spec.model as { layers: object[] }).layers.map((l) => Object.keys(l)[0]);

function issuesOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected a SpecError, got ${(e as Error).message}`);
    return e.message;
  }
  assert.fail('expected an error');
}

describe('sweep expansion', () => {
  test('variants × grid × repeats: 3 × (2 × 2) × 3 = 36 trials, seeds per repeat, labels per configuration', () => {
    const plans = expandSweep({
      ...base(),
      sweep: {
        variants: { Baseline: {}, MaxPooling: { 'model.layers[1]': { MaxPooling2D: {} } }, Wide: { 'model.layers[3].Dense.units': 256 } },
        grid: { 'train.optimizer.adam.learning_rate': [0.01, 0.001], 'train.batch_size': [32, 64] },
        repeats: 3,
      },
    });
    assert.equal(plans.length, 36);
    assert.equal(new Set(plans.map((p) => p.key)).size, 36, 'every trial has its own key');
    assert.equal(new Set(plans.map((p) => p.group)).size, 12, 'repeats share their configuration');
    assert.deepEqual([...new Set(plans.map((p) => p.seed))], [10, 11, 12]);
    const p = plans.find((x) => x.group === 'MaxPooling learning_rate=0.001 batch_size=64' && x.repeat === 2)!;
    assert.equal(p.label, 'MaxPooling learning_rate=0.001 batch_size=64 #3');
    assert.deepEqual(p.values, { 'train.optimizer.adam.learning_rate': 0.001, 'train.batch_size': 64 });
    assert.equal(p.spec.seed, 12);
    assert.equal(p.spec.sweep, undefined, 'the resolved spec has no sweep block');
    assert.deepEqual(layerNames(p.spec), ['Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense']);
    assert.deepEqual((p.spec.train as Record<string, unknown>).optimizer, { adam: { learning_rate: 0.001 } });
    // No sweep: one trial, the spec itself.
    assert.equal(expandSweep(base()).length, 1);
  });

  test('a variant may set paths beside insert and delete; a path given both beside set and inside it is an error', () => {
    const spec = base();
    applyVariant(spec, 'Both', { 'train.epochs': 7, insert: { 'model.layers[1]': { Dropout: { rate: 0.2 } } }, set: { seed: 4 } });
    assert.equal((spec.train as { epochs: number }).epochs, 7);
    assert.equal(spec.seed, 4);
    assert.deepEqual((spec.model as { layers: unknown[] }).layers[1], { Dropout: { rate: 0.2 } });
    assert.throws(
      () => applyVariant(base(), 'Twice', { 'train.epochs': 7, set: { 'train.epochs': 8 } }),
      /sweep\.variants\.Twice\.train\.epochs: given twice: beside set and inside it/,
    );
  });
  test("a variant inserts, deletes and replaces layers, all by the base spec's indices", () => {
    const spec = base() as Record<string, unknown>;
    applyVariant(spec, 'Convolution', {
      insert: {
        'model.layers[2]': [{ Conv2D: { filters: 16, kernel_size: 5 } }, { AveragePooling2D: {} }],
        'model.layers[5]': { Dropout: { rate: 0.1 } },
      },
      delete: ['model.layers[3]', 'model.layers[1]'],
      set: { 'model.layers[0].Conv2D.filters': 32 },
    });
    assert.deepEqual(layerNames(spec), ['Conv2D', 'Conv2D', 'AveragePooling2D', 'Flatten', 'Dense', 'Dropout']);
    assert.equal((spec.model as { layers: { Conv2D: { filters: number } }[] }).layers[0].Conv2D.filters, 32);
    // Delete and insert at one index replace the element.
    const replaced = base() as Record<string, unknown>;
    applyVariant(replaced, 'Max', { delete: ['model.layers[1]'], insert: { 'model.layers[1]': { MaxPooling2D: { pool_size: 2 } } } });
    assert.deepEqual(layerNames(replaced), ['Conv2D', 'MaxPooling2D', 'Flatten', 'Dense', 'Dense']);
    // Inserting at the end appends; a plain map of paths sets fields and creates missing mappings.
    const more = base() as Record<string, unknown>;
    applyVariant(more, 'L2', {
      'model.layers[3].Dense.kernel_regularizer': { l2: 0.001 },
      'train.schedule.step_decay': { factor: 0.5, every: 5 },
    });
    assert.deepEqual((more.model as { layers: { Dense: object }[] }).layers[3].Dense, {
      units: 84,
      activation: 'relu',
      kernel_regularizer: { l2: 0.001 },
    });
    assert.deepEqual((more.train as Record<string, unknown>).schedule, { step_decay: { factor: 0.5, every: 5 } });
  });

  test('random trials are drawn from their ranges, seeded, and log-uniform covers decades', () => {
    const spec = {
      ...base(),
      sweep: {
        random: {
          trials: 40,
          seed: 3,
          params: {
            'train.optimizer.adam.learning_rate': { log_uniform: [1e-4, 1e-1] },
            'model.layers[3].Dense.units': { choice: [32, 64, 128] },
            'train.batch_size': { int: [16, 64] },
          },
        },
      },
    };
    const a = expandSweep(spec);
    const b = expandSweep(spec);
    assert.equal(a.length, 40);
    assert.deepEqual(
      a.map((p) => p.values),
      b.map((p) => p.values),
    );
    const lrs = a.map((p) => p.values['train.optimizer.adam.learning_rate'] as number);
    assert.ok(lrs.every((v) => v >= 1e-4 && v <= 1e-1));
    assert.ok(lrs.some((v) => v < 1e-3) && lrs.some((v) => v > 1e-2), 'several decades are drawn');
    assert.ok(a.every((p) => [32, 64, 128].includes(p.values['model.layers[3].Dense.units'] as number)));
    assert.ok(
      a.every((p) => {
        const n = p.values['train.batch_size'] as number;
        return Number.isInteger(n) && n >= 16 && n <= 64;
      }),
    );
    assert.notDeepEqual(
      expandSweep({ ...spec, sweep: { ...spec.sweep, random: { ...spec.sweep.random, seed: 4 } } }).map((p) => p.values),
      a.map((p) => p.values),
    );
  });

  test('bad sweep paths are errors that name the sweep field and what the spec holds there', () => {
    const msg = issuesOf(() =>
      expandSweep({
        ...base(),
        sweep: {
          grid: { 'model.layers[9].Dense.units': [1, 2] },
          variants: { A: { delete: ['model.layers[7]'] }, B: { 'train.epochs.x': 1 }, C: { insert: { 'model.layers': {} } } },
        },
      }),
    );
    assert.match(msg, /sweep\.grid\.model\.layers\[9\]\.Dense\.units: model\.layers has 5 elements, so there is no \[9\]/);
    assert.match(msg, /sweep\.variants\.A\.delete\.model\.layers\[7\]: model\.layers has 5 elements, so there is no \[7\] to delete/);
    assert.match(msg, /sweep\.variants\.B\.train\.epochs\.x: train\.epochs is 2, not a mapping or list/);
    assert.match(msg, /sweep\.variants\.C\.insert\.model\.layers: inserts go before a list index/);
    assert.match(
      issuesOf(() => expandSweep({ ...base(), sweep: { repeats: 0 } })),
      /sweep\.repeats/,
    );
    assert.match(
      issuesOf(() => expandSweep({ ...base(), sweep: { random: { trials: 2, params: { 'train.epochs': { normal: [1, 2] } } } } })),
      /sweep\.random\.params\.train\.epochs: expected \{uniform/,
    );
    assert.match(
      issuesOf(() => expandSweep({ ...base(), sweep: { variants: { A: {}, B: { 'train.epochs': 2 } } } })),
      /trials 'A' and 'B' have the same configuration/,
    );
  });

  test('every trial is checked before any runs: a bad value names its field and the trials it is in', () => {
    const plans = expandSweep({
      ...base(),
      sweep: { grid: { 'model.layers[0].Conv2D.filters': [8, -1], 'train.optimizer.adam.learning_rate': [0.1, 0.01] } },
    });
    const msg = issuesOf(() => checkTrials(plans, 'study.yaml'));
    assert.match(
      msg,
      /model\.layers\[0\]\.Conv2D\.filters: .*\(in trials 'filters=-1 learning_rate=0\.1', 'filters=-1 learning_rate=0\.01'\)/,
    );
    assert.equal(msg.split('\n').length, 1, 'one problem shared by two trials is reported once');
    checkTrials(expandSweep({ ...base(), sweep: { grid: { 'model.layers[0].Conv2D.filters': [8, 16] } } }), 'study.yaml');
  });
});

describe('spec files', () => {
  const write = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'convlab-spec-'));
    const file = join(dir, 'spec.yaml');
    writeFileSync(file, text);
    return file;
  };
  test('variants may share a block through a YAML anchor and change one field of it with <<', () => {
    const spec = readSpecFile(
      write(
        'name: s\nsweep:\n  variants:\n    A: &a\n      train.epochs: 3\n      train.batch_size: 16\n    B:\n      <<: *a\n      train.batch_size: 64\n',
      ),
    );
    const variants = (spec.sweep as { variants: Record<string, Record<string, unknown>> }).variants;
    assert.deepEqual(variants.B, { 'train.epochs': 3, 'train.batch_size': 64 });
    assert.deepEqual(variants.A, { 'train.epochs': 3, 'train.batch_size': 16 });
  });
  test('a bracketed key inside braces is a YAML error that says how to write it', () => {
    const file = write('name: s\nsweep:\n  variants:\n    A: {model.layers[4]: {Dropout: {rate: 0.2}}}\n');
    assert.throws(
      () => readSpecFile(file),
      (e: Error) => /spec\.yaml:4:\d+: invalid YAML: .*must be quoted/.test(e.message),
    );
  });
});
