/** Regression metrics averaged over all values: mean squared and mean absolute error. */
import type { Tensor } from '../engine/tensor.js';
import { meanMetric, type Metric } from './metric.js';

function check(name: string, yTrue: Tensor, yPred: Tensor): void {
  if (yTrue.size !== yPred.size) throw new Error(`${name}: targets have ${yTrue.size} values, predictions ${yPred.size}`);
}

export function meanSquaredErrorMetric(name = 'mse'): Metric {
  return meanMetric(name, (yTrue, yPred) => {
    check(name, yTrue, yPred);
    return Array.from(yPred.data, (p, i) => (p - yTrue.data[i]) ** 2);
  });
}

export function meanAbsoluteErrorMetric(name = 'mae'): Metric {
  return meanMetric(name, (yTrue, yPred) => {
    check(name, yTrue, yPred);
    return Array.from(yPred.data, (p, i) => Math.abs(p - yTrue.data[i]));
  });
}
