/** After a run: what the spec's evaluate block asks of the trained model. */
import { Random } from '../engine/random.js';
import {
  argmaxRows,
  classificationReport,
  confusionMatrix,
  dummyPredictions,
  normalizeConfusion,
  type ClassificationReport,
} from '../metrics/index.js';
import type { TimeDifferenceSummary } from '../metrics/regression.js';
import type { BatchSource } from '../data/source.js';
import type { PreparedData } from '../data/spec.js';
import type { Model } from '../nn/model.js';
import { SpecError } from '../util/spec_error.js';
import type { Logs } from '../train/index.js';
import { featureMapArtifacts, filterArtifacts, predictionArtifact, timeDifferenceEvaluation, type ArrayArtifact } from './inspect.js';
import type { Spec } from './spec.js';

/** Per split: the first output's confusion matrix, classification report and dummy baselines, as asked. */
export interface SplitEvaluation {
  classNames: string[];
  confusion_matrix?: number[][];
  /** Each row (true class) divided by its count: the share of that class predicted as each class. */
  confusion_matrix_normalized?: number[][];
  /** Which of the two to print: counts, normalized or both. */
  confusion_display?: 'counts' | 'normalized' | 'both';
  classification_report?: ClassificationReport;
  baselines?: Record<string, { accuracy: number; macro_f1: number; weighted_f1: number }>;
  /** Clocks: minutes between predicted and true time on the dial. */
  time_difference?: TimeDifferenceSummary;
}

/**
 * What the evaluate block asks of a trained model: final metrics per split, confusion matrices, classification
 * reports and baselines, clock errors, feature maps, filters and sample predictions. Used after training, and by
 * `convlab evaluate` on a stored trial's weights.
 */
export function evaluateTrained(
  model: Model,
  data: PreparedData,
  spec: Spec,
): { final: Record<string, Logs>; evaluation: Record<string, SplitEvaluation>; artifacts: ArrayArtifact[] } {
  // Final metrics, reports and feature maps see the training images as they are, not augmented.
  const splits: Record<string, BatchSource | undefined> = {
    train: data.trainEvaluation ?? data.train,
    validation: data.validation,
    test: data.test,
  };
  const final: Record<string, Logs> = {};
  for (const split of spec.evaluate.on) {
    const source = splits[split];
    if (source) final[split] = model.evaluate(source, undefined, { metrics: spec.evaluate.metrics ?? undefined });
  }
  const evaluation = evaluateClasses(model, data, splits, spec);
  const e = spec.evaluate;
  if (e.time_difference && data.targetLayout) {
    for (const split of e.on) {
      const source = splits[split];
      if (source)
        (evaluation[split] ??= { classNames: data.classNames }).time_difference = timeDifferenceEvaluation(
          model,
          source,
          data.targetLayout,
        );
    }
  }
  const artifacts: ArrayArtifact[] = [];
  if (e.feature_maps)
    artifacts.push(...featureMapArtifacts(model, splits[e.feature_maps.split]!, e.feature_maps.layers, e.feature_maps.samples));
  if (e.filters) artifacts.push(...filterArtifacts(model, e.filters === true ? 'all' : e.filters.layers));
  if (e.predictions) {
    const p = e.predictions === true ? { count: 36, split: 'test' as const, only: 'all' as const } : e.predictions;
    artifacts.push(predictionArtifact(model, splits[p.split]!, p.split, data.classNames, p.count, p.only));
  }
  return { final, evaluation, artifacts };
}

/** Labels (argmax of one-hot rows) and the model's predicted classes for the first output over a whole source. */
function labelsAndPredictions(model: Model, source: BatchSource): { labels: Int32Array; preds: Int32Array } {
  const labels = new Int32Array(source.size);
  const preds = new Int32Array(source.size);
  const step = 256;
  for (let start = 0; start < source.size; start += step) {
    const idx = Array.from({ length: Math.min(step, source.size - start) }, (_, i) => start + i);
    const { x, y } = source.batch(idx);
    const out = model.predictBatch(x)[0];
    const p = argmaxRows(out);
    const t = y[0].rank === 2 ? argmaxRows(y[0]) : Int32Array.from(y[0].data);
    labels.set(t, start);
    preds.set(p, start);
  }
  return { labels, preds };
}

function evaluateClasses(
  model: Model,
  data: PreparedData,
  splits: Record<string, BatchSource | undefined>,
  spec: Spec,
): Record<string, SplitEvaluation> {
  const e = spec.evaluate;
  if (!e.confusion_matrix && !e.classification_report && e.baselines.length === 0) return {};
  const k = data.classNames.length;
  const units = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (k < 2 || units !== k) {
    throw new SpecError([
      {
        path: ['evaluate'],
        message: `confusion matrices, reports and baselines need a classifier: the first output has ${units} units and the data ${k} classes`,
      },
    ]);
  }
  const trainLabels = labelsAndPredictions(model, splits.train!).labels;
  const out: Record<string, SplitEvaluation> = {};
  for (const split of e.on) {
    const source = splits[split];
    if (!source) continue;
    const { labels, preds } = labelsAndPredictions(model, source);
    const m = confusionMatrix(labels, preds, k);
    const r: SplitEvaluation = { classNames: data.classNames };
    if (e.confusion_matrix) {
      r.confusion_matrix = m;
      r.confusion_matrix_normalized = normalizeConfusion(m, 'true');
      r.confusion_display = e.confusion_matrix === true ? 'counts' : e.confusion_matrix;
    }
    if (e.classification_report) r.classification_report = classificationReport(m, data.classNames);
    if (e.baselines.length) {
      r.baselines = {};
      for (const strategy of e.baselines) {
        const dummy = dummyPredictions(strategy, trainLabels, labels.length, k, new Random(spec.seed ^ 0xd00d));
        const rep = classificationReport(confusionMatrix(labels, dummy, k));
        r.baselines[strategy] = { accuracy: rep.accuracy, macro_f1: rep.macro.f1, weighted_f1: rep.weighted.f1 };
      }
    }
    out[split] = r;
  }
  return out;
}
