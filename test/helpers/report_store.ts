/**
 * A run store filled by hand, with no training: a study of 2 variants × 2 learning rates × 2 repeats, with
 * epochs, final metrics, an evaluation (confusion matrix, report, baselines, clock errors) and artifacts
 * (feature maps, filters, predictions), so every figure kind has something to draw.
 */
import { join } from 'node:path';
import { SqliteStore, type RunStore, type TrialRow, workerId } from '../../src/lab/store.js';
import { writeArtifacts } from '../../src/lab/artifacts.js';
import { classificationReport, confusionMatrix } from '../../src/metrics/index.js';
import { timeDifferenceSummary } from '../../src/metrics/regression.js';
import { Random } from '../../src/engine/random.js';

export const CLASSES = ['zero', 'one', 'two'];

const config = (lr: number, pool: string) => ({
  name: 'fixture',
  seed: 0,
  data: { dataset: 'mnist' },
  model: {
    input: [8, 8, 1],
    layers: [
      { Conv2D: { filters: 4, kernel_size: 3, activation: 'relu' } },
      { [pool]: {} },
      { Flatten: {} },
      { Dense: { units: 3, activation: 'softmax' } },
    ],
  },
  train: { epochs: 4, optimizer: { adam: { learning_rate: lr } } },
});

export function fixtureStore(dir: string): RunStore {
  const store = new SqliteStore(join(dir, 'store'));
  const rng = new Random(3);
  const exp = store.upsertExperiment(
    'fixture',
    { name: 'fixture', sweep: { grid: { 'train.optimizer.adam.learning_rate': [0.001, 0.01] } } },
    null,
  );
  const plans = [];
  for (const variant of ['Baseline', 'MaxPool']) {
    for (const lr of [0.001, 0.01]) {
      for (let repeat = 0; repeat < 2; repeat++) {
        const label = `${variant} learning_rate=${lr}`;
        plans.push({
          key: `${label}#${repeat}`,
          label: `${label} #${repeat + 1}`,
          group: label,
          variant,
          values: { 'train.optimizer.adam.learning_rate': lr },
          repeat,
          seed: repeat,
          config: config(lr, variant === 'Baseline' ? 'AveragePooling2D' : 'MaxPooling2D'),
        });
      }
    }
  }
  const trials = store.addTrials(exp.id, plans);
  trials.forEach((t, i) => {
    const lr = t.values['train.optimizer.adam.learning_rate'] as number;
    const base = (lr === 0.01 ? 0.85 : 0.7) + (t.variant === 'MaxPool' ? 0.03 : 0) + 0.01 * t.repeat;
    store.startTrial(t.id, { backend: 'ts', threads: 1, convlab: '0.1.0', machine: { cpu: 'test cpu', cores: 2 } }, 123);
    for (let e = 0; e < 4; e++) {
      store.recordEpoch(t.id, e, {
        loss: 1.5 / (e + 1),
        accuracy: base - 0.3 / (e + 1),
        val_loss: 1.6 / (e + 1),
        val_accuracy: base - 0.32 / (e + 1),
        seconds: 0.5,
        samples_per_second: 2000,
      });
    }
    const labels = Int32Array.from({ length: 60 }, (_, k) => k % 3);
    const preds = labels.map((l) => (rng.next() < base ? l : (l + 1) % 3));
    const m = confusionMatrix(labels, preds, 3);
    const evaluation = {
      test: {
        classNames: CLASSES,
        confusion_matrix: m,
        confusion_display: 'counts',
        classification_report: classificationReport(m, CLASSES),
        baselines: { most_frequent: { accuracy: 1 / 3, macro_f1: 1 / 6, weighted_f1: 1 / 6 } },
        time_difference: timeDifferenceSummary(Float64Array.from({ length: 200 }, () => Math.abs(rng.normal()) * 20)),
      },
    };
    const final = {
      train: { loss: 0.3, accuracy: base + 0.05 },
      validation: { loss: 0.4, accuracy: base },
      test: { loss: 0.42, accuracy: base - 0.01 },
    };
    if (i === 0) {
      const img = Float32Array.from({ length: 2 * 8 * 8 }, () => rng.next());
      const written = writeArtifacts(join(store.trialDir(t.id), 'artifacts'), [
        { kind: 'inputs', layer: 'input', shape: [2, 8, 8, 1], data: img },
        {
          kind: 'feature_maps',
          layer: 'conv2d',
          shape: [2, 6, 6, 4],
          data: Float32Array.from({ length: 2 * 6 * 6 * 4 }, () => rng.normal()),
        },
        { kind: 'feature_maps', layer: 'dense', shape: [2, 3], data: Float32Array.from({ length: 6 }, () => rng.next()) },
        { kind: 'filters', layer: 'conv2d', shape: [3, 3, 1, 4], data: Float32Array.from({ length: 36 }, () => rng.normal()) },
        {
          kind: 'predictions',
          layer: 'input',
          shape: [2, 8, 8, 1],
          data: img,
          meta: { split: 'test', indices: [0, 1], labels: [0, 2], predicted: [0, 1], confidence: [0.9, 0.6], classNames: CLASSES },
        },
      ]);
      const rel = (p: string) => p.slice(store.root.length + 1);
      for (const w of written)
        store.addArtifact({
          trialId: t.id,
          kind: w.kind,
          name: w.layer,
          path: rel(w.files[0]),
          meta: { shape: w.shape, files: w.files.map(rel), ...(w.meta ? { predictions: w.meta } : {}) },
        });
    }
    store.finishTrial(t.id, final, 2 + i * 0.1, { evaluation, samples: { train: 1000, validation: 100, test: 60 } });
  });
  return store;
}

/** A trial of the fixture study that this process is running (claimed, started), with its first epoch recorded. */
export function addRunningTrial(store: RunStore, firstEpoch: Record<string, number>): TrialRow {
  const exp = store.getExperiment('fixture')!;
  const [t] = store.addTrials(exp.id, [
    {
      key: 'live',
      label: 'Live',
      group: 'Live',
      variant: 'Baseline',
      values: { 'train.optimizer.adam.learning_rate': 0.003 },
      repeat: 0,
      seed: 0,
      config: {},
    },
  ]);
  store.claimTrial([t.id], workerId());
  store.startTrial(t.id, {}, 10);
  store.recordEpoch(t.id, 0, firstEpoch);
  return t;
}
