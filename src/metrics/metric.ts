/**
 * Streaming metrics: update() with each batch, result() for the epoch. A metric is either built in by Keras name
 * or a user function returning one value per sample, averaged like Keras' MeanMetricWrapper.
 */
import { noGrad, type Tensor } from '../engine/tensor.js';

export interface Metric {
  readonly name: string;
  update(yTrue: Tensor, yPred: Tensor): void;
  result(): number;
  reset(): void;
}

/** Averages a per-sample function over every sample seen. */
export function meanMetric(name: string, perSample: (yTrue: Tensor, yPred: Tensor) => ArrayLike<number>): Metric {
  let total = 0;
  let count = 0;
  return {
    name,
    update(yTrue, yPred) {
      const values = noGrad(() => perSample(yTrue, yPred));
      for (let i = 0; i < values.length; i++) total += values[i];
      count += values.length;
    },
    result: () => (count === 0 ? 0 : total / count),
    reset() {
      total = 0;
      count = 0;
    },
  };
}
