/** LeakyReLU layer: x for x ≥ 0, negative_slope·x below (Keras' default slope 0.3; tf.keras called it alpha). */
import { z } from 'zod';
import { leakyRelu } from '../../activations.js';
import { Layer, single, type CallContext, type LayerShape } from '../../layer.js';
import { baseArgs, parseArgs } from '../../schema.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({
  ...baseArgs,
  negativeSlope: z.number().nonnegative().optional(),
  alpha: z.number().nonnegative().optional(),
});
export type LeakyReLUArgs = z.input<typeof schema>;

export class LeakyReLU extends Layer {
  static readonly className = 'LeakyReLU';
  readonly negativeSlope: number;
  constructor(args: LeakyReLUArgs = {}) {
    const a = parseArgs(schema, args, 'LeakyReLU');
    super(a);
    this.negativeSlope = a.negativeSlope ?? a.alpha ?? 0.3;
  }
  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    return leakyRelu(single(inputs, this), this.negativeSlope);
  }
  computeOutputShape(inputShape: LayerShape): LayerShape {
    return inputShape;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), negative_slope: this.negativeSlope };
  }
}
