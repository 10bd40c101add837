/**
 * BatchNormalization over the last axis. Training normalizes with the batch's mean and (biased) variance and
 * updates the moving statistics: moving = moving·momentum + batch·(1 − momentum). Inference uses the moving
 * statistics. gamma and beta are trainable; the moving mean and variance are not.
 */
import { z } from 'zod';
import { initializerConfig, type InitializerSpec } from '../../initializers.js';
import { Layer, single, type CallContext, type LayerShape, type Weight } from '../../layer.js';
import { optionalRegularizer, regularizerConfig } from '../../regularizers.js';
import { baseArgs, initializer, parseArgs, regularizer } from '../../schema.js';
import { add, batchNormTraining, div, mul, sqrt, sub } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({
  ...baseArgs,
  /** The channels axis: the last one, as -1 or by its index (3 for NHWC images, 1 for [batch, features]). */
  axis: z.number().int().default(-1),
  momentum: z.number().min(0).max(1).default(0.99),
  epsilon: z.number().positive().default(1e-3),
  center: z.boolean().default(true),
  scale: z.boolean().default(true),
  betaInitializer: initializer.default('zeros'),
  gammaInitializer: initializer.default('ones'),
  movingMeanInitializer: initializer.default('zeros'),
  movingVarianceInitializer: initializer.default('ones'),
  betaRegularizer: regularizer.optional(),
  gammaRegularizer: regularizer.optional(),
});
export type BatchNormalizationArgs = z.input<typeof schema>;

export class BatchNormalization extends Layer {
  static readonly className = 'BatchNormalization';
  private readonly args: z.output<typeof schema>;
  gamma: Weight | undefined;
  beta: Weight | undefined;
  movingMean!: Weight;
  movingVariance!: Weight;

  constructor(args: BatchNormalizationArgs = {}) {
    const a = parseArgs(schema, args, 'BatchNormalization');
    super(a);
    this.args = a;
  }

  override build(inputShape: LayerShape): void {
    const rank = inputShape.length;
    const axis = this.args.axis < 0 ? rank + this.args.axis : this.args.axis;
    if (axis !== rank - 1)
      throw new Error(
        `BatchNormalization '${this.name}': axis ${this.args.axis} of a rank-${rank} ` +
          `input is not the last (channels) axis; convlab normalizes the last axis: ` +
          `give -1${rank > 1 ? ` or ${rank - 1}` : ''}`,
      );
    const c = inputShape[inputShape.length - 1];
    if (c === null || inputShape.length < 2)
      throw new Error(`BatchNormalization '${this.name}' needs a known last dimension, got ${JSON.stringify(inputShape)}`);
    const a = this.args;
    if (a.scale)
      this.gamma = this.addWeight('gamma', [c], a.gammaInitializer as InitializerSpec, {
        regularizer: optionalRegularizer(a.gammaRegularizer),
      });
    if (a.center)
      this.beta = this.addWeight('beta', [c], a.betaInitializer as InitializerSpec, {
        regularizer: optionalRegularizer(a.betaRegularizer),
      });
    this.movingMean = this.addWeight('moving_mean', [c], a.movingMeanInitializer as InitializerSpec, { trainable: false });
    this.movingVariance = this.addWeight('moving_variance', [c], a.movingVarianceInitializer as InitializerSpec, { trainable: false });
    this.built = true;
  }

  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = single(inputs, this);
    if (ctx.training && this.trainable) {
      const out = batchNormTraining(x, this.gamma?.value ?? null, this.beta?.value ?? null, this.args.epsilon);
      const momentum = this.args.momentum;
      const mm = this.movingMean.value.data;
      const mv = this.movingVariance.value.data;
      for (let i = 0; i < mm.length; i++) {
        mm[i] = mm[i] * momentum + out.mean[i] * (1 - momentum);
        mv[i] = mv[i] * momentum + out.variance[i] * (1 - momentum);
      }
      return out.y;
    }
    let y = div(sub(x, this.movingMean.value), sqrt(add(this.movingVariance.value, this.args.epsilon)));
    if (this.gamma) y = mul(y, this.gamma.value);
    if (this.beta) y = add(y, this.beta.value);
    return y;
  }

  computeOutputShape(inputShape: LayerShape): LayerShape {
    return inputShape;
  }

  override getConfig(): Record<string, unknown> {
    const a = this.args;
    const init = initializerConfig;
    return {
      ...super.getConfig(),
      axis: a.axis,
      momentum: a.momentum,
      epsilon: a.epsilon,
      center: a.center,
      scale: a.scale,
      beta_initializer: init(a.betaInitializer),
      gamma_initializer: init(a.gammaInitializer),
      moving_mean_initializer: init(a.movingMeanInitializer),
      moving_variance_initializer: init(a.movingVarianceInitializer),
      beta_regularizer: regularizerConfig(a.betaRegularizer),
      gamma_regularizer: regularizerConfig(a.gammaRegularizer),
    };
  }
}
