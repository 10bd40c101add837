/** Losses by Keras name (and alias), or any function (yTrue, yPred) => Tensor. */
import type { Tensor } from '../../engine/tensor.js';
import { snakeToCamel } from '../naming.js';
import { parseNamed } from '../spec.js';
import { binaryCrossentropy, categoricalCrossentropy, oneHot, sparseCategoricalCrossentropy } from './crossentropy.js';
import { isLoss, type Loss, makeLoss } from './loss.js';
import { cosineSimilarity, klDivergence, poisson } from './probabilistic.js';
import { cyclicMeanSquaredError, huber, meanAbsoluteError, meanSquaredError } from './regression.js';

export {
  binaryCrossentropy,
  categoricalCrossentropy,
  cosineSimilarity,
  cyclicMeanSquaredError,
  huber,
  klDivergence,
  meanAbsoluteError,
  meanSquaredError,
  oneHot,
  poisson,
  sparseCategoricalCrossentropy,
};
export { isLoss, type Loss, makeLoss, type Reduction, reduceLoss } from './loss.js';

const builders: Record<string, (args: Record<string, unknown>) => Loss> = {
  categorical_crossentropy: (a) => categoricalCrossentropy(a),
  sparse_categorical_crossentropy: (a) => sparseCategoricalCrossentropy(a),
  binary_crossentropy: (a) => binaryCrossentropy(a),
  mean_squared_error: (a) => meanSquaredError(a),
  mean_absolute_error: (a) => meanAbsoluteError(a),
  huber: (a) => huber(a),
  cyclic_mean_squared_error: (a) => cyclicMeanSquaredError(a),
  poisson: (a) => poisson(a),
  kl_divergence: (a) => klDivergence(a),
  cosine_similarity: (a) => cosineSimilarity(a),
};

const aliases: Record<string, string> = {
  mse: 'mean_squared_error',
  mae: 'mean_absolute_error',
  cyclic_mse: 'cyclic_mean_squared_error',
  kld: 'kl_divergence',
  kullback_leibler_divergence: 'kl_divergence',
  huber_loss: 'huber',
  categorical_cross_entropy: 'categorical_crossentropy',
};

export const lossNames = [...Object.keys(builders), ...Object.keys(aliases)];

export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;
export type LossSpec = string | Loss | LossFn | Record<string, unknown>;

/**
 * A loss by Keras name (with its arguments in snake_case, reduction included), a Loss, or a function
 * (yTrue, yPred) => Tensor giving per-sample values (or a scalar), which becomes a Loss that averages them.
 */
export function getLoss(spec: LossSpec): Loss {
  if (isLoss(spec)) return spec;
  if (typeof spec === 'function') return makeLoss(spec.name || 'custom_loss', {}, spec);
  const { name, config } = parseNamed(spec, 'loss');
  const key = aliases[name] ?? name;
  const build = builders[key];
  if (!build) throw new Error(`unknown loss '${name}': expected one of ${lossNames.join(', ')}, or a function (yTrue, yPred) => Tensor`);
  return build(Object.fromEntries(Object.entries(config).map(([k, v]) => [snakeToCamel(k), v])));
}
