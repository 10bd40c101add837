/** MaxPooling2D: the maximum over each window. */
import { Pooling2D, type Pooling2DArgs } from './pooling2d.js';
import type { Pool2DAttrs } from '../../../engine/backend.js';
import { maxPool2d } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';

export class MaxPooling2D extends Pooling2D {
  static readonly className = 'MaxPooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(args, 'MaxPooling2D');
  }
  protected pool(x: Tensor, attrs: Pool2DAttrs): Tensor {
    return maxPool2d(x, attrs);
  }
}
