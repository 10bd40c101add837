/** Every layer class, and the registry that maps Keras class names to them (YAML files and saved models). */
import type { Layer, LayerClass } from '../layer.js';
import { Activation } from './core/activation.js';
import { Dense } from './core/dense.js';
import { Input, InputLayer } from './core/input_layer.js';
import { Conv2D } from './convolutional/conv2d.js';
import { AveragePooling2D } from './pooling/average_pooling2d.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D } from './pooling/global_pooling2d.js';
import { MaxPooling2D } from './pooling/max_pooling2d.js';
import { Flatten } from './reshaping/flatten.js';
import { Reshape } from './reshaping/reshape.js';
import { ZeroPadding2D } from './reshaping/zero_padding2d.js';
import { Dropout } from './regularization/dropout.js';
import { SpatialDropout2D } from './regularization/spatial_dropout2d.js';
import { BatchNormalization } from './normalization/batch_normalization.js';
import { LeakyReLU } from './activations/leaky_relu.js';
import { ReLU } from './activations/relu.js';
import { Add } from './merging/add.js';
import { Concatenate } from './merging/concatenate.js';

export {
  Activation,
  Add,
  AveragePooling2D,
  BatchNormalization,
  Concatenate,
  Conv2D,
  Dense,
  Dropout,
  Flatten,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  Input,
  InputLayer,
  LeakyReLU,
  MaxPooling2D,
  ReLU,
  Reshape,
  SpatialDropout2D,
  ZeroPadding2D,
};

const classes: LayerClass[] = [
  Activation,
  Add,
  AveragePooling2D,
  BatchNormalization,
  Concatenate,
  Conv2D,
  Dense,
  Dropout,
  Flatten,
  GlobalAveragePooling2D,
  GlobalMaxPooling2D,
  InputLayer,
  LeakyReLU,
  MaxPooling2D,
  ReLU,
  Reshape,
  SpatialDropout2D,
  ZeroPadding2D,
];

/** Keras' aliases for the same classes. */
const aliases: Record<string, string> = {
  Convolution2D: 'Conv2D',
  MaxPool2D: 'MaxPooling2D',
  AvgPool2D: 'AveragePooling2D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
  GlobalMaxPool2D: 'GlobalMaxPooling2D',
};

const registry = new Map<string, LayerClass>(classes.map((c) => [c.className, c]));

export function layerClassNames(): string[] {
  return [...registry.keys()].filter((n) => n !== 'InputLayer');
}

export function getLayerClass(name: string): LayerClass | undefined {
  return registry.get(aliases[name] ?? name);
}

/** Builds a layer from its class name and camelCase arguments. */
export function createLayer(className: string, args: Record<string, unknown>): Layer {
  const cls = getLayerClass(className);
  if (!cls) throw new Error(`unknown layer '${className}': expected one of ${layerClassNames().join(', ')}`);
  return new cls(args as never);
}
