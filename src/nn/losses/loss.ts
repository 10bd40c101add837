/**
 * A loss, as in Keras: calling it gives the loss reduced over the batch (the mean by default, with optional
 * per-sample weights); perSample gives one value per sample (Keras' Loss.call), which reduction 'none' also returns.
 */
import { z } from 'zod';
import { mean } from '../../engine/composed.js';
import { mul, sum } from '../../engine/ops.js';
import type { Tensor } from '../../engine/tensor.js';

/** Keras' reductions: the mean over the batch (sum_over_batch_size), the sum, or the per-sample values. */
export type Reduction = 'sum_over_batch_size' | 'sum' | 'none';

export const reductionSchema = z.enum(['sum_over_batch_size', 'sum', 'none']).default('sum_over_batch_size');

export interface Loss {
  /** The loss of a batch, reduced as `reduction` says; sample weights (shape [batch]) scale each sample's value. */
  (yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor): Tensor;
  readonly name: string;
  /** Keras-style config (snake_case), enough to build the same loss again by name. */
  readonly config: Record<string, unknown>;
  readonly reduction: Reduction;
  /** One value per sample, shape [batch] (or a scalar for user functions that reduce themselves). */
  perSample(yTrue: Tensor, yPred: Tensor): Tensor;
}

/** Keras' backend epsilon, used to keep logs and divisions finite. */
export const EPSILON = 1e-7;

/** Reduces per-sample values; a scalar (from a function that reduces itself) is returned as it is. */
export function reduceLoss(values: Tensor, reduction: Reduction, sampleWeight?: Tensor): Tensor {
  if (values.rank === 0) return values;
  if (sampleWeight) {
    if (values.rank !== 1 || sampleWeight.size !== values.size) {
      throw new Error(`sample weights: expected one weight per sample (${values.shape[0]}), got shape [${sampleWeight.shape.join(', ')}]`);
    }
    values = mul(values, sampleWeight);
  }
  if (reduction === 'none') return values;
  return reduction === 'sum' ? sum(values) : mean(values);
}

/** A loss from its per-sample function. The reduction shows in the config only when it is not the default. */
export function makeLoss(
  name: string,
  config: Record<string, unknown>,
  perSample: (yTrue: Tensor, yPred: Tensor) => Tensor,
  reduction: Reduction = 'sum_over_batch_size',
): Loss {
  const loss = (yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor) => reduceLoss(perSample(yTrue, yPred), reduction, sampleWeight);
  const fullConfig = reduction === 'sum_over_batch_size' ? config : { ...config, reduction };
  Object.defineProperty(loss, 'name', { value: name });
  return Object.assign(loss, { config: fullConfig, reduction, perSample }) as Loss;
}

/** Whether a value is a Loss (rather than a plain function of (yTrue, yPred)). */
export function isLoss(x: unknown): x is Loss {
  return typeof x === 'function' && typeof (x as Partial<Loss>).perSample === 'function';
}
