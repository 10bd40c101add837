/** Accuracy metrics: categorical (argmax of one-hot), sparse categorical (argmax vs integer label), binary. */
import type { Tensor } from '../engine/tensor.js';
import { meanMetric, type Metric } from './metric.js';

export function argmaxRows(t: Tensor): Int32Array {
  const classes = t.shape[t.rank - 1];
  const rows = t.size / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (t.data[r * classes + c] > t.data[r * classes + best]) best = c;
    out[r] = best;
  }
  return out;
}

export function sparseCategoricalAccuracy(name = 'sparse_categorical_accuracy'): Metric {
  return meanMetric(name, (yTrue, yPred) => {
    const pred = argmaxRows(yPred);
    return Array.from(pred, (p, i) => (p === yTrue.data[i] ? 1 : 0));
  });
}

export function categoricalAccuracy(name = 'categorical_accuracy'): Metric {
  return meanMetric(name, (yTrue, yPred) => {
    const pred = argmaxRows(yPred);
    const truth = argmaxRows(yTrue);
    return Array.from(pred, (p, i) => (p === truth[i] ? 1 : 0));
  });
}

export function binaryAccuracy(name = 'binary_accuracy', threshold = 0.5): Metric {
  return meanMetric(name, (yTrue, yPred) => Array.from(yPred.data, (p, i) => ((p > threshold ? 1 : 0) === yTrue.data[i] ? 1 : 0)));
}

/** Top-k accuracy against integer labels: the label is among the k highest scores (ties count against it). */
export function sparseTopKCategoricalAccuracy(k = 5, name = `sparse_top_${k}_categorical_accuracy`): Metric {
  return meanMetric(name, (yTrue, yPred) => {
    const classes = yPred.shape[yPred.rank - 1];
    const rows = yPred.size / classes;
    return Array.from({ length: rows }, (_, r) => {
      const target = yPred.data[r * classes + yTrue.data[r]];
      let higher = 0;
      for (let c = 0; c < classes; c++) if (yPred.data[r * classes + c] > target) higher++;
      return higher < k ? 1 : 0;
    });
  });
}
