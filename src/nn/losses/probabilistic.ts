/** Poisson, Kullback-Leibler divergence and cosine similarity, with Keras' formulas over the last axis. */
import { clip, mean } from '../../engine/composed.js';
import { add, div, log, maximum, mul, neg, reshape, sqrt, sub, sum } from '../../engine/ops.js';
import type { Tensor } from '../../engine/tensor.js';
import { z } from 'zod';
import { parseArgs } from '../schema.js';
import { EPSILON, type Loss, makeLoss, type Reduction, reductionSchema } from './loss.js';

const plainSchema = z.strictObject({ reduction: reductionSchema });

function aligned(yTrue: Tensor, yPred: Tensor, name: string): Tensor {
  if (yTrue.size !== yPred.size)
    throw new Error(`${name}: targets of shape [${yTrue.shape.join(', ')}] do not match predictions of shape [${yPred.shape.join(', ')}]`);
  return yTrue.rank === yPred.rank ? yTrue : reshape(yTrue, yPred.shape);
}

/** mean(p − y·log(p + ε)). */
export function poisson(args: { reduction?: Reduction } = {}): Loss {
  const { reduction } = parseArgs(plainSchema, args, 'poisson');
  return makeLoss(
    'poisson',
    {},
    (yTrue, yPred) => {
      const y = aligned(yTrue, yPred, 'poisson');
      return mean(sub(yPred, mul(y, log(add(yPred, EPSILON)))), -1);
    },
    reduction,
  );
}

/** Σ y·log(y / p) with both clipped to [ε, 1]. */
export function klDivergence(args: { reduction?: Reduction } = {}): Loss {
  const { reduction } = parseArgs(plainSchema, args, 'kl_divergence');
  return makeLoss(
    'kl_divergence',
    {},
    (yTrue, yPred) => {
      const y = clip(aligned(yTrue, yPred, 'kl_divergence'), EPSILON, 1);
      const p = clip(yPred, EPSILON, 1);
      return sum(mul(y, log(div(y, p))), -1);
    },
    reduction,
  );
}

function l2Normalize(x: Tensor): Tensor {
  return div(x, sqrt(maximum(sum(mul(x, x), -1, true), 1e-12)));
}

/** −Σ ŷ·p̂ of the L2-normalized vectors: −1 when they point the same way. */
export function cosineSimilarity(args: { reduction?: Reduction } = {}): Loss {
  const { reduction } = parseArgs(plainSchema, args, 'cosine_similarity');
  return makeLoss(
    'cosine_similarity',
    {},
    (yTrue, yPred) => {
      const y = aligned(yTrue, yPred, 'cosine_similarity');
      return neg(sum(mul(l2Normalize(y), l2Normalize(yPred)), -1));
    },
    reduction,
  );
}
