/**
 * Regression losses: mean squared error, mean absolute error, Huber and the cyclic squared error (for targets on a
 * circle, such as the time on a clock face), each averaged over the last axis.
 */
import { z } from 'zod';
import { mean } from '../../engine/composed.js';
import { abs, add, minimum, mul, reshape, sin, sub } from '../../engine/ops.js';
import type { Tensor } from '../../engine/tensor.js';
import { parseArgs } from '../schema.js';
import { type Loss, makeLoss, type Reduction, reductionSchema } from './loss.js';

function checkShapes(name: string, yTrue: Tensor, yPred: Tensor): void {
  if (yTrue.size !== yPred.size) {
    throw new Error(`${name}: targets of shape [${yTrue.shape.join(', ')}] do not match predictions of shape [${yPred.shape.join(', ')}]`);
  }
}

/** Targets given as [batch] for a [batch, 1] output are reshaped to match. */
function aligned(yTrue: Tensor, yPred: Tensor): Tensor {
  return yTrue.rank === yPred.rank ? yTrue : reshape(yTrue, yPred.shape);
}

export function meanSquaredError(args: { reduction?: Reduction } = {}): Loss {
  const { reduction } = parseArgs(plainSchema, args, 'mean_squared_error');
  return makeLoss(
    'mean_squared_error',
    {},
    (yTrue, yPred) => {
      checkShapes('mean_squared_error', yTrue, yPred);
      const d = sub(yPred, aligned(yTrue, yPred));
      return mean(mul(d, d), -1);
    },
    reduction,
  );
}

export function meanAbsoluteError(args: { reduction?: Reduction } = {}): Loss {
  const { reduction } = parseArgs(plainSchema, args, 'mean_absolute_error');
  return makeLoss(
    'mean_absolute_error',
    {},
    (yTrue, yPred) => {
      checkShapes('mean_absolute_error', yTrue, yPred);
      return mean(abs(sub(yPred, aligned(yTrue, yPred))), -1);
    },
    reduction,
  );
}

const huberSchema = z.strictObject({ delta: z.number().positive().default(1), reduction: reductionSchema });
const plainSchema = z.strictObject({ reduction: reductionSchema });

/** 0.5·e² for |e| ≤ δ, δ·|e| − 0.5·δ² beyond: written as 0.5·q² + δ·(|e| − q) with q = min(|e|, δ). */
export function huber(args: z.input<typeof huberSchema> = {}): Loss {
  const { delta, reduction } = parseArgs(huberSchema, args, 'huber');
  return makeLoss(
    'huber',
    { delta },
    (yTrue, yPred) => {
      checkShapes('huber', yTrue, yPred);
      const e = abs(sub(yPred, aligned(yTrue, yPred)));
      const q = minimum(e, delta);
      return mean(add(mul(mul(q, q), 0.5), mul(sub(e, q), delta)), -1);
    },
    reduction,
  );
}

const cyclicSchema = z.strictObject({
  period: z.number().positive().default(1),
  form: z.enum(['arc', 'chord']).default('arc'),
  reduction: reductionSchema,
});

/**
 * The squared error of targets that wrap around (a time of day, an angle), for an error e = prediction − target on a
 * circle of circumference `period` (P), in one of two forms. Both equal e² for small errors and treat 11:55 as 10
 * minutes from 0:05, not 710.
 * - `arc` (the default): the squared distance the shorter way round, min(|e|, P − |e|)², for outputs within one
 *   period of the target; beyond that it grows again, as (|e| − P)², which holds a linear output unit to the
 *   targets' turn. A kink half a period away, where the shorter way changes sides.
 * - `chord`: the squared chord, (P/π)²·sin²(π·e/P). Smooth everywhere and the same for e and e ± kP, but bounded: a
 *   linear output unit trained under it can drift off by whole turns and never learn (the clock study did just that).
 */
export function cyclicMeanSquaredError(args: z.input<typeof cyclicSchema> = {}): Loss {
  const { period, form, reduction } = parseArgs(cyclicSchema, args, 'cyclic_mean_squared_error');
  return makeLoss(
    'cyclic_mean_squared_error',
    { period, form },
    (yTrue, yPred) => {
      checkShapes('cyclic_mean_squared_error', yTrue, yPred);
      const e = sub(yPred, aligned(yTrue, yPred));
      if (form === 'arc') {
        const d = abs(e);
        const arc = minimum(d, sub(period, d));
        return mean(mul(arc, arc), -1);
      }
      const chord = mul(sin(mul(e, Math.PI / period)), period / Math.PI);
      return mean(mul(chord, chord), -1);
    },
    reduction,
  );
}
