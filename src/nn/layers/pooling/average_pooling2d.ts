/** AveragePooling2D: the mean over each window; with 'same' padding, padded cells are not counted. */
import { Pooling2D, type Pooling2DArgs } from './pooling2d.js';
import type { Pool2DAttrs } from '../../../engine/backend.js';
import { avgPool2d } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';

export class AveragePooling2D extends Pooling2D {
  static readonly className = 'AveragePooling2D';
  constructor(args: Pooling2DArgs = {}) {
    super(args, 'AveragePooling2D');
  }
  protected pool(x: Tensor, attrs: Pool2DAttrs): Tensor {
    return avgPool2d(x, attrs);
  }
}
