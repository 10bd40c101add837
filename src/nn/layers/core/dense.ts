/** Dense: y = activation(x · kernel + bias), applied to the last axis. */
import { z } from 'zod';
import { getActivation, type Activation } from '../../activations.js';
import { serializeInitializer, getInitializer, type InitializerSpec } from '../../initializers.js';
import { Layer, single, type CallContext, type LayerShape, type Weight } from '../../layer.js';
import { getRegularizer, serializeRegularizer, type RegularizerSpec } from '../../regularizers.js';
import { activation, baseArgs, initializer, parseArgs, regularizer } from '../../schema.js';
import { add, matmul, reshape } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';

const schema = z.strictObject({
  ...baseArgs,
  units: z.number().int().positive(),
  activation: activation.optional(),
  useBias: z.boolean().default(true),
  kernelInitializer: initializer.default('glorot_uniform'),
  biasInitializer: initializer.default('zeros'),
  kernelRegularizer: regularizer.optional(),
  biasRegularizer: regularizer.optional(),
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
    if (inDim === null || inputShape.length < 2) throw new Error(`Dense '${this.name}' needs a known last dimension, got input shape ${JSON.stringify(inputShape)}`);
    const reg = (spec: unknown) => (spec ? getRegularizer(spec as RegularizerSpec) : undefined);
    this.kernel = this.addWeight('kernel', [inDim, this.units], this.args.kernelInitializer as InitializerSpec, { regularizer: reg(this.args.kernelRegularizer) });
    if (this.args.useBias) this.bias = this.addWeight('bias', [this.units], this.args.biasInitializer as InitializerSpec, { regularizer: reg(this.args.biasRegularizer) });
    this.built = true;
  }

  call(inputs: Tensor | Tensor[], _ctx: CallContext): Tensor {
    const x = single(inputs, this);
    const flat = x.rank === 2 ? x : reshape(x, [-1, x.shape[x.rank - 1]]);
    let y = matmul(flat, this.kernel.value);
    if (this.bias) y = add(y, this.bias.value);
    if (x.rank !== 2) y = reshape(y, [...x.shape.slice(0, -1), this.units]);
    return this.activation.fn(y);
  }

  computeOutputShape(inputShape: LayerShape): LayerShape {
    if (inputShape.length < 2) throw new Error(`Dense '${this.name}' needs an input of rank ≥ 2 (batch, features), got ${JSON.stringify(inputShape)}`);
    return [...inputShape.slice(0, -1), this.units];
  }

  override getConfig(): Record<string, unknown> {
    const a = this.args;
    return {
      ...super.getConfig(),
      units: this.units,
      activation: this.activation.name,
      use_bias: a.useBias,
      kernel_initializer: serializeInitializer(getInitializer(a.kernelInitializer as InitializerSpec)),
      bias_initializer: serializeInitializer(getInitializer(a.biasInitializer as InitializerSpec)),
      kernel_regularizer: a.kernelRegularizer ? serializeRegularizer(getRegularizer(a.kernelRegularizer as RegularizerSpec)) : null,
      bias_regularizer: a.biasRegularizer ? serializeRegularizer(getRegularizer(a.biasRegularizer as RegularizerSpec)) : null,
    };
  }
}
