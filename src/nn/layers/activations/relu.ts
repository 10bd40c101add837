/** ReLU layer: x for threshold ≤ x < max_value, max_value above, negative_slope·(x − threshold) below. */
import { z } from 'zod';
import { Layer, single, type CallContext, type LayerShape } from '../../layer.js';
import { baseArgs, parseArgs } from '../../schema.js';
import { add, greaterEqual, minimum, mul, relu, sub } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({
  ...baseArgs,
  maxValue: z.number().nonnegative().nullable().optional(),
  negativeSlope: z.number().nonnegative().default(0),
  threshold: z.number().default(0),
});
export type ReLUArgs = z.input<typeof schema>;

export class ReLU extends Layer {
  static readonly className = 'ReLU';
  readonly maxValue: number | null;
  readonly negativeSlope: number;
  readonly threshold: number;
  constructor(args: ReLUArgs = {}) {
    const a = parseArgs(schema, args, 'ReLU');
    super(a);
    this.maxValue = a.maxValue ?? null;
    this.negativeSlope = a.negativeSlope;
    this.threshold = a.threshold;
  }
  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const x = single(inputs, this);
    let y: Tensor;
    if (this.negativeSlope === 0 && this.threshold === 0) y = relu(x);
    else {
      const above = greaterEqual(x, this.threshold);
      y = add(mul(x, above), mul(mul(sub(x, this.threshold), this.negativeSlope), sub(1, above)));
    }
    return this.maxValue === null ? y : minimum(y, this.maxValue);
  }
  computeOutputShape(inputShape: LayerShape): LayerShape {
    return inputShape;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), max_value: this.maxValue, negative_slope: this.negativeSlope, threshold: this.threshold };
  }
}
