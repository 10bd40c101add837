/** SpatialDropout2D: drops whole feature maps (one mask value per sample and channel). */
import { Dropout, type DropoutArgs } from './dropout.js';
import type { LayerShape } from '../../layer.js';
import type { Tensor } from '../../../engine/tensor.js';
import { spatialDims } from '../convolutional/conv_utils.js';

export class SpatialDropout2D extends Dropout {
  static override readonly className = 'SpatialDropout2D';
  constructor(args: Omit<DropoutArgs, 'noiseShape'>) {
    super(args);
  }
  protected override maskShape(x: Tensor): number[] {
    return [x.shape[0], 1, 1, x.shape[3]];
  }
  override computeOutputShape(inputShape: LayerShape): LayerShape {
    spatialDims(inputShape, `SpatialDropout2D '${this.name}'`);
    return inputShape;
  }
}
