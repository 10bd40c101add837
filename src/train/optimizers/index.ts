/** Optimizers by Keras name: 'adam', {adam: {learning_rate: 0.01}} or {class_name: 'Adam', config: {...}}. */
import { snakeToCamel } from '../../nn/naming.js';
import { parseNamed } from '../../nn/spec.js';
import { Adadelta } from './adadelta.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import { Adamax } from './adamax.js';
import { AdamW } from './adamw.js';
import { Nadam } from './nadam.js';
import type { Optimizer } from './optimizer.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';

export { Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, RMSprop, SGD };
export { Optimizer, type LearningRate, type OptimizerArgs, type OptimizerState } from './optimizer.js';

const builders: Record<string, (args: Record<string, unknown>) => Optimizer> = {
  sgd: (a) => new SGD(a),
  adam: (a) => new Adam(a),
  adam_w: (a) => new AdamW(a),
  adamw: (a) => new AdamW(a),
  rmsprop: (a) => new RMSprop(a),
  rm_sprop: (a) => new RMSprop(a),
  nadam: (a) => new Nadam(a),
  adagrad: (a) => new Adagrad(a),
  adadelta: (a) => new Adadelta(a),
  adamax: (a) => new Adamax(a),
};

export const optimizerNames = ['sgd', 'adam', 'adamw', 'rmsprop', 'nadam', 'adagrad', 'adadelta', 'adamax'];

export type OptimizerSpec = string | Optimizer | Record<string, unknown>;

/** Keras' beta_1 → beta1 and the like, then the usual snake_case → camelCase. */
function argKey(key: string): string {
  return snakeToCamel(key.replace(/^beta_(\d)$/, 'beta$1'));
}

export function getOptimizer(spec: OptimizerSpec): Optimizer {
  if (typeof spec === 'object' && spec !== null && typeof (spec as Optimizer).apply === 'function') return spec as Optimizer;
  const { name, config } = parseNamed(spec, 'optimizer');
  const build = builders[name];
  if (!build) throw new Error(`unknown optimizer '${name}': expected one of ${optimizerNames.join(', ')}`);
  const args = Object.fromEntries(
    Object.entries(config)
      .filter(([k]) => k !== 'name')
      .map(([k, v]) => [argKey(k), v]),
  );
  return build(args);
}
