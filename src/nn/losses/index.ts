/** Losses by Keras name (and alias), or any function (yTrue, yPred) => Tensor. */
import type { Tensor } from '../../engine/tensor.js';
import { snakeToCamel } from '../naming.js';
import { parseNamed } from '../spec.js';
import { binaryCrossentropy, categoricalCrossentropy, oneHot, sparseCategoricalCrossentropy } from './crossentropy.js';
import type { Loss } from './loss.js';
import { cosineSimilarity, klDivergence, poisson } from './probabilistic.js';
import { huber, meanAbsoluteError, meanSquaredError } from './regression.js';

export { binaryCrossentropy, categoricalCrossentropy, cosineSimilarity, huber, klDivergence, meanAbsoluteError, meanSquaredError, oneHot, poisson, sparseCategoricalCrossentropy };
export type { Loss } from './loss.js';

const builders: Record<string, (args: Record<string, unknown>) => Loss> = {
  categorical_crossentropy: (a) => categoricalCrossentropy(a),
  sparse_categorical_crossentropy: (a) => sparseCategoricalCrossentropy(a),
  binary_crossentropy: (a) => binaryCrossentropy(a),
  mean_squared_error: () => meanSquaredError(),
  mean_absolute_error: () => meanAbsoluteError(),
  huber: (a) => huber(a),
  poisson: () => poisson(),
  kl_divergence: () => klDivergence(),
  cosine_similarity: () => cosineSimilarity(),
};

const aliases: Record<string, string> = {
  mse: 'mean_squared_error', mae: 'mean_absolute_error', kld: 'kl_divergence', kullback_leibler_divergence: 'kl_divergence',
  huber_loss: 'huber', categorical_cross_entropy: 'categorical_crossentropy',
};

export const lossNames = [...Object.keys(builders), ...Object.keys(aliases)];

export type LossFn = (yTrue: Tensor, yPred: Tensor) => Tensor;
export type LossSpec = string | Loss | LossFn | Record<string, unknown>;

export function getLoss(spec: LossSpec): Loss {
  if (typeof spec === 'function') return { name: spec.name || 'custom_loss', config: {}, call: spec };
  if (typeof spec === 'object' && spec !== null && typeof (spec as Loss).call === 'function') return spec as Loss;
  const { name, config } = parseNamed(spec, 'loss');
  const key = aliases[name] ?? name;
  const build = builders[key];
  if (!build) throw new Error(`unknown loss '${name}': expected one of ${lossNames.join(', ')}, or a function (yTrue, yPred) => Tensor`);
  return build(Object.fromEntries(Object.entries(config).map(([k, v]) => [snakeToCamel(k), v])));
}
