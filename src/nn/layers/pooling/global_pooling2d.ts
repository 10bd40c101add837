/** GlobalAveragePooling2D and GlobalMaxPooling2D: one value per channel over the whole feature map. */
import { z } from 'zod';
import { Layer, single, type CallContext, type LayerShape } from '../../layer.js';
import { baseArgs, parseArgs } from '../../schema.js';
import { mean } from '../../../engine/composed.js';
import { max } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';
import { spatialDims } from '../convolutional/conv_utils.js';

const schema = z.strictObject({ ...baseArgs, keepdims: z.boolean().default(false), dataFormat: z.literal('channels_last').optional() });
export type GlobalPooling2DArgs = z.input<typeof schema>;

abstract class GlobalPooling2D extends Layer {
  readonly keepdims: boolean;
  protected constructor(args: GlobalPooling2DArgs, owner: string) {
    const a = parseArgs(schema, args, owner);
    super(a);
    this.keepdims = a.keepdims;
  }
  computeOutputShape(inputShape: LayerShape): LayerShape {
    const [, , c] = spatialDims(inputShape, `${this.className} '${this.name}'`);
    return this.keepdims ? [inputShape[0], 1, 1, c] : [inputShape[0], c];
  }
  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), keepdims: this.keepdims, data_format: 'channels_last' };
  }
}

export class GlobalAveragePooling2D extends GlobalPooling2D {
  static readonly className = 'GlobalAveragePooling2D';
  constructor(args: GlobalPooling2DArgs = {}) {
    super(args, 'GlobalAveragePooling2D');
  }
  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    return mean(single(inputs, this), [1, 2], this.keepdims);
  }
}

export class GlobalMaxPooling2D extends GlobalPooling2D {
  static readonly className = 'GlobalMaxPooling2D';
  constructor(args: GlobalPooling2DArgs = {}) {
    super(args, 'GlobalMaxPooling2D');
  }
  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    return max(single(inputs, this), [1, 2], this.keepdims);
  }
}
