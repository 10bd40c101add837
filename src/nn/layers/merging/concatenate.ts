/** Concatenate: joins inputs along one axis (the last by default); other dimensions must agree. */
import { z } from 'zod';
import { Layer, type CallContext, type LayerShape } from '../../layer.js';
import { baseArgs, parseArgs } from '../../schema.js';
import { concat } from '../../../engine/composed.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({ ...baseArgs, axis: z.number().int().default(-1) });
export type ConcatenateArgs = z.input<typeof schema>;

export class Concatenate extends Layer {
  static readonly className = 'Concatenate';
  readonly axis: number;
  constructor(args: ConcatenateArgs = {}) {
    const a = parseArgs(schema, args, 'Concatenate');
    super(a);
    this.axis = a.axis;
  }
  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    return concat(Array.isArray(inputs) ? inputs : [inputs], this.axis);
  }
  computeOutputShape(inputShape: LayerShape | LayerShape[]): LayerShape {
    const shapes = inputShape as LayerShape[];
    if (!Array.isArray(shapes[0]) || shapes.length < 2) throw new Error(`Concatenate '${this.name}' needs at least two inputs`);
    const rank = shapes[0].length;
    const ax = this.axis < 0 ? this.axis + rank : this.axis;
    if (ax <= 0 || ax >= rank)
      throw new Error(
        `Concatenate '${this.name}': axis ${this.axis} is out of range for inputs of rank ${rank} (the batch axis cannot be joined)`,
      );
    const out = [...shapes[0]];
    for (const s of shapes.slice(1)) {
      if (s.length !== rank || s.some((d, i) => i !== ax && i > 0 && d !== shapes[0][i])) {
        throw new Error(
          `Concatenate '${this.name}': shapes ${shapes.map((x) => `(${x.map((d) => d ?? 'None').join(', ')})`).join(' and ')} differ outside axis ${this.axis}`,
        );
      }
      out[ax] = out[ax] === null || s[ax] === null ? null : (out[ax] as number) + (s[ax] as number);
    }
    return out;
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis };
  }
}
