/** Conv2D: 2-D cross-correlation over NHWC input with a [kh, kw, in, filters] kernel, plus bias and activation. */
import { z } from 'zod';
import { getActivation, type Activation } from '../../activations.js';
import { Layer, single, type CallContext, type LayerShape, type Weight } from '../../layer.js';
import { baseArgs, intPair, padding, parseArgs } from '../../schema.js';
import type { Tensor } from '../../../engine/tensor.js';
import { addKernelAndBias, convBiasAndActivation, kernelBiasArgs, kernelBiasConfig } from '../core/kernel_bias.js';
import { convOutputLength, pads2d, spatialDims } from './conv_utils.js';

const schema = z
  .strictObject({
    ...baseArgs,
    filters: z.number().int().positive(),
    kernelSize: intPair,
    strides: intPair.default([1, 1]),
    padding: padding.default('valid'),
    dataFormat: z.literal('channels_last').optional(),
    dilationRate: intPair.default([1, 1]),
    ...kernelBiasArgs,
  })
  .refine((a) => (a.strides[0] === 1 && a.strides[1] === 1) || (a.dilationRate[0] === 1 && a.dilationRate[1] === 1), {
    message: 'strides > 1 cannot be combined with dilation_rate > 1',
    path: ['dilationRate'],
  });
export type Conv2DArgs = z.input<typeof schema>;

export class Conv2D extends Layer {
  static readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  readonly dilationRate: [number, number];
  readonly activation: Activation;
  private readonly args: z.output<typeof schema>;
  kernel!: Weight;
  bias: Weight | undefined;

  constructor(args: Conv2DArgs) {
    const a = parseArgs(schema, args, 'Conv2D');
    super(a);
    this.args = a;
    this.filters = a.filters;
    this.kernelSize = a.kernelSize;
    this.strides = a.strides;
    this.padding = a.padding;
    this.dilationRate = a.dilationRate;
    this.activation = getActivation(a.activation);
  }

  override build(inputShape: LayerShape): void {
    const [, , c] = spatialDims(inputShape, `Conv2D '${this.name}'`);
    ({ kernel: this.kernel, bias: this.bias } = addKernelAndBias(
      this.addWeight.bind(this),
      [...this.kernelSize, c, this.filters],
      this.filters,
      this.args,
    ));
    this.built = true;
  }

  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const x = single(inputs, this);
    const pads = pads2d(x.shape[1], x.shape[2], this.kernelSize, this.strides, this.padding, this.dilationRate);
    return convBiasAndActivation(x, this.kernel, { strides: this.strides, dilations: this.dilationRate, pads }, this.bias, this.activation);
  }

  computeOutputShape(inputShape: LayerShape): LayerShape {
    const [h, w] = spatialDims(inputShape, `Conv2D '${this.name}'`);
    const oh = convOutputLength(h, this.kernelSize[0], this.padding, this.strides[0], this.dilationRate[0]);
    const ow = convOutputLength(w, this.kernelSize[1], this.padding, this.strides[1], this.dilationRate[1]);
    if (oh <= 0 || ow <= 0) {
      throw new Error(
        `Conv2D '${this.name}': a ${this.kernelSize.join('×')} kernel does not fit a ${h}×${w} input with padding '${this.padding}' (output would be ${oh}×${ow})`,
      );
    }
    return [inputShape[0], oh, ow, this.filters];
  }

  override getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(),
      filters: this.filters,
      kernel_size: [...this.kernelSize],
      strides: [...this.strides],
      padding: this.padding,
      data_format: 'channels_last',
      dilation_rate: [...this.dilationRate],
      ...kernelBiasConfig(this.args, this.activation.name),
    };
  }
}
