/** Dropout: in training, zeroes each value with probability `rate` and scales the rest by 1/(1-rate). */
import { z } from 'zod';
import { Layer, single, type CallContext, type LayerShape } from '../../layer.js';
import { baseArgs, parseArgs } from '../../schema.js';
import { mul } from '../../../engine/ops.js';
import { bernoulliMask } from '../../../engine/updates.js';
import type { Random } from '../../../engine/random.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({
  ...baseArgs,
  rate: z.number().min(0).lt(1),
  noiseShape: z.array(z.number().int().positive().nullable()).optional(),
  seed: z.number().int().nullable().optional(),
});
export type DropoutArgs = z.input<typeof schema>;

/** A {0, 1/(1-rate)} mask of the given shape, drawn from rng's stream (the same on every backend). */
export function dropoutMask(shape: readonly number[], rate: number, rng: Random): Tensor {
  return bernoulliMask(shape, rate, 1 / (1 - rate), rng);
}

export class Dropout extends Layer {
  static readonly className: string = 'Dropout';
  readonly rate: number;
  readonly noiseShape: (number | null)[] | undefined;
  constructor(args: DropoutArgs) {
    const a = parseArgs(schema, args, 'Dropout');
    super(a);
    this.rate = a.rate;
    this.noiseShape = a.noiseShape;
  }
  /** The mask's shape: noise_shape with unknown dims taken from the input, broadcast over dims of size 1. */
  protected maskShape(x: Tensor): number[] {
    if (!this.noiseShape) return [...x.shape];
    if (this.noiseShape.length !== x.rank)
      throw new Error(`Dropout '${this.name}': noise_shape has rank ${this.noiseShape.length}, input has rank ${x.rank}`);
    return this.noiseShape.map((d, i) => d ?? x.shape[i]);
  }
  call(inputs: Tensor | Tensor[], ctx: CallContext): Tensor {
    const x = single(inputs, this);
    if (!ctx.training || this.rate === 0) return x;
    return mul(x, dropoutMask(this.maskShape(x), this.rate, ctx.rng));
  }
  computeOutputShape(inputShape: LayerShape): LayerShape {
    return inputShape;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), rate: this.rate, noise_shape: this.noiseShape ?? null };
  }
}
