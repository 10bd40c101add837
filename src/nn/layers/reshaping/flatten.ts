/** Flatten: (batch, ...) → (batch, product of the rest). */
import { z } from 'zod';
import { Layer, single, type CallContext, type LayerShape } from '../../layer.js';
import { baseArgs, parseArgs } from '../../schema.js';
import { reshape } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({ ...baseArgs, dataFormat: z.literal('channels_last').optional() });
export type FlattenArgs = z.input<typeof schema>;

export class Flatten extends Layer {
  static readonly className = 'Flatten';
  constructor(args: FlattenArgs = {}) {
    super(parseArgs(schema, args, 'Flatten'));
  }
  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const x = single(inputs, this);
    return reshape(x, [x.shape[0], -1]);
  }
  computeOutputShape(inputShape: LayerShape): LayerShape {
    const rest = inputShape.slice(1);
    if (rest.some((d) => d === null))
      throw new Error(
        `Flatten '${this.name}' needs known dimensions after the batch, got (${inputShape.map((d) => d ?? 'None').join(', ')})`,
      );
    return [inputShape[0], rest.reduce<number>((a, b) => a * (b as number), 1)];
  }
}
