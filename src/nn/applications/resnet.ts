/**
 * ResNet with basic blocks (resnet18, resnet34), built from convlab's layers with torchvision's structure, so
 * torchvision's weights give torchvision's outputs: a 7×7 stride-2 stem with symmetric padding 3, a 3×3 stride-2 max
 * pool with padding 1, four stages of two-convolution blocks whose first block of a stage may halve the size with a
 * stride-2 convolution and a 1×1 stride-2 shortcut with batch normalization, BN epsilon 1e-5 and momentum 0.9 (in
 * Keras' sense; 0.1 in PyTorch's). Padding is explicit (ZeroPadding2D) wherever PyTorch's symmetric padding differs
 * from TensorFlow's 'same'. Layers carry torchvision's module names (conv1, layer2.0.downsample.0, fc), so a
 * state dict maps onto them by name. Loading weights is in src/saving.
 */
import type { SymbolicTensor } from '../layer.js';
import { Add } from '../layers/merging/add.js';
import { BatchNormalization } from '../layers/normalization/batch_normalization.js';
import { Conv2D } from '../layers/convolutional/conv2d.js';
import { Dense } from '../layers/core/dense.js';
import { Input } from '../layers/core/input_layer.js';
import { GlobalAveragePooling2D } from '../layers/pooling/global_pooling2d.js';
import { MaxPooling2D } from '../layers/pooling/max_pooling2d.js';
import { ReLU } from '../layers/activations/relu.js';
import { ZeroPadding2D } from '../layers/reshaping/zero_padding2d.js';
import { Model } from '../model.js';

export interface ResNetArgs {
  /** The global average pooling and the classifier (fc); without them the model ends at the last stage. */
  includeTop?: boolean;
  /** Classes of the classifier (with includeTop). */
  classes?: number;
  /** [height, width, channels] of the input. */
  inputShape?: [number, number, number];
  /** The classifier's activation: 'linear' gives logits, as torchvision's; 'softmax' probabilities. */
  classifierActivation?: 'linear' | 'softmax';
  name?: string;
}

export interface ResNetShape {
  /** Blocks per stage: [2, 2, 2, 2] for resnet18, [3, 4, 6, 3] for resnet34. */
  blocks: readonly number[];
  /** Channels per stage: [64, 128, 256, 512] in torchvision (smaller for tests). */
  widths: readonly number[];
}

const bn = (name: string) => new BatchNormalization({ epsilon: 1e-5, momentum: 0.9, name });
const conv = (filters: number, kernel: number, strides: number, name: string) =>
  new Conv2D({ filters, kernelSize: kernel, strides, padding: 'valid', useBias: false, name });

/**
 * A convolution with torchvision's symmetric padding of (kernel − 1) / 2. At stride 1 that is Keras' 'same' (no copy
 * of the input); at stride 2 'same' would put the extra row at the bottom only, so the input is padded first.
 */
function paddedConv(x: SymbolicTensor, filters: number, kernel: number, strides: number, name: string): SymbolicTensor {
  const pad = (kernel - 1) / 2;
  if (strides === 1) return new Conv2D({ filters, kernelSize: kernel, padding: 'same', useBias: false, name }).apply(x);
  const padded = pad > 0 ? new ZeroPadding2D({ padding: pad, name: `${name}.pad` }).apply(x) : x;
  return conv(filters, kernel, strides, name).apply(padded);
}

function basicBlock(x: SymbolicTensor, filters: number, strides: number, name: string): SymbolicTensor {
  let y = paddedConv(x, filters, 3, strides, `${name}.conv1`);
  y = new ReLU({ name: `${name}.relu1` }).apply(bn(`${name}.bn1`).apply(y));
  y = bn(`${name}.bn2`).apply(paddedConv(y, filters, 3, 1, `${name}.conv2`));
  const channels = x.shape[x.shape.length - 1];
  const shortcut =
    strides !== 1 || channels !== filters
      ? bn(`${name}.downsample.1`).apply(conv(filters, 1, strides, `${name}.downsample.0`).apply(x))
      : x;
  return new ReLU({ name: `${name}.relu2` }).apply(new Add({ name: `${name}.add` }).apply([y, shortcut]));
}

/** A ResNet of basic blocks with the given shape (resnet18 and resnet34 are two of them). */
export function buildResNet(shape: ResNetShape, args: ResNetArgs = {}, defaultName = 'resnet'): Model {
  const input = Input({ shape: args.inputShape ?? [224, 224, 3], name: 'input' });
  return new Model({ inputs: input, outputs: resnetOn(input, shape, args), name: args.name ?? defaultName });
}

/**
 * The ResNet's layers applied to a tensor of a larger graph (a base under layers of one's own); its output, with
 * every layer it made.
 */
export function resnetOn(input: SymbolicTensor, shape: ResNetShape, args: Omit<ResNetArgs, 'inputShape' | 'name'> = {}): SymbolicTensor {
  let x = paddedConv(input, shape.widths[0], 7, 2, 'conv1');
  x = new ReLU({ name: 'relu' }).apply(bn('bn1').apply(x));
  // Zero padding before the max pool equals PyTorch's −∞ padding here: the ReLU's outputs are ≥ 0.
  x = new MaxPooling2D({ poolSize: 3, strides: 2, name: 'maxpool' }).apply(new ZeroPadding2D({ padding: 1, name: 'maxpool.pad' }).apply(x));
  shape.blocks.forEach((count, stage) => {
    for (let b = 0; b < count; b++) x = basicBlock(x, shape.widths[stage], stage > 0 && b === 0 ? 2 : 1, `layer${stage + 1}.${b}`);
  });
  if (args.includeTop ?? true) {
    x = new GlobalAveragePooling2D({ name: 'avgpool' }).apply(x);
    x = new Dense({ units: args.classes ?? 1000, activation: args.classifierActivation ?? 'linear', name: 'fc' }).apply(x);
  }
  return x;
}

export const RESNET18: ResNetShape = { blocks: [2, 2, 2, 2], widths: [64, 128, 256, 512] };
export const RESNET34: ResNetShape = { blocks: [3, 4, 6, 3], widths: [64, 128, 256, 512] };
/** The architectures by name, as specs and the CLI give them. */
export const RESNETS: Record<string, ResNetShape> = { resnet18: RESNET18, resnet34: RESNET34 };
