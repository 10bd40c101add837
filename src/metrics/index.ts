/** Metrics by Keras name. 'accuracy' resolves to the variant that fits the loss and output, as in Keras. */
import type { Tensor } from '../engine/tensor.js';
import { binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy, sparseTopKCategoricalAccuracy } from './accuracy.js';
import { meanMetric, type Metric } from './metric.js';
import { meanAbsoluteErrorMetric, meanSquaredErrorMetric, rSquaredMetric, timeDifferenceMetric } from './regression.js';

export { argmaxRows, binaryAccuracy, categoricalAccuracy, sparseCategoricalAccuracy, sparseTopKCategoricalAccuracy } from './accuracy.js';
export { meanMetric, type Metric } from './metric.js';
export {
  meanAbsoluteErrorMetric,
  meanSquaredErrorMetric,
  rSquaredMetric,
  timeDifferenceMetric,
  timeDifferences,
  timeDifferenceSummary,
  type TimeDifferenceSummary,
} from './regression.js';

export type MetricFn = (yTrue: Tensor, yPred: Tensor) => Tensor;
export type MetricSpec = string | Metric | MetricFn;

export const metricNames = [
  'accuracy',
  'acc',
  'categorical_accuracy',
  'sparse_categorical_accuracy',
  'binary_accuracy',
  'sparse_top_k_categorical_accuracy',
  'top_5_accuracy',
  'mse',
  'mean_squared_error',
  'mae',
  'mean_absolute_error',
  'r2',
  'time_difference_minutes',
];

/** lossName and outputUnits pick the accuracy variant for the plain name 'accuracy'. */
export function getMetric(spec: MetricSpec, lossName: string, outputUnits: number | null): Metric {
  if (typeof spec === 'function') return meanMetric(spec.name || 'custom_metric', (t, p) => spec(t, p).data);
  if (typeof spec !== 'string') return spec;
  switch (spec) {
    case 'accuracy':
    case 'acc':
      if (lossName === 'sparse_categorical_crossentropy') return sparseCategoricalAccuracy(spec);
      if (lossName === 'binary_crossentropy' || outputUnits === 1) return binaryAccuracy(spec);
      return categoricalAccuracy(spec);
    case 'categorical_accuracy':
      return categoricalAccuracy();
    case 'sparse_categorical_accuracy':
      return sparseCategoricalAccuracy();
    case 'binary_accuracy':
      return binaryAccuracy();
    case 'mse':
    case 'mean_squared_error':
      return meanSquaredErrorMetric(spec);
    case 'mae':
    case 'mean_absolute_error':
      return meanAbsoluteErrorMetric(spec);
    case 'sparse_top_k_categorical_accuracy':
      return sparseTopKCategoricalAccuracy(5, spec);
    case 'r2':
      return rSquaredMetric();
    case 'time_difference_minutes':
      return timeDifferenceMetric();
    default: {
      const topK = /^top_(\d+)_accuracy$/.exec(spec);
      if (topK) return sparseTopKCategoricalAccuracy(Number(topK[1]), spec);
      throw new Error(`unknown metric '${spec}': expected one of ${metricNames.join(', ')}, or a function (yTrue, yPred) => Tensor`);
    }
  }
}
export {
  classificationReport,
  confusionMatrix,
  dummyPredictions,
  formatReport,
  normalizeConfusion,
  type BaselineStrategy,
  type ClassificationReport,
  type ClassScores,
} from './classification.js';
