/** Shared base of MaxPooling2D and AveragePooling2D. */
import { z } from 'zod';
import { Layer, single, type CallContext, type LayerShape } from '../../layer.js';
import { baseArgs, intPair, padding, parseArgs } from '../../schema.js';
import type { Pool2DAttrs } from '../../../engine/backend.js';
import type { Tensor } from '../../../engine/tensor.js';
import { convOutputLength, pads2d, spatialDims } from '../convolutional/conv_utils.js';

const schema = z.strictObject({
  ...baseArgs,
  poolSize: intPair.default([2, 2]),
  strides: intPair.nullable().optional(),
  padding: padding.default('valid'),
  dataFormat: z.literal('channels_last').optional(),
});
export type Pooling2DArgs = z.input<typeof schema>;

export abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';

  protected constructor(args: Pooling2DArgs, owner: string) {
    const a = parseArgs(schema, args, owner);
    super(a);
    this.poolSize = a.poolSize;
    this.strides = a.strides ?? a.poolSize;
    this.padding = a.padding;
  }

  protected abstract pool(x: Tensor, attrs: Pool2DAttrs): Tensor;

  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const x = single(inputs, this);
    const pads = pads2d(x.shape[1], x.shape[2], this.poolSize, this.strides, this.padding);
    return this.pool(x, { pool: this.poolSize, strides: this.strides, pads });
  }

  computeOutputShape(inputShape: LayerShape): LayerShape {
    const [h, w, c] = spatialDims(inputShape, `${this.className} '${this.name}'`);
    const oh = convOutputLength(h, this.poolSize[0], this.padding, this.strides[0]);
    const ow = convOutputLength(w, this.poolSize[1], this.padding, this.strides[1]);
    if (oh <= 0 || ow <= 0)
      throw new Error(`${this.className} '${this.name}': a ${this.poolSize.join('×')} pool does not fit a ${h}×${w} input`);
    return [inputShape[0], oh, ow, c];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      pool_size: [...this.poolSize],
      strides: [...this.strides],
      padding: this.padding,
      data_format: 'channels_last',
    };
  }
}
