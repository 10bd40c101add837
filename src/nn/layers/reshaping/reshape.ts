/** Reshape: gives each sample a new shape; one dimension may be -1 and is inferred. */
import { z } from 'zod';
import { Layer, single, type CallContext, type LayerShape } from '../../layer.js';
import { baseArgs, parseArgs } from '../../schema.js';
import { reshape } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({
  ...baseArgs,
  targetShape: z
    .array(
      z
        .number()
        .int()
        .refine((d) => d > 0 || d === -1, 'each dimension must be positive or -1'),
    )
    .min(1),
});
export type ReshapeArgs = z.input<typeof schema>;

export class Reshape extends Layer {
  static readonly className = 'Reshape';
  readonly targetShape: number[];
  constructor(args: ReshapeArgs) {
    const a = parseArgs(schema, args, 'Reshape');
    super(a);
    this.targetShape = a.targetShape;
    if (a.targetShape.filter((d) => d === -1).length > 1)
      throw new Error(`Reshape '${this.name}': at most one dimension of target_shape may be -1`);
  }
  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const x = single(inputs, this);
    return reshape(x, [x.shape[0], ...this.computeOutputShape([null, ...x.shape.slice(1)]).slice(1)] as number[]);
  }
  computeOutputShape(inputShape: LayerShape): LayerShape {
    const rest = inputShape.slice(1);
    if (rest.some((d) => d === null)) throw new Error(`Reshape '${this.name}' needs known dimensions after the batch`);
    const size = (rest as number[]).reduce((a, b) => a * b, 1);
    const known = this.targetShape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const out = this.targetShape.map((d) => (d === -1 ? size / known : d));
    if (out.some((d) => !Number.isInteger(d)) || out.reduce((a, b) => a * b, 1) !== size) {
      throw new Error(`Reshape '${this.name}': cannot reshape ${size} values per sample to target_shape [${this.targetShape.join(', ')}]`);
    }
    return [inputShape[0], ...out];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), target_shape: [...this.targetShape] };
  }
}
