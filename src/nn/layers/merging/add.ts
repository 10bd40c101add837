/** Add: the elementwise sum of several inputs of the same shape. */
import { z } from 'zod';
import { Layer, type CallContext, type LayerShape } from '../../layer.js';
import { baseArgs, parseArgs } from '../../schema.js';
import { add } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({ ...baseArgs });
export type AddArgs = z.input<typeof schema>;

export class Add extends Layer {
  static readonly className = 'Add';
  constructor(args: AddArgs = {}) {
    super(parseArgs(schema, args, 'Add'));
  }
  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    return xs.slice(1).reduce((acc, x) => add(acc, x), xs[0]);
  }
  computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    const shapes = inputShape as LayerShape[];
    if (!Array.isArray(shapes[0]) || shapes.length < 2) throw new Error(`Add '${this.name}' needs at least two inputs`);
    const first = shapes[0];
    for (const s of shapes) {
      if (s.length !== first.length || s.some((d, i) => i > 0 && d !== first[i])) {
        throw new Error(
          `Add '${this.name}' needs inputs of one shape, got ${shapes.map((x) => `(${x.map((d) => d ?? 'None').join(', ')})`).join(' and ')}`,
        );
      }
    }
    return first;
  }
}
