/** What Dense and Conv2D share: a kernel and an optional bias, their initializers and regularizers, an activation. */
import { z } from 'zod';
import { initializerConfig, type InitializerSpec } from '../../initializers.js';
import { fusedActivation, type Activation } from '../../activations.js';
import type { Weight } from '../../layer.js';
import type { Conv2DAttrs } from '../../../engine/backend.js';
import { add, biasActivation, conv2d } from '../../../engine/ops.js';
import type { Tensor } from '../../../engine/tensor.js';
import { optionalRegularizer, regularizerConfig, type Regularizer } from '../../regularizers.js';
import { activation, initializer, regularizer } from '../../schema.js';

export const kernelBiasArgs = {
  activation: activation.optional(),
  useBias: z.boolean().default(true),
  kernelInitializer: initializer.default('glorot_uniform'),
  biasInitializer: initializer.default('zeros'),
  kernelRegularizer: regularizer.optional(),
  biasRegularizer: regularizer.optional(),
};

export interface KernelBiasOptions {
  useBias: boolean;
  kernelInitializer: unknown;
  biasInitializer: unknown;
  kernelRegularizer?: unknown;
  biasRegularizer?: unknown;
}

type AddWeight = (name: string, shape: readonly number[], init: InitializerSpec, options: { regularizer?: Regularizer }) => Weight;

export function addKernelAndBias(
  addWeight: AddWeight,
  kernelShape: number[],
  units: number,
  a: KernelBiasOptions,
): { kernel: Weight; bias: Weight | undefined } {
  const kernel = addWeight('kernel', kernelShape, a.kernelInitializer as InitializerSpec, {
    regularizer: optionalRegularizer(a.kernelRegularizer),
  });
  const bias = a.useBias
    ? addWeight('bias', [units], a.biasInitializer as InitializerSpec, { regularizer: optionalRegularizer(a.biasRegularizer) })
    : undefined;
  return { kernel, bias };
}

export function kernelBiasConfig(a: KernelBiasOptions, activationName: string): Record<string, unknown> {
  return {
    activation: activationName,
    use_bias: a.useBias,
    kernel_initializer: initializerConfig(a.kernelInitializer),
    bias_initializer: initializerConfig(a.biasInitializer),
    kernel_regularizer: regularizerConfig(a.kernelRegularizer),
    bias_regularizer: regularizerConfig(a.biasRegularizer),
  };
}

/** activation(conv2d(x, kernel) + bias), with bias and activation fused into the convolution where they can be. */
export function convBiasAndActivation(
  x: Tensor,
  kernel: Weight,
  attrs: Conv2DAttrs,
  bias: Weight | undefined,
  activation: Activation,
): Tensor {
  const fused = fusedActivation(activation);
  if (fused?.act === 'linear' && !bias) return conv2d(x, kernel.value, attrs);
  if (fused) return conv2d(x, kernel.value, attrs, { bias: bias ? bias.value : null, act: fused.act, alpha: fused.alpha });
  return biasAndActivation(conv2d(x, kernel.value, attrs), bias, activation);
}

/** activation(y + bias), in one fused pass when the activation is ReLU or linear. */
export function biasAndActivation(y: Tensor, bias: Weight | undefined, activation: Activation): Tensor {
  const fused = fusedActivation(activation);
  if (fused?.act === 'linear' && !bias) return y;
  if (fused) return biasActivation(y, bias ? bias.value : null, fused.act, fused.alpha);
  return activation.fn(bias ? add(y, bias.value) : y);
}
