/** ZeroPadding2D: adds rows and columns of zeros around each feature map. */
import { z } from 'zod';
import { Layer, single, type CallContext, type LayerShape } from '../../layer.js';
import { baseArgs, parseArgs } from '../../schema.js';
import { pad } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';
import { spatialDims } from '../convolutional/conv_utils.js';

const nonNeg = z.number().int().nonnegative();
const schema = z.strictObject({
  ...baseArgs,
  // 1 → all sides; [h, w] → symmetric; [[top, bottom], [left, right]].
  padding: z
    .union([nonNeg, z.tuple([nonNeg, nonNeg]), z.tuple([z.tuple([nonNeg, nonNeg]), z.tuple([nonNeg, nonNeg])])], {
      error: 'expected n, [rows, cols] or [[top, bottom], [left, right]] of non-negative integers',
    })
    .default(1),
  dataFormat: z.literal('channels_last').optional(),
});
export type ZeroPadding2DArgs = z.input<typeof schema>;

export class ZeroPadding2D extends Layer {
  static readonly className = 'ZeroPadding2D';
  readonly padding: [[number, number], [number, number]];
  constructor(args: ZeroPadding2DArgs = {}) {
    const a = parseArgs(schema, args, 'ZeroPadding2D');
    super(a);
    const p = a.padding;
    if (typeof p === 'number')
      this.padding = [
        [p, p],
        [p, p],
      ];
    else if (typeof p[0] === 'number')
      this.padding = [
        [p[0], p[0]],
        [p[1] as number, p[1] as number],
      ];
    else this.padding = p as [[number, number], [number, number]];
  }
  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    return pad(single(inputs, this), [[0, 0], this.padding[0], this.padding[1], [0, 0]]);
  }
  computeOutputShape(inputShape: LayerShape): LayerShape {
    const [h, w, c] = spatialDims(inputShape, `ZeroPadding2D '${this.name}'`);
    const [[t, b], [l, r]] = this.padding;
    return [inputShape[0], h + t + b, w + l + r, c];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), padding: this.padding.map((p) => [...p]), data_format: 'channels_last' };
  }
}
