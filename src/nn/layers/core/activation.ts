/** Activation: applies an activation function by name (or a user function) as its own layer. */
import { z } from 'zod';
import { getActivation, type Activation as ActivationFn, type ActivationSpec } from '../../activations.js';
import { Layer, single, type CallContext, type LayerShape } from '../../layer.js';
import { activation, baseArgs, parseArgs } from '../../schema.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({ ...baseArgs, activation });
export type ActivationArgs = z.input<typeof schema>;

export class Activation extends Layer {
  static readonly className = 'Activation';
  readonly activation: ActivationFn;

  constructor(args: ActivationArgs) {
    const a = parseArgs(schema, args, 'Activation');
    if (a.activation === undefined) throw new Error('Activation needs an activation, e.g. {activation: relu}');
    super(a);
    this.activation = getActivation(a.activation as ActivationSpec);
  }

  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    return this.activation.fn(single(inputs, this));
  }

  computeOutputShape(inputShape: LayerShape): LayerShape {
    return inputShape;
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), activation: this.activation.name };
  }
}
