/**
 * Argument schemas shared by the layers. Layer arguments are validated with zod in camelCase; YAML's snake_case
 * keys are converted before validation and converted back in error paths, so one schema serves both.
 */
import { z } from 'zod';
import { getActivation } from './activations.js';
import { getInitializer } from './initializers.js';
import { getRegularizer } from './regularizers.js';

const positiveInt = z.number().int().positive();

/** 3 or [3, 3] → [3, 3]. */
export const intPair = z
  .union([positiveInt, z.tuple([positiveInt, positiveInt])], {
    error: 'expected a positive integer or a pair [height, width] of positive integers',
  })
  .transform((v): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]));

export const padding = z.enum(['valid', 'same']);

function resolvable<T>(resolve: (v: never) => T) {
  return z.any().superRefine((v, ctx) => {
    if (v === undefined || v === null) return;
    try {
      resolve(v as never);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  });
}

export const activation = resolvable(getActivation);
export const initializer = resolvable(getInitializer);
export const regularizer = resolvable(getRegularizer);

export const baseArgs = {
  name: z.string().min(1).optional(),
  trainable: z.boolean().optional(),
  /** Shape of one sample, without the batch dimension (Keras' input_shape). */
  inputShape: z.array(positiveInt.nullable()).min(1).optional(),
  batchSize: positiveInt.optional(),
  dtype: z.literal('float32').optional(),
  activityRegularizer: regularizer.optional(),
};

export type BaseArgs = {
  name?: string;
  trainable?: boolean;
  inputShape?: (number | null)[];
  batchSize?: number;
  dtype?: 'float32';
  activityRegularizer?: unknown;
};

export { parseArgs } from '../util/spec_error.js';
