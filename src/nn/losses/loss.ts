/** A loss maps (y_true, y_pred) to one value per sample; training averages them over the batch. */
import type { Tensor } from '../../engine/tensor.js';

export interface Loss {
  readonly name: string;
  readonly config: Record<string, unknown>;
  /** Per-sample losses, shape [batch] (or a scalar for user functions that reduce themselves). */
  call(yTrue: Tensor, yPred: Tensor): Tensor;
}

/** Keras' backend epsilon, used to keep logs and divisions finite. */
export const EPSILON = 1e-7;
