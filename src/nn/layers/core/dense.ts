/** Dense: y = activation(x · kernel + bias), applied to the last axis. */
import { z } from 'zod';
import { getActivation, type Activation } from '../../activations.js';
import { Layer, single, type CallContext, type LayerShape, type Weight } from '../../layer.js';
import { baseArgs, parseArgs } from '../../schema.js';
import { matmul, reshape } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';
import { addKernelAndBias, biasAndActivation, kernelBiasArgs, kernelBiasConfig } from './kernel_bias.js';

const schema = z.strictObject({
  ...baseArgs,
  units: z.number().int().positive(),
  ...kernelBiasArgs,
});
export type DenseArgs = z.input<typeof schema>;

export class Dense extends Layer {
  static readonly className = 'Dense';
  readonly units: number;
  readonly activation: Activation;
  private readonly args: z.output<typeof schema>;
  kernel!: Weight;
  bias: Weight | undefined;

  constructor(args: DenseArgs) {
    const a = parseArgs(schema, args, 'Dense');
    super(a);
    this.args = a;
    this.units = a.units;
    this.activation = getActivation(a.activation);
  }

  override build(inputShape: LayerShape): void {
    const inDim = inputShape[inputShape.length - 1];
    if (inDim === null || inputShape.length < 2)
      throw new Error(`Dense '${this.name}' needs a known last dimension, got input shape ${JSON.stringify(inputShape)}`);
    ({ kernel: this.kernel, bias: this.bias } = addKernelAndBias(this.addWeight.bind(this), [inDim, this.units], this.units, this.args));
    this.built = true;
  }

  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const x = single(inputs, this);
    const flat = x.rank === 2 ? x : reshape(x, [-1, x.shape[x.rank - 1]]);
    let y = biasAndActivation(matmul(flat, this.kernel.value), this.bias, this.activation);
    if (x.rank !== 2) y = reshape(y, [...x.shape.slice(0, -1), this.units]);
    return y;
  }

  computeOutputShape(inputShape: LayerShape): LayerShape {
    if (inputShape.length < 2)
      throw new Error(`Dense '${this.name}' needs an input of rank ≥ 2 (batch, features), got ${JSON.stringify(inputShape)}`);
    return [...inputShape.slice(0, -1), this.units];
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), units: this.units, ...kernelBiasConfig(this.args, this.activation.name) };
  }
}
